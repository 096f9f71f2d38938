import { describe, expect, it } from 'vitest';
import { parseXml, referenceBuilder, S3_NS, toXml } from './xml.js';

const reference = (root: string, body: Record<string, unknown>) =>
  referenceBuilder.build({ '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' }, [root]: { '@_xmlns': S3_NS, ...body } }) as string;

describe('toXml', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['ListBucketResult', { Name: 'b', Prefix: '', MaxKeys: 1000, IsTruncated: false, Contents: [{ Key: `a<&>"'b`, Size: 0, ETag: '"x"' }, { Key: 'ü😀', Size: 3 }], CommonPrefixes: [] }],
    ['Owner', { Owner: { ID: 'x', DisplayName: 'y' }, Buckets: { Bucket: [{ Name: 'n', CreationDate: '2026-01-01T00:00:00.000Z' }] } }],
    ['LocationConstraint', { '#text': 'auto' }],
    ['DeleteResult', { Deleted: [{ Key: 'k' }], Error: [] }],
    ['CORSConfiguration', { CORSRule: [{ AllowedOrigin: ['*', 'https://a'], AllowedMethod: ['GET'], MaxAgeSeconds: 5 }] }],
  ];
  it.each(cases)('matches fast-xml-parser’s builder for %s', (root, body) => {
    expect(toXml(root, body)).toBe(reference(root, body));
  });

  it('round-trips through the parser', () => {
    const xml = toXml('CompleteMultipartUpload', { Part: [{ PartNumber: 1, ETag: '"e&1"' }] });
    expect(parseXml(xml, 'CompleteMultipartUpload')).toEqual({ Part: [{ PartNumber: '1', ETag: '"e&1"' }] });
  });
});
