#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';
import { applyBucket, planBucket, readBucket } from './setup.js';

// The SDK's Node 20 end-of-support notice is printed as a raw multi-line warning; the server
// runs fine on Node 20 and says so once in its JSON log instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `chute-server — Chute's signing service

Usage:
  chute-server                      serve (configuration from the environment; see README)
  chute-server setup --origin URL [--origin URL2 …] [--abort-after-days N] [--dry-run]
                                    apply the bucket CORS rule and the abort-incomplete-uploads
                                    lifecycle rule (existing rules are kept)
  chute-server --help
`;

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const server = await startServer(config);
  // One line on stdout for people and scripts, besides the JSON logs.
  process.stdout.write(`\nChute is ready: open ${server.url}\n\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      server.logger.error('shutdown took more than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function setup(args: string[]): Promise<void> {
  const { values } = parseArgsSafely(() => parseArgs({
    args,
    options: {
      origin: { type: 'string', multiple: true },
      'abort-after-days': { type: 'string', default: '7' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  }));
  const origins = values.origin ?? [];
  if (origins.length === 0) throw new UsageError('setup needs at least one --origin URL (the web app that uploads)');
  for (const o of origins) {
    let ok = false;
    try {
      const u = new URL(o);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.pathname === '/' && !u.search && o === u.origin;
    } catch {}
    if (!ok) throw new UsageError(`--origin ${o} is not an origin like https://app.example.com (no path, no trailing slash)`);
  }
  const days = Number(values['abort-after-days']);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError('--abort-after-days must be a whole number of days, 1..365');
  const config = loadConfig(process.env);
  if (!config.bucket) throw new UsageError('setup needs a configured bucket (S3_BUCKET and R2_ACCOUNT_ID or S3_ENDPOINT, plus keys)');
  const b = config.bucket;
  const client = new S3Client({
    region: b.region,
    endpoint: b.endpoint,
    forcePathStyle: b.forcePathStyle,
    credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const current = await readBucket(client, b.bucket);
    const plan = planBucket(current, origins, days);
    process.stdout.write(`${JSON.stringify({ bucket: b.bucket, endpoint: b.endpoint, cors: plan.cors, lifecycle: plan.lifecycle }, null, 2)}\n`);
    if (values['dry-run']) {
      process.stdout.write('dry run: nothing changed\n');
      return;
    }
    await applyBucket(client, b.bucket, plan);
    process.stdout.write(`applied: CORS for ${origins.join(', ')}; incomplete uploads aborted after ${days} day(s)\n`);
  } finally {
    client.destroy();
  }
}

class UsageError extends Error {}

/** Unknown or malformed options are usage errors (exit 2), not crashes. */
function parseArgsSafely<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return void process.stdout.write(HELP);
  if (command === 'setup') return setup(rest);
  if (command === undefined || command === 'serve') return serve();
  throw new UsageError(`unknown command ${command}\n\n${HELP}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError) {
    process.stderr.write(`chute-server: ${err.message}\n`);
    process.exit(2);
  }
  const e = err as Error;
  process.stderr.write(`chute-server: ${e?.message ?? String(err)}\n`);
  process.exit(1);
});
