import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  ALGORITHMS,
  type ChecksumAlgorithm,
  createHasher,
  decodeChecksum,
  decodeContentMd5,
  type Hasher,
  headerName,
  parseAlgorithm,
} from '../checksums.js';
import { S3Error } from '../errors.js';
import { ThreadMd5 } from '../md5-thread.js';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { type Ctx, h, q } from './context.js';

/** The decoded request body plus what must be checked once it has been read. */
export interface BodySource {
  stream: Readable;
  /** Declared (decoded) length in bytes. */
  length: number;
  /** False when the request declared no length at all. */
  known: boolean;
  trailers(): Map<string, string>;
}

export function bodySource(ctx: Ctx): BodySource {
  const mode = ctx.auth.payload;
  const encoding = (h(ctx, 'content-encoding') ?? '').toLowerCase();
  // Only a STREAMING-* x-amz-content-sha256 (always signed) may reframe the body: a bare
  // Content-Encoding must not turn the signed Content-Length into a different stored length.
  const chunked = mode.startsWith('streaming-');
  if (!chunked && encoding.split(',').some((e) => e.trim() === 'aws-chunked'))
    throw new S3Error('InvalidRequest', 'aws-chunked content needs a STREAMING x-amz-content-sha256');
  if (chunked) {
    const decoded = h(ctx, 'x-amz-decoded-content-length');
    if (decoded === undefined || !/^\d+$/.test(decoded)) throw new S3Error('MissingContentLength');
    const signer = mode === 'streaming-signed' || mode === 'streaming-signed-trailer' ? ctx.auth.chunkSigner : undefined;
    const withTrailer = mode !== 'streaming-signed' && h(ctx, 'x-amz-trailer') !== undefined;
    const decoder = new AwsChunkedDecoder(signer, withTrailer);
    ctx.req.on('error', (e) => decoder.destroy(e));
    // A reader sees decoding errors through its own iteration; a handler that refuses the request
    // without reading the body must not turn a malformed chunk into an unhandled 'error' event.
    decoder.on('error', () => {});
    ctx.req.pipe(decoder);
    return { stream: decoder, length: Number(decoded), known: true, trailers: () => decoder.trailers };
  }
  const cl = h(ctx, 'content-length');
  if (cl === undefined || !/^\d+$/.test(cl)) {
    if (ctx.req.headers['transfer-encoding'] !== undefined) throw new S3Error('MissingContentLength');
    return { stream: ctx.req, length: 0, known: false, trailers: () => new Map() };
  }
  return { stream: ctx.req, length: Number(cl), known: true, trailers: () => new Map() };
}

/** The checksums a write request asked for: Content-MD5 and at most one x-amz-checksum-*. */
export interface WantedChecksums {
  md5?: Buffer;
  alg?: ChecksumAlgorithm;
  /** The expected digest, when sent in a header or the (presigned) query string. */
  value?: Buffer;
  /** The expected digest arrives as an aws-chunked trailer. */
  trailer?: boolean;
}

export function wantedChecksums(ctx: Ctx): WantedChecksums {
  const out: WantedChecksums = {};
  const md5 = h(ctx, 'content-md5');
  if (md5 !== undefined) out.md5 = decodeContentMd5(md5);
  const found: [ChecksumAlgorithm, string | undefined][] = [];
  for (const alg of ALGORITHMS) {
    const name = headerName(alg);
    const v = h(ctx, name) ?? q(ctx, name) ?? q(ctx, name.replace('x-amz-', 'X-Amz-'));
    if (v !== undefined) found.push([alg, v]);
  }
  const trailer = h(ctx, 'x-amz-trailer');
  if (trailer !== undefined) {
    const names = trailer.split(',').map((s) => s.trim().toLowerCase());
    for (const n of names) {
      const alg = ALGORITHMS.find((a) => headerName(a) === n);
      if (!alg) throw new S3Error('InvalidRequest', `The trailer '${n}' is not supported.`);
      found.push([alg, undefined]);
    }
  }
  if (found.length > 1) throw new S3Error('InvalidRequest', 'You can only specify one non-default checksum at a time.');
  const declared = parseAlgorithm(h(ctx, 'x-amz-sdk-checksum-algorithm') ?? q(ctx, 'x-amz-sdk-checksum-algorithm'));
  const [hit] = found;
  if (hit) {
    if (out.md5) throw new S3Error('InvalidRequest', 'You can only specify one non-default checksum at a time.');
    if (declared && declared !== hit[0])
      throw new S3Error('InvalidRequest', 'x-amz-sdk-checksum-algorithm does not match the checksum sent.');
    out.alg = hit[0];
    if (hit[1] === undefined) out.trailer = true;
    else out.value = decodeChecksum(hit[0], hit[1]);
  } else if (declared) {
    throw new S3Error('InvalidRequest', `x-amz-sdk-checksum-algorithm ${declared} was sent without its checksum value.`);
  }
  return out;
}

