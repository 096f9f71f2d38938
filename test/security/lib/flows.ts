// Legitimate steps an attacker starts from: create an upload as a user, get its URLs, send bytes.
import { createHash, randomBytes } from 'node:crypto';
import { type Answer, api, raw } from './http.js';
import { bearer, type User } from './servers.js';

export interface SignedPut {
  url: string;
  headers: Record<string, string>;
}

export const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
export const bytes = (n: number) => randomBytes(n);

/** Chute path: a single PUT for `body`, as `user`. */
export async function createSingle(base: string, user: User, body: Buffer, over: Record<string, unknown> = {}) {
  const r = await api(base, 'POST', '/api/uploads', bearer(user), { name: 'file.bin', type: 'application/octet-stream', size: body.length, multipart: false, md5: md5(body), ...over });
  if (r.status !== 201) throw new Error(`create single: ${r.status} ${r.text}`);
  const request = r.json.request as SignedPut;
  return { key: r.json.key as string, put: request };
}

export async function createMultipart(base: string, user: User, size: number, partSize = 5 * 1024 * 1024) {
  const r = await api(base, 'POST', '/api/uploads', bearer(user), { name: 'big.bin', type: 'application/octet-stream', size, multipart: true, partSize });
  if (r.status !== 201) throw new Error(`create multipart: ${r.status} ${r.text}`);
  return { key: r.json.key as string, uploadId: r.json.uploadId as string, token: r.json.token as string, partSize: r.json.partSize as number, partCount: r.json.partCount as number };
}

export async function signPart(base: string, user: User, uploadId: string, token: string, partNumber: number, body: Buffer) {
  const r = await api(base, 'POST', `/api/uploads/${encodeURIComponent(uploadId)}/parts`, bearer(user), { token, parts: [{ partNumber, md5: md5(body) }] });
  if (r.status !== 200) throw new Error(`sign part: ${r.status} ${r.text}`);
  const p = (r.json.parts as (SignedPut & { size: number })[])[0] as SignedPut;
  return p;
}

/** Send `body` to a presigned URL with its signed headers plus `extra` (the attack). */
export function send(put: SignedPut, body: Buffer | string, extra: Record<string, string> = {}, method = 'PUT'): Promise<Answer> {
  return raw(put.url, { method, headers: { ...put.headers, ...extra }, body });
}

/** Stock-Uppy signRequest. */
export function uppySign(base: string, user: User, body: Record<string, unknown>) {
  return api(base, 'POST', '/api/uppy/sign', bearer(user), body);
}
