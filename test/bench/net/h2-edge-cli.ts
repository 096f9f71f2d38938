// Runs HTTPS/HTTP/2 edges (net/h2-edge.ts) as their own process, e.g. inside the link bench's store
// namespace next to the delay proxy:
//   --forward LISTEN_HOST:LISTEN_PORT=ORIGIN_HOST:ORIGIN_PORT   (repeatable)
//   --cert FILE --key FILE                                     (PEM)
// Prints `h2-edge listening on https://HOST:PORT → ORIGIN` per edge, then `h2-edge ready`.
// Exits on SIGTERM/SIGINT, when its parent goes away (stdin closes), or after --lifetime-s (default 1800).
import { readFileSync } from 'node:fs';
import { startH2Edge } from './h2-edge.js';
import { runProxyCli } from './proxy-cli.js';

await runProxyCli({
  name: 'h2-edge',
  usage: 'h2-edge-cli --forward LISTEN_HOST:PORT=ORIGIN_HOST:PORT … --cert FILE --key FILE',
  options(value) {
    const certFile = value('--cert');
    const keyFile = value('--key');
    return certFile && keyFile ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') } : undefined;
  },
  start: ({ listenHost, listenPort, targetHost, targetPort }, tls) => startH2Edge({ listenHost, listenPort, originHost: targetHost, originPort: targetPort, ...tls }),
});
