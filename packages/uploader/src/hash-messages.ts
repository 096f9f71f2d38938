// Messages between the engine and its hashing workers. Only Blob handles travel in; only digests
// (a few bytes each) travel out: part bytes never exist on the main thread.

export interface HashOptions {
  md5: boolean;
  crc64nvme: boolean;
  sha256: boolean;
  /** Also the fingerprint probe of the blob (whole-file requests only): one read instead of two for small files. */
  probeBytes?: number;
}

export type HashRequest =
  | { id: number; type: 'part'; blob: Blob; start: number; end: number; options: HashOptions }
  /** Fingerprint probe: SHA-256 of the first and last `probeBytes` of the file. */
  | { id: number; type: 'probe'; blob: Blob; probeBytes: number };

/** Digests as lowercase hex (big-endian bytes, as S3 encodes them before base64). */
export interface PartDigest {
  size: number;
  md5?: string;
  crc64nvme?: string;
  sha256?: string;
  /** The fingerprint probe, when asked for (`probeBytes`) and the hasher supports it. */
  probe?: string;
}

export type HashResponse =
  | { id: number; ok: true; digest: PartDigest }
  | { id: number; ok: true; probe: string }
  | { id: number; ok: false; error: string };
