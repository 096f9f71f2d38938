// Webhooks of chute-server: the signer's upload events, POSTed as signed JSON to WEBHOOK_URL.
// Every event is written to a SQLite outbox (WAL, synchronous=FULL) *before* the API call that
// caused it answers, so a crash, a restart or a receiver down for hours loses none; a loop
// delivers what is due, retrying with exponential backoff. Delivery is at least once: receivers
// dedupe by the event id (stable per upload), which makes it exactly once for them.
//
// Single PUTs finish between the browser and the bucket, where the signer never sees them. For
// those the outbox keeps a *watch* from create until the URL expires: it asks HeadObject with
// backoff and, once the object is there, emits the same `upload.completed` event.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CHECKSUM_TYPE, type ChecksumAlgorithm, type Verification } from '@chute/protocol';
import { eventId, isChuteError, signWebhook, type Store, type UploadCompleteEvent, type UploadCompletingEvent, type UploadCreateEvent, type UploadEvent } from '@chute/signer';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';

export interface WebhookOptions {
  url: string;
  /** Signing secrets; the first signs (receivers may accept several while rotating). */
  secret: string;
  /** SQLite file of the outbox. */
  path: string;
  maxAttempts: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  logger: Logger;
  store: Store;
  now?: () => number;
  /** Each delivery attempt's outcome (metrics). */
  onAttempt?(outcome: 'delivered' | 'retry' | 'given_up'): void;
  /** An intent this old whose completion never came is checked against the bucket. Default 10 min. */
  intentAgeMs?: number;
}

/** Delivered events stay this long (a re-enqueued id is then still one event), then are removed. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

interface Row {
  id: string;
  body: string;
  attempts: number;
}

interface WatchRow {
  key: string;
  body: string;
  deadline: number;
  attempts: number;
}

/** Single PUT waiting to appear: the create event's facts needed for the completion event. */
interface Watch {
  userId: string;
  key: string;
  via: UploadCreateEvent['via'];
  size: number;
  contentType: string;
  md5?: string;
  checksum?: { algorithm: string; value: string };
}

const BATCH = 8;
const IDLE_MS = 1000;
const WATCH_MAX_MS = 30_000;

export class WebhookOutbox {
  readonly #o: WebhookOptions;
  readonly #db: Database.Database;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #insert: Database.Statement;
  readonly #due: Database.Statement;
  readonly #watchInsert: Database.Statement;
  readonly #watchDue: Database.Statement;

  constructor(options: WebhookOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    // An event is on disk before the API call that made it answers.
    db.pragma('synchronous = FULL');
    db.exec(`CREATE TABLE IF NOT EXISTS events (
      id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      next_at INTEGER NOT NULL, delivered_at INTEGER, failed_at INTEGER, last_error TEXT);
    CREATE INDEX IF NOT EXISTS events_due ON events (next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    CREATE TABLE IF NOT EXISTS watches (
      key TEXT PRIMARY KEY, body TEXT NOT NULL, deadline INTEGER NOT NULL, next_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE IF NOT EXISTS intents (id TEXT PRIMARY KEY, body TEXT NOT NULL, check_at INTEGER NOT NULL);`);
    this.#db = db;
    // Intents left by an earlier process (one process per file) are checked at once.
    db.prepare('UPDATE intents SET check_at = 0').run();
    // The same id twice (an abort called again, a watch and a retried complete) is one event.
    this.#insert = db.prepare('INSERT OR IGNORE INTO events (id, body, created_at, next_at) VALUES (?, ?, ?, ?)');
    this.#due = db.prepare('SELECT id, body, attempts FROM events WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ? ORDER BY next_at LIMIT ?');
    this.#watchInsert = db.prepare('INSERT OR REPLACE INTO watches (key, body, deadline, next_at) VALUES (?, ?, ?, ?)');
    this.#watchDue = db.prepare('SELECT key, body, deadline, attempts FROM watches WHERE next_at <= ? ORDER BY next_at LIMIT ?');
  }

  /** Events not yet delivered (and not given up on). */
  pending(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM events WHERE delivered_at IS NULL AND failed_at IS NULL').get() as { n: number }).n;
  }

  /** Events given up on after WEBHOOK_MAX_ATTEMPTS (kept, with their last error). */
  failed(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM events WHERE failed_at IS NOT NULL').get() as { n: number }).n;
  }

  #prunedAt = 0;

