// Generated malformed requests for the signer's JSON API: mutated bodies, tokens, ids, query
// strings, auth headers and routes. Most carry a valid user's credentials so they reach the
// handlers; some carry a real upload's token (of the same or another user).
import { ROUTES, UPLOAD_TOKEN_HEADER } from '@chute/protocol';
import { clip, headerSafe, int, jsonText, mutateJson, nastyString, pick, type Rand } from './fuzz-values.js';

export interface SignerFuzzContext {
  users: { id: string; token: string }[];
  /** Real multipart uploads: owner index, id, token, key. */
  uploads: { owner: number; uploadId: string; token: string; key: string }[];
}

export interface SignerRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function mutateToken(r: Rand, t: string): string {
  const x = r();
  if (x < 0.3) return t;
  if (x < 0.5) {
    const i = int(r, 0, t.length - 1);
    return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
  }
  if (x < 0.6) return t.slice(0, int(r, 0, t.length));
  if (x < 0.7) return `${t}.${t}`;
  if (x < 0.8) return t.split('.').reverse().join('.');
  return clip(nastyString(r), 5000);
}

export function generateSignerRequest(r: Rand, ctx: SignerFuzzContext): SignerRequest {
  const user = pick(r, ctx.users);
  const up = pick(r, ctx.uploads);
  const idRaw = r() < 0.6 ? up.uploadId : clip(nastyString(r), 2000);
  const id = r() < 0.9 ? encodeURIComponent(idRaw) : idRaw.replace(/[^\x21-\x7e]/g, '');
  const token = mutateToken(r, up.token);
  const headers: Record<string, string> = {};
  const a = r();
  if (a < 0.75) headers.authorization = `Bearer ${user.token}`;
  else if (a < 0.85) headers.authorization = headerSafe(pick(r, ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Bearer ${user.token}x`, `bearer  ${user.token} extra`, nastyString(r)]));
  const x = r();
  let method = 'POST';
  let path: string = ROUTES.uploads;
  let body: unknown;
  if (x < 0.2) {
    body = mutateJson(r, { name: 'file.bin', type: 'application/octet-stream', size: int(r, 0, 100 * 1024 * 1024), checksumAlgorithm: 'CRC64NVME', metadata: { a: 'b' }, multipart: true, partSize: 5 * 1024 * 1024 });
  } else if (x < 0.38) {
    path = ROUTES.parts(idRaw).replace(encodeURIComponent(idRaw), id);
    body = mutateJson(r, { token, parts: Array.from({ length: int(r, 1, 5) }, (_, i) => ({ partNumber: i + 1, md5: '1B2M2Y8AsgTpgAMF7PhCfg==' })) });
  } else if (x < 0.48) {
    method = 'GET';
    path = ROUTES.parts(idRaw).replace(encodeURIComponent(idRaw), id);
    headers[UPLOAD_TOKEN_HEADER] = headerSafe(token);
  } else if (x < 0.58) {
    path = ROUTES.complete(idRaw).replace(encodeURIComponent(idRaw), id);
    body = mutateJson(r, { token, parts: [{ partNumber: 1, etag: 'd41d8cd98f00b204e9800998ecf8427e' }], checksum: 'AAAAAAAAAAA=' });
  } else if (x < 0.64) {
    method = 'DELETE';
    path = ROUTES.upload(idRaw).replace(encodeURIComponent(idRaw), id);
    headers[UPLOAD_TOKEN_HEADER] = headerSafe(token);
  } else if (x < 0.7) {
    path = ROUTES.downloads;
    body = mutateJson(r, { key: r() < 0.5 ? up.key : nastyString(r), filename: 'a.txt' });
  } else if (x < 0.76) {
    method = 'GET';
    path = `${ROUTES.uploads}?${pick(r, ['', 'limit=0', 'limit=-1', 'limit=1001', 'limit=x', `cursor=${encodeURIComponent(clip(nastyString(r), 300))}`, 'cursor=&cursor=', '%zz=1'])}`;
  } else if (x < 0.86) {
    path = ROUTES.uppySign;
    body = mutateJson(r, { method: pick(r, ['PUT', 'POST', 'GET', 'DELETE']), key: r() < 0.5 ? up.key : `uploads/${user.id}/x`, uploadId: up.uploadId, partNumber: 1, contentType: 'text/plain' });
  } else if (x < 0.93) {
    method = pick(r, ['POST', 'GET', 'DELETE']);
    path = `/api/uppy/s3/${pick(r, ['create', 'parts', 'complete', 'abort'])}?${pick(r, ['', `token=${encodeURIComponent(token)}`, `token=${encodeURIComponent(clip(nastyString(r), 200))}&uploadId=${id}`, 'uploads'])}`;
    body = r() < 0.5 ? undefined : { raw: nastyString(r) };
  } else {
    method = pick(r, ['GET', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'DELETE', 'POST']);
    path = pick(r, ['/', '/api', '/api/', '/api/uploads/', '/api/uploads//parts', `/api/${encodeURIComponent(clip(nastyString(r), 100))}`, '/api/uploads/%2e%2e/complete', '/api/uppy/sign']);
    if (method === 'OPTIONS') {
      headers.origin = headerSafe(pick(r, ['http://evil.example', 'null', nastyString(r)]));
      headers['access-control-request-method'] = 'POST';
    }
  }
  const req: SignerRequest = { method, path, headers };
  if (body !== undefined && method !== 'GET' && method !== 'HEAD') {
    req.body = jsonText(r, body);
    req.headers['content-type'] = r() < 0.9 ? 'application/json' : pick(r, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']);
    if (r() < 0.02) req.body = 'x'.repeat(int(r, 1024 * 1024, 3 * 1024 * 1024));
  }
  return req;
}
