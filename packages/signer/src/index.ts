/**
 * @chute/signer — the framework-free core of Chute's signing service: `(Request) → Response`.
 * Mount it with `@chute/signer/express`, or call `signer.fetch(request)` from any runtime.
 */
export { bearerTokens, type Authenticator, type Identity, isLoopback, jwtAuth, type JwtAuthOptions, openDevAuth, type RequestContext } from './auth.js';
export { DEFAULT_LIMITS, knownMultiplexed, type Limits, type RateLimitOptions, type ResponseInfo, resolveLimits, type S3Options, type SignerOptions } from './config.js';
export { ChuteError, errorResponse, isChuteError, toChuteError } from './errors.js';
export {
  eventId,
  type UploadAbortEvent,
  type UploadCompleteEvent,
  type UploadCompletingEvent,
  type UploadCreateDecision,
  type UploadCreateEvent,
  type UploadEvent,
  type UploadHooks,
  type UploadVia,
} from './hooks.js';
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  signWebhook,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_HEADERS,
  type WebhookFailure,
  WebhookVerificationError,
} from './webhooks.js';
export { checkHostPatterns, hostMatcher, hostName, hostRefusal } from './hosts.js';
export { assertOwnKey, defaultUserPrefix, safeFileName } from './policy.js';
export { memoryLimitStore } from './limits/memory.js';
export { type QuotaOptions, Quotas } from './limits/quotas.js';
export type { Budget, Consumed, LimitStore, SlotTaken } from './limits/store.js';
export { DEFAULT_RATE_LIMIT, RateLimits } from './rate-limit.js';
export { createS3Client, Store } from './s3.js';
export { mapS3Error } from './s3-errors.js';
export { createSigner, type Signer } from './signer.js';
export { TokenSigner } from './token.js';
