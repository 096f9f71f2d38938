import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ChunkSigner } from '../auth.js';
import { S3Error } from '../errors.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINE = 4096;

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * Decodes an `aws-chunked` body (`<hex>[;chunk-signature=<sig>]\r\n<data>\r\n … 0…\r\n[trailers]\r\n`),
 * verifying each chunk signature (chained from the seed signature) and the trailer signature when
 * a signer is given. Memory is bounded: data passes through as it arrives.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  decodedLength = 0;
  private state: State = 'size';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private expectedSig: string | undefined;
  private prevSig: string;
  private chunkHash: ReturnType<typeof createHash> | undefined;
  private trailerSig: string | undefined;

  constructor(
    private readonly signer: ChunkSigner | undefined,
    private readonly withTrailer: boolean,
  ) {
    super();
    this.prevSig = signer?.seed ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.consume(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.state !== 'done') return cb(new S3Error('IncompleteBody', 'The aws-chunked body ended early.'));
    cb();
  }

  private readLine(buf: Buffer, pos: number): { line: string | null; pos: number } {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) {
      this.line = Buffer.concat([this.line, buf.subarray(pos)]);
      if (this.line.length > MAX_LINE) throw new S3Error('InvalidRequest', 'aws-chunked framing line too long.');
      return { line: null, pos: buf.length };
    }
    const full = Buffer.concat([this.line, buf.subarray(pos, nl)]);
    this.line = Buffer.alloc(0);
    const s = full.toString('latin1');
    return { line: s.endsWith('\r') ? s.slice(0, -1) : s, pos: nl + 1 };
  }

  private async consume(buf: Buffer): Promise<void> {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'size': {
          const r = this.readLine(buf, pos);
          pos = r.pos;
          if (r.line === null) break;
          await this.onSizeLine(r.line);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const piece = buf.subarray(pos, pos + n);
          this.chunkHash?.update(piece);
          this.push(piece);
          this.remaining -= n;
          this.decodedLength += n;
          pos += n;
          if (this.remaining === 0) {
            await this.endChunk();
            this.state = 'data-crlf';
          }
          break;
        }
        case 'data-crlf': {
          const r = this.readLine(buf, pos);
          pos = r.pos;
          if (r.line === null) break;
          if (r.line !== '') throw new S3Error('IncompleteBody', 'Malformed aws-chunked body: missing CRLF after chunk.');
          this.state = 'size';
          break;
        }
        case 'trailer': {
          const r = this.readLine(buf, pos);
          pos = r.pos;
          if (r.line === null) break;
          await this.onTrailerLine(r.line);
          break;
        }
        case 'done':
          if (buf.subarray(pos).toString('latin1').trim() !== '')
            throw new S3Error('InvalidRequest', 'Unexpected data after the final aws-chunked chunk.');
          pos = buf.length;
      }
    }
  }

  private async onSizeLine(line: string) {
    const [sizeHex, ...ext] = line.split(';');
    if (!sizeHex || !/^[0-9a-fA-F]{1,16}$/.test(sizeHex)) throw new S3Error('IncompleteBody', 'Malformed aws-chunked chunk header.');
    this.remaining = Number.parseInt(sizeHex, 16);
    this.expectedSig = undefined;
    for (const e of ext) if (e.startsWith('chunk-signature=')) this.expectedSig = e.slice('chunk-signature='.length);
    if (this.signer) {
      if (!this.expectedSig) throw new S3Error('SignatureDoesNotMatch', 'A chunk signature is missing.');
      this.chunkHash = createHash('sha256');
    }
    if (this.remaining === 0) {
      await this.endChunk();
      // Without x-amz-trailer only the closing empty line may follow (checked in onTrailerLine).
      this.state = 'trailer';
    } else this.state = 'data';
  }

  private async endChunk() {
    if (!this.signer || !this.chunkHash) return;
    const sts = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      this.signer.longDate,
      this.signer.scope,
      this.prevSig,
      EMPTY_SHA256,
      this.chunkHash.digest('hex'),
    ].join('\n');
    const sig = await this.signer.sign(sts);
    if (sig !== this.expectedSig) throw new S3Error('SignatureDoesNotMatch', 'A chunk signature does not match.');
    this.prevSig = sig;
    this.chunkHash = undefined;
  }

  private async onTrailerLine(line: string) {
    if (line === '') {
      await this.verifyTrailer();
      this.state = 'done';
      return;
    }
    const i = line.indexOf(':');
    if (i <= 0) throw new S3Error('InvalidRequest', 'Malformed aws-chunked trailer.');
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === 'x-amz-trailer-signature') this.trailerSig = value;
    else {
      if (!this.withTrailer) throw new S3Error('InvalidRequest', 'Trailers were sent without x-amz-trailer.');
      if (this.trailers.size >= 8) throw new S3Error('InvalidRequest', 'Too many aws-chunked trailers.');
      this.trailers.set(name, value);
    }
  }

  private async verifyTrailer() {
    if (!this.signer || !this.withTrailer) return;
    if (!this.trailerSig) throw new S3Error('SignatureDoesNotMatch', 'The trailer signature is missing.');
    const canon = [...this.trailers].map(([k, v]) => `${k}:${v}\n`).join('');
    const sts = [
      'AWS4-HMAC-SHA256-TRAILER',
      this.signer.longDate,
      this.signer.scope,
      this.prevSig,
      createHash('sha256').update(canon).digest('hex'),
    ].join('\n');
    if ((await this.signer.sign(sts)) !== this.trailerSig)
      throw new S3Error('SignatureDoesNotMatch', 'The trailer signature does not match.');
  }
}