  /** Records an event (synchronously, durably) and wakes the delivery loop; a completion clears its intent. */
  enqueue(event: UploadEvent): void {
    const now = this.#now();
    this.#db.transaction(() => {
      this.#insert.run(event.id, JSON.stringify(event), now, now);
      if (event.type === 'upload.completed') this.#db.prepare('DELETE FROM intents WHERE id = ?').run(event.id);
    })();
    this.#wake();
  }

  /**
   * A multipart upload is about to be completed: if this process dies before `enqueue` of its
   * completion, a later check finds the object in the bucket and emits the event (same id).
   */
  intend(e: UploadCompletingEvent): void {
    this.#db.prepare('INSERT OR REPLACE INTO intents (id, body, check_at) VALUES (?, ?, ?)').run(e.id, JSON.stringify(e), this.#now() + (this.#o.intentAgeMs ?? 600_000));
  }

  /** A single PUT was signed: watch for its object until the URL expires (plus a minute of clock slack). */
  watch(e: UploadCreateEvent): void {
    if (e.multipart) return;
    const w: Watch = { userId: e.userId, key: e.key, via: e.via, size: e.size, contentType: e.contentType, ...(e.md5 ? { md5: e.md5 } : {}), ...(e.checksum ? { checksum: e.checksum } : {}) };
    const now = this.#now();
    const expires = e.expiresAt ? Date.parse(e.expiresAt) : now + 15 * 60_000;
    this.#watchInsert.run(e.key, JSON.stringify(w), expires + 60_000, now + 1000);
    this.#wake();
  }

  start(): void {
    this.#wake();
  }

  #wake(delayMs = 0): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.#tick()
        .catch((err: unknown) => this.#o.logger.error({ err }, 'webhooks: delivery loop failed'))
        .finally(() => {
          this.#running = undefined;
          const again = this.#again;
          this.#again = false;
          this.#wake(again ? 0 : this.#nextDelay());
        });
    }, delayMs);
    this.#timer.unref();
  }

  #nextDelay(): number {
    const row = this.#db
      .prepare('SELECT min(n) AS n FROM (SELECT min(next_at) AS n FROM events WHERE delivered_at IS NULL AND failed_at IS NULL UNION ALL SELECT min(next_at) FROM watches)')
      .get() as { n: number | null };
    return row.n === null ? IDLE_MS : Math.max(0, Math.min(IDLE_MS, row.n - this.#now()));
  }

  async #tick(): Promise<void> {
    if (this.#now() - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = this.#now();
      this.#db.prepare('DELETE FROM events WHERE delivered_at IS NOT NULL AND delivered_at < ?').run(this.#now() - KEEP_DELIVERED_MS);
    }
    for (const w of this.#watchDue.all(this.#now(), BATCH) as WatchRow[]) await this.#checkWatch(w);
    const intents = this.#db.prepare('SELECT id, body FROM intents WHERE check_at <= ? LIMIT ?').all(this.#now(), BATCH) as { id: string; body: string }[];
    for (const i of intents) await this.#checkIntent(i.id, JSON.parse(i.body) as UploadCompletingEvent);
    const rows = this.#due.all(this.#now(), BATCH) as Row[];
    await Promise.all(rows.map((r) => this.#deliver(r)));
    if (rows.length === BATCH) this.#again = true;
  }

  async #deliver(row: Row): Promise<void> {
    const o = this.#o;
    let error: string;
    try {
      const headers = await signWebhook({ id: row.id, body: row.body, secret: o.secret, nowMs: this.#now() });
      const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'chute-server', ...headers },
        body: row.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) {
        this.#db.prepare('UPDATE events SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?').run(this.#now(), row.id);
        o.logger.info({ event: row.id, attempts: row.attempts + 1 }, 'webhook delivered');
        o.onAttempt?.('delivered');
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message ?? String(err);
    }
    const attempts = row.attempts + 1;
    if (attempts >= o.maxAttempts) {
      this.#db.prepare('UPDATE events SET attempts = ?, failed_at = ?, last_error = ? WHERE id = ?').run(attempts, this.#now(), error, row.id);
      o.logger.error({ event: row.id, attempts, error }, `webhook given up after ${attempts} attempts (kept in the outbox, failed_at set)`);
      o.onAttempt?.('given_up');
      return;
    }
    const backoff = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** (attempts - 1));
    const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
    this.#db.prepare('UPDATE events SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?').run(attempts, this.#now() + delay, error, row.id);
    o.logger.warn({ event: row.id, attempts, error, retryInMs: delay }, 'webhook delivery failed; will retry');
    o.onAttempt?.('retry');
  }

  async #checkWatch(row: WatchRow): Promise<void> {
    const w = JSON.parse(row.body) as Watch;
    const algorithm = (w.checksum?.algorithm ?? 'NONE') as ChecksumAlgorithm | 'NONE';
    try {
      const head = await this.#o.store.headChecked(w.key, algorithm);
      const event: UploadCompleteEvent = {
        id: await eventId('upload.completed', 'single-put', w.key),
        type: 'upload.completed',
        occurredAt: new Date(this.#now()).toISOString(),
        userId: w.userId,
        key: w.key,
        via: w.via,
        uploadId: '',
        size: head.size,
        etag: head.etag,
        contentType: head.contentType ?? w.contentType,
        ...(algorithm !== 'NONE' && head.checksum ? { checksum: { algorithm, type: CHECKSUM_TYPE[algorithm], value: head.checksum } } : {}),
        verification: singlePutVerification(w, head),
      };
      this.#db.transaction(() => {
        this.#insert.run(event.id, JSON.stringify(event), this.#now(), this.#now());
        this.#db.prepare('DELETE FROM watches WHERE key = ?').run(w.key);
      })();
      this.#again = true;
    } catch (err) {
      const missing = isChuteError(err) && err.code === 'not_found';
      if (!missing) this.#o.logger.warn({ key: w.key, err: (err as Error).message }, 'webhooks: HeadObject for a single PUT failed; will retry');
      if (this.#now() > row.deadline) {
        // The URL expired unused: no upload happened.
        this.#db.prepare('DELETE FROM watches WHERE key = ?').run(w.key);
        return;
      }
      const delay = Math.min(WATCH_MAX_MS, 1000 * 2 ** row.attempts);
      this.#db.prepare('UPDATE watches SET attempts = attempts + 1, next_at = ? WHERE key = ?').run(this.#now() + delay, w.key);
    }
  }

  /** A completion that started and never reported: the bucket says whether it happened. */
  async #checkIntent(id: string, e: UploadCompletingEvent): Promise<void> {
    try {
      const head = await this.#o.store.headChecked(e.key, 'NONE');
      const event: UploadCompleteEvent = {
        id,
        type: 'upload.completed',
        occurredAt: new Date(this.#now()).toISOString(),
        userId: e.userId,
        key: e.key,
        via: e.via,
        uploadId: e.uploadId,
        size: head.size,
        etag: head.etag,
        ...(head.contentType ? { contentType: head.contentType } : {}),
        verification: {
          level: 'not-verifiable',
          checked: head.size === e.size ? [`size ${head.size} from HeadObject`] : [],
          warning: `Recovered: the signer stopped while completing this upload, before its own verification; the object is in the bucket${head.size === e.size ? '' : ` with ${head.size} bytes (the upload declared ${e.size})`}.`,
        },
      };
      this.enqueue(event);
      this.#o.logger.warn({ event: id, key: e.key }, 'webhooks: emitted a completion recovered from its intent (the signer had stopped mid-complete)');
    } catch (err) {
      if (isChuteError(err) && err.code === 'not_found') {
        // The complete never happened (or failed): nothing to tell.
        this.#db.prepare('DELETE FROM intents WHERE id = ?').run(id);
        return;
      }
      this.#db.prepare('UPDATE intents SET check_at = ? WHERE id = ?').run(this.#now() + WATCH_MAX_MS, id);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
    this.#db.close();
  }
}

