import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Authenticator, type Credentials } from './auth.js';
import { errorXml, S3Error } from './errors.js';
import { type App, type Ctx, parseQuery, type Query, send } from './http/context.js';
import { type CorsRule, corsForRequest, preflight } from './http/cors.js';
import { hostMatcher } from './http/hosts.js';
import { checkKey, validBucketName } from './keys.js';
import { sweep } from './lifecycle.js';
import { route } from './router.js';
import { BlobStore } from './store/blobs.js';
import { MetaDb } from './store/db.js';
import { lockDataDir } from './store/lock.js';

/** Documented development credentials (never use them for anything real). */
export const DEFAULT_ACCESS_KEY_ID = 'local-r2-access-key-id';
export const DEFAULT_SECRET_ACCESS_KEY = 'local-r2-secret-access-key';
export const DEFAULT_CREDENTIALS: Credentials = {
  accessKeyId: DEFAULT_ACCESS_KEY_ID,
  secretAccessKey: DEFAULT_SECRET_ACCESS_KEY,
};

export interface LocalR2Options {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Where metadata (SQLite) and object bytes live. Created if missing. */
  dataDir: string;
  /** Default DEFAULT_CREDENTIALS. */
  credentials?: Credentials | Credentials[];
  /** Buckets to create at start (existing ones are kept). */
  buckets?: string[];
  /** Clock, injectable so tests can move time (expiry, lifecycle). */
  now?: () => number;
  /** How often lifecycle rules run; default 60 s. 0 disables the timer (sweep() still works). */
  sweepIntervalMs?: number;
  /** Called with unexpected server errors (default: console.error). */
  onError?: (msg: string, err?: unknown) => void;
  /**
   * Host names answered besides localhost, *.localhost, 127.0.0.1, [::1] and the listen host
   * (unless that is 0.0.0.0 / ::). `*.example.com` matches subdomains; `*` turns the check off.
   */
  allowedHosts?: string[];
  /** The request line and headers must arrive within this; default 20 s. */
  headersTimeoutMs?: number;
  /** A connection that moves no bytes for this long is closed; default 60 s, 0 = never. */
  idleTimeoutMs?: number;
  /**
   * Behave like an S3 store without additional checksums (Ceph radosgw 16, older MinIO): every
   * `x-amz-checksum-*` header, query parameter and Complete XML element is accepted and ignored;
   * nothing is checked, stored or echoed. Content-MD5 is still enforced and ETags stay standard
   * (the MD5, or the MD5 of the part MD5s plus `-N`). Default false (R2's behaviour).
   */
  ignoreChecksums?: boolean;
}

export interface LocalR2 {
  /** e.g. http://127.0.0.1:9000 — use with forcePathStyle: true and region 'auto'. */
  endpoint: string;
  host: string;
  port: number;
  credentials: Credentials;
  /** Runs the lifecycle rules now (abort stale multipart uploads, expire objects). */
  sweep(): Promise<{ aborted: number; expired: number }>;
  close(): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;
/** Error replies drain up to this much unread body to keep the connection; larger ones close it. */
const DRAIN_LIMIT = 1024 * 1024;

function splitPath(rawPath: string): { bucket?: string; key?: string } {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new S3Error('InvalidArgument', 'The request path is not valid percent-encoded UTF-8.');
    }
  };
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidArgument', 'The request path must start with /.');
  const rest = rawPath.slice(1);
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  if (slash === -1 || slash === rest.length - 1) return { bucket: decode(slash === -1 ? rest : rest.slice(0, slash)) };
  return { bucket: decode(rest.slice(0, slash)), key: decode(rest.slice(slash + 1)) };
}

/** Virtual-hosted-style addressing for `<bucket>.localhost[:port]` (browsers resolve *.localhost to loopback). */
function virtualHostBucket(host: string | undefined): string | undefined {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!name.endsWith('.localhost')) return undefined;
  const bucket = name.slice(0, -'.localhost'.length);
  return bucket.includes('.') ? undefined : bucket;
}

function sendError(ctx: Ctx, err: unknown) {
  const { req, res } = ctx;
  let e: S3Error;
  if (err instanceof S3Error) e = err;
  else {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || req.destroyed || res.destroyed) {
      e = new S3Error('IncompleteBody');
    } else {
      ctx.app.log('local-r2: unexpected error', err);
      e = new S3Error('InternalError');
    }
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // R2 sends no CORS headers with ExpiredRequest, so the browser cannot read that error.
  if (e.code === 'ExpiredRequest') ctx.cors = {};
  if (!req.complete) {
    const declared = Number(req.headers['content-length'] ?? Number.POSITIVE_INFINITY);
    if (declared <= DRAIN_LIMIT) req.resume();
    else res.setHeader('connection', 'close');
  }
  send(ctx, e.status, { 'content-type': 'application/xml' }, ctx.method === 'HEAD' ? undefined : errorXml(e));
}

/** `ignoreChecksums`: once the signature is checked, the request's checksums are as if never sent. */
function dropChecksums(ctx: Ctx) {
  const isChecksum = (name: string) => /^x-amz-(sdk-)?checksum-/i.test(name);
  ctx.headers = Object.fromEntries(Object.entries(ctx.headers).filter(([k]) => !isChecksum(k)));
  ctx.query = Object.assign(Object.create(null) as Query, Object.fromEntries(Object.entries(ctx.query).filter(([k]) => !isChecksum(k))));
}

