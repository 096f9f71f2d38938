// Asks a fresh radosgw the questions Chute's signer depends on and prints the answers as the
// markdown table of RADOSGW.md: `npx tsx test/stores/radosgw-probe.ts [--out file.md]`.
import { writeFileSync } from 'node:fs';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { markdownTable, probe, rows, setSection } from './probe-lib.js';
import { probeBucketConfig } from './probe-bucket.js';
import { probeChecksums } from './probe-checksums.js';
import { probeMultipart } from './probe-multipart.js';
import { probePresign } from './probe-presign.js';
import { s3Client, startRadosgw } from './radosgw.js';

const gw = await startRadosgw();
console.log(`radosgw ${gw.version} at ${gw.endpoint}, started in ${(gw.startMs / 1000).toFixed(1)} s`);
try {
  const s3 = s3Client(gw);
  const Bucket = gw.bucket;

  setSection('Addressing and signing');
  for (const region of ['default', 'us-east-1', 'auto', 'nowhere-1']) {
    await probe(`SigV4 scope region \`${region}\` (ListObjectsV2)`, async () => {
      const c = s3Client({ ...gw, region });
      try {
        await c.send(new ListObjectsV2Command({ Bucket }));
        return 'accepted (200)';
      } finally {
        c.destroy();
      }
    });
  }
  await probe('Virtual-hosted style (`forcePathStyle: false`)', async () => {
    const c = new S3Client({ ...gw, forcePathStyle: false, requestChecksumCalculation: 'WHEN_REQUIRED' });
    let sentTo = '';
    c.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { hostname?: string; path?: string };
        sentTo = `${req.hostname}${req.path}`;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHost' },
    );
    try {
      await c.send(new ListObjectsV2Command({ Bucket }));
      const virtual = sentTo.startsWith(`${Bucket}.`);
      return virtual ? `accepted (200) at ${sentTo}` : `not measured: the SDK falls back to path style for an IP endpoint (sent to ${sentTo}); use path style (S3_FORCE_PATH_STYLE=true)`;
    } finally {
      c.destroy();
    }
  });
  await probe('Put/Get round trip, HeadObject size', async () => {
    const body = new TextEncoder().encode('hello radosgw');
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'hello.txt', Body: body, ContentType: 'text/plain' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'hello.txt' }));
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'hello.txt' }));
    const text = await get.Body?.transformToString();
    return `PUT ETag ${put.ETag} (md5 hex); HEAD ContentLength ${head.ContentLength}, ContentType ${head.ContentType}; GET body equal: ${text === 'hello radosgw'}`;
  });

  await probeChecksums(s3, Bucket);
  await probeMultipart(s3, Bucket);
  await probePresign(s3, gw);
  await probeBucketConfig(s3, gw);
  s3.destroy();

  const date = new Date().toISOString().slice(0, 10);
  const table = `# radosgw ${gw.version}: what it does with Chute's requests

Measured on ${date} by \`npx tsx test/stores/radosgw-probe.ts --out test/stores/RADOSGW.md\` against a fresh
single-node cluster (memstore OSD, auth none, msgr v1) started by \`startRadosgw()\` in ${(gw.startMs / 1000).toFixed(1)} s.
Each row is the store's own answer (HTTP status, error code and message), not an expectation.
${markdownTable(rows)}`;
  const outAt = process.argv.indexOf('--out');
  const out = outAt > 0 ? process.argv[outAt + 1] : undefined;
  if (out) writeFileSync(out, `${table}\n`);
  console.log(table);
} finally {
  await gw.close();
}
