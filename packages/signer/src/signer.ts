import { type Identity, type RequestContext } from './auth.js';
import { type Limits, resolveLimits, type SignerOptions } from './config.js';
import type { Handler, HandlerContext } from './context.js';
import { corsHeaders, originAllowed, preflightHeaders } from './cors.js';
import { discardUpload } from './discard.js';
import { ChuteError, errorResponse, toChuteError } from './errors.js';
import { hostMatcher, hostRefusal } from './hosts.js';
import { download, listUploads } from './objects.js';
import { checkIdentity, defaultUserPrefix } from './policy.js';
import { memoryLimitStore } from './limits/memory.js';
import type { LimitStore } from './limits/store.js';
import { Quotas } from './limits/quotas.js';
import { DEFAULT_RATE_LIMIT, RateLimits } from './rate-limit.js';
import { Store } from './s3.js';
import { TokenSigner } from './token.js';
import { abortUpload, completeUpload, createUpload, createUploads, listParts, signParts } from './uploads.js';
import { chargeUploadUrls } from './limits/upload-urls.js';
import { checkJsonBody, isTokenForm, tokenFormIdentity } from './token-form.js';
import { s3ErrorXml, type UppyOp, type UppyToken, uppyIdentity, uppyS3, uppySign } from './uppy.js';

interface Route {
  method: string;
  pattern: RegExp;
  /** Route name for metrics and logs. */
  name: string;
  handler: Handler;
  /** Self-URL for stock Uppy: authorised by a signed token in the query, answers in XML. */
  uppyOp?: UppyOp;
  /** Reads a JSON body: CORS-simple body types are refused (except `text/plain` where `tokenForm`). */
  json?: true;
  /**
   * Also takes the preflight-free form: a `text/plain` JSON body authorised by the upload token
   * in it alone (see token-form.ts).
   */
  tokenForm?: true;
}

const ID = '([^/]{1,1024})';
const ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/api\/uploads$/, name: '/api/uploads', handler: createUpload, json: true },
  { method: 'POST', pattern: /^\/api\/uploads\/batch$/, name: '/api/uploads/batch', handler: createUploads, json: true },
  { method: 'POST', pattern: /^\/api\/uploads\/discard$/, name: '/api/uploads/discard', handler: discardUpload, json: true },
  { method: 'GET', pattern: /^\/api\/uploads$/, name: '/api/uploads', handler: listUploads },
  { method: 'POST', pattern: new RegExp(`^/api/uploads/${ID}/parts$`), name: '/api/uploads/:uploadId/parts', handler: signParts, json: true, tokenForm: true },
  { method: 'GET', pattern: new RegExp(`^/api/uploads/${ID}/parts$`), name: '/api/uploads/:uploadId/parts', handler: listParts },
  { method: 'POST', pattern: new RegExp(`^/api/uploads/${ID}/complete$`), name: '/api/uploads/:uploadId/complete', handler: completeUpload, json: true, tokenForm: true },
  { method: 'DELETE', pattern: new RegExp(`^/api/uploads/${ID}$`), name: '/api/uploads/:uploadId', handler: abortUpload },
  { method: 'POST', pattern: /^\/api\/downloads$/, name: '/api/downloads', handler: download, json: true },
  { method: 'POST', pattern: /^\/api\/uppy\/sign$/, name: '/api/uppy/sign', handler: uppySign, json: true },
];
const UPPY_ROUTES: Route[] = (
  [
    ['POST', 'create', 'create'],
    ['GET', 'parts', 'list'],
    ['POST', 'complete', 'complete'],
    ['DELETE', 'abort', 'abort'],
  ] as const
).map(([method, path, op]) => ({
  method,
  pattern: new RegExp(`^/api/uppy/s3/${path}$`),
  name: `/api/uppy/s3/${path}`,
  // Dispatched by `uppyOp` once the URL's token is verified.
  handler: () => Promise.reject(new Error('unreachable')),
  uppyOp: op,
}));

export interface Signer {
  /** Answer one request (web-standard). `ctx.ip` enables per-IP limits and open dev mode. */
  fetch(request: Request, ctx?: RequestContext): Promise<Response>;
  readonly store: Store;
  readonly limits: Limits;
  /** Where rate limits and quotas count (`options.limitStore`, or this instance's memory). */
  readonly limitStore: LimitStore;
}

