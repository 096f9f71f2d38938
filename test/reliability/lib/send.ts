// Sends one hand-made request over a keep-alive agent and collects status and (capped) body.
import http from 'node:http';
import net from 'node:net';

export interface Sent {
  status: number;
  body: string;
  /** The server closed the connection without an answer. */
  closed?: boolean;
  /** No answer within the timeout (the server hung on this request). */
  timedOut?: boolean;
  /** Node refused to send it (e.g. an invalid header character): not a server outcome. */
  unsendable?: boolean;
}

export function send(
  base: URL,
  req: { method: string; path: string; headers: Record<string, string>; body?: Buffer | string },
  agent: http.Agent,
  timeoutMs = 10_000,
): Promise<Sent> {
  return new Promise((resolve) => {
    let r: http.ClientRequest;
    try {
      r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers: req.headers, agent, timeout: timeoutMs });
    } catch {
      resolve({ status: 0, body: '', unsendable: true });
      return;
    }
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 65_536) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    let timedOut = false;
    r.on('timeout', () => {
      timedOut = true;
      r.destroy(new Error('timeout'));
    });
    r.on('error', (err) => resolve({ status: 0, body: String(err), ...(timedOut ? { timedOut } : { closed: true }) }));
    try {
      if (req.body !== undefined) r.write(req.body);
      r.end();
    } catch {
      r.destroy();
      resolve({ status: 0, body: '', unsendable: true });
    }
  });
}

/** Writes raw bytes on a fresh socket; returns the status line's code, or 0 if the server just closed. */
export function sendRaw(base: URL, bytes: Buffer, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ host: base.hostname, port: Number(base.port) });
    let got = '';
    const done = () => {
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      resolve(m ? Number(m[1]) : 0);
    };
    s.setTimeout(timeoutMs, done);
    s.on('data', (c) => {
      got += c.toString('latin1');
      if (/^HTTP\/1\.[01] \d{3}/.test(got)) done();
    });
    s.on('error', done);
    s.on('close', done);
    s.write(bytes);
  });
}

/** Runs `n` tasks with at most `limit` at once. */
export async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}
