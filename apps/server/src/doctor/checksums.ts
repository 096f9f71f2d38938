// Which additional checksums the store accepts, enforces and returns — on PutObject, UploadPart,
// CompleteMultipartUpload and HeadObject — plus the multipart ETag and the minimum part size.
import {
  type ChecksumAlgorithm as S3ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CHECKSUM_TYPE, type ChecksumAlgorithm } from '@chute/protocol';
import { check, codeOf, describeError, type ProbeContext, statusOf } from './context.js';
import { checksumOf, md5Base64, multipartEtag, wrongChecksumOf } from './digests.js';

export const PROBED_ALGORITHMS = ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA256'] as const satisfies readonly ChecksumAlgorithm[];
export type ProbedAlgorithm = (typeof PROBED_ALGORITHMS)[number];

const FIELD = { CRC64NVME: 'ChecksumCRC64NVME', CRC32: 'ChecksumCRC32', CRC32C: 'ChecksumCRC32C', SHA256: 'ChecksumSHA256' } as const;

export interface SingleSupport {
  accepted: boolean;
  /** A wrong value was refused. */
  enforced: boolean;
  /** PutObject answered with the value. */
  returned: boolean;
  /** HeadObject (x-amz-checksum-mode: ENABLED) answered with the value. */
  head: boolean;
}

export interface MultipartSupport {
  accepted: boolean;
  /** ListParts names each part's checksum (composite only). */
  listed: boolean;
  /** CompleteMultipartUpload answered with the object's checksum. */
  completeReturned: boolean;
  head: boolean;
  /** A wrong full-object value was refused at complete (FULL_OBJECT only). */
  wrongRefused?: boolean;
  /** UploadPart refused a part with a wrong checksum (COMPOSITE only). */
  wrongPartRefused?: boolean;
}

const MiB = 1024 * 1024;
const PART = new Uint8Array(5 * MiB).map((_, i) => (i * 31 + 7) & 255);
const TAIL = new TextEncoder().encode('the last part of the chute doctor probe');
/** The parts of a probe upload: 5 MiB + a tail, or (`ctx.light`, the start-up probe) the tail alone. */
const bodiesOf = (ctx: ProbeContext) => (ctx.light ? [TAIL] : [PART, TAIL]);

export async function probeSinglePut(ctx: ProbeContext, alg: ProbedAlgorithm): Promise<SingleSupport> {
  const body = new TextEncoder().encode(`chute doctor ${alg}`);
  const key = `${ctx.prefix}single-${alg.toLowerCase()}`;
  const value = await checksumOf(alg, body);
  const out: SingleSupport = { accepted: false, enforced: false, returned: false, head: false };
  ctx.objects.add(key);
  try {
    const put = await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body, [FIELD[alg]]: value }));
    out.accepted = true;
    out.returned = put[FIELD[alg]] === value;
    const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    out.head = head[FIELD[alg]] === value;
  } catch (err) {
    check(ctx, `put-${alg}`, `PutObject ${alg}`, 'warn', `not accepted: ${describeError(err)}`);
    return out;
  }
  try {
    await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: `${key}-wrong`, Body: body, [FIELD[alg]]: await wrongChecksumOf(alg, body) }));
    ctx.objects.add(`${key}-wrong`);
  } catch {
    out.enforced = true;
  }
  const said = [out.enforced ? 'enforced' : 'NOT enforced (a wrong value was stored)', out.returned ? 'returned' : 'not returned by PutObject', out.head ? 'returned by HeadObject' : 'not returned by HeadObject'];
  check(ctx, `put-${alg}`, `PutObject ${alg}`, out.enforced ? 'ok' : 'warn', said.join(', '));
  return out;
}

/** A two-part upload (5 MiB + a few bytes; one small part when light) with `alg` as the store's multipart checksum. */
/** The multipart ETag, measured on the first multipart probe that completes. */
export interface EtagProbe {
  checked: boolean;
  /** HeadObject's ETag is MD5(part MD5s)-N. */
  matches?: boolean;
  /** How CompleteMultipartUpload's own answer differed, if it did. */
  note?: string;
}

