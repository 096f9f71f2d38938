// Runs delay proxies as their own process, e.g. inside the link bench's store namespace
// (`ip netns exec … node --import tsx net/delay-proxy-cli.ts …`):
//   --forward LISTEN_HOST:LISTEN_PORT=TARGET_HOST:TARGET_PORT   (repeatable; port 0 = any free port)
//   --delay MS (one way, per chunk)   --connect-delay MS (emulated handshake, default 2 × delay)
//   --undelayed-from IP,IP            (connections from these addresses are not delayed)
// Prints `delay-proxy listening on http://HOST:PORT → TARGET` per proxy, then `delay-proxy ready`.
// Exits on SIGTERM/SIGINT, when its parent goes away (stdin closes), or after --lifetime-s (default 1800).
import { startDelayProxy } from './delay-proxy.js';
import { runProxyCli } from './proxy-cli.js';

await runProxyCli({
  name: 'delay-proxy',
  usage: 'delay-proxy-cli --forward LISTEN_HOST:PORT=TARGET_HOST:PORT … [--delay MS] [--connect-delay MS]',
  options(value, lifetimeMs) {
    const delayMs = Number(value('--delay') ?? '20');
    return {
      delayMs,
      connectDelayMs: Number(value('--connect-delay') ?? String(2 * delayMs)),
      undelayedFrom: (value('--undelayed-from') ?? '').split(',').filter(Boolean),
      maxLifetimeMs: lifetimeMs,
    };
  },
  start: ({ listenHost, listenPort, targetHost, targetPort }, o) => startDelayProxy({ listenHost, listenPort, targetHost, targetPort, ...o }),
});
