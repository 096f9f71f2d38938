import { isWellFormed, objectKeySchema } from '@chute/protocol';
import { ChuteError } from './errors.js';
import type { Identity } from './auth.js';
import type { Limits } from './config.js';

/** Default prefix of a user's keys. The user id is URI-encoded, so it can never contain `/`. */
export function defaultUserPrefix(identity: Identity): string {
  return `uploads/${encodeURIComponent(identity.userId)}/`;
}

/** Rejects user ids that would make a confusing or shared prefix. */
export function checkIdentity(identity: Identity): Identity {
  const id = identity.userId;
  // A lone surrogate has no UTF-8 form: encodeURIComponent (the prefix) would throw (a 500).
  if (typeof id !== 'string' || id.length === 0 || id.length > 256 || id === '.' || id === '..' || !isWellFormed(id)) {
    throw new ChuteError('unauthorized', 'The credentials name no usable user id.');
  }
  return identity;
}

/**
 * A file name safe inside an S3 key: the last path segment, NFC, letters/digits/`._-()+ ` kept,
 * everything else `_`, no leading dots, at most 200 UTF-8 bytes. Never empty.
 */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  let s = last
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._\-()+ ]/gu, '_')
    .replace(/\s+/g, ' ')
    .replace(/_+/g, '_')
    .trim()
    .replace(/^[.\s]+/, '');
  const bytes = new TextEncoder();
  while (bytes.encode(s).length > 200) s = Array.from(s).slice(0, -1).join('');
  return s.length === 0 ? 'file' : s;
}

/** S3 and R2 refuse keys over 1,024 UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/** `uploads/<user>/<uuid>/<safe name>`; refused (400 `key_too_long`) when over S3's key limit. */
export function newObjectKey(prefix: string, name: string): string {
  const key = `${prefix}${crypto.randomUUID()}/${safeFileName(name)}`;
  const bytes = new TextEncoder().encode(key).length;
  if (bytes > MAX_KEY_BYTES) {
    throw new ChuteError(
      'key_too_long',
      `The object key would be ${bytes} bytes; buckets allow ${MAX_KEY_BYTES}. Use a shorter file name${new TextEncoder().encode(prefix).length > 900 ? ' (your user id alone makes the key prefix too long; ask the site to use shorter ids)' : ''}.`,
      { details: { keyBytes: bytes, maxKeyBytes: MAX_KEY_BYTES } },
    );
  }
  return key;
}

/**
 * Throws unless `key` is a valid key under the caller's prefix. Empty, `.` and `..` segments are
 * refused too: the signer never makes such keys, and URL normalisation could move them elsewhere.
 */
export function assertOwnKey(key: string, prefix: string): void {
  if (!key.startsWith(prefix) || key.length === prefix.length) {
    throw new ChuteError('forbidden', 'This key belongs to another user.');
  }
  if (key.slice(prefix.length).split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ChuteError('forbidden', 'Keys with empty, "." or ".." segments are not yours to name.');
  }
  const r = objectKeySchema.safeParse(key);
  if (!r.success) throw new ChuteError('validation_failed', `Invalid key: ${r.error.issues[0]?.message ?? 'not a valid key'}.`);
}

function typePattern(pattern: string): RegExp {
  const esc = pattern
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^;]*');
  return new RegExp(`^${esc}$`);
}

/** The content type to store: lower-cased essence (`type/subtype`), `application/octet-stream` when empty. */
export function normalizeContentType(type: string): string {
  const essence = (type.split(';')[0] ?? '').trim().toLowerCase();
  if (essence === '') return 'application/octet-stream';
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(essence)) {
    throw new ChuteError('validation_failed', `"${type.slice(0, 100)}" is not a valid content type.`);
  }
  return essence;
}

/**
 * Types a browser runs as script when served from the bucket's domain. A wildcard (`image/*`,
 * `*\/*`) never admits them: only an exact entry in the allow-list does.
 */
const SCRIPTABLE_TYPES = new Set(['image/svg+xml', 'text/html', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/javascript', 'application/javascript']);

export function checkContentType(type: string, limits: Limits): void {
  if (SCRIPTABLE_TYPES.has(type) && !limits.allowedContentTypes.some((p) => p.toLowerCase() === type)) {
    throw new ChuteError(
      'content_type_not_allowed',
      `Files of type ${type} can run script in a browser, so a wildcard does not admit them; the site must list ${type} exactly to accept it.`,
      { details: { allowed: limits.allowedContentTypes } },
    );
  }
  if (!limits.allowedContentTypes.some((p) => typePattern(p).test(type))) {
    throw new ChuteError('content_type_not_allowed', `Files of type ${type} are not accepted here.`, {
      details: { allowed: limits.allowedContentTypes },
    });
  }
}

export function checkSize(size: number, limits: Limits): void {
  if (size > limits.maxFileSize) {
    throw new ChuteError('file_too_large', `The file is ${size} bytes; the limit is ${limits.maxFileSize} bytes.`, {
      details: { maxFileSize: limits.maxFileSize },
    });
  }
}
