// STORE_MULTIPLEXED=auto's probe against real servers on loopback: TLS with and without h2, plain
// HTTP, nothing listening, a server that never answers the handshake, a certificate nobody trusts.
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { probeMultiplexed } from './alpn.js';

const certFor = () =>
  generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });

let pems: Awaited<ReturnType<typeof certFor>>;
let other: Awaited<ReturnType<typeof certFor>>;
const servers: Server[] = [];
const sockets = new Set<Socket>();

async function listen<S extends Server>(server: S): Promise<string> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  [pems, other] = await Promise.all([certFor(), certFor()]);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
});

describe('probeMultiplexed', () => {
  test('an HTTP/2 server (ALPN h2) → true', async () => {
    const h2 = createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: true }, (_req, res) => res.end());
    const addr = await listen(h2 as unknown as Server);
    expect(await probeMultiplexed(`https://${addr}`, 5000, { ca: pems.cert })).toEqual({ multiplexed: true, why: 'TLS ALPN chose h2' });
  });

  test('an HTTPS server that speaks HTTP/1.1 only → false', async () => {
    const h1 = createHttpsServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end());
    const addr = await listen(h1);
    const r = await probeMultiplexed(`https://${addr}/bucket`, 5000, { ca: pems.cert });
    expect(r.multiplexed).toBe(false);
    expect(r.why).toMatch(/HTTP\/1\.1/);
  });

  test('an http:// endpoint → false, without connecting', async () => {
    let connections = 0;
    const plain = createTcpServer((s) => {
      connections++;
      s.destroy();
    });
    const addr = await listen(plain);
    expect(await probeMultiplexed(`http://${addr}`)).toEqual({ multiplexed: false, why: 'plain HTTP: browsers speak HTTP/1.1 to it' });
    expect(connections).toBe(0);
  });

  test('nothing listening → undefined, with the reason', async () => {
    const closed = createTcpServer();
    const addr = await listen(closed);
    await new Promise((ok) => closed.close(ok));
    const r = await probeMultiplexed(`https://${addr}`, 5000);
    expect(r.multiplexed).toBeUndefined();
    expect(r.why).toMatch(/failed: .*ECONNREFUSED/);
  });

  test('a server that never answers the handshake → undefined once the timeout passes', async () => {
    const silent = createTcpServer(() => {}); // accepts, reads nothing, says nothing
    const addr = await listen(silent);
    const r = await probeMultiplexed(`https://${addr}`, 100);
    expect(r.multiplexed).toBeUndefined();
    expect(r.why).toMatch(/no TLS handshake with 127\.0\.0\.1:\d+ within 100 ms/);
  });

  test('an h2 server whose certificate is not trusted → undefined, not true', async () => {
    const h2 = createSecureServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end());
    const addr = await listen(h2 as unknown as Server);
    // Node's default trust (what production uses), and another CA than the one that signed it.
    for (const tlsOptions of [{}, { ca: other.cert }]) {
      const r = await probeMultiplexed(`https://${addr}`, 5000, tlsOptions);
      expect(r.multiplexed).toBeUndefined();
      expect(r.why).toMatch(/failed: .*certificate/i);
    }
  });

  test('not a URL → undefined', async () => {
    expect(await probeMultiplexed('not a url')).toEqual({ why: 'not a url is not a URL' });
  });
});
