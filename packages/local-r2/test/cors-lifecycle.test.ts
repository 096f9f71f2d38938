import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalR2 } from '../src/index.js';
import { client, codeOf, errorOf, type Harness, harness, md5hex, random } from './helpers.js';
import { sdk } from './sdk.js';

const {
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  DeleteBucketLifecycleCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} = sdk;

let now = Date.now();
let h: Harness;
beforeAll(async () => {
  h = await harness({ now: () => now });
});
afterAll(() => h.stop());

const preflight = (path: string, origin: string | undefined, method: string, headers?: string) =>
  fetch(`${h.r2.endpoint}${path}`, {
    method: 'OPTIONS',
    headers: {
      ...(origin ? { origin } : {}),
      'access-control-request-method': method,
      ...(headers ? { 'access-control-request-headers': headers } : {}),
    },
  });

describe('CORS', () => {
  it('stores rules with PutBucketCors (both SDK checksum modes) and serves them back', async () => {
    const rules = [
      {
        ID: 'uploads',
        AllowedOrigins: ['http://localhost:5173', 'https://*.example.com'],
        AllowedMethods: ['PUT', 'GET', 'HEAD'],
        AllowedHeaders: ['content-type', 'content-md5', 'x-amz-checksum-*'],
        ExposeHeaders: ['ETag', 'x-amz-checksum-crc64nvme'],
        MaxAgeSeconds: 3600,
      },
      { AllowedOrigins: ['http://reader.test'], AllowedMethods: ['GET'] },
    ];
    await h.s3Default.send(new PutBucketCorsCommand({ Bucket: 'test', CORSConfiguration: { CORSRules: rules } }));
    await h.s3.send(new PutBucketCorsCommand({ Bucket: 'test', CORSConfiguration: { CORSRules: rules } }));
    const got = await h.s3.send(new GetBucketCorsCommand({ Bucket: 'test' }));
    expect(got.CORSRules).toEqual(rules);
  });

  it('answers preflights from the rules: origin wildcard, method, headers case-insensitively', async () => {
    const res = await preflight('/test/some/key', 'https://app.example.com', 'PUT', 'Content-Type, X-Amz-Checksum-Sha256, content-md5');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-methods')).toBe('PUT, GET, HEAD');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type, x-amz-checksum-sha256, content-md5');
    expect(res.headers.get('access-control-expose-headers')).toBe('ETag, x-amz-checksum-crc64nvme');
    expect(res.headers.get('access-control-max-age')).toBe('3600');
    const plain = await preflight('/test/k', 'http://localhost:5173', 'PUT');
    expect(plain.status).toBe(200);
  });

  it('refuses preflights that no rule allows (403) and those without Origin (400)', async () => {
    expect((await preflight('/test/k', 'https://example.org', 'PUT')).status).toBe(403);
    expect((await preflight('/test/k', 'http://localhost:5174', 'PUT')).status).toBe(403);
    expect((await preflight('/test/k', 'https://app.example.com', 'DELETE')).status).toBe(403);
    expect((await preflight('/test/k', 'https://app.example.com', 'PUT', 'x-custom')).status).toBe(403);
    expect((await preflight('/test/k', 'http://reader.test', 'PUT')).status).toBe(403);
    const noOrigin = await errorOf(await preflight('/test/k', undefined, 'PUT'));
    expect(noOrigin.status).toBe(400);
  });

  it('adds Access-Control-* to real responses only for a matching Origin; Expose-Headers only when listed', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'public', Body: 'x' }));
    const { presigner } = await import('./sdk.js');
    const url = await presigner.getSignedUrl(h.s3, new GetObjectCommand({ Bucket: 'test', Key: 'public' }));
    const matching = await fetch(url, { headers: { origin: 'https://app.example.com' } });
    expect(matching.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(matching.headers.get('access-control-expose-headers')).toBe('ETag, x-amz-checksum-crc64nvme');
    const reader = await fetch(url, { headers: { origin: 'http://reader.test' } });
    expect(reader.headers.get('access-control-allow-origin')).toBe('http://reader.test');
    expect(reader.headers.has('access-control-expose-headers')).toBe(false);
    const other = await fetch(url, { headers: { origin: 'https://evil.test' } });
    expect(other.status).toBe(200);
    expect(other.headers.has('access-control-allow-origin')).toBe(false);
    const none = await fetch(url);
    expect(none.headers.has('access-control-allow-origin')).toBe(false);
  });

  it('deletes the configuration', async () => {
    await h.s3.send(new DeleteBucketCorsCommand({ Bucket: 'test' }));
    expect(await codeOf(h.s3.send(new GetBucketCorsCommand({ Bucket: 'test' })))).toBe('NoSuchCORSConfiguration');
    expect((await preflight('/test/k', 'https://app.example.com', 'PUT')).status).toBe(403);
  });
});

