// The signer as its own process for the bench: createSigner + the Express adapter, no logging.
// Env: R2_ENDPOINT, R2_KEY, R2_SECRET, BUCKET. Prints `listening <port>`.
import type { AddressInfo } from 'node:net';
import { bearerTokens, createSigner } from '@chute/signer';
import { chuteRouter } from '@chute/signer/express';
import express from 'express';

const env = process.env as Record<string, string>;
const signer = createSigner({
  s3: { bucket: env.BUCKET as string, endpoint: env.R2_ENDPOINT as string, forcePathStyle: true, credentials: { accessKeyId: env.R2_KEY as string, secretAccessKey: env.R2_SECRET as string } },
  tokenSecrets: ['bench-secret-'.repeat(4)],
  authenticate: bearerTokens({ 'bench-token-0123456789': 'bench' }),
  rateLimit: false,
  // The bench signs the same parts hundreds of thousands of times: no per-upload URL budget.
  limits: { maxFileSize: 5 * 1024 ** 4, urlsPerPart: 0 },
});
const app = express();
app.use(chuteRouter(signer));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
