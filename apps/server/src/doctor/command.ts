// `chute-server doctor [--origin URL …] [--json]`: probes the bucket the server is configured for
// (in local mode, a throwaway embedded local-r2) and prints the table and the settings to use.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { bucketClient, checkOrigins, parseArgsSafely } from '../cli-args.js';
import { loadConfig, type ServerConfig } from '../config.js';
import { LOCAL_BUCKET, startLocalStore } from '../local.js';
import { type DoctorReport, formatReport, runDoctor } from './index.js';

/** Exit code: 0 uploads can work, 1 they cannot; usage and configuration errors throw (exit 2). */
export async function doctorCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgsSafely(() =>
    parseArgs({ args, options: { origin: { type: 'string', multiple: true }, json: { type: 'boolean', default: false } }, strict: true }),
  );
  checkOrigins(values.origin ?? []);
  const config = loadConfig(env);
  const report = config.bucket ? await doctorBucket(config, values.origin) : await doctorLocal(config, values.origin);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.usable ? 0 : 1;
}

/** Origins the browser uploads from: `--origin`, else CORS_ORIGINS (the web apps that call the signer). */
function originsOf(config: ServerConfig, given: string[] | undefined, fallback: string[] = []): string[] {
  if (given?.length) return given;
  return config.env.CORS_ORIGINS.length ? config.env.CORS_ORIGINS : fallback;
}

async function doctorBucket(config: ServerConfig, given: string[] | undefined): Promise<DoctorReport> {
  const b = config.bucket as NonNullable<ServerConfig['bucket']>;
  // Two attempts: a refused connection or wrong keys should answer in seconds, not after backoff.
  const client = bucketClient(b, 2);
  try {
    return await probe(client, b.bucket, b.endpoint, originsOf(config, given));
  } finally {
    client.destroy();
  }
}

/**
 * Local mode: the embedded local-r2, started as the server would start it (bucket `chute`, CORS
 * for the server's own origins and CORS_ORIGINS), in a temp dir so DATA_DIR is left alone.
 */
async function doctorLocal(config: ServerConfig, given: string[] | undefined): Promise<DoctorReport> {
  const env = config.env;
  const own = [`http://localhost:${env.PORT}`, `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${env.PORT}`];
  if (env.PUBLIC_URL) own.unshift(new URL(env.PUBLIC_URL).origin);
  const dataDir = await mkdtemp(join(tmpdir(), 'chute-doctor-'));
  const credentials = config.exposure.localR2Credentials;
  const local = await startLocalStore({ host: '127.0.0.1', port: 0, dataDir, origins: [...new Set([...own, ...env.CORS_ORIGINS])], ...(credentials ? { credentials } : {}) });
  const keys = local.r2.credentials;
  const client = bucketClient({ endpoint: local.endpoint, region: 'auto', forcePathStyle: true, ...keys }, 2);
  try {
    return await probe(client, LOCAL_BUCKET, local.endpoint, originsOf(config, given, [own[0] as string]));
  } finally {
    client.destroy();
    await local.r2.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function probe(client: S3Client, bucket: string, endpoint: string, origins: string[]): Promise<DoctorReport> {
  return runDoctor({ client, bucket, endpoint, origins });
}
