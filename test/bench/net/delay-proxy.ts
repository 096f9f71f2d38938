// A TCP proxy that holds every chunk for `delayMs` in each direction, so a loopback connection
// behaves like one with a (2 × delayMs) round trip. Unlike DevTools throttling it delays every
// packet the browser sends, preflights and TCP handshakes included.
import net from 'node:net';

export interface DelayProxyOptions {
  /** Where to forward, e.g. the store's host and port. */
  targetHost: string;
  targetPort: number;
  /** One-way delay per chunk (default 20 ms → 40 ms round trip). */
  delayMs?: number;
  /** Bytes held per direction per connection before the sender is paused (default 16 MiB). */
  maxQueuedBytes?: number;
  /** The proxy closes itself after this long, so a crashed bench leaves nothing behind (default 30 min). */
  maxLifetimeMs?: number;
  /** Where to listen: loopback (default 127.0.0.1) or an address in 198.18.0.0/15 (the link bench's namespaces). */
  listenHost?: string;
  listenPort?: number;
  /** Emulates the TCP handshake: nothing a new connection sends reaches the target before this
   * much extra time (e.g. one round trip, 2 × delayMs) has passed since it connected. Default 0. */
  connectDelayMs?: number;
  /** Connections from these addresses pass undelayed (e.g. the signer calling the store it sits next to). */
  undelayedFrom?: string[];
}

export interface DelayProxy {
  host: string;
  port: number;
  /** `http://HOST:PORT` */
  url: string;
  connections(): number;
  close(): Promise<void>;
}

/** Forwards `from` → `to`, each chunk `delayMs` late (never before `notBefore`), pausing `from`
 * while too much is queued. One FIFO and one timer per direction: chunks leave in order even when
 * the first ones were held longer (the emulated handshake), and a 400 Mbit/s stream costs a timer
 * per batch of due chunks, not one per chunk. */
function pipeDelayed(from: net.Socket, to: net.Socket, delayMs: number, maxQueued: number, notBefore = 0): void {
  const queue: { at: number; chunk: Buffer | null }[] = []; // null = the FIN
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { at: number }).at <= now + 0.5) {
      const { chunk } = queue.shift() as { at: number; chunk: Buffer | null };
      if (chunk === null) {
        if (!to.destroyed) to.end();
        continue;
      }
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queued <= maxQueued && from.isPaused() && !from.destroyed) from.resume();
    schedule();
  };
  const schedule = () => {
    if (timer || queue.length === 0) return;
    timer = setTimeout(flush, Math.max(0, (queue[0] as { at: number }).at - performance.now()));
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ at: Math.max(performance.now() + delayMs, notBefore), chunk });
    schedule();
  };
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    if (queued > maxQueued) from.pause();
    push(chunk);
  });
  // The FIN travels with the same delay as the data before it.
  from.on('end', () => push(null));
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    queue.length = 0;
  });
}

/** Loopback, or the network-benchmark range 198.18.0.0/15 (RFC 2544) the link bench uses inside its namespaces. */
export function allowedListenHost(host: string): boolean {
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') return true;
  const m = /^198\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  return m != null && (m[1] === '18' || m[1] === '19') && [m[2], m[3]].every((x) => Number(x) <= 255);
}

export function startDelayProxy(opts: DelayProxyOptions): Promise<DelayProxy> {
  const delayMs = opts.delayMs ?? 20;
  const maxQueued = opts.maxQueuedBytes ?? 16 * 1024 * 1024;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ host: opts.targetHost, port: opts.targetPort, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // A reset on either side resets the other; an orderly FIN is forwarded (delayed) by pipeDelayed.
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    const near = opts.undelayedFrom?.includes((client.remoteAddress ?? '').replace(/^::ffff:/, '')) ?? false;
    const d = near ? 0 : delayMs;
    pipeDelayed(client, upstream, d, maxQueued, near ? 0 : performance.now() + delayMs + (opts.connectDelayMs ?? 0));
    pipeDelayed(upstream, client, d, maxQueued);
  });
  let lifetime: NodeJS.Timeout | undefined;
  const close = () =>
    new Promise<void>((resolve) => {
      if (lifetime) clearTimeout(lifetime);
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const host = opts.listenHost ?? '127.0.0.1';
  // Loopback or the benchmark range only: this is a test instrument, never a public relay.
  if (!allowedListenHost(host)) return Promise.reject(new Error(`delay proxy: refusing to listen on ${host} (loopback or 198.18.0.0/15 only)`));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listenPort ?? 0, host, () => {
      const addr = server.address() as net.AddressInfo;
      lifetime = setTimeout(() => void close(), opts.maxLifetimeMs ?? 30 * 60_000);
      lifetime.unref();
      resolve({
        host,
        port: addr.port,
        url: `http://${host}:${addr.port}`,
        connections: () => Math.ceil(sockets.size / 2),
        close,
      });
    });
  });
}
