// Small helpers for probing what an S3 store does: one row per question, the store's exact answer.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32, crc64 } from 'hash-wasm';

export interface Row {
  section: string;
  operation: string;
  result: string;
}

export const rows: Row[] = [];
let section = '';
export const setSection = (s: string) => {
  section = s;
};

/** Runs one probe; a throw becomes the row's result, so one surprise does not hide the rest. */
export async function probe(operation: string, fn: () => Promise<string>): Promise<void> {
  let result: string;
  try {
    result = await fn();
  } catch (err) {
    result = `probe failed: ${describe(err)}`;
  }
  rows.push({ section, operation, result });
  console.log(`${operation}: ${result}`);
}

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** "<status> <Code>: <Message>" of an SDK error (the Message is left out when the store sent none). */
export function describe(err: unknown): string {
  const e = err as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? e.name ?? 'Error';
  const msg = e.message && e.message !== code && e.message !== 'UnknownError' ? `: ${e.message}` : '';
  return `${status ?? '-'} ${code}${msg}`;
}

/** Sends a command expecting a refusal; an acceptance is reported as such. */
export async function refusal(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'accepted (200)';
  } catch (err) {
    return `refused ${describe(err)}`;
  }
}

const lastHeadersOf = new WeakMap<S3Client, () => Record<string, string>>();

/** Raw response headers of the last request on `client` (the SDK parses only what it knows). */
export function recordHeaders(client: S3Client): () => Record<string, string> {
  const known = lastHeadersOf.get(client);
  if (known) return known;
  let last: Record<string, string> = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      last = ((out.response as { headers?: Record<string, string> }).headers ?? {}) as Record<string, string>;
      return out;
    },
    { step: 'deserialize', name: 'recordHeaders', priority: 'low' },
  );
  const read = () => last;
  lastHeadersOf.set(client, read);
  return read;
}

/** The x-amz-checksum-* headers of a response, or "none". */
export function checksumHeadersOf(h: Record<string, string>): string {
  const found = Object.entries(h)
    .filter(([k]) => k.startsWith('x-amz-checksum'))
    .map(([k, v]) => `${k}: ${v}`);
  return found.length ? found.join(', ') : 'none';
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
export const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

export type Algorithm = 'CRC64NVME' | 'CRC32' | 'CRC32C' | 'SHA256';
export async function checksum(alg: Algorithm, data: Uint8Array): Promise<string> {
  if (alg === 'SHA256') return createHash('sha256').update(data).digest('base64');
  if (alg === 'CRC32') return b64(await crc32(data));
  if (alg === 'CRC32C') return b64(await crc32(data, 0x82f63b78));
  return b64(await crc64(data, '9a6c9329ac4bc9b5'));
}

/** A valid-looking checksum of the wrong bytes. */
export const wrongChecksum = (alg: Algorithm) => checksum(alg, new TextEncoder().encode('not these bytes'));

/** The SDK field and header name of each checksum. */
export const FIELD = {
  CRC64NVME: 'ChecksumCRC64NVME',
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  SHA256: 'ChecksumSHA256',
} as const;
export const header = (alg: Algorithm) => `x-amz-checksum-${alg.toLowerCase()}`;

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** AWS's multipart ETag: md5 of the concatenated binary part MD5s, "-" part count. */
export function multipartEtag(parts: Uint8Array[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `${h.digest('hex')}-${parts.length}`;
}

export function markdownTable(all: Row[]): string {
  const out: string[] = [];
  let current = '';
  for (const r of all) {
    if (r.section !== current) {
      current = r.section;
      out.push('', `### ${current}`, '', '| Operation | radosgw behaviour |', '| --- | --- |');
    }
    out.push(`| ${r.operation.replaceAll('|', '\\|')} | ${r.result.replaceAll('|', '\\|').replaceAll('\n', ' ')} |`);
  }
  return out.join('\n');
}