/** The framework-free signer: `(Request) → Response`, stateless, any number of instances. */
export function createSigner(options: SignerOptions): Signer {
  const limits = resolveLimits(options.limits);
  const store = new Store(options.s3);
  const tokens = new TokenSigner(options.tokenSecrets);
  const now = options.now ?? Date.now;
  const userPrefix = options.userPrefix ?? defaultUserPrefix;
  const corsOrigins = options.corsOrigins ?? [];
  const limitStore = options.limitStore ?? memoryLimitStore();
  const rate = options.rateLimit === false ? undefined : new RateLimits(limitStore, options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const quotas = new Quotas(limitStore, limits);
  const hostAllowed = options.allowedHosts ? hostMatcher(options.allowedHosts) : () => true;

  async function handle(request: Request, rctx: RequestContext, url: URL, nowMs: number, state: { route: string; userId?: string; uppy?: boolean; error?: unknown }) {
    const path = url.pathname;
    const candidates = [...ROUTES, ...UPPY_ROUTES].filter((r) => r.pattern.test(path));
    if (candidates.length === 0) throw new ChuteError('not_found', `No route ${path}.`);
    const route = candidates.find((r) => r.method === request.method);
    if (!route) {
      throw new ChuteError('method_not_allowed', `${request.method} is not allowed on ${path}.`, {
        headers: { allow: candidates.map((r) => r.method).join(', ') },
      });
    }
    state.route = route.name;
    state.uppy = route.uppyOp !== undefined;
    const params: Record<string, string> = {};
    const m = route.pattern.exec(path);
    if (m?.[1] !== undefined) {
      try {
        params.uploadId = decodeURIComponent(m[1]);
      } catch {
        throw new ChuteError('bad_request', 'The upload id in the path is not valid URL encoding.');
      }
    }
    if (rctx.ip) await rate?.byIp(rctx.ip);
    const form = route.tokenForm && options.tokenForm !== false && isTokenForm(request) ? 'token' : 'other';

    let identity: Identity;
    let uppyToken: UppyToken | undefined;
    let body: unknown;
    if (form === 'token') {
      // No other credential is looked at: the upload token in the body is the whole authority.
      const t = await tokenFormIdentity(request, params.uploadId ?? '', tokens, limits.maxBodyBytes, Math.floor(nowMs / 1000));
      identity = checkIdentity({ userId: t.token.sub });
      body = t.body;
    } else if (route.uppyOp) {
      uppyToken = await uppyIdentity(request, url, route.uppyOp, (t) => tokens.verify<UppyToken>(t, 'uppy', Math.floor(nowMs / 1000)));
      identity = { userId: uppyToken.sub };
    } else {
      const who = await options.authenticate(request, rctx);
      if (!who) throw new ChuteError('unauthorized', 'Missing or invalid credentials (Authorization: Bearer …).');
      identity = checkIdentity(who);
    }
    state.userId = identity.userId;
    await rate?.byUser(identity.userId);
    if (route.json && form !== 'token') checkJsonBody(request, route.tokenForm === true && options.tokenForm !== false);
    const prefix = userPrefix(identity);
    const baseUrl = (options.publicUrl ?? rctx.baseUrl ?? url.origin).replace(/\/$/, '');
    const userId = identity.userId;
    const charge = async (urls: number) => {
      await rate?.urls(userId, rctx.ip, urls);
    };
    const chargeUpload = (uploadId: string, parts: number, urls: number) => chargeUploadUrls(limitStore, uploadId, parts, urls, limits);
    const logError = (err: unknown) => {
      state.error ??= err;
    };
    const ctx: HandlerContext = { request, url, params, identity, prefix, nowMs, baseUrl, store, tokens, limits, options, charge, chargeUpload, quotas, logError, ...(body === undefined ? {} : { body }) };
    return uppyToken ? uppyS3(ctx, uppyToken) : route.handler(ctx);
  }

  return {
    store,
    limits,
    limitStore,
    async fetch(request, rctx = {}) {
      const started = performance.now();
      const nowMs = now();
      const state: { route: string; userId?: string; uppy?: boolean; error?: unknown } = { route: 'unmatched' };
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return errorResponse(new ChuteError('bad_request', 'The request URL is malformed.'));
      }
      const origin = request.headers.get('origin');
      const ownOrigin = rctx.baseUrl ? new URL(rctx.baseUrl).origin : url.origin;
      const allowed = origin !== null && originAllowed(origin, corsOrigins, ownOrigin);
      const cors = allowed && origin ? corsHeaders(origin) : {};
      let response: Response;
      let error: ChuteError | undefined;
      // Before CORS and auth: a DNS-rebinding page must learn nothing, not even a preflight answer.
      if (!hostAllowed(url.host)) {
        response = errorResponse((error = new ChuteError('host_not_allowed', hostRefusal(url.host))));
      } else if (request.method === 'OPTIONS') {
        response =
          origin && allowed
            ? new Response(null, { status: 204, headers: preflightHeaders(origin) })
            : errorResponse((error = new ChuteError('origin_not_allowed', `Origin ${origin ?? '(none)'} may not call this API.`)));
      } else if (origin && !allowed) {
        response = errorResponse((error = new ChuteError('origin_not_allowed', `Origin ${origin} may not call this API.`)));
      } else {
        try {
          response = await handle(request, rctx, url, nowMs, state);
        } catch (err) {
          error = toChuteError(err);
          response = state.uppy ? s3ErrorXml(error) : errorResponse(error);
        }
        for (const [k, v] of Object.entries(cors)) response.headers.set(k, v);
      }
      options.onResponse?.({
        method: request.method,
        route: state.route,
        status: response.status,
        durationMs: performance.now() - started,
        ...(error ? { code: error.code } : {}),
        ...(state.userId ? { userId: state.userId } : {}),
        ...(error && error.status >= 500 ? { error: error.cause ?? error } : state.error !== undefined ? { error: state.error } : {}),
      });
      return response;
    },
  };
}
