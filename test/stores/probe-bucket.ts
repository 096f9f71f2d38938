// Bucket settings Chute's setup CLI writes (CORS, lifecycle) and the listing/deletion calls it uses.
import {
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { probe, setSection } from './probe-lib.js';
import type { Radosgw } from './radosgw.js';

const ORIGIN = 'http://app.example';

export async function probeBucketConfig(s3: S3Client, gw: Radosgw): Promise<void> {
  const Bucket = gw.bucket;
  setSection('CORS');
  await probe('PutBucketCors (origin, PUT/GET/HEAD, AllowedHeaders *, ExposeHeaders ETag + x-amz-checksum-*) / GetBucketCors', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [ORIGIN],
              AllowedMethods: ['PUT', 'GET', 'HEAD'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag', 'x-amz-checksum-crc64nvme'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
    const got = await s3.send(new GetBucketCorsCommand({ Bucket }));
    return `accepted; read back ${JSON.stringify(got.CORSRules)}`;
  });
  const preflight = (origin: string, headers: string) =>
    fetch(`${gw.endpoint}/${Bucket}/some/key?partNumber=1&uploadId=x`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': headers },
    });
  const corsHeaders = (res: Response) =>
    [...res.headers.entries()]
      .filter(([k]) => k.startsWith('access-control'))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ') || 'no access-control-* headers';
  await probe('OPTIONS preflight, allowed Origin, PUT, content-md5 + x-amz-checksum-crc64nvme + content-type', async () => {
    const res = await preflight(ORIGIN, 'content-md5,x-amz-checksum-crc64nvme,content-type');
    await res.arrayBuffer();
    return `${res.status}; ${corsHeaders(res)}`;
  });
  await probe('OPTIONS preflight from another Origin', async () => {
    const res = await preflight('http://evil.example', 'content-type');
    await res.arrayBuffer();
    return `${res.status}; ${corsHeaders(res)}`;
  });
  await probe('Presigned PUT with Origin: ETag exposed?', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: 'cors-put' }) as never, { expiresIn: 60 });
    const res = await fetch(url, { method: 'PUT', headers: { origin: ORIGIN }, body: 'x' });
    await res.arrayBuffer();
    return `${res.status}; ${corsHeaders(res)}; ETag ${res.headers.get('etag')}`;
  });

  setSection('Lifecycle');
  await probe('PutBucketLifecycleConfiguration AbortIncompleteMultipartUpload 1 day / read back', async () => {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'chute-abort', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
        },
      }),
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    return `accepted; read back ${JSON.stringify(got.Rules)}`;
  });

  setSection('Listing and deleting');
  await probe('ListObjectsV2 (Prefix, MaxKeys 2, continuation)', async () => {
    for (const k of ['list/a', 'list/b', 'list/c']) await s3.send(new PutObjectCommand({ Bucket, Key: k, Body: k }));
    const first = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', MaxKeys: 2 }));
    const next = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', ContinuationToken: first.NextContinuationToken }));
    const keys = [...(first.Contents ?? []), ...(next.Contents ?? [])].map((o) => o.Key);
    return `page 1: ${first.KeyCount} keys, IsTruncated ${first.IsTruncated}; page 2: ${next.KeyCount}; keys ${keys.join(', ')}`;
  });
  await probe('DeleteObjects (2 existing + 1 missing key)', async () => {
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'list/a' }, { Key: 'list/b' }, { Key: 'list/missing' }] } }),
    );
    const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/' }));
    return `Deleted ${out.Deleted?.length}, Errors ${out.Errors?.length ?? 0}; left: ${left.Contents?.map((o) => o.Key).join(', ')}`;
  });
}
