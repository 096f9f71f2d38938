// Reachable, credentials, a round trip, Content-MD5, presigned-URL expiry, lifecycle.
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { check, codeOf, describeError, type ProbeContext, statusOf } from './context.js';
import { md5Base64 } from './digests.js';

/** False when nothing else can be probed (no bucket, no access). */
export async function probeAccess(ctx: ProbeContext): Promise<boolean> {
  try {
    await ctx.client.send(new HeadBucketCommand({ Bucket: ctx.bucket }));
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined) {
      check(ctx, 'reachable', 'store reachable', 'fail', `${ctx.endpoint}: ${describeError(err)}`);
      return false;
    }
    check(ctx, 'reachable', 'store reachable', 'ok', ctx.endpoint);
    const why = status === 404 ? `bucket "${ctx.bucket}" does not exist` : status === 403 ? 'the keys are refused (wrong key, secret or region, or no access to this bucket)' : describeError(err);
    check(ctx, 'credentials', 'credentials and bucket', 'fail', why);
    return false;
  }
  check(ctx, 'reachable', 'store reachable', 'ok', ctx.endpoint);
  check(ctx, 'credentials', 'credentials and bucket', 'ok', `HeadBucket ${ctx.bucket}`);
  return true;
}

export async function probeRoundTrip(ctx: ProbeContext): Promise<boolean> {
  const key = `${ctx.prefix}round-trip`;
  const body = Buffer.from('chute doctor round trip');
  try {
    ctx.objects.add(key);
    await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: body, ContentMD5: md5Base64(body) }));
    const got = await ctx.client.send(new GetObjectCommand({ Bucket: ctx.bucket, Key: key }));
    const back = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    if (!back.equals(body)) {
      check(ctx, 'write', 'write and read back', 'fail', 'the object read back differs from what was written');
      return false;
    }
    check(ctx, 'write', 'write and read back', 'ok', 'PutObject + GetObject');
    return true;
  } catch (err) {
    check(ctx, 'write', 'write and read back', 'fail', describeError(err));
    return false;
  }
}

export async function probeContentMd5(ctx: ProbeContext): Promise<boolean> {
  const key = `${ctx.prefix}bad-md5`;
  ctx.objects.add(key);
  try {
    await ctx.client.send(new PutObjectCommand({ Bucket: ctx.bucket, Key: key, Body: Buffer.from('one'), ContentMD5: md5Base64(Buffer.from('two')) }));
    check(ctx, 'content-md5', 'Content-MD5 enforced', 'warn', 'a wrong Content-MD5 was accepted: the store cannot refuse corrupted parts');
    return false;
  } catch (err) {
    const code = codeOf(err);
    const refused = code === 'BadDigest' || code === 'InvalidDigest' || statusOf(err) === 400;
    check(ctx, 'content-md5', 'Content-MD5 enforced', refused ? 'ok' : 'warn', refused ? `wrong digest refused: ${code}` : describeError(err));
    return refused;
  }
}

/** Presigned GET valid 1 s: it must work at once and be refused after it expired. */
export async function probePresignExpiry(ctx: ProbeContext): Promise<boolean | undefined> {
  const key = `${ctx.prefix}round-trip`;
  try {
    const url = await getSignedUrl(ctx.client, new GetObjectCommand({ Bucket: ctx.bucket, Key: key }), { expiresIn: 1 });
    const first = await fetch(url);
    await first.arrayBuffer();
    if (!first.ok) {
      check(ctx, 'presign', 'presigned URLs (expiry honoured)', 'fail', `a fresh presigned GET answered ${first.status}`);
      return undefined;
    }
    await ctx.sleep(2500);
    const late = await fetch(url);
    await late.arrayBuffer();
    const honoured = late.status === 403;
    check(ctx, 'presign', 'presigned URLs (expiry honoured)', honoured ? 'ok' : 'warn', honoured ? 'valid at once, 403 after its 1 s expiry' : `an expired URL answered ${late.status}`);
    return honoured;
  } catch (err) {
    check(ctx, 'presign', 'presigned URLs (expiry honoured)', 'fail', describeError(err));
    return undefined;
  }
}

/** Days after which incomplete uploads are aborted, if a rule says so. */
export async function probeLifecycle(ctx: ProbeContext): Promise<number | undefined> {
  try {
    const out = await ctx.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: ctx.bucket }));
    const days = (out.Rules ?? [])
      .filter((r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload?.DaysAfterInitiation)
      .map((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation as number);
    if (days.length === 0) {
      check(ctx, 'lifecycle', 'abandoned uploads aborted', 'warn', 'no lifecycle rule aborts incomplete multipart uploads: run `chute-server setup`');
      return undefined;
    }
    check(ctx, 'lifecycle', 'abandoned uploads aborted', 'ok', `after ${Math.min(...days)} day(s)`);
    return Math.min(...days);
  } catch (err) {
    const none = codeOf(err) === 'NoSuchLifecycleConfiguration';
    check(ctx, 'lifecycle', 'abandoned uploads aborted', 'warn', none ? 'no lifecycle configuration: run `chute-server setup`' : describeError(err));
    return undefined;
  }
}