describe('lifecycle', () => {
  const DAY = 86_400_000;

  it('starts with R2’s default 7-day abort rule and stamps x-amz-abort-date on CreateMultipartUpload', async () => {
    const rules = await h.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'test' }));
    expect(rules.Rules).toEqual([
      { ID: 'Default Multipart Abort Rule', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
    const c = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'life/x' }));
    expect(c.AbortRuleId).toBe('Default%20Multipart%20Abort%20Rule');
    expect(Math.abs((c.AbortDate as Date).getTime() - (now + 7 * DAY))).toBeLessThan(1000);
  });

  it('applies AbortIncompleteMultipartUpload and Expiration rules when the clock passes them', async () => {
    await h.s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'test',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'tmp-uploads', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
            { ID: 'all-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
            { ID: 'old-objects', Status: 'Enabled', Filter: { Prefix: 'old/' }, Expiration: { Days: 2 } },
          ],
        },
      }),
    );
    const tmp = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'tmp/upload' }));
    expect(tmp.AbortRuleId).toBe('tmp-uploads');
    expect(Math.abs((tmp.AbortDate as Date).getTime() - (now + DAY))).toBeLessThan(1000);
    const kept = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'keep/upload' }));
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'old/object', Body: 'x' }));
    await h.s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'new/object', Body: 'x' }));

    now += 2 * DAY + 1000;
    // tmp/upload (1 day) goes; life/x now falls under all-uploads (3 days) and stays.
    expect(await h.r2.sweep()).toEqual({ aborted: 1, expired: 1 });
    const later = client(h.r2.endpoint, { systemClockOffset: now - Date.now(), requestChecksumCalculation: 'WHEN_REQUIRED' });
    const uploads = await later.send(new ListMultipartUploadsCommand({ Bucket: 'test' }));
    expect(uploads.Uploads?.map((u) => u.Key)).toContain('keep/upload');
    expect(uploads.Uploads?.map((u) => u.Key)).not.toContain('tmp/upload');
    expect(await codeOf(later.send(new ListPartsCommand({ Bucket: 'test', Key: 'tmp/upload', UploadId: tmp.UploadId })))).toBe('NoSuchUpload');
    const objects = await later.send(new ListObjectsV2Command({ Bucket: 'test', Prefix: 'old/' }));
    expect(objects.KeyCount).toBe(0);
    expect(kept.UploadId).toBeTruthy();
    later.destroy();
  });

  it('DeleteBucketLifecycle removes every rule, the default included', async () => {
    const later = client(h.r2.endpoint, { systemClockOffset: now - Date.now() });
    await later.send(new DeleteBucketLifecycleCommand({ Bucket: 'test' }));
    expect(await codeOf(later.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'test' })))).toBe('NoSuchLifecycleConfiguration');
    const c = await later.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'forever' }));
    expect(c.AbortDate).toBeUndefined();
    later.destroy();
  });
});

describe('persistence across restart', () => {
  it('keeps objects and open multipart uploads (with their parts) after close and restart', async () => {
    const dir = h.dir;
    const at = now;
    const s3 = client(h.r2.endpoint, { systemClockOffset: at - Date.now(), requestChecksumCalculation: 'WHEN_REQUIRED' });
    const body = random(100_000);
    await s3.send(new PutObjectCommand({ Bucket: 'test', Key: 'durable', Body: body }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'test', Key: 'half' }));
    const part = random(1000);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'test', Key: 'half', UploadId, PartNumber: 1, Body: part }));
    s3.destroy();
    await h.r2.close();

    const again = await startLocalR2({ dataDir: dir, now: () => at, sweepIntervalMs: 0 });
    const s3b = client(again.endpoint, { systemClockOffset: at - Date.now(), requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'test', Key: 'durable' }));
      const bytes = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      expect(md5hex(bytes)).toBe(md5hex(body));
      const parts = await s3b.send(new ListPartsCommand({ Bucket: 'test', Key: 'half', UploadId }));
      expect(parts.Parts?.map((p) => p.ETag)).toEqual([p1.ETag]);
      const done = await s3b.send(
        new CompleteMultipartUploadCommand({ Bucket: 'test', Key: 'half', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }),
      );
      expect(done.ETag).toMatch(/-1"$/);
    } finally {
      s3b.destroy();
      // Let the harness's stop() close this server instead of the old one.
      h.r2 = again;
    }
  });
});
