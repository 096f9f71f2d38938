#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { bucketClient, checkOrigins, parseArgsSafely, UsageError } from './cli-args.js';
import { ConfigError, loadConfig } from './config.js';
import { doctorCommand } from './doctor/command.js';
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
  chute-server doctor [--origin URL …] [--json]
                                    probe the bucket (a few small objects, removed after) and
                                    print what it supports and the settings to use; exit 0 when
                                    uploads can work, 1 when they cannot (origins default to
                                    CORS_ORIGINS; local mode probes a throwaway local-r2)
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
  checkOrigins(origins);
  const days = Number(values['abort-after-days']);
  if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError('--abort-after-days must be a whole number of days, 1..365');
  const config = loadConfig(process.env);
  if (!config.bucket) throw new UsageError('setup needs a configured bucket (S3_BUCKET and R2_ACCOUNT_ID or S3_ENDPOINT, plus keys)');
  const b = config.bucket;
  const client = bucketClient(b);
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

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') return void process.stdout.write(HELP);
  if (command === 'setup') return setup(rest);
  if (command === 'doctor') {
    process.exitCode = await doctorCommand(rest, process.env);
    return;
  }
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
