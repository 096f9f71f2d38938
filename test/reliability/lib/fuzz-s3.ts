// Generated malformed S3 requests for local-r2: mostly validly signed (so they reach the
// handlers) with hostile parameters, headers, bodies and XML; the rest with broken auth.
import { createHash } from 'node:crypto';
import { clip, headerSafe, int, nastyString, pick, type Rand, randomBytes, xmlText } from './fuzz-values.js';
import { makeSigner, type RawRequest, uriEncode } from './sigv4.js';

export interface S3FuzzContext {
  host: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Real multipart upload ids (key → uploadId) so some requests hit live state. */
  uploads: { key: string; uploadId: string }[];
}

export interface GeneratedRequest extends RawRequest {
  kind: string;
}

const CHECKSUM_HEADERS = ['x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256'];

function key(r: Rand): string {
  const x = r();
  // Destructive fuzzing stays under fuzz/; the suite keeps a sentinel object elsewhere.
  if (x < 0.5) return `fuzz/${uriEncode(clip(nastyString(r), 300) || 'k')}`;
  if (x < 0.7) return `fuzz/${'a/'.repeat(int(r, 1, 600))}`;
  if (x < 0.8) return `fuzz/${uriEncode('x'.repeat(int(r, 1000, 1100)))}`;
  return `fuzz/k${int(r, 0, 20)}`;
}

function bucketName(r: Rand, real: string): string {
  return r() < 0.75 ? real : pick(r, ['', 'A', 'ab', 'Bucket_Upper', 'x'.repeat(64), '..', 'xn--bad', '-lead', 'a..b', '192.168.0.1', uriEncode(nastyString(r)).slice(0, 80) || 'z']);
}

function randomHeaders(r: Rand): Record<string, string> {
  const h: Record<string, string> = {};
  const n = int(r, 0, 4);
  for (let i = 0; i < n; i++) {
    const name = pick(r, [
      'content-md5',
      'content-type',
      'range',
      'if-match',
      'if-none-match',
      'x-amz-meta-a',
      'x-amz-checksum-algorithm',
      'x-amz-checksum-type',
      'x-amz-checksum-mode',
      'x-amz-copy-source',
      'x-amz-acl',
      'origin',
      'access-control-request-method',
      'access-control-request-headers',
      'x-amz-decoded-content-length',
      'content-encoding',
      ...CHECKSUM_HEADERS,
    ]);
    h[name] = headerSafe(
      pick(r, [
        nastyString(r),
        'bytes=0-',
        'bytes=-1',
        'bytes=5-2',
        'bytes=0-1,3-4',
        '*',
        'CRC64NVME',
        'SHA256',
        'COMPOSITE',
        'FULL_OBJECT',
        'AAAA',
        'AAAAAAAAAAA=',
        'ENABLED',
        'aws-chunked',
        'http://evil.example',
        '1',
      ]),
    );
  }
  if (r() < 0.05) h['x-amz-meta-big'] = 'v'.repeat(int(r, 2000, 9000));
  return h;
}

