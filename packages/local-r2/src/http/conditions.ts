import { S3Error } from '../errors.js';
import type { ObjectRow } from '../store/db.js';
import { type Ctx, h } from './context.js';

function etagList(v: string): string[] {
  return v.split(',').map((s) => s.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
}

const matches = (list: string[], etag: string) => list.includes('*') || list.includes(etag);

function date(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Headers that make a write conditional, kept so CompleteMultipartUpload can re-check them. */
export interface WriteConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export function writeConditions(ctx: Ctx): WriteConditions {
  const c: WriteConditions = {};
  const m = h(ctx, 'if-match');
  const n = h(ctx, 'if-none-match');
  const ms = h(ctx, 'if-modified-since');
  const us = h(ctx, 'if-unmodified-since');
  if (m !== undefined) c.ifMatch = m;
  if (n !== undefined) c.ifNoneMatch = n;
  if (ms !== undefined) c.ifModifiedSince = ms;
  if (us !== undefined) c.ifUnmodifiedSince = us;
  return c;
}

/** R2 conditional writes: a failed condition on PutObject / multipart is 412 PreconditionFailed. */
export function checkWrite(c: WriteConditions, cur: ObjectRow | undefined) {
  const fail = () => {
    throw new S3Error('PreconditionFailed');
  };
  if (c.ifMatch !== undefined && (!cur || !matches(etagList(c.ifMatch), cur.etag))) fail();
  if (c.ifNoneMatch !== undefined && cur && matches(etagList(c.ifNoneMatch), cur.etag)) fail();
  const ms = date(c.ifModifiedSince);
  if (ms !== undefined && cur && Math.floor(cur.modified / 1000) * 1000 <= ms) fail();
  const us = date(c.ifUnmodifiedSince);
  if (us !== undefined && cur && Math.floor(cur.modified / 1000) * 1000 > us) fail();
}

/** Read conditions (RFC 9110 order): returns 304 when not modified, throws 412 when a precondition fails. */
export function checkRead(ctx: Ctx, obj: ObjectRow): 200 | 304 {
  const modified = Math.floor(obj.modified / 1000) * 1000;
  const m = h(ctx, 'if-match');
  const n = h(ctx, 'if-none-match');
  if (m !== undefined) {
    if (!matches(etagList(m), obj.etag)) throw new S3Error('PreconditionFailed');
  } else {
    const us = date(h(ctx, 'if-unmodified-since'));
    if (us !== undefined && modified > us) throw new S3Error('PreconditionFailed');
  }
  if (n !== undefined) {
    if (matches(etagList(n), obj.etag)) return 304;
  } else {
    const ms = date(h(ctx, 'if-modified-since'));
    if (ms !== undefined && modified <= ms) return 304;
  }
  return 200;
}
