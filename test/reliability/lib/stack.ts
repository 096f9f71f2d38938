// The whole server side for a reliability suite: local-r2 (CLI child process) and the signer
// (child process) on loopback, a temp data dir, N users with static bearer tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type Service, startLocalR2Process } from './services.js';
import type { SignerHostConfig } from './signer-config.js';
import { startSignerProcess } from './signer-process.js';

export const BUCKET = 'reliability';
export const CREDS = { accessKeyId: 'chute-reliability', secretAccessKey: 'chute-reliability-secret-0123456789' };

export interface Stack {
  r2: Service;
  signer: Service;
  dataDir: string;
  users: { id: string; token: string }[];
  s3: S3Client;
  /** Restarts local-r2 on the same port and data dir (after a crash). */
  restartR2(): Promise<Service>;
  /** Restarts the signer on the same port (after a crash). */
  restartSigner(): Promise<Service>;
  close(): Promise<void>;
}

export interface StackOptions {
  users?: number;
  /** Point the signer at this endpoint instead of local-r2 (e.g. a fault proxy in front of it). */
  storeEndpointFor?: (r2Url: string) => Promise<string> | string;
  signer?: Partial<SignerHostConfig>;
}

export function s3For(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: CREDS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

const r2Args = ['--access-key-id', CREDS.accessKeyId, '--secret-access-key', CREDS.secretAccessKey];

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  process.env.CHUTE_USE_SOURCE ??= '1';
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chute-reliability-'));
  const users = Array.from({ length: opts.users ?? 4 }, (_, i) => ({ id: `user${i}`, token: `token-user${i}-0123456789` }));
  let r2 = await startLocalR2Process(dataDir, BUCKET, 0, r2Args);
  const r2Port = Number(new URL(r2.url).port);
  const storeEndpoint = opts.storeEndpointFor ? await opts.storeEndpointFor(r2.url) : r2.url;
  const config: SignerHostConfig = {
    storeEndpoint,
    bucket: BUCKET,
    credentials: CREDS,
    tokens: Object.fromEntries(users.map((u) => [u.token, u.id])),
    corsOrigins: ['*'],
    rateLimit: false,
    ...opts.signer,
  };
  let signer = await startSignerProcess(config);
  const signerPort = Number(new URL(signer.url).port);
  const stack: Stack = {
    r2,
    signer,
    dataDir,
    users,
    s3: s3For(r2.url),
    restartR2: async () => {
      r2 = await startLocalR2Process(dataDir, BUCKET, r2Port, r2Args);
      stack.r2 = r2;
      return r2;
    },
    restartSigner: async () => {
      signer = await startSignerProcess({ ...config, port: signerPort });
      stack.signer = signer;
      return signer;
    },
    close: async () => {
      await stack.signer.kill().catch(() => {});
      await stack.r2.kill().catch(() => {});
      stack.s3.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
