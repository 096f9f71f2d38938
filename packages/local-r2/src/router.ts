import { S3Error } from './errors.js';
import * as buckets from './handlers/buckets.js';
import { completeMultipartUpload } from './handlers/complete.js';
import { copyObject } from './handlers/copy.js';
import * as list from './handlers/list.js';
import * as multipart from './handlers/multipart.js';
import * as objects from './handlers/objects.js';
import type { Ctx } from './http/context.js';

type Handler = (ctx: Ctx) => void | Promise<void>;

/** Sub-resources R2 does not implement: answer 501 instead of mistaking them for a plain GET/PUT. */
const UNSUPPORTED = [
  'acl',
  'policy',
  'policyStatus',
  'tagging',
  'versioning',
  'versions',
  'website',
  'logging',
  'notification',
  'replication',
  'encryption',
  'object-lock',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'intelligent-tiering',
  'ownershipControls',
  'publicAccessBlock',
  'requestPayment',
  'attributes',
];

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
  for (const name of UNSUPPORTED)
    if (has(ctx, name)) throw new S3Error('NotImplemented', `The '${name}' sub-resource is not implemented by R2.`);
  if (ctx.bucket === undefined) {
    if (ctx.method === 'GET') return buckets.listBuckets;
    return notAllowed();
  }
  return ctx.key === undefined ? bucketRoute(ctx) : objectRoute(ctx);
}
