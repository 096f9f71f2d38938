// What every probe shares: the client, the bucket, a private prefix, and what to clean up after.
import { AbortMultipartUploadCommand, DeleteObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';

export type Verdict = 'ok' | 'warn' | 'fail';

/** One line of doctor's table. */
export interface Check {
  id: string;
  label: string;
  verdict: Verdict;
  detail: string;
}

export interface ProbeContext {
  client: S3Client;
  bucket: string;
  endpoint: string;
  /** `.chute-doctor/<uuid>/`: every probe object lives here and is deleted at the end. */
  prefix: string;
  objects: Set<string>;
  uploads: { key: string; uploadId: string }[];
  checks: Check[];
  sleep(ms: number): Promise<void>;
  /** One small part per probe upload instead of 5 MiB + a tail (the start-up probe of CHECKSUM_ALGORITHM=auto). */
  light?: boolean;
}

export function check(ctx: ProbeContext, id: string, label: string, verdict: Verdict, detail: string): Check {
  const c = { id, label, verdict, detail };
  ctx.checks.push(c);
  return c;
}

/** `Code (status)` of an S3 error, or the network error's message. */
export function describeError(err: unknown): string {
  if (err instanceof S3ServiceException) return `${err.name} (${err.$metadata.httpStatusCode ?? '?'})${err.message && err.message !== err.name ? `: ${err.message.slice(0, 120)}` : ''}`;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  return e?.cause?.code ?? e?.code ?? e?.message ?? String(err);
}

export const statusOf = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined);
export const codeOf = (err: unknown) => (err instanceof S3ServiceException ? err.name : undefined);

/** Deletes every probe object and aborts every probe upload; failures are reported, not thrown. */
export async function cleanUp(ctx: ProbeContext): Promise<string[]> {
  const problems: string[] = [];
  for (const u of ctx.uploads) {
    await ctx.client.send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: u.key, UploadId: u.uploadId })).catch((err: unknown) => {
      if (codeOf(err) !== 'NoSuchUpload') problems.push(`abort ${u.key}: ${describeError(err)}`);
    });
  }
  // One DeleteObject per key: DeleteObjects needs a body checksum some stores refuse (R2 and CRC32).
  for (const key of ctx.objects) {
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key })).catch((err: unknown) => problems.push(`delete ${key}: ${describeError(err)}`));
  }
  return problems;
}