function subresourceQuery(r: Rand, ctx: S3FuzzContext): [string, string][] {
  const up = ctx.uploads.length > 0 && r() < 0.5 ? pick(r, ctx.uploads).uploadId : headerSafe(nastyString(r)).slice(0, 200);
  const partNumber = String(pick(r, [0, 1, 2, -1, 10_000, 10_001, 99999999999, 1.5, 'abc', '']));
  return pick(r, [
    [],
    [['uploads', '']],
    [['uploadId', up]],
    [['uploadId', up], ['partNumber', partNumber]],
    [['partNumber', partNumber]],
    [['list-type', '2'], ['max-keys', String(pick(r, [-1, 0, 1, 1001, 1e9, 'x']))], ['prefix', clip(nastyString(r), 100)]],
    [['list-type', '2'], ['continuation-token', clip(nastyString(r), 200)], ['start-after', clip(nastyString(r), 100)]],
    [['list-type', '2'], ['delimiter', clip(nastyString(r), 10)], ['encoding-type', pick(r, ['url', 'xml', ''])]],
    [['list-type', '3']],
    [['uploads', ''], ['max-uploads', String(pick(r, [-5, 0, 1e6, 'q']))], ['key-marker', clip(nastyString(r), 50)], ['upload-id-marker', clip(nastyString(r), 50)]],
    [['uploadId', up], ['max-parts', String(pick(r, [-1, 0, 1, 1e9, 'z']))], ['part-number-marker', String(pick(r, [-1, 'x', 10_001]))]],
    [['cors', '']],
    [['lifecycle', '']],
    [['versioning', '']],
    [['acl', '']],
    [['tagging', '']],
    [['delete', '']],
    [[clip(nastyString(r), 30) || 'q', clip(nastyString(r), 30)]],
  ] as [string, string][][]);
}

function xmlBody(r: Rand, ctx: S3FuzzContext): Buffer {
  const parts = Array.from({ length: int(r, 0, 5) }, (_, i) =>
    `<Part><PartNumber>${pick(r, [i + 1, 0, -1, 10_001, 'x'])}</PartNumber><ETag>${pick(r, ['"abc"', '', '"d41d8cd98f00b204e9800998ecf8427e"', 'x'.repeat(200)])}</ETag>${r() < 0.3 ? '<ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>' : ''}</Part>`,
  ).join('');
  const root = pick(r, ['CompleteMultipartUpload', 'CORSConfiguration', 'LifecycleConfiguration', 'CreateBucketConfiguration', 'Delete']);
  const inner = {
    CompleteMultipartUpload: parts,
    CORSConfiguration: `<CORSRule><AllowedOrigin>${pick(r, ['*', 'http://a', '', 'x'.repeat(3000)])}</AllowedOrigin><AllowedMethod>${pick(r, ['GET', 'PATCH', '', 'PUT'])}</AllowedMethod><MaxAgeSeconds>${pick(r, ['-1', '1e9', 'x'])}</MaxAgeSeconds></CORSRule>`.repeat(int(r, 0, 120)),
    LifecycleConfiguration: `<Rule><ID>${pick(r, ['a', '', 'x'.repeat(300)])}</ID><Status>${pick(r, ['Enabled', 'Nope'])}</Status><Filter><Prefix>${ctx.bucket}</Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>${pick(r, ['-1', '0', '1', 'x', '99999999999'])}</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`.repeat(int(r, 0, 1100)),
    CreateBucketConfiguration: `<LocationConstraint>${pick(r, ['auto', 'WNAM', 'mars', ''])}</LocationConstraint>`,
    Delete: `<Object><Key>${headerSafe(nastyString(r)).slice(0, 200)}</Key></Object>`,
  }[root] as string;
  return Buffer.from(xmlText(r, root, inner));
}

function body(r: Rand, ctx: S3FuzzContext): Buffer | undefined {
  const x = r();
  if (x < 0.35) return undefined;
  if (x < 0.65) return randomBytes(r, int(r, 0, 70_000));
  if (x < 0.9) return xmlBody(r, ctx);
  // An aws-chunked body with broken framing.
  return Buffer.from(pick(r, ['zz;chunk-signature=abc\r\nhello\r\n', '5;chunk-signature=\r\nhel', 'ffffffffffff\r\n', '0\r\n\r\n', '-1\r\nx\r\n']));
}

