// HTTP client for the signer's JSON API (routes and schemas from @chute/protocol). Every answer
// is validated, and every failure becomes an UploaderError with the signer's stable code.
import {
  type CompleteUploadRequest,
  type CompleteUploadResponse,
  type CreateBatchResult,
  createBatchResponseSchema,
  type CreateUploadRequest,
  type CreateUploadResponse,
  chuteErrorSchema,
  completeUploadResponseSchema,
  createUploadResponseSchema,
  isRetryable,
  type ListPartsResponse,
  listPartsResponseSchema,
  listUploadsResponseSchema,
  type ListUploadsResponse,
  type PartChecksums,
  ROUTES,
  type SignPartsResponse,
  expandSignedParts,
  signPartsAnyResponseSchema,
  downloadResponseSchema,
  type DownloadResponse,
  type DiscardResponse,
  discardResponseSchema,
  TOKEN_FORM_CONTENT_TYPE,
  UPLOAD_TOKEN_HEADER,
} from '@chute/protocol';
import { UploaderError } from './errors.js';

/** What the engine needs from a signer; `HttpSignerClient` is the browser implementation. */
export interface SignerClient {
  create(req: CreateUploadRequest, signal?: AbortSignal): Promise<CreateUploadResponse>;
  /**
   * Single-PUT creates of many files in one call, each file's outcome in order (optional: a signer
   * that predates the route answers 404 `not_found`, and the engine then creates one at a time).
   */
  createMany?(reqs: CreateUploadRequest[], signal?: AbortSignal): Promise<CreateBatchResult[]>;
  signParts(uploadId: string, token: string, parts: PartChecksums[], signal?: AbortSignal): Promise<SignPartsResponse>;
  listParts(uploadId: string, token: string, signal?: AbortSignal): Promise<ListPartsResponse>;
  complete(uploadId: string, req: CompleteUploadRequest, signal?: AbortSignal): Promise<CompleteUploadResponse>;
  abort(uploadId: string, token: string, signal?: AbortSignal): Promise<void>;
  /** Removes an object whose check failed in the engine (optional: older signers have no such route). */
  discard?(token: string, etag: string, signal?: AbortSignal): Promise<DiscardResponse>;
}

export interface HttpSignerOptions {
  /** Base URL of the signer (its routes start with `/api`); `''` means the page's origin. */
  endpoint: string;
  /** Called before every request; the value is sent as `Authorization: Bearer …`. */
  getAuthToken?: () => string | null | undefined | Promise<string | null | undefined>;
  fetch?: typeof fetch;
}

type Schema<T> = { safeParse(v: unknown): { success: true; data: T } | { success: false } };

export class HttpSignerClient implements SignerClient {
  readonly #endpoint: string;
  readonly #options: HttpSignerOptions;
  /**
   * Sign-parts and complete go out in the token form (text/plain, the upload token in the body, no
   * Authorization): CORS-simple, so a browser sends no preflight, one round trip less per call on
   * another origin. A signer that refuses it (one that predates it answers 401, one with
   * `tokenForm: false` 401 or 415) gets the JSON form from then on.
   */
  #tokenForm = true;

  constructor(options: HttpSignerOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.#options = options;
  }

  create(req: CreateUploadRequest, signal?: AbortSignal): Promise<CreateUploadResponse> {
    return this.#call('POST', ROUTES.uploads, createUploadResponseSchema, { body: req, signal });
  }

  async createMany(reqs: CreateUploadRequest[], signal?: AbortSignal): Promise<CreateBatchResult[]> {
    const { results } = await this.#call('POST', ROUTES.uploadsBatch, createBatchResponseSchema, { body: { files: reqs }, signal });
    if (results.length !== reqs.length) {
      throw new UploaderError('bad_response', `The upload service answered ${reqs.length} creates with ${results.length} results.`);
    }
    return results;
  }

  /** Asks for the compact answer (one URL template, a signature per part); accepts either. */
  async signParts(uploadId: string, token: string, parts: PartChecksums[], signal?: AbortSignal): Promise<SignPartsResponse> {
    const res = await this.#tokenCall('POST', ROUTES.parts(uploadId), signPartsAnyResponseSchema, { token, parts, format: 'template' }, signal);
    return expandSignedParts(res);
  }

