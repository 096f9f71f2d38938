import { once } from 'node:events';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction, RequestHandler } from 'express';
import { ChuteError, errorResponse } from './errors.js';
import { hostMatcher, hostRefusal } from './hosts.js';
import type { Signer } from './signer.js';

export { answerClientErrors } from './client-errors.js';

/**
 * `@chute/signer/express`: mounts the signer in an Express 5 app (a middleware, like a router). Only converts
 * req → Request and Response → res (streaming both ways); all logic lives in the core.
 * Mount without body parsers in front of it: the core reads and limits bodies itself.
 *   app.use('/signer', chuteRouter(signer))   // API under /signer/api/…
 */
export function chuteRouter(signer: Signer): RequestHandler {
  // A plain middleware (no runtime import of express, so it works with the app's own copy);
  // it returns nothing and passes errors to next() explicitly.
  return (req, res, next) => void handle(req, res, next);
  async function handle(req: ExpressRequest, res: ExpressResponse, next: NextFunction): Promise<void> {
    // Everything the signer answers lives under /api; the rest (static files, health) passes on.
    if (!req.path.startsWith('/api/')) return next();
    try {
      const base = originOf(req);
      if (base instanceof ChuteError) return sendError(res, base);
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      // Small bodies with a declared length (every JSON call) are read at once: much cheaper than a
      // web stream per request. Others stream, and the core cuts them off at its limit.
      const declared = req.headers['content-length'] === undefined ? Number.NaN : Number(req.headers['content-length']);
      const read: BodyState = { bytes: 0, discard: false };
      const body = !hasBody ? undefined : declared >= 0 && declared <= SMALL_BODY ? await readSmall(req) : bodyOf(req, read);
      let request: Request;
      try {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) {
          if (v === undefined) continue;
          for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value);
        }
        // Concatenated, not resolved: a path like `//other.host/x` must stay a path.
        request = new Request(`${base}${req.url}`, {
          method: req.method,
          headers,
          ...(body === undefined ? {} : body instanceof Uint8Array ? { body } : { body, duplex: 'half' }),
        } as RequestInit);
      } catch {
        // Methods fetch refuses (TRACE), a request target that is no path, a header fetch cannot carry.
        return sendError(res, new ChuteError('bad_request', `${req.method} ${req.url.slice(0, 100)} is not a request this API can read.`));
      }
      const response = await signer.fetch(request, { ...(req.ip ? { ip: req.ip } : {}), baseUrl: base + req.baseUrl });
      // A body the core did not read to the end (413, 401, 405…) is read and dropped before the
      // answer, up to DRAIN_LIMIT: a client still sending when the socket closes may lose the answer
      // (EPIPE/ECONNRESET), and a keep-alive answer on a socket that is then reset breaks the
      // client's next request. Beyond the limit (or a stalled body) the answer says `Connection:
      // close` and Node closes the socket once it is sent.
      const complete = !hasBody || (await finishBody(req, read, declared));
      res.status(response.status);
      response.headers.forEach((value, key) => {
        res.setHeader(key, value);
      });
      if (!complete) {
        res.setHeader('connection', 'close');
        res.once('finish', () => req.resume());
      }
      if (!response.body) return void res.end();
      // Stream the body with back-pressure (cheaper than Readable.fromWeb + pipe for small bodies).
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (res.destroyed) {
          await reader.cancel();
          return;
        }
        if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      res.end();
    } catch (err) {
      // The client went away mid-body (or the server's request timeout cut it off, answered by
      // answerClientErrors): nothing to answer, nothing to log as a server failure.
      if (req.destroyed && !req.complete) return;
      next(err);
    }
  }
}

/**
 * Answers 421 `host_not_allowed` for a Host outside `patterns` (exact names, `*.example.com`, `*`;
 * port ignored), before any route: health checks, metrics and static files get the same DNS-rebinding
 * guard as the signer's own `allowedHosts`. Mount it first: `app.use(allowHosts(['uploads.example.com']))`.
 */
