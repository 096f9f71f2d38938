// The bucket's CORS rule every browser bench sets once for its pages' origin: what the
// `chute-server setup` rule allows (uploads, checksums, ETag exposed for multipart completes).
import { PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ALL_CHECKSUM_HEADERS } from '@chute/protocol';

export async function putBenchCors(s3: S3Client, bucket: string, origin: string, o: { exposeChecksums?: boolean } = {}): Promise<void> {
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [origin],
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['content-type', ...ALL_CHECKSUM_HEADERS, 'x-amz-*'],
            // exposeChecksums: a single PUT's answer carries the stored object's checksum, for a page that reads it.
            ExposeHeaders: ['ETag', ...(o.exposeChecksums ? ALL_CHECKSUM_HEADERS : [])],
            MaxAgeSeconds: 3600,
          },
        ],
      },
    }),
  );
}
