// Raw HTTP for the exposure tests: node:http sets any Host and X-Forwarded-For; net trickles bytes.
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** `error.code` of a JSON error body, or the S3 `<Code>`. */
  code: string | undefined;
}

export function send(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, text, code: codeOf(text) }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(opts.body);
  });
}

function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
  }
}

/**
 * Opens a socket to `url`, writes `chunks` one every `everyMs` (then nothing), and resolves with
 * what the server answered once it closes the connection, or `open: true` if it is still open
 * after `giveUpMs` (a bound for the test, not a timing assertion).
 */
export function trickle(url: string, chunks: string[], everyMs: number, giveUpMs: number): Promise<{ open: boolean; answer: string }> {
  const u = new URL(url);
  return new Promise((ok) => {
    const s = connect(Number(u.port), u.hostname);
    let answer = '';
    let i = 0;
    const tick = setInterval(() => {
      if (i < chunks.length && s.writable) s.write(chunks[i++] as string);
    }, everyMs);
    const done = (open: boolean) => {
      clearInterval(tick);
      clearTimeout(limit);
      s.destroy();
      ok({ open, answer });
    };
    const limit = setTimeout(() => done(true), giveUpMs);
    s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => done(false));
  });
}

/**
 * One proxy hop, as nginx's `proxy_add_x_forwarded_for` does: it appends the address it sees the
 * client at (fixed here, every test client being on loopback) to whatever X-Forwarded-For came in.
 */
export async function startProxy(target: string, clientAddress: string): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    const given = req.headers['x-forwarded-for'];
    const xff = given ? `${Array.isArray(given) ? given.join(', ') : given}, ${clientAddress}` : clientAddress;
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host, 'x-forwarded-for': xff }, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((ok) => server.close(() => ok())) };
}
