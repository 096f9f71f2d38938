// The signer's Express adapter plus the built page on one origin, as a child process of the
// test (so "the signer was killed" is a real SIGKILL). Config comes as JSON in CHUTE_E2E_SERVE.
import { createSigner, type Limits, openDevAuth } from '@chute/signer';
import { chuteRouter } from '@chute/signer/express';
import express from 'express';

interface ServeConfig {
  port: number;
  staticDir: string;
  storeEndpoint: string;
  /** SigV4 region of the store ('auto' for local-r2). */
  region?: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tokenSecret: string;
  limits?: Partial<Limits>;
}

const config = JSON.parse(process.env.CHUTE_E2E_SERVE ?? '{}') as ServeConfig;
const signer = createSigner({
  s3: { bucket: config.bucket, endpoint: config.storeEndpoint, region: config.region ?? 'auto', forcePathStyle: true, credentials: config.credentials },
  tokenSecrets: [config.tokenSecret],
  authenticate: openDevAuth('e2e-user'),
  rateLimit: false,
  ...(config.limits ? { limits: config.limits } : {}),
});
const app = express();
app.use(chuteRouter(signer));
app.use(express.static(config.staticDir));
const server = app.listen(config.port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : config.port}\n`);
});
