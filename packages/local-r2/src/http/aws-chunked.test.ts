import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../auth.js';
import { AwsChunkedDecoder } from './aws-chunked.js';

// AWS's published example "Signature Calculations for the Authorization Header: Transferring
// Payload in Multiple Chunks (Chunked Upload)" (S3 API reference, sigv4-streaming).
const fixture = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  now: Date.UTC(2013, 4, 24, 0, 0, 0),
  headers: {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  },
  chunks: [
    [65536, 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'],
    [1024, '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'],
    [0, 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'],
  ] as const,
};

function body(chunks: readonly (readonly [number, string])[]): Buffer {
  return Buffer.concat(
    chunks.map(([n, sig]) => Buffer.concat([Buffer.from(`${n.toString(16)};chunk-signature=${sig}\r\n`), Buffer.alloc(n, 'a'), Buffer.from('\r\n')])),
  );
}

async function decode(raw: Buffer, split: number) {
  const auth = new Authenticator([fixture.credentials], () => fixture.now);
  const result = await auth.verify({ method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', query: {}, headers: fixture.headers });
  expect(result.payload).toBe('streaming-signed');
  const decoder = new AwsChunkedDecoder(result.chunkSigner, false);
  // Feed the body in awkward pieces so framing crosses buffer boundaries.
  const pieces: Buffer[] = [];
  for (let i = 0; i < raw.length; i += split) pieces.push(raw.subarray(i, i + split));
  const out: Buffer[] = [];
  Readable.from(pieces).pipe(decoder);
  for await (const c of decoder) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe('aws-chunked decoding with signed chunks (AWS fixture)', () => {
  it('verifies the seed and every chunk signature, yielding the decoded bytes', async () => {
    const raw = body(fixture.chunks);
    expect(raw.length).toBe(66824);
    for (const split of [7, 8192, raw.length]) {
      const data = await decode(raw, split);
      expect(data.equals(Buffer.alloc(66560, 'a'))).toBe(true);
    }
  });

  it('rejects a tampered chunk with SignatureDoesNotMatch', async () => {
    const raw = body(fixture.chunks);
    raw[200] = 'b'.charCodeAt(0);
    await expect(decode(raw, 4096)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('rejects a truncated body with IncompleteBody', async () => {
    const raw = body(fixture.chunks).subarray(0, 70_000 - 4000);
    await expect(decode(raw, 4096)).rejects.toMatchObject({ code: 'IncompleteBody' });
  });
});

describe('aws-chunked trailers', () => {
  const run = async (raw: Buffer, signer?: ConstructorParameters<typeof AwsChunkedDecoder>[0]) => {
    const decoder = new AwsChunkedDecoder(signer, true);
    Readable.from([raw.subarray(0, 5), raw.subarray(5)]).pipe(decoder);
    const out: Buffer[] = [];
    for await (const c of decoder) out.push(c as Buffer);
    return { data: Buffer.concat(out), trailers: decoder.trailers };
  };

  it('decodes unsigned chunks and collects the trailing checksum', async () => {
    const raw = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');
    const { data, trailers } = await run(raw);
    expect(data.toString()).toBe('hello world');
    expect(trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
  });

  it('chains chunk signatures into the trailer signature', async () => {
    const { createHash, createHmac } = await import('node:crypto');
    const key = 'k';
    const signer = {
      seed: 'seed',
      longDate: '20260101T000000Z',
      scope: '20260101/auto/s3/aws4_request',
      sign: async (sts: string) => createHmac('sha256', key).update(sts).digest('hex'),
    };
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const empty = sha('');
    const s1 = await signer.sign(['AWS4-HMAC-SHA256-PAYLOAD', signer.longDate, signer.scope, 'seed', empty, sha('abc')].join('\n'));
    const s0 = await signer.sign(['AWS4-HMAC-SHA256-PAYLOAD', signer.longDate, signer.scope, s1, empty, empty].join('\n'));
    const trailer = 'x-amz-checksum-crc32:NSRBwg==';
    const st = await signer.sign(['AWS4-HMAC-SHA256-TRAILER', signer.longDate, signer.scope, s0, sha(`${trailer}\n`)].join('\n'));
    const body = (trailerSig: string) =>
      Buffer.from(`3;chunk-signature=${s1}\r\nabc\r\n0;chunk-signature=${s0}\r\n${trailer}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`);
    const ok = await run(body(st), signer);
    expect(ok.data.toString()).toBe('abc');
    expect(ok.trailers.get('x-amz-checksum-crc32')).toBe('NSRBwg==');
    await expect(run(body('0'.repeat(64)), signer)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});
