// What the signer can say about a completed multipart upload, from one HeadObject: the size, the
// multipart ETag (MD5 of the part MD5s + `-N`, which every S3-compatible store computes) and the
// full-object checksum when the store returns one. An absent checksum lowers the level; only a
// value the store returned that differs is a mismatch.
import { createHash } from 'node:crypto';
import type { ChecksumAlgorithm, Verification } from '@chute/protocol';

const HEX_MD5 = /^[0-9a-f]{32}$/;
const MULTIPART_ETAG = /^([0-9a-f]{32})-(\d+)$/;
const clean = (e: string | undefined) => (e ?? '').replace(/^"|"$/g, '').toLowerCase();

/** `md5(binary part MD5s)-N`, or undefined when a part ETag is not a plain MD5 (then nothing to compare). */
export function multipartEtag(partEtags: string[]): string | undefined {
  const md5s = partEtags.map(clean);
  if (md5s.length === 0 || !md5s.every((e) => HEX_MD5.test(e))) return undefined;
  const h = createHash('md5');
  for (const e of md5s) h.update(Buffer.from(e, 'hex'));
  return `${h.digest('hex')}-${md5s.length}`;
}

export interface VerifyInput {
  /** The file's size (from the upload token). */
  size: number;
  algorithm: ChecksumAlgorithm | 'NONE';
  /** Every part went to the store with a checksum it enforces (signed Content-MD5, or a stored COMPOSITE checksum). */
  partsEnforced: boolean;
  /** Part ETags the expected multipart ETag is computed from (only when they are the file's: Content-MD5 enforced or confirmed by the client). */
  partEtags?: string[];
  /** The client's full-object CRC64NVME. */
  clientChecksum?: string;
  /** What CompleteMultipartUpload answered. */
  completed: { etag: string; checksum?: string };
  /** What HeadObject answered, or the reason it could not be asked. */
  head: { size: number; etag: string; checksum?: string } | { error: string };
}

export type VerifyOutcome = { ok: true; verification: Verification } | { ok: false; differs: string[] };

export function verifyCompleted(v: VerifyInput): VerifyOutcome {
  const checked: string[] = [];
  const differs: string[] = [];
  const notes: string[] = [];
  const head = 'error' in v.head ? undefined : v.head;
  if ('error' in v.head) notes.push(`HeadObject failed (${v.head.error}), so the size was not read back`);

  if (head) {
    if (head.size !== v.size) differs.push(`the stored size is ${head.size} bytes (HeadObject), the file has ${v.size}`);
    else checked.push(`size ${head.size} from HeadObject`);
    // Complete and HEAD describe the same object, unless something replaced it in between.
    if (clean(v.completed.etag) && clean(head.etag) !== clean(v.completed.etag)) {
      differs.push(`HeadObject reports ETag ${clean(head.etag)}, CompleteMultipartUpload ${clean(v.completed.etag)} (the object was replaced)`);
    }
  }

  let etagOk = false;
  const etag = clean(head?.etag ?? v.completed.etag);
  const expected = v.partEtags ? multipartEtag(v.partEtags) : undefined;
  if (expected) {
    if (MULTIPART_ETAG.test(etag)) {
      if (etag === expected) {
        etagOk = true;
        checked.push(`multipart ETag ${etag} equals the MD5 of the ${v.partEtags?.length} part MD5s`);
      } else {
        differs.push(`the multipart ETag is ${etag}, the MD5 of the part MD5s is ${expected}`);
      }
    } else {
      notes.push(`the store's ETag (${etag || 'none'}) is not a standard multipart ETag, so it could not be compared`);
    }
  } else {
    notes.push('the part ETags are not known to be the MD5s of the file\u2019s parts, so the multipart ETag was not compared');
  }

  let fullOk = false;
  const storeFull = v.algorithm === 'CRC64NVME' ? [v.completed.checksum, head?.checksum].filter((c): c is string => !!c) : [];
  if (storeFull.length === 2 && storeFull[0] !== storeFull[1]) {
    differs.push(`the store reported two CRC64NVME values (${storeFull[0]} at complete, ${storeFull[1]} from HeadObject)`);
  }
  const stored = storeFull[0];
  if (v.algorithm === 'CRC64NVME') {
    if (stored && v.clientChecksum) {
      if (stored === v.clientChecksum) {
        fullOk = true;
        checked.push(`CRC64NVME ${stored} of the whole object, returned by the store, equals the file's`);
      } else {
        differs.push(`the store's CRC64NVME is ${stored}, the file's is ${v.clientChecksum}`);
      }
    } else if (!stored) {
      notes.push('the store returned no CRC64NVME (it does not keep additional checksums)');
    } else {
      notes.push('the client sent no CRC64NVME of the file to compare with the store\u2019s');
    }
  }

  if (differs.length) return { ok: false, differs };
  if (fullOk) return { ok: true, verification: { level: 'full-object-checksum', checked } };
  if (etagOk && v.partsEnforced) {
    return { ok: true, verification: { level: 'part-checksums-and-etag', checked: [...checked, partSentence(v.algorithm)] } };
  }
  if (etagOk) {
    return {
      ok: true,
      verification: {
        level: 'etag-and-size',
        checked,
        warning: `The store did not check the parts as they arrived (no per-part checksum was signed); the ETag it computed and the size match. ${sentence(notes)}`.trim(),
      },
    };
  }
  return {
    ok: true,
    verification: {
      level: 'not-verifiable',
      checked,
      warning: `Stored, but not verifiable on this store: ${notes.join('; ')}.`,
    },
  };
}

function partSentence(algorithm: ChecksumAlgorithm | 'NONE'): string {
  return algorithm !== 'NONE' && algorithm !== 'CRC64NVME'
    ? `every part carried its ${algorithm} checksum, stored by the store`
    : 'every part was sent with a Content-MD5 the store enforces';
}

const sentence = (notes: string[]) => (notes.length ? `${notes.join('; ').replace(/^./, (c) => c.toUpperCase())}.` : '');
