import { z } from 'zod';

// Strings that end up in URLs, headers or S3 keys. JSON can carry lone UTF-16 surrogates, which
// have no UTF-8 form (encodeURIComponent throws on them), and control characters, which S3 refuses.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Bytes of `s` in UTF-8 (no TextEncoder: this package has no DOM or Node types). */
export function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** True when `s` is valid Unicode (no lone surrogates), i.e. has a UTF-8 form. */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/** Text with a UTF-8 form (names, file names: sanitised later, so other characters are fine). */
export const textSchema = z.string().refine(isWellFormed, 'must be valid Unicode (no lone surrogates)');

/** An existing object's key as a client names it: 1-1024 UTF-8 bytes, valid Unicode, no control characters. */
export const objectKeySchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(isWellFormed, 'must be valid Unicode (no lone surrogates)')
  .refine((s) => !CONTROL.test(s), 'must not contain control characters')
  .refine((s) => utf8Length(s) <= 1024, 'must be at most 1024 bytes of UTF-8');

/** An S3 upload id as the bucket issues them: printable ASCII. */
export const uploadIdSchema = z.string().min(1).max(1024).regex(/^[\x21-\x7e]+$/, 'must be an upload id the bucket issued');
