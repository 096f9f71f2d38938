// One upload through chute-server's HTTP API the way the widget makes it: create, sign parts with
// their Content-MD5, PUT the bytes to the presigned URLs (straight to the store), complete.
import { createHash } from 'node:crypto';
import { crc64 } from 'hash-wasm';

export interface FlowResult {
  /** The create answer (type, checksumAlgorithm, md5Required, …). */
  created: Record<string, unknown>;
  /** The complete answer (multipart) or `{ key, etag }` of the single PUT. */
  done: { key: string; etag: string; size?: number; checksum?: { algorithm: string; value: string }; verification?: { level: string; checked: string[]; warning?: string } };
  /** Each PUT's status and ETag, in part order. */
  puts: { status: number; etag: string | null }[];
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');

/** `auth: null`: the token form (text/plain, no Authorization), authorised by the upload token in the body. */
async function api(base: string, auth: Record<string, string> | null, path: string, body: unknown): Promise<Record<string, unknown>> {
  const headers = auth ? { 'content-type': 'application/json', ...auth } : { 'content-type': 'text/plain;charset=UTF-8' };
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function put(url: string, headers: Record<string, string>, body: Uint8Array) {
  const res = await fetch(url, { method: 'PUT', headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`PUT ${new URL(url).pathname}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, etag: res.headers.get('etag') };
}

export async function uploadThroughApi(
  base: string,
  bytes: Uint8Array,
  o: { token?: string; multipart: boolean; partSize?: number; checksumAlgorithm?: string; name?: string; tokenForm?: boolean },
): Promise<FlowResult> {
  const auth: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
  const name = o.name ?? (o.multipart ? 'big.bin' : 'small.bin');
  const ask = { name, type: 'application/octet-stream', size: bytes.length, multipart: o.multipart, ...(o.checksumAlgorithm ? { checksumAlgorithm: o.checksumAlgorithm } : {}) };
  if (!o.multipart) {
    const created = await api(base, auth, '/api/uploads', { ...ask, md5: md5(bytes) });
    const request = created.request as { url: string; headers: Record<string, string> };
    const sent = await put(request.url, request.headers, bytes);
    return { created, done: { key: created.key as string, etag: (sent.etag ?? '').replaceAll('"', '') }, puts: [sent] };
  }
  const created = await api(base, auth, '/api/uploads', { ...ask, ...(o.partSize ? { partSize: o.partSize } : {}) });
  if (created.checksumType === 'COMPOSITE') throw new Error('uploadThroughApi sends Content-MD5 parts only (no COMPOSITE checksums)');
  const { uploadId, token, partSize, partCount } = created as { uploadId: string; token: string; partSize: number; partCount: number };
  const bodies = Array.from({ length: partCount }, (_, i) => bytes.subarray(i * partSize, Math.min(bytes.length, (i + 1) * partSize)));
  const id = encodeURIComponent(uploadId);
  // Sign and complete as the browser sends them cross-origin without a preflight, if asked.
  const byToken = o.tokenForm ? null : auth;
  const signed = await api(base, byToken, `/api/uploads/${id}/parts`, { token, parts: bodies.map((b, i) => ({ partNumber: i + 1, md5: md5(b) })) });
  const parts = signed.parts as { partNumber: number; url: string; headers: Record<string, string> }[];
  const puts = await Promise.all(parts.map((p) => put(p.url, p.headers, bodies[p.partNumber - 1] as Uint8Array)));
  const full = created.checksumAlgorithm === 'CRC64NVME' ? { checksum: Buffer.from(await crc64(bytes, '9a6c9329ac4bc9b5'), 'hex').toString('base64') } : {};
  const done = await api(base, byToken, `/api/uploads/${id}/complete`, {
    token,
    parts: puts.map((p, i) => ({ partNumber: i + 1, etag: (p.etag ?? '').replaceAll('"', '') })),
    ...full,
  });
  return { created, done: done as FlowResult['done'], puts };
}
