import http from 'node:http';
import net from 'node:net';
import { ERROR_CODES } from '@chute/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startExpressApp, startStore } from './helpers.js';

// What happens to the connection when the signer refuses a request (behind @chute/signer/express,
// over real keep-alive sockets): a refused body must never leave a keep-alive socket that is then
// reset under the client's next request, nor one that hangs; requests Node's parser refuses get
// the same JSON errors as every other rejection. The fixture's body limit is 64 KiB.

let store: Awaited<ReturnType<typeof startStore>>;
let app: Awaited<ReturnType<typeof startExpressApp>>;
beforeAll(async () => {
  store = await startStore();
  app = await startExpressApp(store.r2);
});
afterAll(async () => {
  app.stop();
  await store.close();
});

const AUTH = 'Bearer alice-secret-token';
interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Local port of the socket that carried it (same port = same connection). */
  port: number;
}

/** One request over `agent`; `body` is written in chunks (chunked encoding unless a length is given). */
function request(agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((ok, fail) => {
    let answered = false;
    const r = http.request({ host: '127.0.0.1', port: app.port, method, path: `/signer${path}`, headers, agent }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: text, port: res.socket?.localPort ?? 0 }));
    });
    // Writing on after the server answered and closed is the client's problem, not the answer's.
    r.on('error', (err) => (answered ? undefined : fail(err)));
    if (body) for (let i = 0; i < body.length; i += 64 * 1024) r.write(body.subarray(i, i + 64 * 1024));
    r.end();
  });
}

const known = new Set<string>(ERROR_CODES);
const codeOf = (a: Answer) => {
  const code = (JSON.parse(a.body) as { error: { code: string } }).error.code;
  expect(known.has(code)).toBe(true);
  return code;
};

