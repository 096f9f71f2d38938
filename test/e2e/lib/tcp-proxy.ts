// A TCP proxy the test controls. `drop(ms)` resets every open connection and refuses new ones
// for `ms` (what a flaky network looks like to a browser); `rate` caps client→server bytes per
// second across all connections, so uploads last long enough to be interrupted on purpose.
import net from 'node:net';

export interface TcpProxy {
  url: string;
  /** Client→server throughput cap in bytes/s (0 = unlimited). */
  rate: number;
  drop(ms: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let downUntil = 0;
  // One shared budget: the next time the uplink is free.
  let uplinkFreeAt = 0;
  const proxy: TcpProxy = {
    url: '',
    rate: 0,
    drop(ms) {
      downUntil = Date.now() + ms;
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (proxy.rate <= 0) return;
      const now = Date.now();
      uplinkFreeAt = Math.max(uplinkFreeAt, now) + (chunk.length / proxy.rate) * 1000;
      const wait = uplinkFreeAt - now;
      if (wait > 1) {
        client.pause();
        setTimeout(() => client.resume(), wait);
      }
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
