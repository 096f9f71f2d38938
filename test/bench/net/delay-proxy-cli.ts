// Runs delay proxies as their own process, e.g. inside the link bench's store namespace
// (`ip netns exec … node --import tsx net/delay-proxy-cli.ts …`):
//   --forward LISTEN_HOST:LISTEN_PORT=TARGET_HOST:TARGET_PORT   (repeatable; port 0 = any free port)
//   --delay MS (one way, per chunk)   --connect-delay MS (emulated handshake, default 2 × delay)
//   --undelayed-from IP,IP            (connections from these addresses are not delayed)
// Prints `delay-proxy listening on http://HOST:PORT → TARGET` per proxy, then `delay-proxy ready`.
// Exits on SIGTERM/SIGINT, when its parent goes away (stdin closes), or after --lifetime-s (default 1800).
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';

const args = process.argv.slice(2);
const value = (name: string, fallback?: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const forwards = args.flatMap((a, i) => (a === '--forward' && args[i + 1] ? [args[i + 1] as string] : []));
const delayMs = Number(value('--delay', '20'));
const connectDelayMs = Number(value('--connect-delay', String(2 * delayMs)));
const undelayedFrom = (value('--undelayed-from') ?? '').split(',').filter(Boolean);
const lifetimeMs = Number(value('--lifetime-s', '1800')) * 1000;

const split = (hp: string): [string, number] => {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))];
};

const proxies: DelayProxy[] = [];
const stop = async (code: number) => {
  await Promise.all(proxies.map((p) => p.close()));
  process.exit(code);
};
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.stdin.on('end', () => void stop(0));
process.stdin.on('error', () => void stop(0));
process.stdin.resume();
setTimeout(() => void stop(0), lifetimeMs).unref();

try {
  if (forwards.length === 0) throw new Error('usage: delay-proxy-cli --forward LISTEN_HOST:PORT=TARGET_HOST:PORT … [--delay MS] [--connect-delay MS]');
  for (const f of forwards) {
    const [listen, target] = f.split('=') as [string, string];
    const [listenHost, listenPort] = split(listen);
    const [targetHost, targetPort] = split(target);
    const p = await startDelayProxy({ listenHost, listenPort, targetHost, targetPort, delayMs, connectDelayMs, undelayedFrom, maxLifetimeMs: lifetimeMs });
    proxies.push(p);
    console.log(`delay-proxy listening on ${p.url} → ${target}`);
  }
  console.log('delay-proxy ready');
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  await stop(1);
}
