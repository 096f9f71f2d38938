// Raw HTTP for attacks: node:http lets a test set any Host, forge X-Forwarded-For, send headers
// fetch forbids, and trickle bytes.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The signer's `error.code`, or the S3 `<Code>`, when the body carries one. */
  code: string | undefined;
}

export function codeOf(text: string): string | undefined {
  try {
    const j = JSON.parse(text) as { error?: { code?: string } };
    if (j?.error?.code) return j.error.code;
  } catch {
    // not JSON
  }
  return /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
}

export function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...(opts.headers ?? {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, code: codeOf(text) });
        });
        res.on('error', reject);
      },
    );
    // The server may answer and close while the body is still going out (EPIPE/ECONNRESET): that
    // is a refusal the client sees as a cut connection.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? resolve({ status: 0, headers: {}, text: '', code: err.code }) : reject(err),
    );
    req.end(opts.body);
  });
}

/** JSON call to the signer API. */
export function api(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer & { json: Record<string, unknown> }> {
  return raw(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  }).then((a) => {
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(a.text) as Record<string, unknown>;
    } catch {
      // an XML or empty body
    }
    return { ...a, json };
  });
}

/**
 * Opens a socket, sends `head` (e.g. half a request) and waits: resolves with how the server
 * ended the connection (`closed` with any bytes it answered, or `open` after `waitMs`).
 */
export function stall(url: string, head: string, waitMs: number): Promise<{ ended: 'closed' | 'open'; answer: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock: Socket = connect(Number(u.port), u.hostname);
    let answer = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ended: 'open', answer });
    }, waitMs);
    sock.on('data', (d) => (answer += d.toString('latin1')));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ ended: 'closed', answer });
    });
    sock.on('error', () => {});
    sock.write(head);
  });
}

export const md5b64 = async (b: Buffer) => (await import('node:crypto')).createHash('md5').update(b).digest('base64');
