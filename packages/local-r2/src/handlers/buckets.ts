import { S3Error } from '../errors.js';
import { readSmallBody } from '../http/body.js';
import { type Ctx, send, sendXml } from '../http/context.js';
import { type CorsRule, corsToXmlBody, parseCorsXml } from '../http/cors.js';
import { validBucketName } from '../keys.js';
import { bucketRules, lifecycleToXmlBody, parseLifecycleXml } from '../lifecycle.js';
import type { BucketRow } from '../store/db.js';
import { isoDate, onlyKeys, parseXml, text, toXml } from '../xml.js';

export const OWNER = { ID: 'local-r2', DisplayName: 'local-r2' };
const MAX_CONFIG_XML = 256 * 1024;
const LOCATIONS = new Set(['', 'auto', 'us-east-1', 'wnam', 'enam', 'weur', 'eeur', 'apac', 'oc']);

export function requireBucket(ctx: Ctx): BucketRow {
  const row = ctx.app.db.getBucket(ctx.bucket as string);
  if (!row) throw new S3Error('NoSuchBucket');
  return row;
}

export function listBuckets(ctx: Ctx) {
  const buckets = ctx.app.db.listBuckets();
  sendXml(
    ctx,
    toXml('ListAllMyBucketsResult', {
      Owner: OWNER,
      Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoDate(b.created) })) },
    }),
  );
}

export async function createBucket(ctx: Ctx) {
  const name = ctx.bucket as string;
  const body = await readSmallBody(ctx, MAX_CONFIG_XML);
  if (body.length) {
    const root = parseXml(body.toString('utf8'), 'CreateBucketConfiguration');
    onlyKeys(root, ['LocationConstraint']);
    const loc = text(root.LocationConstraint) ?? '';
    if (!LOCATIONS.has(loc)) throw new S3Error('InvalidArgument', `Location constraint '${loc}' is not valid; use 'auto'.`);
  }
  if (!validBucketName(name)) throw new S3Error('InvalidBucketName');
  if (!ctx.app.db.createBucket(name, ctx.app.now())) throw new S3Error('BucketAlreadyOwnedByYou');
  send(ctx, 200, { location: `/${name}` });
}

export function headBucket(ctx: Ctx) {
  requireBucket(ctx);
  send(ctx, 200, { 'x-amz-bucket-region': 'auto' });
}

export function getBucketLocation(ctx: Ctx) {
  requireBucket(ctx);
  sendXml(ctx, toXml('LocationConstraint', { '#text': 'auto' }));
}

/**
 * R2 encrypts every object at rest and offers no setting, so it answers with a fixed AES256 rule
 * (PutBucketEncryption is 501).
 */
export function getBucketEncryption(ctx: Ctx) {
  requireBucket(ctx);
  sendXml(
    ctx,
    toXml('ServerSideEncryptionConfiguration', {
      Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    }),
  );
}

export async function deleteBucket(ctx: Ctx) {
  const bucket = requireBucket(ctx);
  const files: string[] = [];
  ctx.app.db.tx(() => {
    if (ctx.app.db.bucketHasObjects(bucket.name)) throw new S3Error('BucketNotEmpty');
    for (const u of ctx.app.db.uploadsOfBucket(bucket.name)) {
      for (const p of ctx.app.db.allParts(u.id)) files.push(p.file);
      ctx.app.db.deleteUpload(u.id);
    }
    ctx.app.db.deleteBucket(bucket.name);
  });
  await ctx.app.blobs.remove(files);
  send(ctx, 204, {});
}

export async function putBucketCors(ctx: Ctx) {
  requireBucket(ctx);
  const rules = parseCorsXml((await readSmallBody(ctx, MAX_CONFIG_XML)).toString('utf8'));
  ctx.app.db.setCors(ctx.bucket as string, JSON.stringify(rules));
  send(ctx, 200, {});
}

export function getBucketCors(ctx: Ctx) {
  const b = requireBucket(ctx);
  if (!b.cors) throw new S3Error('NoSuchCORSConfiguration');
  sendXml(ctx, toXml('CORSConfiguration', corsToXmlBody(JSON.parse(b.cors) as CorsRule[])));
}

export function deleteBucketCors(ctx: Ctx) {
  requireBucket(ctx);
  ctx.app.db.setCors(ctx.bucket as string, null);
  send(ctx, 204, {});
}

export async function putBucketLifecycle(ctx: Ctx) {
  requireBucket(ctx);
  const rules = parseLifecycleXml((await readSmallBody(ctx, MAX_CONFIG_XML)).toString('utf8'));
  ctx.app.db.setLifecycle(ctx.bucket as string, JSON.stringify(rules));
  send(ctx, 200, {});
}

export function getBucketLifecycle(ctx: Ctx) {
  const b = requireBucket(ctx);
  const rules = bucketRules(b.lifecycle);
  if (rules.length === 0) throw new S3Error('NoSuchLifecycleConfiguration');
  sendXml(ctx, toXml('LifecycleConfiguration', lifecycleToXmlBody(rules)));
}

/** Removes every rule, the default 7-day abort included (as replacing the configuration does on R2). */
export function deleteBucketLifecycle(ctx: Ctx) {
  requireBucket(ctx);
  ctx.app.db.setLifecycle(ctx.bucket as string, '[]');
  send(ctx, 204, {});
}