  listParts(uploadId: string, token: string, signal?: AbortSignal): Promise<ListPartsResponse> {
    return this.#call('GET', ROUTES.parts(uploadId), listPartsResponseSchema, { token, signal });
  }

  complete(uploadId: string, req: CompleteUploadRequest, signal?: AbortSignal): Promise<CompleteUploadResponse> {
    return this.#tokenCall('POST', ROUTES.complete(uploadId), completeUploadResponseSchema, req, signal);
  }

  async abort(uploadId: string, token: string, signal?: AbortSignal): Promise<void> {
    await this.#call('DELETE', ROUTES.upload(uploadId), null, { token, signal });
  }

  discard(token: string, etag: string, signal?: AbortSignal): Promise<DiscardResponse> {
    return this.#call('POST', ROUTES.discard, discardResponseSchema, { body: { token, etag }, signal });
  }

  /** The caller's stored objects ("my uploads"). */
  listUploads(cursor?: string, signal?: AbortSignal): Promise<ListUploadsResponse> {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    return this.#call('GET', `${ROUTES.uploads}${query}`, listUploadsResponseSchema, { signal });
  }

  /** A presigned GET for one of the caller's objects. */
  download(key: string, filename?: string, signal?: AbortSignal): Promise<DownloadResponse> {
    return this.#call('POST', ROUTES.downloads, downloadResponseSchema, {
      body: filename === undefined ? { key } : { key, filename },
      signal,
    });
  }

  /** A call authorised by the upload token in `body`: the token form, or the JSON form where refused. */
  async #tokenCall<T>(method: string, path: string, schema: Schema<T>, body: { token: string; [k: string]: unknown }, signal: AbortSignal | undefined): Promise<T> {
    if (this.#tokenForm) {
      try {
        return await this.#call(method, path, schema, { body, signal, tokenForm: true });
      } catch (err) {
        if (!(err instanceof UploaderError) || !(err.status === 401 || err.status === 415)) throw err;
        this.#tokenForm = false;
      }
    }
    return this.#call(method, path, schema, { body, signal });
  }

  async #call<T>(
    method: string,
    path: string,
    schema: Schema<T> | null,
    opts: { body?: unknown; token?: string; signal?: AbortSignal | undefined; tokenForm?: boolean },
  ): Promise<T> {
    // `accept` and a text/plain `content-type` are CORS-safelisted: the token form stays simple.
    const headers: Record<string, string> = { accept: 'application/json' };
    if (!opts.tokenForm) {
      const auth = await this.#options.getAuthToken?.();
      if (auth) headers.authorization = `Bearer ${auth}`;
    }
    if (opts.token) headers[UPLOAD_TOKEN_HEADER] = opts.token;
    if (opts.body !== undefined) headers['content-type'] = opts.tokenForm ? TOKEN_FORM_CONTENT_TYPE : 'application/json';
    let res: Response;
    try {
      res = await (this.#options.fetch ?? fetch)(`${this.#endpoint}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw new UploaderError('network_error', `The upload service at ${this.#endpoint || 'this site'} could not be reached.`, {
        retryable: true,
        cause: err,
      });
    }
    const text = await res.text().catch(() => '');
    // Aborted while the answer was being read (pause, cancel): that is the abort, not a bad answer.
    if (opts.signal?.aborted) throw opts.signal.reason;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const parsed = chuteErrorSchema.safeParse(json);
      if (parsed.success) {
        const { code, message, details } = parsed.data.error;
        throw new UploaderError(code, message, {
          status: res.status,
          retryable: isRetryable(code),
          ...(details ? { details } : {}),
        });
      }
      // A proxy or a restarting server: 5xx and 429 are worth another try.
      throw new UploaderError('bad_response', `The upload service answered HTTP ${res.status}.`, {
        status: res.status,
        retryable: res.status >= 500 || res.status === 429,
      });
    }
    if (!schema) return undefined as T;
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new UploaderError('bad_response', `The upload service answered ${method} ${path} with an unexpected body.`, {
        status: res.status,
      });
    }
    return parsed.data;
  }
}
