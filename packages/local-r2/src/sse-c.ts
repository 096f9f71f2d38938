import { createCipheriv, createDecipheriv, createHash, createHmac, type Decipher, randomBytes, timingSafeEqual } from 'node:crypto';
import { S3Error } from './errors.js';
import { type Ctx, h } from './http/context.js';

/**
 * SSE-C: objects encrypted at rest with the customer's AES-256 key, which is never stored. Each
 * data file is AES-256-CTR with its counter starting at the file's random 128-bit id, so a range
 * read seeks to its 16-byte block, and files are never shared between keys (copies re-encrypt).
 * To recognise the key later only a salted HMAC of it is kept (in the object's private headers).
 */
export interface SseKey {
  key: Buffer;
  /** base64 MD5 of the key, echoed in responses as S3 does. */
  md5: string;
}

/** Private metadata header holding `salt.hmac` of the key; never sent to clients. */
export const SSE_C_VERIFIER = 'x-local-r2-sse-c';
const ARG = 'Requests specifying Server Side Encryption with Customer provided keys must provide';

/** Reads the three SSE-C headers (or the x-amz-copy-source-… ones); undefined when none is sent. */
export function parseSseC(ctx: Ctx, copySource = false): SseKey | undefined {
  const p = `${copySource ? 'x-amz-copy-source-' : 'x-amz-'}server-side-encryption-customer-`;
  const alg = h(ctx, `${p}algorithm`);
  const key = h(ctx, `${p}key`);
  const md5 = h(ctx, `${p}key-md5`);
  if (alg === undefined && key === undefined && md5 === undefined) return undefined;
  if (alg === undefined) throw new S3Error('InvalidArgument', `${ARG} a valid encryption algorithm.`);
  if (alg !== 'AES256') throw new S3Error('InvalidEncryptionAlgorithmError');
  if (key === undefined) throw new S3Error('InvalidArgument', `${ARG} an appropriate secret key.`);
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32) throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.');
  const digest = createHash('md5').update(raw).digest('base64');
  if (md5 === undefined) throw new S3Error('InvalidArgument', `${ARG} the client calculated MD5 of the secret key.`);
  if (md5 !== digest) throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.');
  return { key: raw, md5: digest };
}

export function verifierFor(k: SseKey): string {
  const salt = randomBytes(16);
  return `${salt.toString('hex')}.${createHmac('sha256', salt).update(k.key).digest('hex')}`;
}

export function keyMatches(verifier: string, k: SseKey): boolean {
  const [salt = '', mac = ''] = verifier.split('.');
  const want = Buffer.from(mac, 'hex');
  const got = createHmac('sha256', Buffer.from(salt, 'hex')).update(k.key).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Checks the key sent to read (or copy from) an object against how it was stored, as S3 refuses it. */
export function keyForRead(verifier: string | undefined, k: SseKey | undefined): SseKey | undefined {
  if (verifier !== undefined && k === undefined)
    throw new S3Error(
      'InvalidRequest',
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  if (verifier === undefined && k !== undefined) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
  if (verifier !== undefined && k !== undefined && !keyMatches(verifier, k))
    throw new S3Error('AccessDenied', 'The SSE-C key provided does not match the key the object was encrypted with.');
  return k;
}

/** Checks an UploadPart's key against its CreateMultipartUpload's. */
export function keyForPart(verifier: string | undefined, k: SseKey | undefined): SseKey | undefined {
  if (verifier !== undefined && k === undefined)
    throw new S3Error(
      'InvalidRequest',
      'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    );
  if (verifier === undefined && k !== undefined)
    throw new S3Error('InvalidRequest', 'The multipart upload initiate did not request encryption; this part must not carry encryption parameters.');
  if (verifier !== undefined && k !== undefined && !keyMatches(verifier, k))
    throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
  return k;
}

/** Response headers that confirm SSE-C. */
export function sseHeaders(k: SseKey | undefined): Record<string, string> {
  return k
    ? { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-md5': k.md5 }
    : {};
}

const MASK = (1n << 128n) - 1n;

/** The CTR counter block for byte `offset` (rounded down to its block) of the file `id`. */
function counterAt(id: string, offset: number): Buffer {
  const n = (BigInt(`0x${id}`) + BigInt(Math.floor(offset / 16))) & MASK;
  return Buffer.from(n.toString(16).padStart(32, '0'), 'hex');
}

/** Cipher for a new data file (its id is 32 random hex digits). */
export const encryptor = (key: Buffer, id: string) => createCipheriv('aes-256-ctr', key, counterAt(id, 0));

/** Decipher positioned at the block holding `offset`; the caller skips `offset % 16` bytes. */
export const decryptorAt = (key: Buffer, id: string, offset: number): Decipher =>
  createDecipheriv('aes-256-ctr', key, counterAt(id, offset));