/** Hashes a body as it streams; `verify()` then checks every digest the request promised. */
/** Bodies at least this large hash their MD5 on the worker thread (md5-thread.ts). */
export const MD5_OFF_THREAD_MIN = 8 << 20;

export class BodyVerifier {
  size = 0;
  private readonly hashers: [string, Hasher][] = [];
  private md5: Hasher | ThreadMd5 | undefined;
  private constructor(
    private readonly ctx: Ctx,
    private readonly wanted: WantedChecksums,
  ) {}

  /**
   * `extra` algorithms are computed too (e.g. the upload's algorithm for a part that did not send
   * one); `length` (the declared body size) moves a large body's MD5 off the event loop.
   */
  static async create(ctx: Ctx, wanted: WantedChecksums, extra: ChecksumAlgorithm[] = [], length = 0) {
    const v = new BodyVerifier(ctx, wanted);
    v.md5 = length >= MD5_OFF_THREAD_MIN ? new ThreadMd5() : await createHasher('MD5');
    const algs = new Set(extra);
    if (wanted.alg) algs.add(wanted.alg);
    for (const a of algs) v.hashers.push([a, await createHasher(a)]);
    if (ctx.auth.payload === 'sha256') v.hashers.push(['payload', wrap(createHash('sha256'))]);
    return v;
  }

  /** Returns a promise when the MD5 thread is behind: read no more until it resolves. */
  update = (chunk: Buffer): Promise<void> | undefined => {
    this.size += chunk.length;
    for (const [, hs] of this.hashers) hs.update(chunk);
    if (this.md5 instanceof ThreadMd5) return this.md5.update(chunk);
    this.md5?.update(chunk);
    return undefined;
  };

  /** Drops what is still being hashed (a body that failed before `verify`). */
  dispose(): void {
    if (this.md5 instanceof ThreadMd5) this.md5.dispose();
  }

  /** Returns MD5 and every computed digest, after checking them against what the request declared. */
  async verify(source: BodySource): Promise<Map<string, Buffer>> {
    if (this.size !== source.length) {
      this.dispose();
      throw new S3Error('IncompleteBody');
    }
    const digests = new Map(this.hashers.map(([a, hs]) => [a, hs.digest()] as const));
    digests.set('MD5', await (this.md5 as Hasher | ThreadMd5).digest());
    const payload = digests.get('payload');
    if (payload && payload.toString('hex') !== this.ctx.auth.sha256) throw new S3Error('XAmzContentSHA256Mismatch');
    if (this.wanted.md5 && !this.wanted.md5.equals(digests.get('MD5') as Buffer))
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const alg = this.wanted.alg;
    if (alg) {
      let expected = this.wanted.value;
      if (this.wanted.trailer) {
        const t = source.trailers().get(headerName(alg));
        if (t === undefined) throw new S3Error('InvalidRequest', `The trailing ${headerName(alg)} was not sent.`);
        expected = decodeChecksum(alg, t);
      }
      if (!expected?.equals(digests.get(alg) as Buffer))
        throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
    }
    return digests;
  }
}

function wrap(hash: ReturnType<typeof createHash>): Hasher {
  return { update: (c) => hash.update(c), digest: () => hash.digest() };
}

/**
 * Reads a small request body (XML) fully, with a size cap, verifying any declared digests.
 * On CompleteMultipartUpload x-amz-checksum-* describe the object, not the body: pass false.
 */
export async function readSmallBody(ctx: Ctx, max: number, checksumsDescribeBody = true): Promise<Buffer> {
  const source = bodySource(ctx);
  if (source.length > max) throw new S3Error('EntityTooLarge', `The request body must not exceed ${max} bytes.`);
  const wanted: WantedChecksums = {};
  const md5 = h(ctx, 'content-md5');
  if (md5 !== undefined) wanted.md5 = decodeContentMd5(md5);
  const verifier = await BodyVerifier.create(ctx, checksumsDescribeBody ? wantedChecksums(ctx) : wanted);
  const chunks: Buffer[] = [];
  for await (const chunk of source.stream as AsyncIterable<Buffer>) {
    verifier.update(chunk);
    if (verifier.size > max) throw new S3Error('EntityTooLarge', `The request body must not exceed ${max} bytes.`);
    chunks.push(chunk);
  }
  if (!source.known) source.length = verifier.size;
  await verifier.verify(source);
  return Buffer.concat(chunks);
}
