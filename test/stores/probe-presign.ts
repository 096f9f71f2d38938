// Presigned URLs sent with fetch, the way a browser sends Chute's URLs: expiry, which headers the
// store enforces when signed, and what it does with headers nobody signed.
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bytes, checksum, md5, probe, setSection, wrongChecksum } from './probe-lib.js';
import type { Radosgw } from './radosgw.js';

// As Chute's signer: length, type and MD5 signed; checksum headers signed and kept out of the query.
const SIGNABLE = new Set(['content-type', 'content-length', 'content-md5']);
const UNHOISTABLE = new Set(['x-amz-checksum-crc64nvme', 'x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-sha256']);

/** "<status>" or "<status> <Code>: <Message>" from an S3 XML error body. */
export async function answer(res: Response): Promise<string> {
  const text = await res.text();
  if (res.ok) return `${res.status}`;
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return `${res.status}${code ? ` ${code}` : ''}${msg ? `: ${msg}` : ''}${code ? '' : ` ${text.slice(0, 120)}`}`;
}

const verdict = (a: string) => (a.startsWith('2') ? `accepted (${a})` : `refused ${a}`);

export async function probePresign(s3: S3Client, gw: Radosgw): Promise<void> {
  const Bucket = gw.bucket;
  const body = bytes(1000, 5);
  const sign = (cmd: PutObjectCommand | UploadPartCommand | GetObjectCommand, expiresIn = 300, hoist = false) =>
    getSignedUrl(s3, cmd as never, { expiresIn, signableHeaders: SIGNABLE, ...(hoist ? {} : { unhoistableHeaders: UNHOISTABLE }) });
  // The SDK signs `content-type: application/octet-stream` on PutObject and UploadPart when none is
  // given (Chute's signer always gives one); a browser sends what it was told, so send that too.
  const put = (url: string, headers: Record<string, string>, data: Uint8Array = body) =>
    fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', ...headers }, body: data }).then(answer);

  setSection('Presigned URLs (fetch)');
  await probe('Presigned PUT (signed Content-Type, Content-Length) then presigned GET', async () => {
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre', ContentType: 'application/x-chute', ContentLength: body.length }));
    const a = await put(url, { 'content-type': 'application/x-chute' });
    const res = await fetch(await sign(new GetObjectCommand({ Bucket, Key: 'pre' })));
    const got = new Uint8Array(await res.arrayBuffer());
    return `PUT ${verdict(a)}; GET ${res.status}, body equal: ${Buffer.from(got).equals(Buffer.from(body))}, content-type ${res.headers.get('content-type')}`;
  });
  await probe('Expiry: signed for 1 s, sent after 2 s', async () => {
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre-exp' }), 1);
    await new Promise((r) => setTimeout(r, 2100));
    return verdict(await put(url, {}));
  });
  await probe('Signed Content-Length 999, 1000 bytes sent', async () => {
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre-len', ContentLength: 999 }));
    return verdict(await put(url, {}));
  });
  await probe('Signed Content-MD5 of other bytes', async () => {
    const other = md5(bytes(1000, 6));
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre-md5', ContentMD5: other }));
    return verdict(await put(url, { 'content-md5': other }));
  });
  for (const alg of ['CRC64NVME', 'CRC32C', 'SHA256'] as const) {
    const field = alg === 'CRC64NVME' ? 'ChecksumCRC64NVME' : alg === 'CRC32C' ? 'ChecksumCRC32C' : 'ChecksumSHA256';
    const h = `x-amz-checksum-${alg.toLowerCase()}`;
    await probe(`Signed \`${h}\` header: right value / value of other bytes`, async () => {
      const good = await checksum(alg, body);
      const bad = await wrongChecksum(alg);
      const ok = await put(await sign(new PutObjectCommand({ Bucket, Key: `pre-${alg}`, [field]: good })), { [h]: good });
      const ko = await put(await sign(new PutObjectCommand({ Bucket, Key: `pre-${alg}-bad`, [field]: bad })), { [h]: bad });
      return `right: ${verdict(ok)}; wrong: ${verdict(ko)}`;
    });
  }
  await probe('Checksum hoisted into the query string (`x-amz-checksum-crc32c=<other bytes>`), no header', async () => {
    const bad = await wrongChecksum('CRC32C');
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre-hoisted', ChecksumCRC32C: bad }), 300, true);
    const inQuery = new URL(url).searchParams.has('x-amz-checksum-crc32c');
    return `${inQuery ? 'in query' : 'not hoisted'}; ${verdict(await put(url, {}))}`;
  });
  await probe('Presigned UploadPart with signed Content-MD5 + x-amz-checksum-crc32c (right / other bytes)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'pre-part', ChecksumAlgorithm: 'CRC32C' }));
    const h = { 'content-md5': md5(body), 'x-amz-checksum-crc32c': await checksum('CRC32C', body) };
    const part = (n: number) =>
      sign(new UploadPartCommand({ Bucket, Key: 'pre-part', UploadId, PartNumber: n, ContentLength: body.length, ContentMD5: h['content-md5'], ChecksumCRC32C: h['x-amz-checksum-crc32c'] }));
    const ok = await put(await part(1), h);
    const ko = await put(await part(2), h, bytes(1000, 7));
    return `right: ${verdict(ok)}; other bytes: ${verdict(ko)}`;
  });

  setSection('Unsigned headers on a presigned PUT');
  await probe('Unsigned `x-amz-meta-x: 1`', async () => {
    const a = await put(await sign(new PutObjectCommand({ Bucket, Key: 'pre-meta' })), { 'x-amz-meta-x': '1' });
    if (!a.startsWith('2')) return verdict(a);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'pre-meta' }));
    return `${verdict(a)}; stored metadata ${JSON.stringify(head.Metadata)}`;
  });
  await probe('Unsigned `x-amz-copy-source: <bucket>/hello.txt`', async () => {
    const a = await put(await sign(new PutObjectCommand({ Bucket, Key: 'pre-copy' })), { 'x-amz-copy-source': `${Bucket}/hello.txt` });
    if (!a.startsWith('2')) return verdict(a);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'pre-copy' }));
    return `${verdict(a)}; stored object has ${head.ContentLength} bytes (body sent: ${body.length}; hello.txt: 13)`;
  });
  await probe('Unsigned `Cache-Control: max-age=60`', async () => {
    const a = await put(await sign(new PutObjectCommand({ Bucket, Key: 'pre-cache' })), { 'cache-control': 'max-age=60' });
    if (!a.startsWith('2')) return verdict(a);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'pre-cache' }));
    return `${verdict(a)}; stored CacheControl: ${head.CacheControl ?? 'absent'}`;
  });
  await probe('Unsigned `Content-Type` when Content-Type was signed as text/plain', async () => {
    const url = await sign(new PutObjectCommand({ Bucket, Key: 'pre-ct', ContentType: 'text/plain' }));
    return verdict(await put(url, { 'content-type': 'text/html' }));
  });
}
