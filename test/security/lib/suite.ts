// One hostile case = one vitest test + one ledger line. `attack()` runs the attempt, records what
// the servers answered, and fails the test when the attack got through.
import { GetObjectCommand, ListObjectsV2Command, ListPartsCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import type { Answer } from './http.js';
import { Ledger, type Outcome } from './ledger.js';

export const ledger = new Ledger();

export const answerOf = (a: Pick<Answer, 'status' | 'code'>) => `${a.status}${a.code ? ` ${a.code}` : ''}`;

/** Refused when the status is the expected one (and the code, when given). */
export function refusedWith(a: Answer, status: number | number[], code?: string | string[]): Outcome {
  const statuses = Array.isArray(status) ? status : [status];
  const codes = code === undefined ? undefined : Array.isArray(code) ? code : [code];
  return { answer: answerOf(a), refused: statuses.includes(a.status) && (codes === undefined || codes.includes(a.code ?? '')) };
}

/** How many cases were declared (a filtered run records fewer). */
export let declared = 0;

export function attack(hole: string, name: string, run: () => Promise<Outcome>, timeout?: number): void {
  declared++;
  test(
    `[${hole}] ${name}`,
    async () => {
      let outcome: Outcome;
      try {
        outcome = await run();
      } catch (err) {
        // A crash of the attack itself is not a refusal: it is recorded and fails the test.
        outcome = { answer: `attack failed to run: ${(err as Error).message.slice(0, 120)}`, refused: false };
      }
      ledger.record(hole, name, outcome);
      expect(outcome.refused, `${name}: ${outcome.answer}`).toBe(true);
    },
    timeout,
  );
}

/** The stored bytes of `key`, or null when the bucket has no such object. */
export async function stored(s3: S3Client, bucket: string, key: string): Promise<Buffer | null> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
    throw err;
  }
}

/** Is there an object under exactly `key`? (Listing works for SSE-C objects too.) */
export async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
  return (out.Contents ?? []).some((o) => o.Key === key);
}

/** The part numbers the store holds for an upload. */
export async function storedParts(s3: S3Client, bucket: string, key: string, uploadId: string): Promise<number[]> {
  const out = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  return (out.Parts ?? []).map((p) => p.PartNumber ?? 0);
}
