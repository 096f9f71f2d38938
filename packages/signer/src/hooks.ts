// Server-side hooks: the app is asked before an upload is created (it may refuse it, rename its
// key, set its metadata) and told when one completed or was aborted. Both adapters run them: they
// live in the core. Every event has a stable id (derived from the upload), so a receiver that
// dedupes by id sees each event once, however often it is delivered.
import { type CompleteUploadResponse, metadataSchema, type Verification } from '@chute/protocol';
import type { Identity } from './auth.js';
import type { HandlerContext } from './context.js';
import { ChuteError } from './errors.js';
import { assertOwnKey } from './policy.js';

/** Which API created or finished the upload. */
export type UploadVia = 'chute' | 'uppy';

export interface UploadCreateEvent {
  /** The caller. */
  userId: string;
  identity: Identity;
  /** The key the signer picked (`<prefix><uuid>/<safe name>`). */
  key: string;
  /** The caller's key prefix: a renamed key must stay under it. */
  prefix: string;
  /** The file name the client gave. */
  name: string;
  size: number;
  /** Normalised content type (already allowed by policy). */
  contentType: string;
  /** Metadata the client asked for (`x-amz-meta-*`). */
  metadata: Record<string, string>;
  /** Multipart upload, or one presigned PUT (which the signer never sees finish; see README). */
  multipart: boolean;
  /** Single PUT: the Content-MD5 (base64) signed into its URL, when the client gave one. */
  md5?: string;
  /** Single PUT: the additional checksum signed into its URL, when the client gave one. */
  checksum?: { algorithm: string; value: string };
  /** Single PUT: when its URL expires (the object cannot appear after that). */
  expiresAt?: string;
  via: UploadVia;
  request: Request;
}

export interface UploadCreateDecision {
  /** Refuse the upload: 403 `upload_refused` with this sentence as the message. */
  refuse?: string;
  /** Store under this key instead; it must lie under `event.prefix` and be a valid key. */
  key?: string;
  /** Store this metadata instead of the client's (same rules as the API's `metadata`). */
  metadata?: Record<string, string>;
}

interface EventBase {
  /** Stable per upload and type: `evt_` + base64url(SHA-256(type, upload)). Dedupe by it. */
  id: string;
  occurredAt: string;
  userId: string;
  key: string;
  via: UploadVia;
}

export interface UploadCompleteEvent extends EventBase {
  type: 'upload.completed';
  /** The store's multipart upload id (unwrapped on the stock-Uppy path). */
  uploadId: string;
  size: number;
  etag: string;
  contentType?: string;
  checksum?: CompleteUploadResponse['checksum'];
  /** How the signer verified the stored object (see "What verified means"). */
  verification: Verification;
}

/** Before complete: the id and facts the `upload.completed` event will carry. */
export interface UploadCompletingEvent extends EventBase {
  type: 'upload.completing';
  uploadId: string;
  size: number;
}

export interface UploadAbortEvent extends EventBase {
  type: 'upload.aborted';
  uploadId: string;
}

export type UploadEvent = UploadCompleteEvent | UploadAbortEvent;

export interface UploadHooks {
  /**
   * Before an upload is created, after the signer's own policy (size, type, quotas not yet
   * charged). Return `{ refuse }`, `{ key }`, `{ metadata }` or nothing. A thrown ChuteError is
   * answered as is; any other throw is a 500.
   */
  onUploadCreate?(event: UploadCreateEvent): UploadCreateDecision | undefined | void | Promise<UploadCreateDecision | undefined | void>;
  /**
   * Just before CompleteMultipartUpload (Chute and stock-Uppy paths), with what the completion
   * event will say of the upload and its `id`. For durable consumers: record an intent, so a
   * process that dies between the store's complete and `onUploadComplete` can still emit the
   * event (chute-server's outbox does). A throw fails the complete call (nothing is completed).
   */
  onUploadCompleting?(event: UploadCompletingEvent): void | Promise<void>;
  /** After complete and the signer's verification, before the client gets its answer. */
  onUploadComplete?(event: UploadCompleteEvent): void | Promise<void>;
  /** After an abort (each abort call; the id is the same, so receivers see one). */
  onUploadAbort?(event: UploadAbortEvent): void | Promise<void>;
  /**
   * A throw from onUploadComplete / onUploadAbort: the upload itself is done, so the client still
   * gets its answer. Default: `console.error`.
   */
  onHookError?(error: unknown, event: UploadEvent): void;
}

