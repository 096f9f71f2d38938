import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostMatcher, hostName, hostRefusal, type ResponseInfo } from '@chute/signer';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { directLoopback, sendJsonError } from './guards.js';

/** Prometheus metrics of one server (its own registry, so several servers can live in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'chute_http_requests_total',
    help: 'Signer API requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'chute_http_request_duration_seconds',
    help: 'Signer API latency by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'chute_errors_total',
    help: 'Signer API error responses by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  return {
    registry,
    /** The webhook outbox's gauges and delivery counter (only when WEBHOOK_URL is set). */
    webhooks(outbox: { pending(): number; failed(): number }) {
      const attempts = new Counter({ name: 'chute_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (delivered, retry, given_up).', labelNames: ['outcome'] as const, registers: [registry] });
      new Gauge({ name: 'chute_webhook_pending', help: 'Events in the outbox not delivered yet.', registers: [registry], collect() { this.set(outbox.pending()); } });
      new Gauge({ name: 'chute_webhook_failed', help: 'Events given up on after WEBHOOK_MAX_ATTEMPTS.', registers: [registry], collect() { this.set(outbox.failed()); } });
      return (outcome: 'delivered' | 'retry' | 'given_up') => attempts.inc({ outcome });
    },
    record(info: ResponseInfo) {
      requests.inc({ method: info.method, route: info.route, status: String(info.status) });
      latency.observe({ method: info.method, route: info.route }, info.durationMs / 1000);
      if (info.code) errors.inc({ code: info.code });
    },
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * GET /metrics with its access rule: the bearer METRICS_TOKEN when one is set; otherwise only
 * callers on this machine that reach the socket directly (not through a proxy).
 */
export function metricsHandler(registry: Registry, token: string | undefined) {
  const want = token === undefined ? undefined : digest(token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (want) {
      const given = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      // Digests have one length: the comparison says nothing about how much of the token was right.
      if (!given || !timingSafeEqual(digest(given), want)) {
        return sendJsonError(res, 'unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN>.', { 'www-authenticate': 'Bearer realm="metrics"' });
      }
    } else if (!directLoopback(req)) {
      return sendJsonError(res, 'forbidden', '/metrics answers callers on this machine only (not through a proxy); set METRICS_TOKEN or METRICS_PORT to scrape it from elsewhere.');
    }
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  };
}

/**
 * The separate /metrics listener (METRICS_PORT): nothing else is served there. Scrapers address
 * it by IP, so IP literals are answered besides the allowed names (DNS rebinding needs a name).
 */
export async function startMetricsListener(
  p: { host: string; port: number; allowedHosts: string[]; serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>; options: ServerOptions; idleTimeoutMs: number },
): Promise<{ server: Server; url: string }> {
  const named = hostMatcher([...p.allowedHosts, 'localhost']);
  const server = createServer(p.options, (req, res) => {
    const host = req.headers.host;
    const name = host ? hostName(host) : '';
    if (!host || !(named(host) || isIP(name.replace(/^\[|\]$/g, '')) !== 0)) return sendJsonError(res, 'host_not_allowed', hostRefusal(host));
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') return sendJsonError(res, 'not_found', 'Only GET /metrics is served here.');
    p.serve(req, res).catch(() => res.destroy());
  });
  server.setTimeout(p.idleTimeoutMs);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(p.port, p.host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as { port: number };
  const h = p.host.includes(':') ? `[${p.host}]` : p.host;
  return { server, url: `http://${h}:${port}/metrics` };
}
