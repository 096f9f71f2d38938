// `storeChecksums`: a create that asks for a checksum the store does not verify gets the
// configured one instead, and the answer says which, so the widget follows the store.
import { MiB } from '@chute/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { api, signerFor, startStore } from './helpers.js';

// Test responses are loosely typed on purpose.
type Json = any;

let store: Awaited<ReturnType<typeof startStore>>;
beforeAll(async () => {
  store = await startStore({ ignoreChecksums: true });
});
afterAll(() => store.close());

test('a store that verifies no additional checksum: CRC64NVME asked, NONE given; without the option the ask is kept', async () => {
  const capped = signerFor(store.r2, { checksumAlgorithm: 'NONE', storeChecksums: ['NONE'] });
  const r = await api<Json>(capped, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 12 * MiB, multipart: true, checksumAlgorithm: 'CRC64NVME' });
  expect(r.status).toBe(201);
  expect([r.body.checksumAlgorithm, r.body.checksumType, r.body.md5Required]).toEqual(['NONE', undefined, true]);

  const plain = signerFor(store.r2);
  const kept = await api<Json>(plain, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 12 * MiB, multipart: true, checksumAlgorithm: 'CRC64NVME' });
  expect(kept.body.checksumAlgorithm).toBe('CRC64NVME');

  const composite = signerFor(store.r2, { checksumAlgorithm: 'CRC32C', storeChecksums: ['CRC32C', 'NONE'] });
  const c = await api<Json>(composite, 'alice', 'POST', '/api/uploads', { name: 'a.bin', size: 12 * MiB, multipart: true, checksumAlgorithm: 'SHA256' });
  expect([c.body.checksumAlgorithm, c.body.checksumType]).toEqual(['CRC32C', 'COMPOSITE']);
});
