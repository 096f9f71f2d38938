import type { ResponseInfo } from '@chute/signer';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
    record(info: ResponseInfo) {
      requests.inc({ method: info.method, route: info.route, status: String(info.status) });
      latency.observe({ method: info.method, route: info.route }, info.durationMs / 1000);
      if (info.code) errors.inc({ code: info.code });
    },
  };
}
