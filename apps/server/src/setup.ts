import { createHash } from 'node:crypto';
import {
  type CORSRule,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ALL_CHECKSUM_HEADERS, CHECKSUM_HEADERS } from '@chute/protocol';

export const CORS_RULE_ID = 'chute-uploads';
export const LIFECYCLE_RULE_ID = 'chute-abort-incomplete-uploads';

export interface BucketPlan {
  cors: CORSRule[];
  lifecycle: LifecycleRule[];
}

/** The CORS rule the widget needs: PUT/GET/HEAD from the app's origins, checksum headers, ETag exposed. */
export function chuteCorsRule(origins: string[]): CORSRule {
  return {
    ID: CORS_RULE_ID,
    AllowedOrigins: origins,
    AllowedMethods: ['PUT', 'GET', 'HEAD'],
    // Listed one by one: wildcard AllowedHeaders are not reliable on every S3 store.
    AllowedHeaders: ['content-type', ...ALL_CHECKSUM_HEADERS],
    ExposeHeaders: ['ETag', ...Object.values(CHECKSUM_HEADERS)],
    MaxAgeSeconds: 3600,
  };
}

/** Existing rules are kept; Chute's own (by ID) are replaced, so running setup twice changes nothing. */
export function planBucket(current: BucketPlan, origins: string[], abortAfterDays: number): BucketPlan {
  return {
    cors: [...current.cors.filter((r) => r.ID !== CORS_RULE_ID), chuteCorsRule(origins)],
    lifecycle: [
      ...current.lifecycle.filter((r) => r.ID !== LIFECYCLE_RULE_ID),
      {
        ID: LIFECYCLE_RULE_ID,
        Status: 'Enabled',
        Filter: { Prefix: '' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: abortAfterDays },
      },
    ],
  };
}

const absent = (err: unknown, codes: string[]) => err instanceof S3ServiceException && codes.includes(err.name);

export async function readBucket(client: S3Client, bucket: string): Promise<BucketPlan> {
  let cors: CORSRule[] = [];
  let lifecycle: LifecycleRule[] = [];
  try {
    cors = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
  } catch (err) {
    if (!absent(err, ['NoSuchCORSConfiguration'])) throw err;
  }
  try {
    lifecycle = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (err) {
    if (!absent(err, ['NoSuchLifecycleConfiguration'])) throw err;
  }
  return { cors, lifecycle };
}

/**
 * These two calls must carry a body checksum. The SDK sends `x-amz-checksum-crc32`, which R2 lists
 * as unsupported on them; Content-MD5 is accepted by every S3 store, so send that instead.
 */
interface Args {
  request: { headers: Record<string, string>; body?: unknown };
}
type Next = (args: Args) => Promise<unknown>;
interface Stack {
  addRelativeTo(mw: (next: Next) => Next, options: { name: string; relation: 'before'; toMiddleware: string }): void;
}

function withContentMd5<C extends PutBucketCorsCommand | PutBucketLifecycleConfigurationCommand>(cmd: C): C {
  (cmd.middlewareStack as unknown as Stack).addRelativeTo(
    (next) => async (args) => {
      const req = args.request;
      for (const h of Object.keys(req.headers)) {
        if (/^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(h)) delete req.headers[h];
      }
      if (typeof req.body === 'string' || req.body instanceof Uint8Array) {
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    },
    { name: 'chuteContentMd5', relation: 'before', toMiddleware: 'httpSigningMiddleware' },
  );
  return cmd;
}

export async function applyBucket(client: S3Client, bucket: string, plan: BucketPlan): Promise<void> {
  await client.send(withContentMd5(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: plan.cors } })));
  await client.send(
    withContentMd5(
      new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: plan.lifecycle } }),
    ),
  );
}
