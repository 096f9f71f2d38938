import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult, Authenticator } from '../auth.js';
import { S3Error } from '../errors.js';
import type { BlobStore } from '../store/blobs.js';
import type { MetaDb } from '../store/db.js';

export interface App {
  db: MetaDb;
  blobs: BlobStore;
  auth: Authenticator;
  now: () => number;
  /** Throws AccessDenied for a Host header this server does not answer to (allowedHosts). */
  checkHost: (host: string | undefined) => void;
  /** Reports unexpected server errors (client mistakes are answered, not logged). */
  log: (msg: string, err?: unknown) => void;
  /** Accept and ignore every additional checksum (LocalR2Options.ignoreChecksums). */
  ignoreChecksums: boolean;
}

export type Query = Record<string, string | string[]>;

export interface Ctx {
  app: App;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  query: Query;
  headers: IncomingHttpHeaders;
  auth: AuthResult;
  /** CORS response headers for this request (empty when no Origin or no matching rule). */
  cors: Record<string, string>;
}

export function q(ctx: Ctx, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

export function h(ctx: Ctx, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Parses a query string without turning '+' into a space (S3 clients always percent-encode). */
export function parseQuery(raw: string): Query {
  const out: Query = Object.create(null) as Query;
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    let k: string;
    let v: string;
    try {
      k = decodeURIComponent(i === -1 ? pair : pair.slice(0, i));
      v = i === -1 ? '' : decodeURIComponent(pair.slice(i + 1));
    } catch {
      throw new S3Error('InvalidArgument', 'The query string is not valid percent-encoded UTF-8.');
    }
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function send(ctx: Ctx, status: number, headers: Record<string, string | number>, body?: string | Buffer) {
  const { res } = ctx;
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(ctx.cors)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body !== undefined) {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/xml');
    res.setHeader('content-length', buf.length);
    res.writeHead(status);
    res.end(buf);
  } else {
    if (!res.hasHeader('content-length')) res.setHeader('content-length', 0);
    res.writeHead(status);
    res.end();
  }
}

export const sendXml = (ctx: Ctx, xml: string, headers: Record<string, string | number> = {}) =>
  send(ctx, 200, { 'content-type': 'application/xml', ...headers }, xml);

export const etagQuote = (etag: string) => `"${etag}"`;
