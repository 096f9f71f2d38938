// Runs HTTPS/HTTP/2 edges (net/h2-edge.ts) as their own process, e.g. inside the link bench's store
// namespace next to the delay proxy:
//   --forward LISTEN_HOST:LISTEN_PORT=ORIGIN_HOST:ORIGIN_PORT   (repeatable)
//   --cert FILE --key FILE                                     (PEM)
// Prints `h2-edge listening on https://HOST:PORT → ORIGIN` per edge, then `h2-edge ready`.
// Exits on SIGTERM/SIGINT, when its parent goes away (stdin closes), or after --lifetime-s (default 1800).
import { readFileSync } from 'node:fs';
import { type H2Edge, startH2Edge } from './h2-edge.js';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const forwards = args.flatMap((a, i) => (a === '--forward' && args[i + 1] ? [args[i + 1] as string] : []));
const lifetimeMs = Number(value('--lifetime-s') ?? '1800') * 1000;
const split = (hp: string): [string, number] => {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))];
};

const edges: H2Edge[] = [];
const stop = async (code: number) => {
  await Promise.all(edges.map((e) => e.close()));
  process.exit(code);
};
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.on('error', () => void stop(0));
process.stdin.resume();
setTimeout(() => void stop(0), lifetimeMs).unref();

try {
  const certFile = value('--cert');
  const keyFile = value('--key');
  if (forwards.length === 0 || !certFile || !keyFile) throw new Error('usage: h2-edge-cli --forward LISTEN_HOST:PORT=ORIGIN_HOST:PORT … --cert FILE --key FILE');
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  for (const f of forwards) {
    const [listen, origin] = f.split('=') as [string, string];
    const [listenHost, listenPort] = split(listen);
    const [originHost, originPort] = split(origin);
    const e = await startH2Edge({ listenHost, listenPort, originHost, originPort, cert, key });
    edges.push(e);
    console.log(`h2-edge listening on ${e.url} → ${origin}`);
  }
  console.log('h2-edge ready');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  await stop(1);
}
