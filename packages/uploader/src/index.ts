export { crc64Combine, crc64CombineAll, CRC64NVME_HASH_WASM_POLY } from './crc64.js';
export { base64ToHex, crc64FromBase64, crc64ToBase64, hexToBase64, normalizeEtag } from './encoding.js';
export { type AddOptions, type ChuteEngineOptions, ChuteEngine, defaultEngineOptions, type EngineEvents } from './engine.js';
export { fileChangedError, isAbortLike, UploaderError, type UploaderErrorCode } from './errors.js';
export {
  type FileHandleLike,
  fileChanges,
  fileFromHandle,
  handlesFromDrop,
  isFileHandle,
  type PickedFile,
  pickFiles,
  supportsFileHandles,
} from './handles.js';
export type { PendingUpload, ResumeOptions } from './pending.js';
export { type FileLike, fingerprintOf, metadataFingerprint } from './fingerprint.js';
export type { HashOptions, PartDigest } from './hash-messages.js';
export { defaultPoolSize, type PartHasher, type WorkerFactory, WorkerHashPool } from './hash-pool.js';
export { browserConnectivity, browserPreconnect, type Clock, type Connectivity, type Preconnect, systemClock } from './platform.js';
export { IndexedDbRecordStore, MemoryRecordStore, pruneRecords, type RecordStore, recordId, type UploadRecord } from './record-store.js';
export { backoffDelay, classifyFailure, defaultRetryPolicy, type PartFailure, type RecoveryAction, type RetryPolicy } from './retry.js';
export { Semaphore } from './semaphore.js';
export { BroadcastTabChannel, defaultLocks, defaultTabChannel, lockName, type Locks, MemoryLocks, silentChannel, type TabChannel, type TabProgress, WebLocks } from './tabs.js';
export { HttpSignerClient, type HttpSignerOptions, type SignerClient } from './signer-client.js';
export { type PartTransport, type PutRequest, type PutResult, TransportError, XhrTransport } from './transport.js';
export type { EngineChecksum, EngineOptions, TestHooks, UploadEvents, UploadResult, UploadState, UploadStatus } from './types.js';
export { Upload, type UploadInit } from './upload.js';
