import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSeed } from '../compat/table.js';
import { codeOf, type Harness, harness, MiB, md5hex, random, signedFetch, bytesOf } from './helpers.js';
import { sdk } from './sdk.js';

const {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} = sdk;

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.stop());

const statusOf = (p: Promise<unknown>) => p.then(() => 200, (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode);
const B = 'test';

describe('R2 operation table with @aws-sdk/client-s3', () => {
  it('HeadObject and GetObject honour all four conditional headers (304/412)', async () => {
    const put = await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond', Body: 'abc' }));
    const etag = put.ETag as string;
    const past = new Date(Date.now() - 3600_000);
    const future = new Date(Date.now() + 3600_000);
    for (const Cmd of [HeadObjectCommand, GetObjectCommand]) {
      const q = (extra: Record<string, unknown>) => statusOf(h.s3.send(new Cmd({ Bucket: B, Key: 'cond', ...extra })));
      expect(await q({ IfMatch: etag })).toBe(200);
      expect(await q({ IfMatch: '"0000"' })).toBe(412);
      expect(await q({ IfNoneMatch: etag })).toBe(304);
      expect(await q({ IfNoneMatch: '"0000"' })).toBe(200);
      expect(await q({ IfModifiedSince: future })).toBe(304);
      expect(await q({ IfModifiedSince: past })).toBe(200);
      expect(await q({ IfUnmodifiedSince: past })).toBe(412);
      expect(await q({ IfUnmodifiedSince: future })).toBe(200);
      // S3's precedence: a true If-Match overrides a false If-Unmodified-Since, a false
      // If-None-Match overrides a true If-Modified-Since.
      expect(await q({ IfMatch: etag, IfUnmodifiedSince: past })).toBe(200);
      expect(await q({ IfNoneMatch: '"0000"', IfModifiedSince: future })).toBe(200);
      expect(await q({ IfNoneMatch: `"0000", ${etag}` })).toBe(304);
    }
  });

  it('GetObject Range: 206 with Content-Range, unsatisfiable → 416 InvalidRange', async () => {
    const body = random(1000);
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'range', Body: body }));
    const r = await h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'range', Range: 'bytes=10-19' }));
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(r.ContentRange).toBe('bytes 10-19/1000');
    expect((await bytesOf(r.Body)).equals(body.subarray(10, 20))).toBe(true);
    expect(await statusOf(h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'range', Range: 'bytes=1000-' })))).toBe(416);
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'range', Range: 'bytes=-0' })))).toBe('InvalidRange');
  });

  it('GetObject/HeadObject partNumber return that part with x-amz-mp-parts-count; a missing part is 416', async () => {
    const parts = [random(5 * MiB), random(10)];
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'pn' }));
    const etags = [];
    for (const [i, p] of parts.entries()) etags.push((await h.s3.send(new UploadPartCommand({ Bucket: B, Key: 'pn', UploadId, PartNumber: i + 1, Body: p }))).ETag);
    await h.s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'pn', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const g = await h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'pn', PartNumber: 2 }));
    expect(g.PartsCount).toBe(2);
    expect(g.ContentRange).toBe(`bytes ${5 * MiB}-${5 * MiB + 9}/${5 * MiB + 10}`);
    expect((await bytesOf(g.Body)).equals(parts[1] as Buffer)).toBe(true);
    const hd = await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'pn', PartNumber: 1 }));
    expect(hd.PartsCount).toBe(2);
    expect(hd.ContentLength).toBe(5 * MiB);
    expect(await statusOf(h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'pn', PartNumber: 3 })))).toBe(416);
    expect(await codeOf(h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'pn', PartNumber: 3 })))).toBe('InvalidPartNumber');
  });

  it('GetObject applies response-* header overrides', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'ovr', Body: 'x', ContentType: 'text/plain' }));
    const g = await h.s3.send(
      new GetObjectCommand({
        Bucket: B,
        Key: 'ovr',
        ResponseContentType: 'application/json',
        ResponseContentDisposition: 'attachment; filename="a.json"',
        ResponseCacheControl: 'no-store',
        ResponseContentLanguage: 'fr',
        ResponseContentEncoding: 'identity',
        ResponseExpires: new Date('2030-01-01T00:00:00Z'),
      }),
    );
    expect(g.ContentType).toBe('application/json');
    expect(g.ContentDisposition).toBe('attachment; filename="a.json"');
    expect(g.CacheControl).toBe('no-store');
    expect(g.ContentLanguage).toBe('fr');
    expect(g.ContentEncoding).toBe('identity');
    expect(g.ExpiresString ?? g.Expires?.toUTCString()).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
  });

  it('PutObject infers Content-Type from the bytes when none is sent', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), random(64)]);
    // The SDK always sends a Content-Type, so the request without one is signed by hand.
    for (const [key, body, type] of [['sniff.png', png, 'image/png'], ['sniff.pdf', Buffer.from('%PDF-1.7\n...'), 'application/pdf'], ['sniff.bin', random(10), 'application/octet-stream']] as const) {
      const res = await signedFetch(h.r2.endpoint, { method: 'PUT', path: `/${B}/${key}`, body });
      expect(res.status).toBe(200);
      expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: key }))).ContentType).toBe(type);
    }
    // A Content-Type that is sent wins.
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'sniff.txt', Body: png, ContentType: 'text/plain' }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sniff.txt' }))).ContentType).toBe('text/plain');
  });

  it('storage classes STANDARD and STANDARD_IA on PutObject, CreateMultipartUpload and CopyObject; others → 501 as on R2', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'sc/ia', Body: 'x', StorageClass: 'STANDARD_IA' }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc/ia' }))).StorageClass).toBe('STANDARD_IA');
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'sc/std', Body: 'x', StorageClass: 'STANDARD' }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc/std' }))).StorageClass).toBeUndefined();
    expect(await codeOf(h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'sc/x', Body: 'x', StorageClass: 'GLACIER' })))).toBe('NotImplemented');
    expect(await codeOf(h.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'sc/x', StorageClass: 'DEEP_ARCHIVE' })))).toBe('NotImplemented');
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'sc/mp', StorageClass: 'STANDARD_IA' }));
    const p = await h.s3.send(new UploadPartCommand({ Bucket: B, Key: 'sc/mp', UploadId, PartNumber: 1, Body: 'y' }));
    await h.s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'sc/mp', UploadId, MultipartUpload: { Parts: [{ ETag: p.ETag, PartNumber: 1 }] } }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc/mp' }))).StorageClass).toBe('STANDARD_IA');
    // CopyObject changes the class in place (a legal self-copy) and keeps the metadata.
    await h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'sc/mp', CopySource: `${B}/sc/mp`, StorageClass: 'STANDARD' }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc/mp' }))).StorageClass).toBeUndefined();
    await h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'sc/copy', CopySource: `${B}/sc/std`, StorageClass: 'STANDARD_IA' }));
    expect((await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc/copy' }))).StorageClass).toBe('STANDARD_IA');
  });

  it('CopyObject: COPY/REPLACE system metadata, failed copy-source conditions → 412, missing source → NoSuchKey/NoSuchBucket', async () => {
    const put = await h.s3.send(
      new PutObjectCommand({ Bucket: B, Key: 'cp/src', Body: 'data', ContentType: 'text/plain', CacheControl: 'max-age=1', ContentLanguage: 'de', Metadata: { a: '1' } }),
    );
    await h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'cp/copy', CopySource: `${B}/cp/src` }));
    const c = await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cp/copy' }));
    expect([c.ContentType, c.CacheControl, c.ContentLanguage, c.Metadata]).toEqual(['text/plain', 'max-age=1', 'de', { a: '1' }]);
    await h.s3.send(
      new CopyObjectCommand({
        Bucket: B,
        Key: 'cp/repl',
        CopySource: `${B}/cp/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        ContentDisposition: 'inline',
        ContentEncoding: 'gzip',
        Expires: new Date('2031-01-01T00:00:00Z'),
        Metadata: { b: '2' },
      }),
    );
    const r = await h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cp/repl' }));
    expect([r.ContentType, r.ContentDisposition, r.ContentEncoding, r.CacheControl, r.Metadata]).toEqual(['application/json', 'inline', 'gzip', undefined, { b: '2' }]);
    const past = new Date(Date.now() - 3600_000);
    const cp = (extra: Record<string, unknown>) => codeOf(h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'cp/c', CopySource: `${B}/cp/src`, ...extra })));
    expect(await cp({ CopySourceIfMatch: '"0000"' })).toBe('PreconditionFailed');
    expect(await cp({ CopySourceIfNoneMatch: put.ETag })).toBe('PreconditionFailed');
    expect(await cp({ CopySourceIfUnmodifiedSince: past })).toBe('PreconditionFailed');
    expect(await cp({ CopySourceIfModifiedSince: new Date(Date.now() + 3600_000) })).toBe('PreconditionFailed');
    expect(await codeOf(h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cp/c' })))).toBe('NotFound');
    expect(await codeOf(h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'cp/c', CopySource: `${B}/cp/missing` })))).toBe('NoSuchKey');
    expect(await codeOf(h.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'cp/c', CopySource: 'no-such-bucket/x' })))).toBe('NoSuchBucket');
  });

  it('UploadPartCopy copies byte ranges of objects into parts; bad ranges and missing sources are refused', async () => {
    const src = random(5 * MiB + 100);
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'upc/src', Body: src }));
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'upc/dst' }));
    const base = { Bucket: B, Key: 'upc/dst', UploadId, CopySource: `${B}/upc/src` };
    const p1 = await h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 1, CopySourceRange: `bytes=100-${5 * MiB + 99}` }));
    expect(p1.CopyPartResult?.ETag).toBe(`"${md5hex(src.subarray(100))}"`);
    const p2 = await h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 2, CopySourceRange: 'bytes=0-99' }));
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 3, CopySourceRange: `bytes=0-${5 * MiB + 100}` })))).toBe('InvalidArgument');
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 3, CopySourceRange: 'bytes=5-' })))).toBe('InvalidArgument');
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 3, CopySource: `${B}/upc/missing` })))).toBe('NoSuchKey');
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 3, CopySourceIfMatch: '"0000"' })))).toBe('PreconditionFailed');
    expect(await codeOf(h.s3.send(new UploadPartCopyCommand({ ...base, UploadId: 'nope', PartNumber: 3 })))).toBe('NoSuchUpload');
    await h.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'upc/dst',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.CopyPartResult?.ETag, PartNumber: 1 }, { ETag: p2.CopyPartResult?.ETag, PartNumber: 2 }] },
      }),
    );
    const got = await h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'upc/dst' }));
    expect((await bytesOf(got.Body)).equals(Buffer.concat([src.subarray(100), src.subarray(0, 100)]))).toBe(true);
  });

  it('DeleteObjects: quiet mode lists only errors; invalid keys get per-key errors', async () => {
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'del/a', Body: 'a' }));
    const loud = await h.s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'del/a' }, { Key: 'del/none' }] } }));
    expect(loud.Deleted?.map((d) => d.Key).sort()).toEqual(['del/a', 'del/none']);
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'del/b', Body: 'b' }));
    const quiet = await h.s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Quiet: true, Objects: [{ Key: 'del/b' }, { Key: 'k'.repeat(1025) }] } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors?.map((e) => e.Code)).toEqual(['InvalidObjectName']);
    expect(await codeOf(h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'del/b' })))).toBe('NotFound');
  });

  it('ListObjects v1 with prefix, delimiter, marker, max-keys and encoding-type=url; ListObjectsV2 fetch-owner', async () => {
    for (const k of ['l1/a b', 'l1/c/d', 'l1/c/e', 'l1/f']) await h.s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: '' }));
    const page = await h.s3.send(new ListObjectsCommand({ Bucket: B, Prefix: 'l1/', Delimiter: '/', MaxKeys: 2, EncodingType: 'url' }));
    expect(page.IsTruncated).toBe(true);
    // encoding-type=url: keys come back percent-encoded (this SDK does not decode them).
    expect(page.Contents?.map((c) => c.Key)).toEqual(['l1/a%20b']);
    expect(page.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['l1/c/']);
    const next = await h.s3.send(new ListObjectsCommand({ Bucket: B, Prefix: 'l1/', Delimiter: '/', Marker: page.NextMarker ?? '' }));
    expect(next.Contents?.map((c) => c.Key)).toEqual(['l1/f']);
    const v2 = await h.s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'l1/', FetchOwner: true }));
    expect(v2.Contents?.[0]?.Owner?.ID).toBeTruthy();
    const v2b = await h.s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'l1/' }));
    expect(v2b.Contents?.[0]?.Owner).toBeUndefined();
  });

  it('GetBucketLocation answers auto; GetBucketEncryption answers R2’s fixed AES256 rule', async () => {
    expect((await h.s3.send(new GetBucketLocationCommand({ Bucket: B }))).LocationConstraint).toBe('auto');
    const enc = await h.s3.send(new GetBucketEncryptionCommand({ Bucket: B }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    expect(await codeOf(h.s3.send(new GetBucketEncryptionCommand({ Bucket: 'no-such-bucket' })))).toBe('NoSuchBucket');
  });

  it('ignores the headers R2 ignores (ACL, object lock, request payer, expected bucket owner, SSE-S3, website redirect); refuses x-amz-tagging with 501 as R2 does', async () => {
    const ignored = {
      ACL: 'public-read',
      GrantRead: 'id=x',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: new Date(Date.now() + 86400_000),
      ObjectLockLegalHoldStatus: 'ON',
      RequestPayer: 'requester',
      ExpectedBucketOwner: '123456789012',
      ServerSideEncryption: 'AES256',
      WebsiteRedirectLocation: '/elsewhere',
    } as const;
    await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'ign/put', Body: 'x', ...ignored }));
    const { UploadId } = await h.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'ign/mp', ...ignored }));
    expect(UploadId).toBeTruthy();
    await h.s3.send(
      new CopyObjectCommand({ Bucket: B, Key: 'ign/copy', CopySource: `${B}/ign/put`, ...ignored, TaggingDirective: 'REPLACE', ExpectedSourceBucketOwner: '1' }),
    );
    const got = await h.s3.send(new GetObjectCommand({ Bucket: B, Key: 'ign/copy', RequestPayer: 'requester', ExpectedBucketOwner: '1' }));
    expect((await bytesOf(got.Body)).toString()).toBe('x');
    await h.s3.send(new HeadBucketCommand({ Bucket: B, ExpectedBucketOwner: '1' }));
    // Object tags are the exception: R2 answers 501 with this message (seen on a real bucket).
    const tagged = await h.s3.send(new PutObjectCommand({ Bucket: B, Key: 'ign/tag', Body: 'x', Tagging: 'a=b' })).catch((e: Error) => e);
    expect([(tagged as Error).name, (tagged as Error).message]).toEqual(['NotImplemented', "Header 'x-amz-tagging' with value 'a=b' not implemented"]);
    expect(await codeOf(h.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'ign/tag' })))).toBe('NotFound');
  });
});

/** SDK input for each ❌ operation of the seed table (commands the SDK no longer has share their successor's request). */
const UNIMPLEMENTED: Record<string, [command: string, input: Record<string, unknown>] | string> = {
  GetBucketAccelerateConfiguration: ['GetBucketAccelerateConfigurationCommand', {}],
  GetBucketAcl: ['GetBucketAclCommand', {}],
  GetBucketAnalyticsConfiguration: ['GetBucketAnalyticsConfigurationCommand', { Id: 'x' }],
  GetBucketIntelligentTieringConfiguration: ['GetBucketIntelligentTieringConfigurationCommand', { Id: 'x' }],
  GetBucketInventoryConfiguration: ['GetBucketInventoryConfigurationCommand', { Id: 'x' }],
  GetBucketLifecycle: 'same request as GetBucketLifecycleConfiguration (GET ?lifecycle), which R2 implements',
  GetBucketLogging: ['GetBucketLoggingCommand', {}],
  GetBucketMetricsConfiguration: ['GetBucketMetricsConfigurationCommand', { Id: 'x' }],
  GetBucketNotification: ['GetBucketNotificationConfigurationCommand', {}],
  GetBucketNotificationConfiguration: ['GetBucketNotificationConfigurationCommand', {}],
  GetBucketOwnershipControls: ['GetBucketOwnershipControlsCommand', {}],
  GetBucketPolicy: ['GetBucketPolicyCommand', {}],
  GetBucketPolicyStatus: ['GetBucketPolicyStatusCommand', {}],
  GetBucketReplication: ['GetBucketReplicationCommand', {}],
  GetBucketRequestPayment: ['GetBucketRequestPaymentCommand', {}],
  GetBucketTagging: ['GetBucketTaggingCommand', {}],
  GetBucketVersioning: ['GetBucketVersioningCommand', {}],
  GetBucketWebsite: ['GetBucketWebsiteCommand', {}],
  GetObjectLockConfiguration: ['GetObjectLockConfigurationCommand', {}],
  GetPublicAccessBlock: ['GetPublicAccessBlockCommand', {}],
  ListBucketAnalyticsConfigurations: ['ListBucketAnalyticsConfigurationsCommand', {}],
  ListBucketIntelligentTieringConfigurations: ['ListBucketIntelligentTieringConfigurationsCommand', {}],
  ListBucketInventoryConfigurations: ['ListBucketInventoryConfigurationsCommand', {}],
  ListBucketMetricsConfigurations: ['ListBucketMetricsConfigurationsCommand', {}],
  PutBucketAccelerateConfiguration: ['PutBucketAccelerateConfigurationCommand', { AccelerateConfiguration: { Status: 'Enabled' } }],
  PutBucketAcl: ['PutBucketAclCommand', { ACL: 'private' }],
  PutBucketAnalyticsConfiguration: ['PutBucketAnalyticsConfigurationCommand', { Id: 'x', AnalyticsConfiguration: { Id: 'x', StorageClassAnalysis: {} } }],
  PutBucketEncryption: [
    'PutBucketEncryptionCommand',
    { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } },
  ],
  PutBucketIntelligentTieringConfiguration: [
    'PutBucketIntelligentTieringConfigurationCommand',
    { Id: 'x', IntelligentTieringConfiguration: { Id: 'x', Status: 'Enabled', Tierings: [{ Days: 90, AccessTier: 'ARCHIVE_ACCESS' }] } },
  ],
  PutBucketInventoryConfiguration: [
    'PutBucketInventoryConfigurationCommand',
    {
      Id: 'x',
      InventoryConfiguration: {
        Id: 'x',
        IsEnabled: true,
        IncludedObjectVersions: 'All',
        Schedule: { Frequency: 'Daily' },
        Destination: { S3BucketDestination: { Bucket: 'arn:aws:s3:::d', Format: 'CSV' } },
      },
    },
  ],
  PutBucketLifecycle: 'same request as PutBucketLifecycleConfiguration (PUT ?lifecycle), which R2 implements',
  PutBucketLogging: ['PutBucketLoggingCommand', { BucketLoggingStatus: {} }],
  PutBucketMetricsConfiguration: ['PutBucketMetricsConfigurationCommand', { Id: 'x', MetricsConfiguration: { Id: 'x' } }],
  PutBucketNotification: ['PutBucketNotificationConfigurationCommand', { NotificationConfiguration: {} }],
  PutBucketNotificationConfiguration: ['PutBucketNotificationConfigurationCommand', { NotificationConfiguration: {} }],
  PutBucketOwnershipControls: ['PutBucketOwnershipControlsCommand', { OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }],
  PutBucketPolicy: ['PutBucketPolicyCommand', { Policy: '{}' }],
  PutBucketReplication: [
    'PutBucketReplicationCommand',
    { ReplicationConfiguration: { Role: 'r', Rules: [{ Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::d' } }] } },
  ],
  PutBucketRequestPayment: ['PutBucketRequestPaymentCommand', { RequestPaymentConfiguration: { Payer: 'Requester' } }],
  PutBucketTagging: ['PutBucketTaggingCommand', { Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }],
  PutBucketVersioning: ['PutBucketVersioningCommand', { VersioningConfiguration: { Status: 'Enabled' } }],
  PutBucketWebsite: ['PutBucketWebsiteCommand', { WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }],
  PutObjectLockConfiguration: ['PutObjectLockConfigurationCommand', { ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }],
  PutPublicAccessBlock: ['PutPublicAccessBlockCommand', { PublicAccessBlockConfiguration: { BlockPublicAcls: true } }],
  GetObjectTagging: ['GetObjectTaggingCommand', { Key: 'o' }],
  PutObjectTagging: ['PutObjectTaggingCommand', { Key: 'o', Tagging: { TagSet: [] } }],
  DeleteObjectTagging: ['DeleteObjectTaggingCommand', { Key: 'o' }],
};

describe('unimplemented operations', () => {
  it('every ❌ operation of the seed table answers 501 NotImplemented', async () => {
    const seed = parseSeed(await readFile(join(import.meta.dirname, '../compat/r2-s3-api-compatibility.md'), 'utf8'));
    const missing = seed.filter((r) => !r.implemented).map((r) => r.name);
    expect(missing.length).toBeGreaterThan(40);
    for (const name of missing) {
      const entry = UNIMPLEMENTED[name];
      expect(entry, `no request for ${name}`).toBeDefined();
      if (typeof entry === 'string') continue;
      const [command, input] = entry as [string, Record<string, unknown>];
      const Cmd = (sdk as unknown as Record<string, new (i: unknown) => Parameters<typeof h.s3.send>[0]>)[command];
      expect(Cmd, command).toBeDefined();
      const err = await h.s3.send(new (Cmd as new (i: unknown) => Parameters<typeof h.s3.send>[0])({ Bucket: B, ...input })).then(
        () => undefined,
        (e: { name: string; message: string; $metadata: { httpStatusCode: number } }) => [e.name, e.$metadata.httpStatusCode, e.message],
      );
      // R2's message names the operation: "PutObjectTagging not implemented".
      expect(err, name).toEqual(['NotImplemented', 501, `${command.replace(/Command$/, '')} not implemented`]);
    }
  });
});
