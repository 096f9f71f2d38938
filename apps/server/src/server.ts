import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LocalR2 } from '@chute/local-r2';
import { type Authenticator, bearerTokens, createS3Client, createSigner, jwtAuth, knownMultiplexed, type LimitStore, openDevAuth, type Signer, type SignerOptions } from '@chute/signer';
import { probeMultiplexed } from './alpn.js';
import { allowHosts, answerClientErrors, chuteRouter } from '@chute/signer/express';
import express from 'express';
import type { DestinationStream, Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { type ChecksumChoice, chooseChecksum } from './doctor/choose.js';
import type { Exposure } from './exposure.js';
import { refuseProxied } from './guards.js';
import { LOCAL_BUCKET, localTokenSecret, startLocalStore } from './local.js';
import { createLogger } from './logger.js';
import { createMetrics, metricsHandler, startMetricsListener } from './metrics.js';
import { WebhookOutbox } from './webhooks.js';

export interface RunningServer {
  url: string;
  signer: Signer;
  logger: Logger;
  /** The embedded store in local mode. */
  localR2?: LocalR2;
  /** The separate /metrics listener (METRICS_PORT), when configured. */
  metricsUrl?: string;
  /** The webhook outbox (WEBHOOK_URL), when configured. */
  webhooks?: WebhookOutbox;
  close(): Promise<void>;
}

function authenticator(config: ServerConfig): Authenticator {
  const a = config.auth;
  if (a.mode === 'tokens') return bearerTokens(a.tokens);
  if (a.mode === 'jwt') {
    return jwtAuth({
      userClaim: a.userClaim,
      ...(a.secret ? { secret: a.secret } : {}),
      ...(a.jwksUrl ? { jwksUrl: a.jwksUrl } : {}),
      ...(a.issuer ? { issuer: a.issuer } : {}),
      ...(a.audience ? { audience: a.audience } : {}),
      ...(a.maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds: a.maxTokenAgeSeconds } : {}),
    });
  }
  return openDevAuth();
}

