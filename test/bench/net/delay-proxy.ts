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
}

export interface DelayProxy {
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  connections(): number;
  close(): Promise<void>;
}

/** Forwards `from` → `to`, each chunk `delayMs` late, pausing `from` while too much is queued. */
function pipeDelayed(from: net.Socket, to: net.Socket, delayMs: number, maxQueued: number): void {
  let queued = 0;
  let ended = false;
  let pending = 0;
  from.on('data', (chunk: Buffer) => {
    queued += chunk.length;
    pending += 1;
    if (queued > maxQueued) from.pause();
    setTimeout(() => {
      pending -= 1;
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
      if (queued <= maxQueued && from.isPaused() && !from.destroyed) from.resume();
      if (ended && pending === 0) to.end();
    }, delayMs);
  });
  from.on('end', () => {
    ended = true;
    // The FIN travels with the same delay as the data before it.
    if (pending === 0) setTimeout(() => to.end(), delayMs);
  });
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
    pipeDelayed(client, upstream, delayMs, maxQueued);
    pipeDelayed(upstream, client, delayMs, maxQueued);
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
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: this is a test instrument, never a public relay.
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as net.AddressInfo;
      lifetime = setTimeout(() => void close(), opts.maxLifetimeMs ?? 30 * 60_000);
      lifetime.unref();
      resolve({
        host: '127.0.0.1',
        port: addr.port,
        url: `http://127.0.0.1:${addr.port}`,
        connections: () => Math.ceil(sockets.size / 2),
        close,
      });
    });
  });
}
