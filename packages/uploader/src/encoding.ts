// Small, allocation-light conversions between the digest spellings S3 uses.

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) throw new TypeError(`not a hex string: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const hexToBase64 = (hex: string): string => bytesToBase64(hexToBytes(hex));
export const base64ToHex = (b64: string): string => bytesToHex(base64ToBytes(b64));

/** S3's x-amz-checksum-crc64nvme value: base64 of the 8 big-endian bytes. */
export function crc64ToBase64(crc: bigint): string {
  return hexToBase64(crc.toString(16).padStart(16, '0'));
}

export function crc64FromBase64(b64: string): bigint {
  return BigInt(`0x${base64ToHex(b64)}`);
}

/** ETags arrive quoted (`"abc…"`); the MD5 hex inside is what resume compares. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
}
