#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, startLocalR2 } from './server.js';

const USAGE = `Usage: local-r2 [--host 127.0.0.1] [--port 9000] --data-dir DIR [--bucket NAME ...]
                [--access-key-id ID] [--secret-access-key SECRET] [--allowed-host NAME ...]
                [--ignore-checksums]

An R2-compatible S3 endpoint on disk (path-style or <bucket>.localhost, region "auto").
Credentials: flags, else LOCAL_R2_ACCESS_KEY_ID / LOCAL_R2_SECRET_ACCESS_KEY,
else the development defaults ${DEFAULT_ACCESS_KEY_ID} / ${DEFAULT_SECRET_ACCESS_KEY}.
Host names answered: localhost, *.localhost, 127.0.0.1, [::1], the --host, and each
--allowed-host (else LOCAL_R2_ALLOWED_HOSTS, comma-separated; *.example.com wildcards, * = any).
--ignore-checksums: accept and ignore x-amz-checksum-* like a store without them (Ceph radosgw);
Content-MD5 is still enforced.`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '9000' },
        'data-dir': { type: 'string' },
        bucket: { type: 'string', multiple: true, default: [] },
        'access-key-id': { type: 'string' },
        'secret-access-key': { type: 'string' },
        'allowed-host': { type: 'string', multiple: true, default: [] },
        'ignore-checksums': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`local-r2: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!values['data-dir'] || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`local-r2: --data-dir is required and --port must be 0-65535\n\n${USAGE}`);
    process.exit(2);
  }
  const accessKeyId = values['access-key-id'] ?? process.env.LOCAL_R2_ACCESS_KEY_ID ?? DEFAULT_ACCESS_KEY_ID;
  const secretAccessKey = values['secret-access-key'] ?? process.env.LOCAL_R2_SECRET_ACCESS_KEY ?? DEFAULT_SECRET_ACCESS_KEY;
  const fromEnv = (process.env.LOCAL_R2_ALLOWED_HOSTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const allowedHosts = values['allowed-host'].length ? values['allowed-host'] : fromEnv;
  const r2 = await startLocalR2({
    host: values.host,
    port,
    dataDir: values['data-dir'],
    buckets: values.bucket,
    credentials: { accessKeyId, secretAccessKey },
    allowedHosts,
    ignoreChecksums: values['ignore-checksums'],
  });
  console.log(`local-r2 listening on ${r2.endpoint}`);
  const stop = () => {
    r2.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`local-r2: ${(err as Error).message}`);
  process.exit(1);
});
