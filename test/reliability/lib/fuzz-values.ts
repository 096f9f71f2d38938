// Building blocks of generated malformed input: nasty strings, numbers, JSON mutations, XML.
export type Rand = () => number;

export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
export const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const NASTY = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '..\\..\\windows',
  '/',
  '//',
  '%00',
  '\u0000',
  '\u202e\u0007',
  'ünïcødé-☃-𝕏',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '{{7*7}}',
  'a'.repeat(1025),
  'é'.repeat(600),
  'CON',
  'NUL.txt',
  '.',
  '?',
  '#',
  '&',
  '=',
  '%',
  '%zz',
  '%2e%2e%2f',
  '\r\nX-Injected: 1',
  'null',
  'undefined',
  '-1',
  '1e309',
  'NaN',
  '0x10',
];

export function nastyString(r: Rand): string {
  const x = r();
  if (x < 0.6) return pick(r, NASTY);
  if (x < 0.8) {
    // Any code point but lone surrogates (they are not valid in any UTF-8 request).
    return Array.from({ length: int(r, 1, 40) }, () => {
      const cp = int(r, 0, 0x10ffff);
      return String.fromCodePoint(cp >= 0xd800 && cp <= 0xdfff ? cp - 0x800 : cp);
    }).join('');
  }
  return 'x'.repeat(int(r, 1, 5000));
}

/** A header-safe version (Node rejects CR/LF and non-Latin-1 in header values). */
export const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 8000);

export function nastyNumber(r: Rand): unknown {
  return pick(r, [
    -1,
    0,
    1,
    0.5,
    -0,
    2 ** 31,
    2 ** 53,
    2 ** 53 + 2,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    10_001,
    10_000,
    5 * 1024 ** 4,
    '12',
    '1e3',
    null,
    true,
    [],
    {},
  ]);
}

export function randomJsonValue(r: Rand, depth = 0): unknown {
  const x = r();
  if (depth > 3 || x < 0.3) return nastyNumber(r);
  if (x < 0.6) return nastyString(r);
  if (x < 0.8) return Array.from({ length: int(r, 0, 4) }, () => randomJsonValue(r, depth + 1));
  return Object.fromEntries(Array.from({ length: int(r, 0, 4) }, () => [clip(nastyString(r), 30), randomJsonValue(r, depth + 1)]));
}

/** Mutates a valid JSON object: change, drop or add fields, recursively. */
export function mutateJson(r: Rand, v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) {
    const arr = v.map((x) => (r() < 0.3 ? mutateJson(r, x, depth + 1) : x));
    if (r() < 0.2) arr.push(randomJsonValue(r));
    if (r() < 0.1) return Array.from({ length: int(r, 0, 12_000) }, () => arr[0] ?? 1);
    return arr;
  }
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const k of Object.keys(o)) {
      const y = r();
      if (y < 0.25) o[k] = randomJsonValue(r);
      else if (y < 0.35) delete o[k];
      else if (y < 0.6) o[k] = mutateJson(r, o[k], depth + 1);
    }
    if (r() < 0.2) o[clip(nastyString(r), 40)] = randomJsonValue(r);
    if (r() < 0.05) Object.defineProperty(o, '__proto__', { value: { polluted: true }, enumerable: true });
    return o;
  }
  return r() < 0.5 ? randomJsonValue(r) : v;
}

/** Serialises, sometimes into broken or hostile JSON text. */
export function jsonText(r: Rand, v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  const x = r();
  if (x < 0.7) return s;
  if (x < 0.78) return s.slice(0, int(r, 0, s.length));
  if (x < 0.84) return `${'['.repeat(int(r, 1000, 100_000))}`;
  if (x < 0.88) return `{"a":${'{"a":'.repeat(5000)}1${'}'.repeat(5001)}`;
  if (x < 0.92) return s.replace(/"/g, "'");
  if (x < 0.95) return `${s}${s}`;
  return nastyString(r);
}

export function xmlText(r: Rand, root: string, inner: string): string {
  const x = r();
  const doc = `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
  if (x < 0.5) return doc;
  if (x < 0.6) return doc.slice(0, int(r, 0, doc.length));
  if (x < 0.68)
    return `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><${root}>&lol3;</${root}>`;
  if (x < 0.74) return `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${root}>&xxe;</${root}>`;
  if (x < 0.8) return `<${root}>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</${root}>`;
  if (x < 0.86) return `<${root}>${inner.replace(/>[^<]*</g, () => `>${headerSafe(nastyString(r)).slice(0, 100)}<`)}</${root}>`;
  if (x < 0.92) return `<Wrong>${inner}</Wrong>`;
  return nastyString(r);
}

/** Cuts by code points, so a cut never leaves half a surrogate pair. */
export const clip = (s: string, n: number) => Array.from(s).slice(0, n).join('');
