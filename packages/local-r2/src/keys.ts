import { S3Error } from './errors.js';

/** In SQLite every TEXT sorts before every BLOB: an upper bound above all keys. */
export const NO_END = Buffer.from([0xff]);

/** The smallest string greater than every string that starts with `prefix` ('' → no upper bound). */
export function prefixEnd(prefix: string): string | Buffer {
  if (prefix === '') return NO_END;
  const chars = [...prefix];
  while (chars.length) {
    const last = chars.pop() as string;
    let cp = (last.codePointAt(0) as number) + 1;
    if (cp === 0xd800) cp = 0xe000;
    if (cp <= 0x10ffff) return chars.join('') + String.fromCodePoint(cp);
  }
  return NO_END;
}

/** R2 bucket names: 3–63 lowercase letters, digits and hyphens, starting and ending alphanumeric. */
export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name);
}

export const MAX_KEY_BYTES = 1024;

export function checkKey(key: string) {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new S3Error('InvalidObjectName', `Object keys must be at most ${MAX_KEY_BYTES} bytes of UTF-8.`);
  if (key.includes('\0')) throw new S3Error('InvalidObjectName', 'Object keys must not contain NUL.');
}
