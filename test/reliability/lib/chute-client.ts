// A Node client that speaks the signer's JSON API exactly as the browser widget does: create →
// hash parts (Content-MD5 + CRC64NVME) → sign in batches → PUT parts in parallel straight to the
// store, retrying cut or failed parts → complete with the full-object CRC64NVME. It also resumes:
// list the parts the store holds, verify their ETags against the local bytes, send the rest.
import { createHash } from 'node:crypto';
import {
  completeUploadResponseSchema,
  createUploadResponseSchema,
  listPartsResponseSchema,
  type MultipartUploadResponse,
  type SignedPart,
  expandSignedParts,
  signPartsAnyResponseSchema,
  UPLOAD_TOKEN_HEADER,
  ROUTES,
} from '@chute/protocol';
import { createCRC64 } from 'hash-wasm';

export interface ClientOptions {
  signerUrl: string;
  /** Bearer token (static-token auth) of the user. */
  authToken: string;
  /** Parts in flight per upload. */
  concurrency?: number;
  /** Attempts per part before the upload fails. */
  maxAttempts?: number;
  /** Attempts per signer call (network errors, 5xx, 429). */
  signerAttempts?: number;
  /** Files at least this large go multipart (the widget's default: 16 MiB). */
  multipartThreshold?: number;
  /** Parts signed per sign call. */
  signBatch?: number;
  /** Records each signer call's latency (ms), for p99. */
  onSignerLatency?: (ms: number) => void;
  /** Called after each part is stored (used by crash tests to interrupt at random moments). */
  onPartDone?: (partNumber: number) => void;
}

export interface UploadResult {
  key: string;
  etag: string;
  size: number;
  checksum?: string;
  partRetries: number;
  uploadId?: string;
  /** Parts found in the store with the right ETag and kept (resume). */
  keptParts?: number;
}

export class SignerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function crc64nvme(data: Uint8Array): Promise<string> {
  const h = await createCRC64('9a6c9329ac4bc9b5');
  h.init();
  h.update(data);
  return b64(h.digest('binary'));
}

export class ChuteClient {
  constructor(readonly opts: ClientOptions) {}

  /** One signer call; network errors, 5xx and 429 are retried with backoff (as the widget does). */
  async call<T>(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const max = this.opts.signerAttempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.callOnce<T>(method, route, body, headers);
      } catch (err) {
        const retryable = !(err instanceof SignerError) || err.status >= 500 || err.status === 429;
        if (!retryable || attempt >= max) throw err;
      }
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }

  async callOnce<T>(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const t0 = performance.now();
    const res = await fetch(`${this.opts.signerUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.opts.authToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    this.opts.onSignerLatency?.(performance.now() - t0);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SignerError(res.status, 'not_json', text.slice(0, 200));
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } }).error;
      throw new SignerError(res.status, err?.code ?? 'unknown', err?.message ?? text.slice(0, 200));
    }
    return json as T;
  }

  /** Uploads `data` (whole-file CRC64NVME verified by the store at complete). */
  async upload(name: string, data: Buffer, type = 'application/octet-stream'): Promise<UploadResult> {
    const created = createUploadResponseSchema.parse(
      await this.call('POST', ROUTES.uploads, {
        name,
        type,
        size: data.length,
        checksumAlgorithm: 'CRC64NVME',
        // Like the widget: the client picks single vs multipart; a single PUT signs the file's MD5.
        ...(data.length >= (this.opts.multipartThreshold ?? 16 * 1024 * 1024)
          ? { multipart: true }
          : { multipart: false, md5: createHash('md5').update(data).digest('base64') }),
      }),
    );
    if (created.type === 'single') {
      const res = await this.putWithRetry(created.request.url, created.request.headers, data, async () => null);
      return { key: created.key, etag: (res.headers.get('etag') ?? '').replaceAll('"', ''), size: data.length, partRetries: res.retries };
    }
    return this.resume(created, data);
  }

  /** Creates a multipart upload and stops, for crash tests that resume it later. */
  async createMultipart(name: string, size: number): Promise<MultipartUploadResponse> {
    const created = createUploadResponseSchema.parse(
      await this.call('POST', ROUTES.uploads, { name, type: 'application/octet-stream', size, multipart: true, checksumAlgorithm: 'CRC64NVME' }),
    );
    if (created.type !== 'multipart') throw new Error('expected a multipart upload');
    return created;
  }

  /** Lists what the store has, keeps parts whose ETag matches the local bytes, sends the rest, completes. */
  async resume(up: MultipartUploadResponse, data: Buffer): Promise<UploadResult> {
    const { partSize, partCount, uploadId, token } = up;
    const slice = (n: number) => data.subarray((n - 1) * partSize, Math.min(data.length, n * partSize));
    const md5 = (n: number) => createHash('md5').update(slice(n)).digest();
    const listed = listPartsResponseSchema.parse(
      await this.call('GET', ROUTES.parts(uploadId), undefined, { [UPLOAD_TOKEN_HEADER]: token }),
    );
    const kept = new Set(
      listed.parts.filter((p) => p.size === slice(p.partNumber).length && p.etag === md5(p.partNumber).toString('hex')).map((p) => p.partNumber),
    );
    const todo = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !kept.has(n));
    const batch = this.opts.signBatch ?? 100;
    let retries = 0;
    const signed = new Map<number, SignedPart>();
    const sign = async (numbers: number[]) => {
      // The widget's request: the compact answer (one URL template, a signature per part).
      const res = expandSignedParts(
        signPartsAnyResponseSchema.parse(
          await this.call('POST', ROUTES.parts(uploadId), {
            token,
            parts: numbers.map((n) => ({ partNumber: n, md5: b64(md5(n)) })),
            format: 'template',
          }),
        ),
      );
      for (const p of res.parts) signed.set(p.partNumber, p);
    };
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const n = todo[next++] as number;
        if (!signed.has(n)) await sign(todo.slice(todo.indexOf(n), todo.indexOf(n) + batch).filter((x) => !signed.has(x)));
        const part = signed.get(n) as SignedPart;
        const res = await this.putWithRetry(part.url, part.headers, slice(n), async () => {
          await sign([n]);
          return signed.get(n) ?? null;
        });
        retries += res.retries;
        this.opts.onPartDone?.(n);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 4, Math.max(1, todo.length)) }, worker));
    const done = completeUploadResponseSchema.parse(
      await this.call('POST', ROUTES.complete(uploadId), { token, checksum: await crc64nvme(data) }),
    );
    return {
      key: done.key,
      etag: done.etag,
      size: done.size,
      partRetries: retries,
      uploadId,
      keptParts: kept.size,
      ...(done.checksum ? { checksum: done.checksum.value } : {}),
    };
  }

  /** PUT with backoff; a 403 (expired URL) re-signs through `resign`. */
  private async putWithRetry(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array,
    resign: () => Promise<{ url: string; headers: Record<string, string> } | null>,
  ): Promise<{ headers: Headers; retries: number }> {
    const max = this.opts.maxAttempts ?? 8;
    let target = { url, headers };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(target.url, { method: 'PUT', headers: target.headers, body: body as Uint8Array<ArrayBuffer> });
        const text = await res.text();
        if (res.ok) return { headers: res.headers, retries: attempt - 1 };
        if (attempt >= max || (res.status < 500 && res.status !== 403 && res.status !== 429)) {
          throw new Error(`PUT failed: ${res.status} ${text.slice(0, 300)}`);
        }
        if (res.status === 403) target = (await resign()) ?? target;
      } catch (err) {
        if (attempt >= max || (err instanceof Error && err.message.startsWith('PUT failed'))) throw err;
      }
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}
