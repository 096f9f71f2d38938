import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, errorBody, statusOf } from '@chute/protocol';
import { isLoopback } from '@chute/signer';
import type { RequestHandler } from 'express';

/** Headers a proxy adds; their presence means the socket's address is the proxy's, not the caller's. */
const FORWARDING = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

export function proxied(req: IncomingMessage): boolean {
  return FORWARDING.some((h) => req.headers[h] !== undefined);
}

/** A caller on this machine, talking to the socket directly (a local proxy would make everyone loopback). */
export function directLoopback(req: IncomingMessage): boolean {
  return isLoopback(req.socket.remoteAddress) && !proxied(req);
}

/** A JSON error in the signer's format, connection kept. */
export function sendJsonError(res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(statusOf(code), { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/**
 * Open dev mode trusts "loopback" callers; behind a proxy on this machine every caller would be
 * loopback. TRUST_PROXY is refused with AUTH_MODE=open at start; this refuses a proxy that
 * forwards anyway (nginx, Caddy and the like add X-Forwarded-For).
 */
export function refuseProxied(): RequestHandler {
  return (req, res, next) => {
    if (!proxied(req)) return next();
    sendJsonError(res, 'forbidden', 'This server runs in open dev mode, which serves callers on this machine only, never through a proxy (the request carries X-Forwarded-For or Forwarded).');
  };
}
