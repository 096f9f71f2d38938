import type { z } from 'zod';
import { ChuteError } from './errors.js';

/** Reads a request body up to `limit` bytes; larger bodies are refused without reading them all. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    // Refused unread: tell the runtime we will not read it.
    await request.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function tooLarge(limit: number): ChuteError {
  // The rest of the body stays unread, so the connection cannot carry another request: close it.
  return new ChuteError('payload_too_large', `The request body is larger than ${limit} bytes.`, {
    details: { limit },
    headers: { connection: 'close' },
  });
}

export async function readText(request: Request, limit: number): Promise<string> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readBody(request, limit));
  } catch (err) {
    if (err instanceof ChuteError) throw err;
    throw new ChuteError('bad_request', 'The request body is not valid UTF-8.');
  }
}

/** The JSON body validated by `schema`: `bad_request` for broken JSON, `validation_failed` with the issues otherwise. */
export async function readJson<S extends z.ZodType>(request: Request, schema: S, limit: number): Promise<z.output<S>> {
  const text = await readText(request, limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ChuteError('bad_request', 'The request body is not valid JSON.');
  }
  return validate(schema, value);
}

/** The request's JSON body validated by `schema`, from `ctx.body` when it was read already. */
export async function bodyOf<S extends z.ZodType>(ctx: { request: Request; body?: unknown }, schema: S, limit: number): Promise<z.output<S>> {
  return ctx.body === undefined ? readJson(ctx.request, schema, limit) : validate(schema, ctx.body);
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const first = issues[0];
  throw new ChuteError(
    'validation_failed',
    first ? `Invalid request: ${first.path || 'body'}: ${first.message}.` : 'Invalid request.',
    { details: { issues } },
  );
}

/**
 * The query parameters named in `names` (others are ignored). A name given twice is refused: which
 * value counts would otherwise depend on the parser (`?cursor=a&cursor=b`).
 */
export function queryOf(url: URL, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (!names.includes(k)) continue;
    if (Object.hasOwn(out, k)) {
      throw new ChuteError('validation_failed', `Invalid request: the query parameter ${k} is given more than once.`, {
        details: { issues: [{ path: k, message: 'given more than once' }] },
      });
    }
    out[k] = v;
  }
  return out;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

export function xml(body: string, status = 200): Response {
  return new Response(body, { status, headers: { 'content-type': 'application/xml', 'cache-control': 'no-store' } });
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}
