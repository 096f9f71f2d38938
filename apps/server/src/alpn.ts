// STORE_MULTIPLEXED=auto: does the store's endpoint speak HTTP/2? Browsers use HTTP/2 only over TLS,
// when ALPN picks `h2`; then they send every request to that origin over one connection, and
// Chute's clients keep many more small files in flight than the 6 HTTP/1.1 connections per host.
import { connect } from 'node:tls';
import { isIP } from 'node:net';

/**
 * true: the endpoint negotiates h2; false: plain HTTP or HTTP/1.1 only; undefined: could not tell.
 * `tlsOptions.ca` (tests) trusts another CA instead of Node's default ones.
 */
export function probeMultiplexed(endpoint: string, timeoutMs = 3000, tlsOptions: { ca?: string | Buffer } = {}): Promise<{ multiplexed?: boolean; why: string }> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.resolve({ why: `${endpoint} is not a URL` });
  }
  if (url.protocol === 'http:') return Promise.resolve({ multiplexed: false, why: 'plain HTTP: browsers speak HTTP/1.1 to it' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve) => {
    const socket = connect({ ...tlsOptions, host, port, ALPNProtocols: ['h2', 'http/1.1'], ...(isIP(host) ? {} : { servername: host }) });
    const done = (r: { multiplexed?: boolean; why: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ why: `no TLS handshake with ${host}:${port} within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      const p = socket.alpnProtocol;
      done(p === 'h2' ? { multiplexed: true, why: 'TLS ALPN chose h2' } : { multiplexed: false, why: `TLS ALPN chose ${p || 'nothing'} (HTTP/1.1)` });
    });
    socket.once('error', (err) => done({ why: `TLS to ${host}:${port} failed: ${err.message}` }));
  });
}
