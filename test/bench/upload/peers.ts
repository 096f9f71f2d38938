// Command-line peers: `curl -T` to a presigned PUT and Debian's `aws s3 cp` (awscli v2).
import { execFile } from 'node:child_process';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface StoreAccess {
  /** Endpoint the client talks to (the store itself, or a proxy in front of it). */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export const AWS_CLI = '/usr/bin/aws';

export function s3Client(a: StoreAccess): S3Client {
  return new S3Client({
    endpoint: a.endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message} ${stderr.slice(-500)}`));
      else resolve({ ms: performance.now() - t0, stdout });
    });
  });
}

/** `curl -T file <presigned PUT>`: one stream, no parts, no checksums — the raw ceiling. */
export async function curlPut(a: StoreAccess, file: string, key: string): Promise<number> {
  const url = await getSignedUrl(s3Client(a), new PutObjectCommand({ Bucket: a.bucket, Key: key }), { expiresIn: 3600 });
  const { ms, stdout } = await run('curl', ['-sS', '--fail-with-body', '-T', file, '-o', '/dev/null', '-w', '%{http_code}', url]);
  if (stdout.trim() !== '200') throw new Error(`curl: HTTP ${stdout}`);
  return ms;
}

/** `aws s3 cp` with its defaults (8 MiB parts, 10 concurrent requests), process start included. */
export async function awsCp(a: StoreAccess, file: string, key: string): Promise<number> {
  const { ms } = await run(AWS_CLI, ['s3', 'cp', file, `s3://${a.bucket}/${key}`, '--endpoint-url', a.endpoint, '--no-progress', '--only-show-errors'], {
    AWS_ACCESS_KEY_ID: a.accessKeyId,
    AWS_SECRET_ACCESS_KEY: a.secretAccessKey,
    AWS_DEFAULT_REGION: 'auto',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  });
  return ms;
}