/** One generated request, signed (or deliberately mis-signed) and ready to send. */
export async function generateS3Request(r: Rand, ctx: S3FuzzContext): Promise<GeneratedRequest> {
  const method = r() < 0.92 ? pick(r, ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS']) : pick(r, ['PATCH', 'TRACE', 'PROPFIND', 'FOO']);
  const b = bucketName(r, ctx.bucket);
  const shape = r();
  const path = shape < 0.1 ? '/' : shape < 0.25 ? `/${b}` : `/${b}/${key(r)}`;
  const query = subresourceQuery(r, ctx);
  const headers = randomHeaders(r);
  const reqBody = method === 'GET' || method === 'HEAD' ? undefined : body(r, ctx);
  if (reqBody && r() < 0.5) headers['content-md5'] = r() < 0.5 ? createHash('md5').update(reqBody).digest('base64') : 'bad-md5';
  if (reqBody && r() < 0.2) headers['x-amz-content-sha256'] = pick(r, ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'deadbeef', 'UNSIGNED-PAYLOAD']);
  if (reqBody && headers['x-amz-content-sha256']?.startsWith('STREAMING') && r() < 0.5) headers['x-amz-decoded-content-length'] = String(int(r, 0, 100));
  const req: GeneratedRequest = { kind: 'signed', method, path, query, headers, ...(reqBody ? { body: reqBody } : {}) };
  const signer = makeSigner(ctx.accessKeyId, ctx.secretAccessKey);
  const a = r();
  if (a < 0.6) {
    req.headers = await signer.sign(ctx.host, req);
    req.kind = 'signed';
  } else if (a < 0.7) {
    req.query = await signer.presign(ctx.host, req, pick(r, [1, 60, 604_800]));
    req.kind = 'presigned';
    if (r() < 0.5) {
      const i = int(r, 0, req.query.length - 1);
      const entry = req.query[i];
      if (entry) req.query[i] = [entry[0], pick(r, ['', '-1', '604801', '99999999999999', 'x', '20200101T000000Z', 'AWS4-HMAC-SHA1', clip(nastyString(r), 80)])];
      req.kind = 'presigned-mangled';
    }
  } else if (a < 0.8) {
    const wrong = makeSigner(ctx.accessKeyId, `${ctx.secretAccessKey}x`, r() < 0.5 ? () => new Date(Date.now() - int(r, 16, 10_000) * 60_000) : undefined);
    req.headers = await wrong.sign(ctx.host, req);
    req.kind = 'bad-signature';
  } else if (a < 0.9) {
    req.headers.authorization = headerSafe(
      pick(r, [
        'AWS4-HMAC-SHA256',
        'AWS4-HMAC-SHA256 Credential=',
        `AWS4-HMAC-SHA256 Credential=${ctx.accessKeyId}/20200101/auto/s3/aws4_request, SignedHeaders=host, Signature=00`,
        'AWS AKID:sig',
        'Bearer x',
        `AWS4-HMAC-SHA256 Credential=${ctx.accessKeyId}/${'9'.repeat(8)}/auto/s3/aws4_request,SignedHeaders=,Signature=${'a'.repeat(64)}`,
        nastyString(r),
      ]),
    );
    req.headers['x-amz-date'] = headerSafe(pick(r, ['20200101T000000Z', 'garbage', '', '99999999T999999Z']));
    req.kind = 'malformed-auth';
  } else {
    req.kind = 'anonymous';
  }
  return req;
}

/** Malformed HTTP that never reaches the S3 layer: the server must answer 4xx or close, and live. */
export function rawGarbage(r: Rand, host: string): Buffer {
  return Buffer.from(
    pick(r, [
      'GARBAGE\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: ${host}\r\nX: ${'y'.repeat(70_000)}\r\n\r\n`,
      `PUT /b/k HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n`,
      `PUT /b/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789`,
      `PUT /b/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -5\r\n\r\n`,
      `GET /${'%'.repeat(5000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET / HTTP/9.9\r\nHost: ${host}\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: ${host}\r\nBad Header Line\r\n\r\n`,
      `GET /\u0000 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `PUT /b/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\nshort`,
      `${randomBytes(r, 200).toString('latin1')}\r\n\r\n`,
    ]),
    'latin1',
  );
}
