/**
 * Host allow-list. A DNS-rebinding page (evil.example resolving to 127.0.0.1) reaches a local or
 * internal server through the victim's browser with `Host: evil.example`; answering only known
 * names closes that path. Entries: exact names (`uploads.example.com`, `127.0.0.1`, `[::1]`),
 * `*.example.com` (any subdomain, not the apex), or `*` (any host: the check is off).
 */

/** The name part of a Host value: lower-case, port dropped, IPv6 kept in brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  // A bare IPv6 address (only in a list entry; a Host header must bracket it).
  if (/^[0-9a-f:.]*:[0-9a-f:.]*:[0-9a-f:.]*$/.test(h)) return `[${h}]`;
  return h.replace(/\.?(:\d*)?$/, '');
}

const NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

function isIPv6(s: string): boolean {
  if (!/^[0-9a-f:.]+$/.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/** Throws a TypeError naming the first entry that is no host name, address or `*.domain`. */
export function checkHostPatterns(patterns: readonly string[]): void {
  for (const p of patterns) {
    const name = hostName(p);
    const ok = name === '*' || NAME.test(name) || (name.startsWith('[') && isIPv6(name.slice(1, -1)));
    if (!ok) throw new TypeError(`allowedHosts: '${p}' is not a host name, an IP address, '*.domain' or '*'`);
  }
}

/** A matcher for Host header values; port and case are ignored. */
export function hostMatcher(patterns: readonly string[]): (host: string | null | undefined) => boolean {
  checkHostPatterns(patterns);
  const names = patterns.map(hostName);
  if (names.includes('*')) return () => true;
  const exact = new Set(names.filter((n) => !n.startsWith('*.')));
  const suffixes = names.filter((n) => n.startsWith('*.')).map((n) => n.slice(1));
  return (host) => {
    if (!host) return false;
    const name = hostName(host);
    return exact.has(name) || suffixes.some((s) => name.length > s.length && name.endsWith(s));
  };
}

/** The sentence of a `host_not_allowed` refusal (the name is cut short: it is the caller's text). */
export function hostRefusal(host: string | null | undefined): string {
  const name = host ? hostName(host).slice(0, 100) : '(none)';
  return `Host '${name}' is not a name this signer answers to; set ALLOWED_HOSTS (the allowedHosts option) to include it.`;
}
