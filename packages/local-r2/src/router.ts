import { S3Error } from './errors.js';
import * as buckets from './handlers/buckets.js';
import { completeMultipartUpload } from './handlers/complete.js';
import { copyObject } from './handlers/copy.js';
import * as list from './handlers/list.js';
import * as multipart from './handlers/multipart.js';
import * as objects from './handlers/objects.js';
import type { Ctx } from './http/context.js';

type Handler = (ctx: Ctx) => void | Promise<void>;

/**
 * Sub-resources R2 does not implement, with the operation name R2 puts in its 501 message
 * ("PutObjectTagging not implemented"); answered before they can be mistaken for a plain GET/PUT.
 */
const UNSUPPORTED: Record<string, string> = {
  acl: 'Acl',
  policy: 'Policy',
  policyStatus: 'PolicyStatus',
  tagging: 'Tagging',
  versioning: 'Versioning',
  versions: 'ListObjectVersions',
  website: 'Website',
  logging: 'Logging',
  notification: 'NotificationConfiguration',
  replication: 'Replication',
  encryption: 'Encryption',
  'object-lock': 'ObjectLockConfiguration',
  retention: 'ObjectRetention',
  'legal-hold': 'ObjectLegalHold',
  torrent: 'ObjectTorrent',
  restore: 'RestoreObject',
  select: 'SelectObjectContent',
  accelerate: 'AccelerateConfiguration',
  analytics: 'AnalyticsConfiguration',
  inventory: 'InventoryConfiguration',
  metrics: 'MetricsConfiguration',
  'intelligent-tiering': 'IntelligentTieringConfiguration',
  ownershipControls: 'OwnershipControls',
  publicAccessBlock: 'PublicAccessBlock',
  requestPayment: 'RequestPayment',
  attributes: 'ObjectAttributes',
};
const VERBS: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', HEAD: 'Head', POST: 'Post' };
const LISTABLE = new Set(['analytics', 'inventory', 'metrics', 'intelligent-tiering']);

/** S3's name for a request on an unsupported sub-resource, e.g. GetBucketAcl, PutObjectTagging. */
function operationName(ctx: Ctx, sub: string): string {
  const base = UNSUPPORTED[sub] as string;
  if (['versions', 'restore', 'select'].includes(sub)) return base;
  const verb = VERBS[ctx.method] ?? ctx.method;
  if (base.startsWith('Object') || base === 'PublicAccessBlock') return verb + base;
  if (ctx.method === 'GET' && ctx.key === undefined && LISTABLE.has(sub) && ctx.query.id === undefined) return `ListBucket${base}s`;
  return `${verb}${ctx.key === undefined ? 'Bucket' : 'Object'}${base}`;
}

const has = (ctx: Ctx, name: string) => ctx.query[name] !== undefined;

function notAllowed(): never {
  throw new S3Error('MethodNotAllowed');
}

function bucketRoute(ctx: Ctx): Handler {
  switch (ctx.method) {
    case 'GET':
      if (has(ctx, 'cors')) return buckets.getBucketCors;
      if (has(ctx, 'lifecycle')) return buckets.getBucketLifecycle;
      if (has(ctx, 'location')) return buckets.getBucketLocation;
      if (has(ctx, 'uploads')) return list.listMultipartUploads;
      if (ctx.query['list-type'] === '2') return list.listObjectsV2;
      if (has(ctx, 'list-type')) throw new S3Error('InvalidArgument', 'list-type must be 2.');
      return list.listObjectsV1;
    case 'PUT':
      if (has(ctx, 'cors')) return buckets.putBucketCors;
      if (has(ctx, 'lifecycle')) return buckets.putBucketLifecycle;
      return buckets.createBucket;
    case 'DELETE':
      if (has(ctx, 'cors')) return buckets.deleteBucketCors;
      if (has(ctx, 'lifecycle')) return buckets.deleteBucketLifecycle;
      return buckets.deleteBucket;
    case 'HEAD':
      return buckets.headBucket;
    case 'POST':
      if (has(ctx, 'delete')) return objects.deleteObjects;
      return notAllowed();
    default:
      return notAllowed();
  }
}

function objectRoute(ctx: Ctx): Handler {
  const upload = has(ctx, 'uploadId');
  switch (ctx.method) {
    case 'GET':
      return upload ? multipart.listParts : objects.getObject;
    case 'HEAD':
      return objects.headObject;
    case 'PUT':
      if (upload || has(ctx, 'partNumber')) return multipart.uploadPart;
      if (ctx.headers['x-amz-copy-source'] !== undefined) return copyObject;
      return objects.putObject;
    case 'DELETE':
      return upload ? multipart.abortMultipartUpload : objects.deleteObject;
    case 'POST':
      if (has(ctx, 'uploads')) return multipart.createMultipartUpload;
      if (upload) return completeMultipartUpload;
      return notAllowed();
    default:
      return notAllowed();
  }
}

export function route(ctx: Ctx): Handler {
  // GetBucketEncryption is R2's one implemented member of the 'encryption' sub-resource.
  if (ctx.method === 'GET' && ctx.key === undefined && ctx.bucket !== undefined && has(ctx, 'encryption')) return buckets.getBucketEncryption;
  for (const name of Object.keys(UNSUPPORTED)) if (has(ctx, name)) throw new S3Error('NotImplemented', `${operationName(ctx, name)} not implemented`);
  // R2 refuses object tags outright (observed: "Header 'x-amz-tagging' with value 'a=b' not implemented").
  const tagging = ctx.headers['x-amz-tagging'];
  if (typeof tagging === 'string') throw new S3Error('NotImplemented', `Header 'x-amz-tagging' with value '${tagging}' not implemented`);
  if (ctx.bucket === undefined) {
    if (ctx.method === 'GET') return buckets.listBuckets;
    return notAllowed();
  }
  return ctx.key === undefined ? bucketRoute(ctx) : objectRoute(ctx);
}
