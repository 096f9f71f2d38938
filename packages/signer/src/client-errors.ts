import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, errorBody, statusOf } from '@chute/protocol';

/** Node's parser error codes → the signer's codes (Node's own defaults give the same statuses). */
function classify(code: string | undefined): [ErrorCode, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return ['headers_too_large', 'The request headers are too large.'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return ['payload_too_large', 'The chunk extensions of the request body are too large.'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['request_timeout', 'The request did not arrive in time.'];
    default:
      return [
        'bad_request',
        `The request is not valid HTTP/1.1 (${code ?? 'parse error'}), e.g. a body sent without Content-Length or Transfer-Encoding, or bytes after the previous request.`,
      ];
  }
}

/**
 * Answer requests Node's HTTP parser refuses (before any handler runs) with the same JSON error
 * body as every other rejection, instead of Node's bare `400` with no body, then close the socket.
 *   const server = app.listen(8787); answerClientErrors(server);
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already started on this socket cannot be followed by another one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
      socket.destroy();
      return;
    }
    const [code, message] = classify(err.code);
    const status = statusOf(code);
    const body = JSON.stringify(errorBody(code, message));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