/** What HeadObject says about a single PUT, against what its URL signed. */
function singlePutVerification(w: Watch, head: { size: number; etag: string; checksum?: string }): Verification {
  const checked: string[] = [];
  const differs: string[] = [];
  if (head.size === w.size) checked.push(`size ${head.size} from HeadObject`);
  else differs.push(`HeadObject reports ${head.size} bytes, the create declared ${w.size}`);
  const md5hex = w.md5 ? Buffer.from(w.md5, 'base64').toString('hex') : undefined;
  let full = false;
  if (md5hex && head.etag.toLowerCase() === md5hex) {
    full = true;
    checked.push(`ETag ${head.etag} equals the Content-MD5 the URL signed (the store refuses other bytes)`);
  } else if (md5hex) {
    differs.push(`the ETag ${head.etag} is not the signed Content-MD5 (${md5hex})`);
  }
  if (w.checksum && head.checksum === w.checksum.value) {
    full = true;
    checked.push(`${w.checksum.algorithm} ${head.checksum} returned by the store equals the signed one`);
  }
  if (differs.length) return { level: 'not-verifiable', checked, warning: `The stored object does not match what was signed: ${differs.join('; ')}.` };
  if (full) return { level: 'full-object-checksum', checked };
  return { level: 'not-verifiable', checked, warning: 'No checksum was signed into this single PUT, so only the size could be compared.' };
}
