import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

/** Serialises `{ Root: {...} }` with the XML declaration; the root gets S3's namespace. */
export function toXml(rootName: string, body: Record<string, unknown>): string {
  return builder.build({
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    [rootName]: { '@_xmlns': S3_NS, ...body },
  }) as string;
}

const ARRAY_TAGS = new Set([
  'Part',
  'CORSRule',
  'AllowedOrigin',
  'AllowedMethod',
  'AllowedHeader',
  'ExposeHeader',
  'Rule',
  'Transition',
  'NoncurrentVersionTransition',
  'Object',
]);
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ARRAY_TAGS.has(name),
});

/** Parses a request body; anything that is not well-formed XML with the expected root is MalformedXML. */
export function parseXml(text: string, rootName: string): Record<string, unknown> {
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
  const root = doc[rootName];
  if (root === '' || root === undefined) {
    if (root === '') return {};
    throw new S3Error('MalformedXML');
  }
  if (typeof root !== 'object' || root === null) throw new S3Error('MalformedXML');
  return root as Record<string, unknown>;
}

/** Rejects element names a schema does not know (R2 rejects unknown keys too). */
export function onlyKeys(node: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(node)) if (!allowed.includes(k)) throw new S3Error('MalformedXML');
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new S3Error('MalformedXML');
}

export const isoDate = (ms: number) => new Date(ms).toISOString();
export const httpDate = (ms: number) => new Date(ms).toUTCString();
