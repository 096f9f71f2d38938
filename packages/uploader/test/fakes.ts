// In-memory stand-ins for the engine's seams, for fast deterministic tests of its logic in Node
// (the real signer, bucket and browser are exercised by test/e2e). The fake bucket enforces
// Content-MD5 like S3 does, so corruption and resume are checked for real.
import { createHash } from 'node:crypto';
import { createCRC64, createMD5, createSHA256 } from 'hash-wasm';
import {
  type CompleteUploadRequest,
  type CompleteUploadResponse,
  type CreateUploadRequest,
  choosePartSize,
  partCount,
  type PartChecksums,
} from '@chute/protocol';
import { CRC64NVME_HASH_WASM_POLY, crc64CombineAll } from '../src/crc64.js';
import { crc64ToBase64 } from '../src/encoding.js';
import { UploaderError } from '../src/errors.js';
import type { PartHasher } from '../src/hash-pool.js';
import type { HashOptions, PartDigest } from '../src/hash-messages.js';
import type { SignerClient } from '../src/signer-client.js';
import { type PartTransport, type PutRequest, type PutResult, TransportError } from '../src/transport.js';

export class NodeHasher implements PartHasher {
  calls: Array<{ start: number; end: number }> = [];
  async hashPart(blob: Blob, start: number, end: number, o: HashOptions): Promise<PartDigest> {
    this.calls.push({ start, end });
    const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    const d: PartDigest = { size: bytes.length };
    if (o.md5) d.md5 = (await createMD5()).update(bytes).digest('hex');
    if (o.crc64nvme) d.crc64nvme = (await createCRC64(CRC64NVME_HASH_WASM_POLY)).update(bytes).digest('hex');
    if (o.sha256) d.sha256 = (await createSHA256()).update(bytes).digest('hex');
    return d;
  }
  async probe(blob: Blob, n: number): Promise<string> {
    const head = new Uint8Array(await blob.slice(0, n).arrayBuffer());
    const tail = new Uint8Array(await blob.slice(Math.max(0, blob.size - n)).arrayBuffer());
    return createHash('sha256').update(head).update(tail).digest('hex');
  }
  terminate() {}
}

interface FakeUpload {
  key: string;
  size: number;
  partSize: number;
  parts: Map<number, Uint8Array>;
  aborted: boolean;
}

const md5b64 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
const md5hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** A bucket + signer in one: URLs are `fake://up/<uploadId>/<part>?exp=<ms>`. */
export class FakeBackend implements SignerClient, PartTransport {
  uploads = new Map<string, FakeUpload>();
  objects = new Map<string, Uint8Array>();
  now = () => Date.now();
  urlTtlMs = 60_000;
  signCalls: number[][] = [];
  /** Fails the next sends: a function returning a failure or undefined (send normally). */
  failNext: Array<(req: PutRequest) => TransportError | 'hang' | undefined> = [];
  signerDown = 0;
  putDelayMs = 2;
  /** What create answers say about the store (`storeMultiplexed`): undefined = not said. */
  storeMultiplexed: boolean | undefined;
  /** File names in the order their creates arrived, and how many PUTs had started by then. */
  creates: { name: string; putsStarted: number }[] = [];
  putsStarted = 0;
  inFlight = 0;
  peak = 0;
  #next = 1;

