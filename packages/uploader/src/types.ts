import type { Verification } from '@chute/protocol';
import type { UploaderError } from './errors.js';
import type { PartHasher } from './hash-pool.js';
import type { PartDigest } from './hash-messages.js';
import type { Clock, Connectivity, Preconnect } from './platform.js';
import type { RecordStore } from './record-store.js';
import type { RetryPolicy } from './retry.js';
import type { Semaphore } from './semaphore.js';
import type { SignerClient } from './signer-client.js';
import type { Locks, TabChannel } from './tabs.js';
import type { PartTransport } from './transport.js';

/** Every state an upload is in, explicitly (no implicit flags). */
export type UploadStatus = 'hashing' | 'uploading' | 'paused' | 'retrying' | 'completing' | 'verified' | 'failed';

export type EngineChecksum = 'CRC64NVME' | 'SHA256' | 'NONE';

export interface UploadResult {
  key: string;
  /** The object's URL at the bucket without query (not readable without a download URL). */
  location: string;
  etag: string;
  size: number;
  /**
   * What was checked and how strongly (see `Verification` in @chute/protocol): the whole file's
   * checksum, part checksums + multipart ETag + size, ETag + size, or `not-verifiable` on a store
   * that returns nothing to compare (stored, with `verification.warning`).
   */
  verification: Verification;
  /** The value the store returned that equals the file's (absent when not verifiable). */
  verifiedBy?: { algorithm: 'CRC64NVME' | 'SHA256' | 'MD5'; value: string };
  /** Resume statistics: parts found in the bucket and verified, and parts sent by this session. */
  keptParts: number;
  sentParts: number;
}

export interface UploadState {
  id: string;
  name: string;
  size: number;
  type: string;
  status: UploadStatus;
  bytesUploaded: number;
  partCount: number;
  partsDone: number;
  key?: string;
  result?: UploadResult;
  error?: UploaderError;
}

export interface UploadEvents extends Record<string, unknown[]> {
  status: [UploadStatus];
  progress: [bytesUploaded: number, bytesTotal: number];
  'part-hashed': [partNumber: number, digest: PartDigest];
  'part-start': [partNumber: number];
  'part-uploaded': [partNumber: number, etag: string];
  /** A part already in the bucket whose ETag matched the local MD5 (verified resume). */
  'part-kept': [partNumber: number];
  retry: [info: { partNumber?: number; attempt: number; reason: string; delayMs: number }];
  /** What was verified, and how strongly, just before `success` (a `not-verifiable` level carries a warning). */
  verification: [verification: Verification];
  success: [result: UploadResult];
  error: [error: UploaderError];
}

/** Hooks for tests only (e.g. corrupting a part after it was hashed). Never set in production. */
export interface TestHooks {
  partBody?: (info: { partNumber: number; attempt: number }, body: Blob) => Blob;
}

export interface EngineOptions {
  /** Requests in flight at the store across all files of this engine over HTTP/1.1 (Chrome allows 6 connections per host). */
  concurrency: number;
  /**
   * The same when the signer reports that the store multiplexes requests over one connection
   * (HTTP/2 or HTTP/3, as R2 serves): many small files then go out at once instead of 6 at a time.
   * Used only while `concurrency` is left at its default.
   */
  multiplexedConcurrency: number;
  /** Preferred part size sent to the signer (it rounds into R2's limits). */
  partSize?: number;
  /** Files larger than this go multipart; smaller ones are one PUT. */
  multipartThreshold: number;
  checksumAlgorithm: EngineChecksum;
  /** Abort and retry a request that made no progress for this long. */
  stallTimeoutMs: number;
  retry: RetryPolicy;
  /** Most parts signed by one signer call. */
  signBatchSize: number;
  /** Treat a URL as expired this long before its `expiresAt` (clock skew, slow sends). */
  urlExpiryMarginMs: number;
  /** Parts hashed ahead of the network frontier (hashing never stalls uploads). */
  hashAhead: number;
  /**
   * The bucket's rule for abandoned multipart uploads (`chute-server setup --abort-after-days`,
   * default 7): older resume records are dropped, their parts are gone.
   */
  abortAfterDays: number;
  metadata?: Record<string, string>;
  testHooks?: TestHooks;
}

export interface EngineContext {
  endpoint: string;
  signer: SignerClient;
  hasher: PartHasher;
  transport: PartTransport;
  store: RecordStore;
  clock: Clock;
  connectivity: Connectivity;
  slots: Semaphore;
  /** Files being prepared (fingerprint, hash, create) before their first request at the store: FIFO, a few slots ahead. */
  admission: Semaphore;
  /** The signer said the store multiplexes (HTTP/2+): raise the slots, unless the caller chose `concurrency`. */
  storeMultiplexed(): void;
  /** Opens a connection to the store's origin while the first parts are signed. */
  preconnect: Preconnect;
  /** One uploader per file across tabs (Web Locks), and progress for the other tabs. */
  locks: Locks;
  channel: TabChannel;
  options: EngineOptions;
  /** In-flight accounting across files (tests assert parallelism with it). */
  inFlight: { current: number; peak: number };
}
