// Child-process entry: the Chute signer core behind its Express adapter, configured from the
// JSON in CHUTE_SIGNER_HOST_CONFIG. Prints "signer listening on URL" when ready.
import type { AddressInfo } from 'node:net';
import { bearerTokens, createSigner, type Limits } from '@chute/signer';
import { answerClientErrors, chuteRouter } from '@chute/signer/express';
import express from 'express';
import type { SignerHostConfig } from './signer-config.js';

const config = JSON.parse(process.env.CHUTE_SIGNER_HOST_CONFIG ?? '{}') as SignerHostConfig;
const signer = createSigner({
  s3: {
    bucket: config.bucket,
    endpoint: config.storeEndpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: config.credentials,
  },
  tokenSecrets: config.tokenSecrets ?? ['reliability-and-bench-token-secret-0123456789abcdef'],
  authenticate: bearerTokens(config.tokens),
  corsOrigins: config.corsOrigins ?? ['*'],
  rateLimit: config.rateLimit ?? false,
  ...(config.limits ? { limits: config.limits as Partial<Limits> } : {}),
});

const app = express();
app.disable('x-powered-by');
app.use(chuteRouter(signer));
const server = app.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(`signer listening on http://127.0.0.1:${port}`);
});
// Requests Node's HTTP parser refuses get the signer's JSON errors too, not a bare 400.
answerClientErrors(server);
server.keepAliveTimeout = 30_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
