import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { type LocalR2, startLocalR2 } from '@chute/local-r2';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { eventId, Store } from '@chute/signer';
import { verifyWebhook, WebhookVerificationError } from '@chute/signer/webhooks';
import pino from 'pino';
import { WebhookOutbox } from '../src/webhooks.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Cli, startCli } from './cli.js';
import { uploadThroughApi } from './upload-flow.js';

// Test responses are loosely typed on purpose.
type Json = any;

// Real chute-server processes deliver to a real receiver on loopback that verifies every
// delivery with the helper the signer package exports and dedupes by id.
const BUCKET = 'webhooks';
const TOKEN = 'alice-token-0123456789';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Delivery {
  id: string;
  headers: Record<string, string>;
  body: string;
}

/** A receiver: verifies, dedupes by id, and answers `status()` (e.g. 500 for the first N). */
class Receiver {
  server!: Server;
  url = '';
  /** Every verified POST, duplicates included. */
  raw: Delivery[] = [];
  /** Verified events by id (the receiver's dedupe). */
  events = new Map<string, Json>();
  refused: string[] = [];
  /** Decides the answer to a verified delivery: a status, or 'hang' (answer after `hangMs`). */
  answer: (d: Delivery, n: number) => number | 'hang' = () => 200;
  hangMs = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.#handle(req).then(([status, text]) => setTimeout(() => res.writeHead(status).end(text), status === 299 ? this.hangMs : 0)));
    await new Promise<void>((ok) => this.server.listen(port, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  async #handle(req: IncomingMessage): Promise<[number, string]> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    try {
      const v = await verifyWebhook({ body, headers, secret: SECRET });
      const d = { id: v.id, headers, body };
      const a = this.answer(d, this.raw.length);
      this.raw.push(d);
      if (a === 'hang') {
        this.events.set(v.id, v.event);
        return [299, 'slow ok'];
      }
      if (a >= 200 && a < 300) this.events.set(v.id, v.event);
      return [a, ''];
    } catch (err) {
      this.refused.push(err instanceof WebhookVerificationError ? err.reason : String(err));
      return [401, 'refused'];
    }
  }

  async until(pred: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out; events: ${[...this.events.values()].map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  stop(): Promise<void> {
    return new Promise((ok) => {
      this.server.close(() => ok());
      this.server.closeAllConnections();
    });
  }
}

let dir: string;
let r2: LocalR2;
const started: Cli[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chute-webhooks-'));
  r2 = await startLocalR2({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'r2'), buckets: [BUCKET], sweepIntervalMs: 0, onError: () => {} });
});
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
  await r2?.close();
  await rm(dir, { recursive: true, force: true });
});

function server(receiver: Receiver, outbox: string, extra: Record<string, string> = {}): Promise<Cli> {
  return startCli({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.WH_LOG ?? 'warn',
    S3_ENDPOINT: r2.endpoint,
    S3_BUCKET: BUCKET,
    S3_ACCESS_KEY_ID: r2.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: r2.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TOKEN_SECRETS: 'webhooks-token-secret-0123456789abcdef',
    AUTH_MODE: 'tokens',
    AUTH_TOKENS: `${TOKEN}:alice`,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_OUTBOX: join(dir, outbox),
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_RETRY_MAX_MS: '400',
    ...extra,
  }).then((s) => {
    started.push(s);
    return s;
  });
}

const MiB = 2 ** 20;

