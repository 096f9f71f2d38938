// HttpSignerClient against the two answers of POST /parts: the compact template it asks for, and
// the URL-per-part answer of a signer that predates `format` (it ignores the field).
import { describe, expect, test } from 'vitest';
import { HttpSignerClient } from '../src/signer-client.js';

const BASE = 'http://bucket.test/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261125T120000Z&partNumber=';
const sig = (n: number) => n.toString(16).padStart(64, '0');
const expiresAt = '2026-11-25T12:15:00.000Z';

function signerAnswering(kind: 'template' | 'urls') {
  const bodies: Record<string, unknown>[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as { parts: { partNumber: number; md5: string }[] };
    bodies.push(body);
    const answer =
      kind === 'template'
        ? {
            template: { method: 'PUT', url: `${BASE}{partNumber}&uploadId=u&X-Amz-Signature={signature}`, expiresAt },
            parts: body.parts.map((p) => ({ partNumber: p.partNumber, size: 5, signature: sig(p.partNumber), headers: { 'content-md5': p.md5 } })),
          }
        : {
            parts: body.parts.map((p) => ({
              partNumber: p.partNumber,
              size: 5,
              method: 'PUT',
              url: `${BASE}${p.partNumber}&uploadId=u&X-Amz-Signature=${sig(p.partNumber)}`,
              headers: { 'content-md5': p.md5 },
              expiresAt,
            })),
          };
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { client: new HttpSignerClient({ endpoint: 'http://signer.test', fetch }), bodies };
}

describe('HttpSignerClient.signParts', () => {
  const parts = [1, 2, 10].map((n) => ({ partNumber: n, md5: 'XrY7u+Ae7tCTyyK7j1rNww==' }));

  test.each(['template', 'urls'] as const)('a %s answer becomes one full URL per part', async (kind) => {
    const { client, bodies } = signerAnswering(kind);
    const res = await client.signParts('u', 'tok', parts);
    expect(bodies[0]?.format).toBe('template');
    expect(res.parts.map((p) => [p.partNumber, p.url, p.headers['content-md5'], p.method, p.expiresAt])).toEqual(
      [1, 2, 10].map((n) => [n, `${BASE}${n}&uploadId=u&X-Amz-Signature=${sig(n)}`, 'XrY7u+Ae7tCTyyK7j1rNww==', 'PUT', expiresAt]),
    );
  });

  test('a template without its placeholders is a bad_response, not a broken URL', async () => {
    const fetch = (async () =>
      new Response(JSON.stringify({ template: { method: 'PUT', url: 'http://bucket.test/b/k', expiresAt }, parts: [] }), { status: 200 })) as unknown as typeof globalThis.fetch;
    const client = new HttpSignerClient({ endpoint: 'http://signer.test', fetch });
    await expect(client.signParts('u', 'tok', parts)).rejects.toMatchObject({ code: 'bad_response' });
  });

  test('an abort while the answer is being read rejects with the abort reason, not as a bad answer', async () => {
    const controller = new AbortController();
    const fetch = (async (_url: string, init: RequestInit) => {
      // Headers arrive, then the body stalls until the request is aborted (a pause mid-answer).
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"parts":['));
          init.signal?.addEventListener('abort', () => c.error(new DOMException('The operation was aborted.', 'AbortError')));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof globalThis.fetch;
    const client = new HttpSignerClient({ endpoint: 'http://signer.test', fetch });
    const pending = client.signParts('u', 'tok', parts, controller.signal);
    const reason = new Error('paused');
    setTimeout(() => controller.abort(reason), 10);
    await expect(pending).rejects.toBe(reason);
  });
});

// Sign-parts and complete in the token form: text/plain, the upload token in the body, no
// Authorization (a CORS-simple request: no preflight). Create, list and abort keep the JSON form.
describe('HttpSignerClient token form', () => {
  type Seen = { method: string; path: string; headers: Record<string, string>; body?: unknown };
  const completeAnswer = { key: 'k', etag: 'e-1', size: 5 };
  const signAnswer = (body: { parts: { partNumber: number }[] }) => ({
    parts: body.parts.map((p) => ({ partNumber: p.partNumber, size: 5, method: 'PUT', url: `${BASE}${p.partNumber}`, headers: {}, expiresAt })),
  });
  /** A signer that answers the token form as a new one does, or refuses it (401) as one that predates it. */
  function signer(takesTokenForm: boolean) {
    const seen: Seen[] = [];
    let authCalls = 0;
    const fetch = (async (url: string, init: RequestInit) => {
      const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
      const body = init.body === undefined ? undefined : (JSON.parse(String(init.body)) as { parts: { partNumber: number }[] });
      const path = new URL(url).pathname;
      seen.push({ method: String(init.method), path, headers, body });
      if (headers['content-type']?.startsWith('text/plain') && !takesTokenForm) {
        return new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'Missing or invalid credentials (Authorization: Bearer …).' } }), { status: 401 });
      }
      const answer = path.endsWith('/parts') ? signAnswer(body as { parts: { partNumber: number }[] }) : completeAnswer;
      return new Response(JSON.stringify(answer), { status: 200 });
    }) as typeof globalThis.fetch;
    const client = new HttpSignerClient({ endpoint: 'http://signer.test', fetch, getAuthToken: () => (authCalls++, 'user-token') });
    return { client, seen, authCalls: () => authCalls };
  }
  const parts = [{ partNumber: 1, md5: 'XrY7u+Ae7tCTyyK7j1rNww==' }];

  test('sign and complete go as text/plain without Authorization; the token travels in the body', async () => {
    const { client, seen, authCalls } = signer(true);
    await client.signParts('u/1', 'tok', parts);
    await client.complete('u/1', { token: 'tok', checksum: 'AAAAAAAAAAA=' });
    expect(seen.map((s) => [s.method, s.path, s.headers['content-type'], s.headers.authorization, (s.body as { token: string }).token])).toEqual([
      ['POST', '/api/uploads/u%2F1/parts', 'text/plain;charset=UTF-8', undefined, 'tok'],
      ['POST', '/api/uploads/u%2F1/complete', 'text/plain;charset=UTF-8', undefined, 'tok'],
    ]);
    // Only CORS-safelisted headers: nothing that would make the browser ask first.
    for (const s of seen) expect(Object.keys(s.headers).sort()).toEqual(['accept', 'content-type']);
    expect(authCalls()).toBe(0);
    // Abort still carries the user's credentials and the token header.
    await client.abort('u/1', 'tok');
    expect(seen.at(-1)?.headers).toMatchObject({ authorization: 'Bearer user-token', 'chute-upload-token': 'tok' });
  });

  test('a signer that predates it (401) gets the JSON form, then every call is JSON', async () => {
    const { client, seen } = signer(false);
    const res = await client.signParts('u', 'tok', parts);
    expect(res.parts[0]?.url).toBe(`${BASE}1`);
    await client.complete('u', { token: 'tok' });
    expect(seen.map((s) => [s.path, s.headers['content-type'], s.headers.authorization])).toEqual([
      ['/api/uploads/u/parts', 'text/plain;charset=UTF-8', undefined],
      ['/api/uploads/u/parts', 'application/json', 'Bearer user-token'],
      ['/api/uploads/u/complete', 'application/json', 'Bearer user-token'],
    ]);
  });

  test('other refusals are not a reason to change form: an invalid token is the error', async () => {
    const fetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'invalid_token', message: 'The upload token is not valid for this request.' } }), { status: 403 })) as unknown as typeof globalThis.fetch;
    const client = new HttpSignerClient({ endpoint: 'http://signer.test', fetch });
    await expect(client.signParts('u', 'tok', parts)).rejects.toMatchObject({ code: 'invalid_token', status: 403 });
  });
});