  #signerGate() {
    if (this.signerDown > 0) {
      this.signerDown--;
      throw new UploaderError('network_error', 'signer down', { retryable: true });
    }
  }

  async create(req: CreateUploadRequest) {
    this.#signerGate();
    this.creates.push({ name: req.name, putsStarted: this.putsStarted });
    const hint = this.storeMultiplexed === undefined ? {} : { storeMultiplexed: this.storeMultiplexed };
    const key = `u/${req.name}`;
    const exp = new Date(this.now() + this.urlTtlMs).toISOString();
    if (req.multipart === false) {
      const id = `s${this.#next++}`;
      this.uploads.set(id, { key, size: req.size, partSize: req.size, parts: new Map(), aborted: false });
      return {
        type: 'single' as const,
        key,
        request: { method: 'PUT' as const, url: `fake://single/${id}?exp=${Date.parse(exp)}&md5=${req.md5}`, headers: { 'content-md5': req.md5 ?? '' }, expiresAt: exp },
        ...hint,
      };
    }
    const uploadId = `mpu${this.#next++}`;
    const partSize = choosePartSize(req.size, req.partSize ? { preferred: req.partSize } : {});
    this.uploads.set(uploadId, { key, size: req.size, partSize, parts: new Map(), aborted: false });
    return {
      type: 'multipart' as const,
      key,
      uploadId,
      partSize,
      partCount: partCount(req.size, partSize),
      checksumAlgorithm: req.checksumAlgorithm ?? 'CRC64NVME',
      md5Required: true,
      token: `tok-${uploadId}`,
      tokenExpiresAt: new Date(this.now() + 3_600_000).toISOString(),
      ...hint,
    };
  }

  async signParts(uploadId: string, _token: string, parts: PartChecksums[]) {
    this.#signerGate();
    this.signCalls.push(parts.map((p) => p.partNumber));
    const u = this.#upload(uploadId);
    const exp = this.now() + this.urlTtlMs;
    return {
      parts: parts.map((p) => ({
        partNumber: p.partNumber,
        size: Math.min(u.partSize, u.size - (p.partNumber - 1) * u.partSize),
        method: 'PUT' as const,
        url: `fake://up/${uploadId}/${p.partNumber}?exp=${exp}`,
        headers: { 'content-md5': p.md5 ?? '' },
        expiresAt: new Date(exp).toISOString(),
      })),
    };
  }

  async listParts(uploadId: string) {
    this.#signerGate();
    const u = this.#upload(uploadId);
    return {
      key: u.key,
      uploadId,
      parts: [...u.parts].map(([partNumber, b]) => ({ partNumber, etag: `"${md5hex(b)}"`, size: b.length })),
    };
  }

  async complete(uploadId: string, req: CompleteUploadRequest) {
    this.#signerGate();
    const u = this.#upload(uploadId);
    const numbers = [...u.parts.keys()].sort((a, b) => a - b);
    const chunks = numbers.map((n) => u.parts.get(n) as Uint8Array);
    const whole = Buffer.concat(chunks);
    const crcs = [];
    for (const c of chunks) crcs.push({ crc: BigInt(`0x${(await createCRC64(CRC64NVME_HASH_WASM_POLY)).update(c).digest('hex')}`), size: c.length });
    const value = crc64ToBase64(crc64CombineAll(crcs));
    if (req.checksum && req.checksum !== value) throw new UploaderError('checksum_mismatch', 'bad full-object checksum');
    this.objects.set(u.key, whole);
    this.uploads.delete(uploadId);
    const res: CompleteUploadResponse = { key: u.key, etag: 'x-1', size: whole.length, checksum: { algorithm: 'CRC64NVME' as const, type: 'FULL_OBJECT' as const, value } };
    return this.completeAnswer ? this.completeAnswer(res) : res;
  }

  /** Rewrites complete's answer (a store that returns less, or other values). */
  completeAnswer: ((res: CompleteUploadResponse) => CompleteUploadResponse) | undefined;
  readonly discards: { token: string; etag: string }[] = [];

  async discard(token: string, etag: string) {
    this.discards.push({ token, etag });
    const key = [...this.objects.keys()].at(-1) as string;
    this.objects.delete(key);
    return { key, discarded: true };
  }

  async abort(uploadId: string) {
    this.#upload(uploadId).aborted = true;
    this.uploads.delete(uploadId);
  }

  async put(req: PutRequest): Promise<PutResult> {
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    this.putsStarted++;
    try {
      await new Promise((r) => setTimeout(r, this.putDelayMs));
      const fault = this.failNext.shift()?.(req);
      if (fault === 'hang') {
        await new Promise((_, reject) => {
          const t = setTimeout(() => reject(new TransportError({ kind: 'stalled' })), req.stallTimeoutMs);
          req.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(req.signal.reason);
          });
        });
      }
      if (fault) throw fault;
      req.signal.throwIfAborted();
      const url = new URL(req.url);
      if (Number(url.searchParams.get('exp')) < this.now()) throw new TransportError({ kind: 'http', status: 403, code: 'AccessDenied', message: 'Request has expired' });
      const body = new Uint8Array(await req.body.arrayBuffer());
      if (req.headers['content-md5'] !== md5b64(body)) throw new TransportError({ kind: 'http', status: 400, code: 'BadDigest' });
      const [, id, part] = url.pathname.split('/');
      if (url.host === 'single') {
        const u = this.#upload(id as string);
        this.objects.set(u.key, body);
      } else {
        this.#upload(id as string).parts.set(Number(part), body);
      }
      req.onProgress(body.length);
      const etag = `"${md5hex(body)}"`;
      return { etag, header: (n) => (n.toLowerCase() === 'etag' ? etag : null) };
    } finally {
      this.inFlight--;
    }
  }

  #upload(id: string): FakeUpload {
    const u = this.uploads.get(id);
    if (!u || u.aborted) throw new UploaderError('not_found', `no upload ${id}`);
    return u;
  }
}