describe('chute-server webhooks', () => {
  test('multipart, single PUT and abort arrive signed, once per id, through 3 failed deliveries', async () => {
    const receiver = await new Receiver().start();
    receiver.answer = (_d, n) => (n < 3 ? 500 : 200);
    const s = await server(receiver, 'outbox-a.sqlite');
    const big = new Uint8Array(randomBytes(5 * MiB + 10));
    const m = await uploadThroughApi(s.url, big, { token: TOKEN, multipart: true, partSize: 5 * MiB, name: 'big.bin' });
    const small = new Uint8Array(randomBytes(1000));
    const single = await uploadThroughApi(s.url, small, { token: TOKEN, multipart: false, name: 'small.bin' });
    // An upload created and aborted twice: one event id.
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const c = (await (await fetch(`${s.url}/api/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'x.bin', size: 6 * MiB, multipart: true }) })).json()) as Json;
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${s.url}/api/uploads/${encodeURIComponent(c.uploadId)}`, { method: 'DELETE', headers: { ...auth, 'chute-upload-token': c.token } });
      expect(r.status).toBe(200);
    }
    await receiver.until(() => receiver.events.size === 3);
    const byKey = new Map([...receiver.events.values()].map((e) => [e.key, e]));
    expect(byKey.get(m.done.key)).toMatchObject({ type: 'upload.completed', userId: 'alice', size: big.length, contentType: 'application/octet-stream', verification: { level: 'full-object-checksum' }, checksum: { algorithm: 'CRC64NVME' } });
    expect(byKey.get(single.done.key)).toMatchObject({ type: 'upload.completed', userId: 'alice', size: 1000, etag: single.done.etag, verification: { level: 'full-object-checksum' } });
    expect(byKey.get(c.key)).toMatchObject({ type: 'upload.aborted', userId: 'alice', uploadId: c.uploadId });
    // 3 refused-by-status deliveries were retried; nothing was refused by the signature check.
    expect(receiver.raw.length).toBeGreaterThanOrEqual(6);
    expect(receiver.refused).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.events.size).toBe(3);

    // The receiver refuses a tampered body and a replay outside the window.
    const d = receiver.raw.at(-1) as Delivery;
    const signed = Object.fromEntries(Object.entries(d.headers).filter(([k]) => k.startsWith('webhook-')));
    const tampered = await fetch(receiver.url, { method: 'POST', headers: signed, body: d.body.replace('alice', 'mallory') });
    expect(tampered.status).toBe(401);
    expect(receiver.refused).toEqual(['bad_signature']);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/chute_webhook_attempts_total\{outcome="retry"\} [3-9]/);
    expect(metrics).toMatch(/chute_webhook_attempts_total\{outcome="delivered"\} 3/);
    expect(metrics).toContain('chute_webhook_pending 0');
    const replay = await verifyWebhook({ body: d.body, headers: d.headers, secret: SECRET, nowMs: (Number(d.headers['webhook-timestamp']) + 301) * 1000 }).catch((e) => e.reason);
    expect(replay).toBe('too_old');
    await s.stop();
    await receiver.stop();
  });

  test('SIGKILL between complete and delivery, receiver down for a while: every event arrives, once per id', async () => {
    const receiver = await new Receiver().start();
    let down = true;
    receiver.answer = () => (down ? 503 : 200);
    const outbox = 'outbox-b.sqlite';
    let s = await server(receiver, outbox);
    const uploads = await Promise.all(
      [0, 1, 2].map((i) => uploadThroughApi(s.url, new Uint8Array(randomBytes(5 * MiB + i)), { token: TOKEN, multipart: true, partSize: 5 * MiB, name: `k${i}.bin` })),
    );
    // A single PUT signed now, sent while no signer runs: the durable watch finds it after the restarts.
    const small = new Uint8Array(randomBytes(2000));
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const single = (await (await fetch(`${s.url}/api/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'late.bin', size: small.length, md5: createHash('md5').update(small).digest('base64') }) })).json()) as Json;
    // Complete answered: the events are in the outbox, none delivered (the receiver says 503)…
    await receiver.until(() => receiver.raw.length >= 3);
    expect(receiver.events.size).toBe(0);
    // …then the receiver goes away entirely (connections refused) and the signer is killed.
    const port = Number(new URL(receiver.url).port);
    await receiver.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(await s.stop('SIGKILL')).toBe(null);
    expect((await fetch(single.request.url, { method: 'PUT', headers: single.request.headers, body: small })).status).toBe(200);
    s = await server(receiver, outbox);
    await new Promise((r) => setTimeout(r, 500)); // a restarted signer retrying into refused connections
    expect(await s.stop('SIGKILL')).toBe(null);
    // A receiver back on its port that records the event and then hangs while the signer is
    // killed: the signer never learns it was delivered and sends it again; the dedupe keeps one.
    await receiver.start(port);
    down = false;
    receiver.hangMs = 3000;
    let hung = 0;
    let hungId = '';
    receiver.answer = (d) => {
      if (hung++ > 0) return 200;
      hungId = d.id;
      return 'hang';
    };
    s = await server(receiver, outbox);
    await receiver.until(() => hung >= 1);
    expect(await s.stop('SIGKILL')).toBe(null);
    receiver.answer = () => 200;
    s = await server(receiver, outbox);
    // The hung event is already recorded (the dedupe's view); its redelivery comes too.
    await receiver.until(() => receiver.events.size === 4 && receiver.raw.filter((d) => d.id === hungId).length >= 2);
    expect(new Set([...receiver.events.values()].map((e) => e.key))).toEqual(new Set([...uploads.map((u) => u.done.key), single.key]));
    expect([...receiver.events.values()].find((e) => e.key === single.key)).toMatchObject({ type: 'upload.completed', size: 2000, verification: { level: 'full-object-checksum' } });
    const ids = receiver.raw.filter((d) => receiver.events.has(d.id)).map((d) => d.id);
    // At least once per id, and the raw count shows the redelivery the dedupe absorbed.
    expect(new Set(ids).size).toBe(4);
    const afterDown = receiver.raw.filter((d) => d.id === hungId).length;
    expect(afterDown).toBeGreaterThanOrEqual(2); // recorded-then-killed, then the redelivery
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.events.size).toBe(4);
    await s.stop();
    await receiver.stop();
  });

  test('a process that stops between the store\u2019s complete and the outbox write: the intent recovers the event (same id)', async () => {
    const receiver = await new Receiver().start();
    const path = join(dir, 'outbox-c.sqlite');
    const store = new Store({ bucket: BUCKET, endpoint: r2.endpoint, forcePathStyle: true, credentials: r2.credentials });
    const s3 = new S3Client({ endpoint: r2.endpoint, region: 'auto', forcePathStyle: true, credentials: r2.credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const o = { url: receiver.url, secret: SECRET, path, maxAttempts: 5, timeoutMs: 2000, retryBaseMs: 50, retryMaxMs: 200, logger: pino({ level: 'silent' }), store };
    const intent = async (key: string, uploadId: string, size: number) => ({ id: await eventId('upload.completed', uploadId, key), type: 'upload.completing' as const, occurredAt: new Date().toISOString(), userId: 'alice', key, via: 'chute' as const, uploadId, size });
    // One upload completed in the bucket after its intent, with no completion recorded (the crash);
    // one whose complete never happened.
    const first = new WebhookOutbox(o);
    const body = new Uint8Array(randomBytes(1234));
    const done = 'uploads/alice/crashed/done.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: done, ContentType: 'application/pdf' }));
    const doneIntent = await intent(done, UploadId as string, body.length);
    first.intend(doneIntent);
    const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: done, UploadId, PartNumber: 1, Body: body }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: done, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag as string }] } }));
    first.intend(await intent('uploads/alice/crashed/never.bin', 'never-completed', 10));
    await first.close();
    // The next process checks the intents it inherited at once.
    const next = new WebhookOutbox(o);
    next.start();
    await receiver.until(() => receiver.events.size === 1);
    expect(receiver.events.get(doneIntent.id)).toMatchObject({ type: 'upload.completed', key: done, uploadId: UploadId, size: 1234, contentType: 'application/pdf', verification: { level: 'not-verifiable' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.events.size).toBe(1);
    await next.close();
    s3.destroy();
    store.client.destroy();
    await receiver.stop();
  });
});