async function handle(app: App, req: IncomingMessage, res: ServerResponse) {
  const url = req.url ?? '/';
  const qi = url.indexOf('?');
  const rawPath = qi === -1 ? url : url.slice(0, qi);
  const ctx: Ctx = {
    app,
    req,
    res,
    method: req.method ?? 'GET',
    bucket: undefined,
    key: undefined,
    query: {},
    headers: req.headers,
    auth: { presigned: false, payload: 'unsigned', signedHeaders: new Set() },
    cors: {},
  };
  res.setHeader('server', 'local-r2');
  // The injectable clock is the server's clock: SDKs correct their skew from this header.
  res.setHeader('date', new Date(app.now()).toUTCString());
  try {
    app.checkHost(req.headers.host);
    ctx.query = parseQuery(qi === -1 ? '' : url.slice(qi + 1));
    const vhost = virtualHostBucket(req.headers.host);
    const { bucket, key } = splitPath(vhost ? `/${vhost}${rawPath}` : rawPath);
    ctx.bucket = bucket;
    ctx.key = key;
    if (bucket !== undefined && !validBucketName(bucket)) throw new S3Error('InvalidBucketName');
    if (key !== undefined) checkKey(key);
    const row = bucket === undefined ? undefined : app.db.getBucket(bucket);
    const rules = row?.cors ? (JSON.parse(row.cors) as CorsRule[]) : null;
    if (ctx.method === 'OPTIONS') {
      if (bucket === undefined) throw new S3Error('MethodNotAllowed');
      if (!row) throw new S3Error('NoSuchBucket');
      return send(ctx, 200, preflight(rules, req.headers));
    }
    ctx.cors = corsForRequest(rules, req.headers, ctx.method);
    ctx.auth = await app.auth.verify({ method: ctx.method, rawPath, query: ctx.query, headers: req.headers });
    if (app.ignoreChecksums) dropChecksums(ctx);
    await route(ctx)(ctx);
  } catch (err) {
    sendError(ctx, err);
  }
}

export async function startLocalR2(options: LocalR2Options): Promise<LocalR2> {
  const now = options.now ?? Date.now;
  const creds = options.credentials ?? DEFAULT_CREDENTIALS;
  const credentials = Array.isArray(creds) ? creds : [creds];
  if (credentials.length === 0) throw new Error('local-r2: at least one credential pair is required');
  await mkdir(options.dataDir, { recursive: true });
  const unlock = await lockDataDir(options.dataDir);
  let db: MetaDb;
  try {
    db = new MetaDb(join(options.dataDir, 'metadata.sqlite'));
  } catch (err) {
    await unlock();
    throw err;
  }
  const blobs = new BlobStore(options.dataDir);
  const log = options.onError ?? ((msg: string, err?: unknown) => console.error(msg, err));
  try {
    await blobs.init();
    await blobs.collectGarbage(db.referencedFiles());
    for (const b of options.buckets ?? []) {
      if (!validBucketName(b)) throw new Error(`local-r2: invalid bucket name '${b}' (3-63 of a-z, 0-9, -)`);
      db.createBucket(b, now());
    }
  } catch (err) {
    db.close();
    await unlock();
    throw err;
  }
  const host = options.host ?? '127.0.0.1';
  const checkHost = hostMatcher(host, options.allowedHosts);
  const app: App = { db, blobs, auth: new Authenticator(credentials, now), now, checkHost, log, ignoreChecksums: options.ignoreChecksums ?? false };
  await sweep(app);

  // Sockets whose last response announced `Connection: close`: a parse error after it (say, an
  // unread body parsed as a request) must not add bytes behind that response.
  const closing = new WeakSet<Socket>();
  const headersTimeout = options.headersTimeoutMs ?? 20_000;
  const idleTimeout = options.idleTimeoutMs ?? 60_000;
  // No overall request timeout (a 5 GiB body takes as long as it takes); slow or silent clients
  // are cut off by the headers timeout and the idle timeout instead.
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: 0,
      headersTimeout,
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
      // Node re-arms a pipelined request's socket with this after each response: keep it within the idle limit.
      keepAliveTimeout: idleTimeout > 0 ? Math.min(65_000, idleTimeout) : 65_000,
    },
    (req, res) => {
    res.once('finish', () => {
      if (!res.shouldKeepAlive || res.getHeader('connection') === 'close') closing.add(req.socket);
    });
    void handle(app, req, res);
    },
  );
  server.setTimeout(idleTimeout);
  server.on('timeout', (socket: Socket) => {
    // A silent client is cut off, but not while it waits for us (a long fsync after a full body).
    const res = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (res?.req.complete && !res.headersSent) return;
    socket.destroy();
  });
  server.on('clientError', (err, socket) => {
    // Node keeps the response in flight on `_httpMessage`: once its head is out, a 400 would corrupt it.
    const current = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || closing.has(socket as Socket) || current?.headersSent) return socket.destroy();
    const code = (err as NodeJS.ErrnoException).code;
    const e =
      code === 'HPE_HEADER_OVERFLOW'
        ? new S3Error('InvalidRequest', 'Request headers are too large.', 431)
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new S3Error('RequestTimeout', 'The request headers did not arrive within the headers timeout.', 408)
          : new S3Error('InvalidRequest', 'The HTTP request is malformed.');
    const body = errorXml(e);
    // The answer to a HEAD carries no body, even one Node never parsed: the client would read
    // the XML as garbage after the response.
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    db.close();
    await unlock();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const interval = options.sweepIntervalMs ?? 60_000;
  let sweeping: Promise<unknown> = Promise.resolve();
  const timer =
    interval > 0
      ? setInterval(() => {
          sweeping = sweep(app).catch((err) => log('local-r2: lifecycle sweep failed', err));
        }, interval)
      : undefined;
  timer?.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    host,
    port,
    credentials: credentials[0] as Credentials,
    sweep: () => sweep(app),
    close() {
      closed ??= (async () => {
        if (timer) clearInterval(timer);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await sweeping;
        db.close();
        await unlock();
      })();
      return closed;
    },
  };
}
