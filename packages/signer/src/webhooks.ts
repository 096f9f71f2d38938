// Signed webhooks in the Standard Webhooks shape (standardwebhooks.com): headers `webhook-id`,
// `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
// `${id}.${timestamp}.${body}`. A `whsec_…` secret is base64 (as in that spec); any other string
// is used as its UTF-8 bytes. WebCrypto only: the same helper runs in Node, Workers and Deno.
import type { UploadEvent } from './hooks.js';

export const WEBHOOK_HEADERS = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

/** Default replay window: a delivery signed more than 5 minutes away from the receiver's clock is refused. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookFailure = 'missing_headers' | 'bad_timestamp' | 'too_old' | 'too_new' | 'bad_signature' | 'bad_body';

export class WebhookVerificationError extends Error {
  readonly reason: WebhookFailure;
  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

const enc = new TextEncoder();

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const fromBase64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (secret.startsWith('whsec_')) return fromBase64(secret.slice(6));
  return enc.encode(secret);
}

function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<HmacKey> {
  return crypto.subtle.importKey('raw', secretBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);
}

const toBase64 = (b: Uint8Array) => {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
};

function content(id: string, timestamp: number | string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const head = enc.encode(`${id}.${timestamp}.`);
  const rest = typeof body === 'string' ? enc.encode(body) : body;
  const out = new Uint8Array(head.length + rest.length);
  out.set(head);
  out.set(rest, head.length);
  return out;
}

/** The headers of one delivery of `body` (sign each attempt anew: the timestamp is part of it). */
export async function signWebhook(opts: { id: string; body: string; secret: string; nowMs?: number }): Promise<Record<string, string>> {
  const timestamp = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(opts.secret, 'sign'), content(opts.id, timestamp, opts.body)));
  return {
    [WEBHOOK_HEADERS.id]: opts.id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: `v1,${toBase64(mac)}`,
  };
}

export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (verify before parsing). */
  body: string | Uint8Array;
  /** The request headers (a `Headers`, or Node's `req.headers`). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The webhook secret; several while rotating (any may match). */
  secret: string | string[];
  /** Replay window in seconds; default 300. */
  toleranceSeconds?: number;
  /** Clock in ms, for tests. */
  nowMs?: number;
}

/** A verified delivery: its id (dedupe by it: deliveries are at least once) and the event. */
export interface VerifiedWebhook {
  id: string;
  timestamp: number;
  event: UploadEvent;
}

function header(h: VerifyWebhookOptions['headers'], name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a delivery from chute-server: the signature over id, timestamp and body with one of the
 * secrets (constant time), a timestamp inside the replay window, and a body whose `id` is the
 * header's. Throws `WebhookVerificationError` (answer 400/401 and drop it) otherwise.
 */
export async function verifyWebhook(opts: VerifyWebhookOptions): Promise<VerifiedWebhook> {
  const id = header(opts.headers, WEBHOOK_HEADERS.id);
  const ts = header(opts.headers, WEBHOOK_HEADERS.timestamp);
  const sig = header(opts.headers, WEBHOOK_HEADERS.signature);
  if (!id || !ts || !sig) throw new WebhookVerificationError('missing_headers', `Missing ${Object.values(WEBHOOK_HEADERS).join(' / ')} header(s).`);
  if (!/^\d{1,12}$/.test(ts)) throw new WebhookVerificationError('bad_timestamp', 'webhook-timestamp is not Unix seconds.');
  const timestamp = Number(ts);
  const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) throw new WebhookVerificationError('too_old', `The delivery was signed ${now - timestamp} s ago (window ${tolerance} s): a replay, or clocks apart.`);
  if (timestamp - now > tolerance) throw new WebhookVerificationError('too_new', `The delivery is dated ${timestamp - now} s ahead (window ${tolerance} s).`);
  const data = content(id, ts, opts.body);
  const macs = sig
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => {
      try {
        return fromBase64(s.slice(3));
      } catch {
        return undefined;
      }
    })
    .filter((m): m is Uint8Array<ArrayBuffer> => m !== undefined && m.length === 32);
  let ok = false;
  for (const secret of Array.isArray(opts.secret) ? opts.secret : [opts.secret]) {
    const key = await hmacKey(secret, 'verify');
    for (const mac of macs) if (await crypto.subtle.verify('HMAC', key, mac, data)) ok = true;
  }
  if (!ok) throw new WebhookVerificationError('bad_signature', 'The signature does not match the body (tampered, or another secret).');
  let event: UploadEvent;
  try {
    event = JSON.parse(typeof opts.body === 'string' ? opts.body : new TextDecoder().decode(opts.body)) as UploadEvent;
  } catch {
    throw new WebhookVerificationError('bad_body', 'The body is not JSON.');
  }
  if (!event || typeof event !== 'object' || event.id !== id) throw new WebhookVerificationError('bad_body', 'The body is not the event the headers name.');
  return { id, timestamp, event };
}