/** Start the signing service: local-r2 when no bucket is configured, the signer API, health, metrics, static files. */
export async function startServer(config: ServerConfig, options: { logDestination?: DestinationStream } = {}): Promise<RunningServer> {
  const env = config.env;
  const logger = createLogger(env.LOG_LEVEL, config.secrets, options.logDestination);
  const metrics = createMetrics();

  const app = express();
  app.disable('x-powered-by');
  const x = config.exposure;
  if (x.trustProxy !== false) app.set('trust proxy', x.trustProxy);
  // Before every route (health, metrics, static files, API): DNS rebinding and proxied open mode.
  app.use(allowHosts(x.allowedHosts));
  if (config.auth.mode === 'open') app.use(refuseProxied());
  // Host-less HTTP/1.1 requests get a JSON 400 from the adapter (Node's own check would send a
  // bare 400 without a body).
  const server: Server = createServer({ ...httpOptions(x.http), requireHostHeader: false }, app);
  server.setTimeout(x.http.idleTimeoutMs);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(env.PORT, env.HOST, () => {
      server.off('error', fail);
      ok();
    });
  });
  // Requests Node's parser refuses get a JSON error like every other rejection.
  answerClientErrors(server);
  const address = server.address() as AddressInfo;
  const urlHost = env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;
  const url = (env.PUBLIC_URL ?? `http://${urlHost}:${address.port}`).replace(/\/$/, '');

  let localR2: LocalR2 | undefined;
  let s3: SignerOptions['s3'];
  let tokenSecrets = env.TOKEN_SECRETS ?? [];
  let limitStore: (LimitStore & { close(): Promise<void> }) | undefined;
  let auto: ChecksumChoice | undefined;
  try {
    if (env.REDIS_URL) {
      // Loaded only when configured: ioredis stays out of every other setup.
      const { redisLimitStore, redactRedisUrl } = await import('@chute/signer/redis');
      limitStore = await redisLimitStore({ url: env.REDIS_URL, onError: (err) => logger.warn({ err: err.message }, 'Redis: connection error (limits answer 503 until it is back)') });
      logger.info({ redis: redactRedisUrl(env.REDIS_URL) }, 'rate limits and quotas are shared through Redis');
    }
    if (config.bucket) {
      const b = config.bucket;
      s3 = {
        bucket: b.bucket,
        endpoint: b.endpoint,
        region: b.region,
        forcePathStyle: b.forcePathStyle,
        credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey },
      };
    } else {
      const origins = [...new Set([url, `http://localhost:${address.port}`, ...env.CORS_ORIGINS])];
      const local = await startLocalStore({
        host: env.HOST,
        port: env.LOCAL_R2_PORT,
        dataDir: env.DATA_DIR,
        origins,
        allowedHosts: x.allowedHosts,
        headersTimeoutMs: x.http.headersTimeoutMs,
        ...(x.localR2Credentials ? { credentials: x.localR2Credentials } : {}),
      });
      localR2 = local.r2;
      s3 = { bucket: LOCAL_BUCKET, endpoint: local.endpoint, forcePathStyle: true, credentials: local.r2.credentials };
      if (tokenSecrets.length === 0) tokenSecrets = [await localTokenSecret(env.DATA_DIR)];
      logger.warn(
        { endpoint: local.endpoint, bucket: LOCAL_BUCKET, dataDir: local.dataDir },
        `LOCAL MODE: no bucket configured, serving the embedded local-r2 at ${local.endpoint} (bucket "${LOCAL_BUCKET}", data in ${local.dataDir})`,
      );
      if (local.endpoint !== local.r2.endpoint) {
        logger.warn(`LOCAL MODE on ${env.HOST}: presigned URLs point at ${local.endpoint}, which only this machine reaches; set HOST to the address other machines use (e.g. HOST=192.168.1.5) for uploads from them`);
      }
    }
    if (env.CHECKSUM_ALGORITHM === 'auto') auto = await probeChecksum(s3, logger);
    s3 = { ...s3, ...storeMultiplexed(s3, env.STORE_MULTIPLEXED, logger) };
  } catch (err) {
    server.close();
    await limitStore?.close();
    await localR2?.close();
    throw err;
  }
  if (config.auth.mode === 'open') {
    logger.warn(`OPEN DEV MODE: no authentication; every loopback caller is user "dev". Never expose this server.`);
  }

  // Set once the signer (and its store) exists; events are only made by requests, after that.
  let webhooks: WebhookOutbox | undefined;
  const hooks: Pick<SignerOptions, 'onUploadCreate' | 'onUploadCompleting' | 'onUploadComplete' | 'onUploadAbort' | 'onHookError'> = env.WEBHOOK_URL
    ? {
        onUploadCreate: (e) => void webhooks?.watch(e),
        onUploadCompleting: (e) => webhooks?.intend(e),
        onUploadComplete: (e) => webhooks?.enqueue(e),
        onUploadAbort: (e) => webhooks?.enqueue(e),
        onHookError: (err, e) => logger.error({ err, event: e.id, key: e.key }, `webhooks: could not record ${e.type} in the outbox`),
      }
    : {};
  const checksumAlgorithm = auto?.algorithm ?? (env.CHECKSUM_ALGORITHM === 'auto' ? undefined : env.CHECKSUM_ALGORITHM);
  const signer = createSigner({
    s3,
    tokenSecrets,
    authenticate: authenticator(config),
    corsOrigins: env.CORS_ORIGINS,
    tokenForm: env.TOKEN_FORM,
    rateLimit: env.RATE_LIMIT_CAPACITY > 0 && env.RATE_LIMIT_PER_SECOND > 0 ? { capacity: env.RATE_LIMIT_CAPACITY, refillPerSecond: env.RATE_LIMIT_PER_SECOND } : false,
    ...(limitStore ? { limitStore } : {}),
    ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
    ...(auto ? { storeChecksums: auto.supported } : {}),
    ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
    allowedHosts: x.allowedHosts,
    ...hooks,
    limits: {
      ...(env.MAX_FILE_SIZE !== undefined ? { maxFileSize: env.MAX_FILE_SIZE } : {}),
      ...(env.ALLOWED_CONTENT_TYPES ? { allowedContentTypes: env.ALLOWED_CONTENT_TYPES } : {}),
      ...(env.MAX_PARTS !== undefined ? { maxParts: env.MAX_PARTS } : {}),
      ...(env.MULTIPART_THRESHOLD !== undefined ? { multipartThreshold: env.MULTIPART_THRESHOLD } : {}),
      ...(env.PART_SIZE !== undefined ? { defaultPartSize: env.PART_SIZE } : {}),
      ...(env.TOKEN_TTL_SECONDS !== undefined ? { tokenTtlSeconds: env.TOKEN_TTL_SECONDS } : {}),
      ...(env.URL_TTL_SECONDS !== undefined ? { urlTtlSeconds: env.URL_TTL_SECONDS } : {}),
      ...(env.MAX_BODY_BYTES !== undefined ? { maxBodyBytes: env.MAX_BODY_BYTES } : {}),
      ...(env.REQUIRE_MD5 !== undefined ? { requireMd5: env.REQUIRE_MD5 } : {}),
      ...(env.MAX_OPEN_UPLOADS !== undefined ? { maxOpenUploads: env.MAX_OPEN_UPLOADS } : {}),
      ...(env.MAX_BYTES_PER_DAY !== undefined ? { maxBytesPerDay: env.MAX_BYTES_PER_DAY } : {}),
    },
    onResponse(info) {
      metrics.record(info);
      const line = { method: info.method, route: info.route, status: info.status, code: info.code, ms: Math.round(info.durationMs * 10) / 10, user: info.userId };
      if (info.status >= 500) logger.error({ ...line, err: info.error }, 'request failed');
      else logger.info(line, 'request');
    },
  });

  if (env.WEBHOOK_URL && env.WEBHOOK_SECRET) {
    const path = resolve(env.WEBHOOK_OUTBOX ?? `${env.DATA_DIR}/webhook-outbox.sqlite`);
    webhooks = new WebhookOutbox({
      url: env.WEBHOOK_URL,
      secret: env.WEBHOOK_SECRET,
      path,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
      logger,
      store: signer.store,
      onAttempt: (outcome) => countAttempt?.(outcome),
    });
    const countAttempt = metrics.webhooks(webhooks);
    webhooks.start();
    logger.info({ webhookUrl: env.WEBHOOK_URL, outbox: path, pending: webhooks.pending() }, 'webhooks: delivering upload events');
  }

  app.get('/healthz', async (_req, res) => {
    try {
      await signer.store.ping();
      res.json({ ok: true, bucket: 'reachable' });
    } catch (err) {
      logger.warn({ err }, 'health check: bucket unreachable');
      res.status(503).json({ ok: false, bucket: 'unreachable' });
    }
  });
  const serveMetrics = metricsHandler(metrics.registry, x.metrics.token);
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  if (x.metrics.listen) {
    // Its own listener only: the main one answers /metrics with 404.
    metricsListener = await startMetricsListener({ ...x.metrics.listen, allowedHosts: x.allowedHosts, serve: serveMetrics, options: httpOptions(x.http), idleTimeoutMs: x.http.idleTimeoutMs });
    logger.info({ metricsUrl: metricsListener.url }, `metrics on ${metricsListener.url}`);
  } else {
    app.get('/metrics', (req, res, next) => void serveMetrics(req, res).catch(next));
  }
  app.use(chuteRouter(signer));
  if (env.STATIC_DIR) {
    const dir = resolve(env.STATIC_DIR);
    if (!existsSync(dir)) logger.warn({ dir }, 'STATIC_DIR does not exist (yet); static files will 404');
    app.use(express.static(dir, { index: 'index.html', maxAge: '1h', setHeaders: noCacheHtml }));
    // Single-page app: unknown GET paths outside /api get index.html.
    app.use((req, res, next) => {
      if (req.method !== 'GET' || req.path.startsWith('/api/') || !req.accepts('html')) return next();
      res.sendFile(resolve(dir, 'index.html'), (err) => err && next());
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'Not found.' } });
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    logger.error({ err }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: { code: 'internal_error', message: 'The server failed unexpectedly.' } });
    else res.destroy();
  });

  logger.info({ url, listen: `${urlHost}:${address.port}`, mode: config.bucket ? 'bucket' : 'local', auth: config.auth.mode }, `chute-server listening on ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    signer,
    logger,
    ...(localR2 ? { localR2 } : {}),
    ...(metricsListener ? { metricsUrl: metricsListener.url } : {}),
    ...(webhooks ? { webhooks } : {}),
    close() {
      closing ??= (async () => {
        await new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeIdleConnections();
        });
        if (metricsListener) {
          const m = metricsListener.server;
          await new Promise<void>((ok) => {
            m.close(() => ok());
            m.closeIdleConnections();
          });
        }
        await webhooks?.close();
        signer.store.client.destroy();
        await limitStore?.close();
        await localR2?.close();
      })();
      return closing;
    },
  };
}

/** CHECKSUM_ALGORITHM=auto: the start-up probe (once per process and bucket), logged with its reasons. */
async function probeChecksum(s3: SignerOptions['s3'], logger: Logger): Promise<ChecksumChoice> {
  const client = createS3Client(s3);
  const endpoint = s3.endpoint ?? 'the default endpoint';
  try {
    const choice = await chooseChecksum(client, s3.bucket, endpoint);
    logger.info(
      { checksumAlgorithm: choice.algorithm, supported: choice.supported, contentMd5Enforced: choice.contentMd5Enforced, probeMs: choice.ms },
      `CHECKSUM_ALGORITHM=auto picked ${choice.algorithm}: ${choice.why}`,
    );
    if (!choice.contentMd5Enforced) logger.warn('the store accepted a wrong Content-MD5: it cannot refuse a corrupted part');
    if (choice.leftovers.length) logger.warn({ leftovers: choice.leftovers.slice(0, 5) }, 'the checksum probe could not remove all its objects (under .chute-doctor/)');
    return choice;
  } catch (err) {
    throw new Error(`CHECKSUM_ALGORITHM=auto could not probe bucket "${s3.bucket}" at ${endpoint} (${(err as Error).message}); fix the bucket settings, or set CHECKSUM_ALGORITHM explicitly to start without probing`, { cause: err });
  } finally {
    client.destroy();
  }
}

/**
 * STORE_MULTIPLEXED: set, known from the endpoint's URL (the core's knownMultiplexed: R2 yes,
 * plain HTTP no; the signer's default, so nothing to set), or else probed (TLS ALPN) in the
 * background: at start, and again on a later create while unknown (at most every 10 s; the store
 * may not be up yet). Never fatal.
 */
function storeMultiplexed(s3: SignerOptions['s3'], setting: boolean | 'auto', logger: Logger): Pick<SignerOptions['s3'], 'multiplexed'> {
  const endpoint = s3.endpoint;
  if (setting !== 'auto') return { multiplexed: setting };
  if (!endpoint) return {};
  const fromUrl = knownMultiplexed(endpoint);
  if (fromUrl !== undefined) {
    logger.info({ storeMultiplexed: fromUrl }, `STORE_MULTIPLEXED=auto: ${fromUrl ? 'an R2 endpoint (HTTP/2 and HTTP/3)' : 'plain HTTP: browsers speak HTTP/1.1 to it'}`);
    return {};
  }
  let known: boolean | undefined;
  let lastTry = 0;
  let probing = false;
  let warned = false;
  const probe = () => {
    if (probing || Date.now() - lastTry < 10_000) return;
    probing = true;
    lastTry = Date.now();
    void probeMultiplexed(endpoint).then((r) => {
      probing = false;
      known = r.multiplexed;
      if (known !== undefined) logger.info({ storeMultiplexed: known }, `STORE_MULTIPLEXED=auto: ${r.why}`);
      else if (!warned) {
        warned = true;
        logger.warn(`STORE_MULTIPLEXED=auto: cannot tell yet whether ${endpoint} speaks HTTP/2 (${r.why}); clients keep HTTP/1.1's limits until it can`);
      }
    });
  };
  probe();
  return {
    multiplexed: () => {
      if (known === undefined) probe();
      return known;
    },
  };
}

/** Slow or silent clients are cut off: headers, whole request (API bodies are ≤ 1 MiB), keep-alive. */
function httpOptions(t: Exposure['http']): ServerOptions {
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // Node checks the two timeouts on this interval (default 30 s: too coarse for short ones).
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(t.headersTimeoutMs / 4))),
  };
}

function noCacheHtml(res: express.Response, path: string): void {
  if (path.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
}