export async function probeMultipart(ctx: ProbeContext, alg: ProbedAlgorithm, etag: EtagProbe): Promise<MultipartSupport> {
  const type = CHECKSUM_TYPE[alg];
  const key = `${ctx.prefix}multipart-${alg.toLowerCase()}`;
  const out: MultipartSupport = { accepted: false, listed: false, completeReturned: false, head: false };
  const label = `multipart ${alg} (${type === 'FULL_OBJECT' ? 'full object' : 'composite'})`;
  try {
    const uploadId = await create(ctx, key, alg);
    const parts = await sendParts(ctx, key, uploadId, alg);
    const listed = await ctx.client.send(new ListPartsCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId }));
    out.listed = type === 'COMPOSITE' && (listed.Parts ?? []).every((p, i) => p[FIELD[alg]] === parts[i]?.checksum);
    const full = await checksumOf(alg, concat(bodiesOf(ctx)));
    const done = await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.etag, ...(type === 'COMPOSITE' ? { [FIELD[alg]]: p.checksum } : {}) })) },
        ...(type === 'FULL_OBJECT' ? { [FIELD[alg]]: full, ChecksumType: 'FULL_OBJECT' } : {}),
      }),
    );
    ctx.objects.add(key);
    out.accepted = true;
    out.completeReturned = typeof done[FIELD[alg]] === 'string' && (type === 'COMPOSITE' || done[FIELD[alg]] === full);
    const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    out.head = typeof head[FIELD[alg]] === 'string';
    if (!etag.checked) {
      etag.checked = true;
      // Compared on HeadObject, as the signer does (radosgw answers complete with an empty ETag).
      const expected = multipartEtag(bodiesOf(ctx));
      etag.matches = (head.ETag ?? '').replace(/"/g, '') === expected;
      if (!done.ETag) etag.note = 'CompleteMultipartUpload answered an empty ETag; HeadObject has it';
      else if (done.ETag.replace(/"/g, '') !== expected) etag.note = `CompleteMultipartUpload answered ETag ${done.ETag}`;
    }
  } catch (err) {
    check(ctx, `multipart-${alg}`, label, 'warn', `not usable: ${describeError(err)}`);
    return out;
  }
  if (type === 'FULL_OBJECT') out.wrongRefused = await wrongFullRefused(ctx, alg);
  else out.wrongPartRefused = await wrongPartRefused(ctx, alg);
  const said = [
    out.completeReturned ? 'complete returns the object checksum' : 'complete returns NO checksum',
    out.head ? 'HeadObject returns it' : 'HeadObject does not return it',
    ...(type === 'COMPOSITE' ? [out.listed ? 'ListParts lists part checksums' : 'ListParts lists no part checksums'] : []),
    ...(out.wrongRefused === undefined ? [] : [out.wrongRefused ? 'a wrong full-object value is refused' : 'a WRONG full-object value was accepted']),
    ...(out.wrongPartRefused === undefined ? [] : [out.wrongPartRefused ? 'a part with a wrong checksum is refused' : 'a part with a WRONG checksum was accepted']),
  ];
  const good = out.completeReturned && out.head && out.wrongRefused !== false && out.wrongPartRefused !== false && (type === 'FULL_OBJECT' || out.listed);
  check(ctx, `multipart-${alg}`, label, good ? 'ok' : 'warn', said.join(', '));
  return out;
}

/** Is a 1 MiB non-last part refused at complete (S3 and R2: EntityTooSmall below 5 MiB)? */
export async function probeMinPartSize(ctx: ProbeContext): Promise<boolean | undefined> {
  const key = `${ctx.prefix}small-parts`;
  try {
    const uploadId = await create(ctx, key, undefined);
    const small = PART.subarray(0, MiB);
    const etags: string[] = [];
    for (const [i, body] of [small, TAIL].entries()) {
      const r = await ctx.client.send(new UploadPartCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentMD5: md5Base64(body) }));
      etags.push(r.ETag ?? '');
    }
    try {
      await ctx.client.send(new CompleteMultipartUploadCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }));
      ctx.objects.add(key);
      check(ctx, 'min-part', 'minimum part size', 'warn', 'a 1 MiB non-last part was accepted (R2 and S3 require 5 MiB): Chute uses ≥ 5 MiB parts anyway');
      return false;
    } catch (err) {
      const tooSmall = codeOf(err) === 'EntityTooSmall';
      check(ctx, 'min-part', 'minimum part size', tooSmall ? 'ok' : 'warn', tooSmall ? '5 MiB enforced (EntityTooSmall below it)' : `complete failed otherwise: ${describeError(err)}`);
      return tooSmall;
    }
  } catch (err) {
    check(ctx, 'min-part', 'minimum part size', 'warn', describeError(err));
    return undefined;
  }
}

async function create(ctx: ProbeContext, key: string, alg: ProbedAlgorithm | undefined): Promise<string> {
  const out = await ctx.client.send(
    new CreateMultipartUploadCommand({
      Bucket: ctx.bucket,
      Key: key,
      ...(alg ? { ChecksumAlgorithm: alg as S3ChecksumAlgorithm, ChecksumType: CHECKSUM_TYPE[alg] } : {}),
    }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  ctx.uploads.push({ key, uploadId: out.UploadId });
  return out.UploadId;
}

/** Chute's way: Content-MD5 per part for FULL_OBJECT uploads, the part's own checksum for COMPOSITE ones. */
async function sendParts(ctx: ProbeContext, key: string, uploadId: string, alg: ProbedAlgorithm) {
  const parts: { etag: string; checksum?: string }[] = [];
  for (const [i, body] of bodiesOf(ctx).entries()) {
    const checksum = CHECKSUM_TYPE[alg] === 'COMPOSITE' ? await checksumOf(alg, body) : undefined;
    const r = await ctx.client.send(
      new UploadPartCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: body, ...(checksum ? { [FIELD[alg]]: checksum } : { ContentMD5: md5Base64(body) }) }),
    );
    parts.push({ etag: r.ETag ?? '', ...(checksum ? { checksum } : {}) });
  }
  return parts;
}

async function wrongFullRefused(ctx: ProbeContext, alg: ProbedAlgorithm): Promise<boolean> {
  const key = `${ctx.prefix}multipart-${alg.toLowerCase()}-wrong`;
  const uploadId = await create(ctx, key, alg);
  const parts = await sendParts(ctx, key, uploadId, alg);
  try {
    await ctx.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: ctx.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.etag })) },
        [FIELD[alg]]: await wrongChecksumOf(alg, concat(bodiesOf(ctx))),
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    ctx.objects.add(key);
    return false;
  } catch {
    return true;
  }
}

/** A one-part upload whose part carries the checksum of other bytes: refused by a store that checks. */
async function wrongPartRefused(ctx: ProbeContext, alg: ProbedAlgorithm): Promise<boolean> {
  const key = `${ctx.prefix}multipart-${alg.toLowerCase()}-wrong-part`;
  const uploadId = await create(ctx, key, alg);
  try {
    await ctx.client.send(new UploadPartCommand({ Bucket: ctx.bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: TAIL, [FIELD[alg]]: await wrongChecksumOf(alg, TAIL) }));
    return false;
  } catch (err) {
    // The store's refusal, not a network failure.
    return statusOf(err) !== undefined;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