const MAX_KEY_BYTES = 1024;

/** Runs onUploadCreate and applies its decision; returns the key and metadata to use. */
export async function decideCreate(
  ctx: HandlerContext,
  e: Omit<UploadCreateEvent, 'userId' | 'identity' | 'prefix' | 'request'>,
): Promise<{ key: string; metadata: Record<string, string> | undefined }> {
  const hook = ctx.options.onUploadCreate;
  const given = Object.keys(e.metadata).length ? e.metadata : undefined;
  if (!hook) return { key: e.key, metadata: given };
  const d = (await hook({ ...e, userId: ctx.identity.userId, identity: ctx.identity, prefix: ctx.prefix, request: ctx.request })) ?? {};
  if (d.refuse !== undefined) throw new ChuteError('upload_refused', d.refuse || 'The site refused this upload.');
  let key = e.key;
  if (d.key !== undefined) {
    try {
      assertOwnKey(d.key, ctx.prefix);
    } catch (err) {
      throw new TypeError(`onUploadCreate returned key ${JSON.stringify(d.key.slice(0, 200))}, which is not a valid key under ${ctx.prefix}`, { cause: err });
    }
    if (new TextEncoder().encode(d.key).length > MAX_KEY_BYTES) throw new TypeError('onUploadCreate returned a key over 1,024 UTF-8 bytes');
    key = d.key;
  }
  let metadata = given;
  if (d.metadata !== undefined) {
    const r = metadataSchema.safeParse(d.metadata);
    if (!r.success) throw new TypeError(`onUploadCreate returned metadata the API would refuse: ${r.error.issues[0]?.message ?? 'invalid'}`);
    metadata = Object.keys(r.data).length ? r.data : undefined;
  }
  return { key, metadata };
}

/** `evt_<base64url(SHA-256("type\nuploadId\nkey"))>` (WebCrypto: runs on Workers too). */
export async function eventId(type: UploadEvent['type'], uploadId: string, key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${type}\n${uploadId}\n${key}`)));
  let s = '';
  for (const b of digest) s += String.fromCharCode(b);
  return `evt_${btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '').slice(0, 32)}`;
}

type Omitted<E> = Omit<E, 'id' | 'occurredAt' | 'type'>;

/** Before the store's complete; its errors propagate (the complete call fails, nothing is completed). */
export async function notifyCompleting(ctx: HandlerContext, e: Omitted<UploadCompletingEvent>): Promise<void> {
  const hook = ctx.options.onUploadCompleting;
  if (!hook) return;
  await hook({ id: await eventId('upload.completed', e.uploadId, e.key), type: 'upload.completing', occurredAt: new Date(ctx.nowMs).toISOString(), ...e });
}

/** Tells the app an upload completed; a failing hook is reported, never turned into a failed upload. */
export async function notifyComplete(ctx: HandlerContext, e: Omitted<UploadCompleteEvent>): Promise<void> {
  const hook = ctx.options.onUploadComplete;
  if (!hook) return;
  const event: UploadCompleteEvent = { id: await eventId('upload.completed', e.uploadId, e.key), type: 'upload.completed', occurredAt: new Date(ctx.nowMs).toISOString(), ...e };
  await run(ctx, event, () => hook(event));
}

export async function notifyAbort(ctx: HandlerContext, e: Omitted<UploadAbortEvent>): Promise<void> {
  const hook = ctx.options.onUploadAbort;
  if (!hook) return;
  const event: UploadAbortEvent = { id: await eventId('upload.aborted', e.uploadId, e.key), type: 'upload.aborted', occurredAt: new Date(ctx.nowMs).toISOString(), ...e };
  await run(ctx, event, () => hook(event));
}

async function run(ctx: HandlerContext, event: UploadEvent, call: () => void | Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    (ctx.options.onHookError ?? ((e: unknown) => console.error(`chute: ${event.type} hook failed for ${event.key}`, e)))(err, event);
  }
}
