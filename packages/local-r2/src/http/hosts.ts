import { S3Error } from '../errors.js';

/** Loopback names every local-r2 answers to; `*.localhost` carries virtual-hosted buckets. */
export const DEFAULT_ALLOWED_HOSTS = ['localhost', '*.localhost', '127.0.0.1', '[::1]'] as const;

const WILDCARD_LISTEN = new Set(['', '0.0.0.0', '::', '[::]']);

/** The name part of a Host header: port stripped, lower-case, IPv6 kept in brackets. */
export function hostName(host: string | undefined): string {
  const h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  return h.replace(/:\d*$/, '');
}

/**
 * Decides which Host names are answered. Browsers attach no credentials to an S3 request, but a
 * DNS-rebinding page (evil.test resolving to 127.0.0.1) could still reach a local server through
 * the victim's browser: refusing unknown names closes that path.
 */
export function hostMatcher(listenHost: string, extra: readonly string[] = []): (host: string | undefined) => void {
  const entries = [...DEFAULT_ALLOWED_HOSTS, ...extra].map((e) => hostName(e));
  // A wildcard bind address is not a name anyone sends; a concrete one is (e.g. 192.168.1.5).
  const listen = listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost;
  if (!WILDCARD_LISTEN.has(listen)) entries.push(hostName(listen));
  const any = entries.includes('*');
  const exact = new Set(entries.filter((e) => !e.startsWith('*.')));
  const suffixes = entries.filter((e) => e.startsWith('*.')).map((e) => e.slice(1));
  return (host) => {
    if (any) return;
    const name = hostName(host);
    if (exact.has(name) || suffixes.some((s) => name.endsWith(s) && name.length > s.length)) return;
    throw new S3Error('AccessDenied', `Host '${name}' is not a name this server answers to (allowedHosts)`);
  };
}