export function allowHosts(patterns: readonly string[]): RequestHandler {
  const allowed = hostMatcher(patterns);
  return (req, res, next) => {
    const given = req.get('host');
    // As in the adapter: HTTP/1.1 must send Host; HTTP/1.0 may omit it and counts as localhost.
    if (given === undefined && req.httpVersion !== '1.0') return sendError(res, new ChuteError('bad_request', 'HTTP/1.1 requests need a Host header.'));
    const host = given ?? 'localhost';
    if (allowed(host)) return next();
    sendError(res, new ChuteError('host_not_allowed', hostRefusal(host)));
  };
}

interface BodyState {
  /** Bytes received so far. */
  bytes: number;
  /** Set once the core is done with the body: the rest is read and dropped. */
  discard: boolean;
}

/**
 * The request body as a web stream with back-pressure. Unlike `Readable.toWeb`, cancelling it
 * (the core refusing an oversized body) only stops reading; it does not destroy the socket, so
 * the error response still reaches the client (the rest is read and dropped by `finishBody`).
 */
function bodyOf(req: ExpressRequest, read: BodyState): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        read.bytes += chunk.byteLength;
        // Nobody reads the stream any more: never pause for it (that would stall the socket).
        if (done || read.discard) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.once('error', (err) => {
        if (!done) controller.error(err);
        done = true;
      });
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
    },
  });
}

const SMALL_BODY = 64 * 1024;

function readSmall(req: ExpressRequest): Promise<Uint8Array> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => ok(new Uint8Array(Buffer.concat(chunks))));
    req.once('error', fail);
  });
}

/**
 * `proto://host` of the request, or a `bad_request` when the Host header (or, behind a trusted
 * proxy, X-Forwarded-Proto/Host) is not a plain host: it must never become part of the path, a
 * credential, or an invalid URL (`new Request` would throw: a 500), nor reach self-URLs.
 */
function originOf(req: ExpressRequest): string | ChuteError {
  const given = req.get('host');
  // HTTP/1.0 may omit Host; 1.1 must send it (servers created with `requireHostHeader: false` let it through).
  if (given === undefined && req.httpVersion !== '1.0') return new ChuteError('bad_request', 'HTTP/1.1 requests need a Host header.');
  const host = given ?? 'localhost';
  const proto = req.protocol;
  if ((proto === 'http' || proto === 'https') && !/[/\\?#@\s]/.test(host)) {
    try {
      const u = new URL(`${proto}://${host}`);
      if (u.pathname === '/' && !u.search && !u.hash) return `${u.protocol}//${u.host}`;
    } catch {
      // refused below
    }
  }
  return new ChuteError('bad_request', 'The Host header is not a valid host name.');
}

/** An error answered by the adapter itself (the request never reached the core); the connection is closed. */
function sendError(res: ExpressResponse, err: ChuteError): void {
  res.status(err.status);
  errorResponse(err).headers.forEach((value, key) => {
    res.setHeader(key, value);
  });
  res.setHeader('connection', 'close');
  res.end(JSON.stringify(err.toBody()));
}

/** Up to this much unread body is read and dropped to keep the connection; beyond it, it is closed. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
/** A client that stops sending its body mid-way gets its answer (and a close) after this long. */
const DRAIN_MS = 5000;

/** Reads and drops what is left of the body; true when it ended (the connection can carry another request). */
function finishBody(req: ExpressRequest, read: BodyState, declared: number): Promise<boolean> {
  read.discard = true;
  if (req.complete) return Promise.resolve(true);
  if (declared - read.bytes > DRAIN_LIMIT) return Promise.resolve(false);
  const start = read.bytes;
  return new Promise((resolve) => {
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onEnd);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = () => {
      if (read.bytes - start > DRAIN_LIMIT) finish(false);
    };
    const onEnd = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), DRAIN_MS);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onEnd);
    req.resume();
  });
}
