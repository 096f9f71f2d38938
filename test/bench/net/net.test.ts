import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy } from './delay-proxy.js';
import { isPartUpload, seededRandom, startFaultProxy } from './fault-proxy.js';

// A real loopback server: echoes the SHA-256 of each body and records aborted uploads.
let server: http.Server;
let base: string;
const received: { url: string; bytes: number; complete: boolean }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const h = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      bytes += c.length;
    });
    req.on('end', () => {
      received.push({ url: req.url ?? '', bytes, complete: true });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-bytes': String(bytes) });
      res.end(h.digest('hex'));
    });
    req.on('aborted', () => received.push({ url: req.url ?? '', bytes, complete: false }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function put(url: string, body: Buffer, agent?: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-length': body.length }, agent });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // Several writes so the body crosses the proxy in many chunks.
    for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
    req.end();
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('delay proxy', () => {
  it('adds at least one 2×delay round trip per request and keeps bytes intact', async () => {
    const target = new URL(base);
    const proxy = await startDelayProxy({ targetHost: target.hostname, targetPort: Number(target.port) });
    try {
      const body = randomBytes(8 * 1024 * 1024 + 17);
      const agent = new http.Agent({ keepAlive: true });
      const first = await put(`${proxy.url}/a`, body, agent);
      expect(first).toEqual({ status: 200, text: sha(body) });
      // A second request on the warm connection still costs ≥ one 40 ms round trip (a lower bound
      // only: load can make it slower, never faster).
      const t0 = performance.now();
      const small = await put(`${proxy.url}/b`, Buffer.from('x'), agent);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(38);
      expect(small.text).toBe(sha(Buffer.from('x')));
      agent.destroy();
    } finally {
      await proxy.close();
    }
  });

  it('bounds memory by pausing the sender, and still delivers everything', async () => {
    const target = new URL(base);
    const proxy = await startDelayProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port),
      delayMs: 5,
      maxQueuedBytes: 64 * 1024,
    });
    try {
      const bodies = Array.from({ length: 4 }, () => randomBytes(3 * 1024 * 1024));
      const results = await Promise.all(bodies.map((b, i) => put(`${proxy.url}/p${i}`, b)));
      expect(results.map((r) => r.text)).toEqual(bodies.map(sha));
    } finally {
      await proxy.close();
    }
  });

  it('charges a new connection one extra round trip (connectDelayMs), keeps order, and refuses public listen addresses', async () => {
    const target = new URL(base);
    const proxy = await startDelayProxy({ targetHost: target.hostname, targetPort: Number(target.port), delayMs: 15, connectDelayMs: 30 });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const body = randomBytes(2 * 1024 * 1024 + 5);
      const t0 = performance.now();
      expect((await put(`${proxy.url}/c1`, body, agent)).text).toBe(sha(body));
      // handshake (30) + request (15) + answer (15), lower bound only
      expect(performance.now() - t0).toBeGreaterThanOrEqual(58);
      const t1 = performance.now();
      expect((await put(`${proxy.url}/c2`, Buffer.from('y'), agent)).text).toBe(sha(Buffer.from('y')));
      expect(performance.now() - t1).toBeGreaterThanOrEqual(28);
      agent.destroy();
    } finally {
      await proxy.close();
    }
    await expect(startDelayProxy({ targetHost: target.hostname, targetPort: Number(target.port), listenHost: '0.0.0.0' })).rejects.toThrow(/refusing/);
    await expect(startDelayProxy({ targetHost: target.hostname, targetPort: Number(target.port), listenHost: '8.8.8.8' })).rejects.toThrow(/refusing/);
  });

  it('close() drops open connections and stops listening', async () => {
    const target = new URL(base);
    const proxy = await startDelayProxy({ targetHost: target.hostname, targetPort: Number(target.port) });
    const agent = new http.Agent({ keepAlive: true });
    await put(`${proxy.url}/c`, Buffer.from('hello'), agent);
    expect(proxy.connections()).toBeGreaterThan(0);
    await proxy.close();
    expect(proxy.connections()).toBe(0);
    await expect(put(`${proxy.url}/d`, Buffer.from('x'))).rejects.toThrow();
    agent.destroy();
  });
});

describe('fault proxy', () => {
  it('is seeded: the same seed gives the same sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('cuts the chosen fraction of part uploads mid-body and forwards the rest intact', async () => {
    const proxy = await startFaultProxy({ target: base, cutFraction: 0.3, delayFraction: 0.3, delayMs: [5, 30], seed: 7 });
    received.length = 0;
    try {
      const n = 40;
      const bodies = Array.from({ length: n }, () => randomBytes(512 * 1024));
      const outcomes = await Promise.all(
        bodies.map((b, i) =>
          put(`${proxy.url}/obj?partNumber=${i + 1}&uploadId=u`, b).then(
            (r) => ({ ok: true as const, r, i }),
            () => ({ ok: false as const, i }),
          ),
        ),
      );
      const failed = outcomes.filter((o) => !o.ok);
      const ok = outcomes.filter((o) => o.ok);
      expect(proxy.stats.eligible).toBe(n);
      expect(proxy.stats.cut).toBeGreaterThan(0);
      expect(proxy.stats.delayed).toBeGreaterThan(0);
      expect(failed.length).toBe(proxy.stats.cut);
      for (const o of ok) if (o.ok) expect(o.r.text).toBe(sha(bodies[o.i] as Buffer));
      // The upstream saw each cut request as a truncated body: some bytes, never all of them.
      await new Promise((r) => setTimeout(r, 100));
      const truncated = received.filter((r) => !r.complete);
      expect(truncated.length).toBe(proxy.stats.cut);
      for (const t of truncated) {
        expect(t.bytes).toBeGreaterThan(0);
        expect(t.bytes).toBeLessThan(512 * 1024);
      }
    } finally {
      await proxy.close();
    }
  });

  it('never touches requests that are not eligible', async () => {
    const proxy = await startFaultProxy({ target: base, cutFraction: 1, seed: 3 });
    try {
      const body = randomBytes(100_000);
      const r = await put(`${proxy.url}/plain-put`, body);
      expect(r.text).toBe(sha(body));
      expect(proxy.stats).toMatchObject({ requests: 1, eligible: 0, cut: 0 });
      expect(isPartUpload({ method: 'PUT', url: '/b/k?partNumber=2&uploadId=x' } as http.IncomingMessage)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