describe('a refused body never leaves a broken keep-alive connection', () => {
  test('413 for 3 MB (chunked or with Content-Length): Connection: close, and the next request works', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (const withLength of [false, true]) {
      const big = Buffer.alloc(3 * 1024 * 1024, 0x20);
      const headers: Record<string, string> = { authorization: AUTH, 'content-type': 'application/json', ...(withLength ? { 'content-length': String(big.length) } : {}) };
      const refused = await request(agent, 'POST', '/api/uploads', headers, big);
      expect([refused.status, codeOf(refused), refused.headers.connection]).toEqual([413, 'payload_too_large', 'close']);
      const next = await request(agent, 'GET', '/api/uploads', { authorization: AUTH });
      expect(next.status).toBe(200);
    }
    agent.destroy();
  });

  test('a small refused body of known length is drained and the connection is reused', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.alloc(200 * 1024, 0x20); // streamed (over 64 KiB), refused unread (no credentials)
    const refused = await request(agent, 'POST', '/api/uploads', { 'content-type': 'application/json', 'content-length': String(body.length) }, body);
    expect([refused.status, codeOf(refused), refused.headers.connection]).toEqual([401, 'unauthorized', 'keep-alive']);
    const next = await request(agent, 'GET', '/api/uploads', { authorization: AUTH });
    expect([next.status, next.port]).toEqual([200, refused.port]);
    agent.destroy();
  });

  test('a refused chunked body: read to its end when small (connection kept), closed when over 8 MiB', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const small = await request(agent, 'PUT', '/api/uploads', { authorization: AUTH }, Buffer.alloc(100 * 1024, 0x20));
    expect([small.status, codeOf(small), small.headers.connection]).toEqual([405, 'method_not_allowed', 'keep-alive']);
    const next = await request(agent, 'GET', '/api/uploads', { authorization: AUTH });
    expect([next.status, next.port]).toEqual([200, small.port]);
    const big = await request(agent, 'PUT', '/api/uploads', { authorization: AUTH }, Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect([big.status, codeOf(big), big.headers.connection]).toEqual([405, 'method_not_allowed', 'close']);
    expect((await request(agent, 'GET', '/api/uploads', { authorization: AUTH })).status).toBe(200);
    agent.destroy();
  });

  test('fetch (undici) streaming a body the signer refuses gets the answer, not EPIPE', async () => {
    for (let i = 0; i < 5; i++) {
      const body = new ReadableStream({
        start(c) {
          for (let j = 0; j < 32; j++) c.enqueue(new Uint8Array(16 * 1024).fill(32));
          c.close();
        },
      });
      const r = await fetch(`${app.base}/api/uploads`, { method: 'POST', headers: { authorization: AUTH }, body, duplex: 'half' } as RequestInit);
      expect(r.status).toBe(413);
    }
  });

  test('raw socket: a client that stops sending its body gets the whole answer and then the end of the connection (no hang)', async () => {
    // 20 MiB declared (answered at once), and 3 MiB declared (read for up to 5 s, then answered).
    for (const [length, path, status] of [
      [20 * 1024 * 1024, '/api/uploads', 413],
      [3 * 1024 * 1024, '/api/downloads/x', 404],
    ] as const) {
      const got = await new Promise<string>((ok) => {
        const s = net.connect(app.port, '127.0.0.1');
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString('latin1')));
        s.on('error', () => {});
        s.on('close', () => ok(text));
        s.write(`POST /signer${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${AUTH}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
        s.write(Buffer.alloc(256 * 1024, 0x20)); // then stop sending: the server must still answer and close
      });
      expect(got).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(got.toLowerCase()).toContain('connection: close');
      expect(got).toMatch(/"code":"(payload_too_large|not_found)"/);
    }
  });
});

describe("requests Node's HTTP parser refuses get JSON errors too (answerClientErrors)", () => {
  /** Raw bytes on a fresh socket; everything the server sends until it closes. */
  const rawExchange = (bytes: string) =>
    new Promise<string>((ok) => {
      const s = net.connect(app.port, '127.0.0.1');
      let text = '';
      s.on('data', (c: Buffer) => (text += c.toString('latin1')));
      s.on('error', () => {});
      s.on('close', () => ok(text));
      s.write(bytes);
    });
  const jsonAnswers = (text: string) =>
    [...text.matchAll(/HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n[0-9a-f\r\n]*(\{"error":\{"code":"([a-z_]+)")/g)].map((m) => [Number(m[1]), m[3]]);

  test('a DELETE whose body has no framing (what Node’s http client sends for DELETE): the stray bytes → 400 bad_request JSON', async () => {
    const text = await rawExchange(`DELETE /signer/api/uppy/s3/create?uploads HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\r\n{"raw":"x"}`);
    const answers = jsonAnswers(text);
    // The DELETE itself may or may not be answered (405) before the parser fails on the stray bytes.
    expect(answers.at(-1)).toEqual([400, 'bad_request']);
    expect(answers.every(([status, code]) => (status === 405 && code === 'method_not_allowed') || (status === 400 && code === 'bad_request'))).toBe(true);
    // Every answer on the socket carries a JSON code.
    expect(text.match(/^HTTP\/1\.1 \d{3} /gm)?.length, text).toBe(answers.length);
  });

  test('garbage request line → 400, oversized headers → 431 headers_too_large, both JSON and closed', async () => {
    const bad = await rawExchange('\u0001\u0002 nonsense\r\n\r\n');
    expect(jsonAnswers(bad)).toEqual([[400, 'bad_request']]);
    expect(bad.toLowerCase()).toContain('connection: close');
    const huge = await rawExchange(`GET /signer/api/uploads HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(jsonAnswers(huge)).toEqual([[431, 'headers_too_large']]);
  });

  test('a Host header that is no plain host (would become part of the path, or an invalid URL: was a 500) → 400 JSON', async () => {
    for (const host of ['a b', '[::1', 'x:99999', 'x@y', '', 'x/y', 'x\\y', 'x#y', 'x?y']) {
      const text = await rawExchange(`GET /signer/api/uploads HTTP/1.1\r\nhost: ${host}\r\nauthorization: ${AUTH}\r\n\r\n`);
      expect(jsonAnswers(text), host).toEqual([[400, 'bad_request']]);
    }
    const ok = await rawExchange(`GET /signer/api/uploads HTTP/1.1\r\nhost: [::1]:8080\r\nauthorization: ${AUTH}\r\nconnection: close\r\n\r\n`);
    expect(ok).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('a method fetch cannot carry (TRACE) → 400 JSON, not a 500', async () => {
    const text = await rawExchange('TRACE /signer/api/uploads HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(jsonAnswers(text)).toEqual([[400, 'bad_request']]);
  });
});
