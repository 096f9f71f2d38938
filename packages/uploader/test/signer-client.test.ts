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
