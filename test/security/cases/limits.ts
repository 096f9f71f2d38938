// Holes 7 and 12: per-user quotas and rate limits, O(1) at 100k callers, shared across instances.
import { createSigner } from '@chute/signer';
import { describe } from 'vitest';
import type { Env } from '../lib/env.js';
import { api } from '../lib/http.js';
import { bearer, BUCKET, CREDS } from '../lib/servers.js';
import { answerOf, attack, refusedWith } from '../lib/suite.js';

const MiB = 1024 * 1024;

export function limitCases(env: () => Env): void {
  describe('7. quotas', () => {
    const created: { uploadId: string; token: string }[] = [];
    attack('7', 'one user opens more multipart uploads than MAX_OPEN_UPLOADS (5)', async () => {
      let last = { status: 0, code: undefined as string | undefined, text: '' };
      for (let i = 0; i < 7 && last.status !== 429; i++) {
        last = await api(env().quota.url, 'POST', '/api/uploads', bearer('quota'), { name: 'q.bin', type: 'application/octet-stream', size: 6 * MiB, multipart: true });
        if (last.status === 201) created.push(JSON.parse(last.text) as { uploadId: string; token: string });
      }
      return { ...refusedWith(last as never, 429, 'quota_exceeded'), answer: `${created.length} created, then ${answerOf(last)}` };
    });
    attack('7', 'after aborting them, more bytes in a day than MAX_BYTES_PER_DAY (80 MB)', async () => {
      for (const u of created) await api(env().quota.url, 'DELETE', `/api/uploads/${encodeURIComponent(u.uploadId)}`, { ...bearer('quota'), 'chute-upload-token': u.token });
      let last = { status: 0, code: undefined as string | undefined, text: '' };
      let made = 0;
      for (let i = 0; i < 6 && last.status !== 429; i++) {
        last = await api(env().quota.url, 'POST', '/api/uploads', bearer('quota'), { name: 'q.bin', type: 'application/octet-stream', size: 19 * MiB, multipart: true });
        if (last.status === 201) {
          made++;
          const u = JSON.parse(last.text) as { uploadId: string; token: string };
          await api(env().quota.url, 'DELETE', `/api/uploads/${encodeURIComponent(u.uploadId)}`, { ...bearer('quota'), 'chute-upload-token': u.token });
        }
      }
      return { ...refusedWith(last as never, 429, 'quota_exceeded'), answer: `${made} × 19 MiB created, then ${answerOf(last)}` };
    });
    attack('7', 'two signer instances sharing one Redis: the open-upload quota (3) holds across both', async () => {
      const [a, b] = env().shared;
      const made: string[] = [];
      let last = { status: 0, code: undefined as string | undefined };
      for (let i = 0; i < 6 && last.status !== 429; i++) {
        const base = i % 2 === 0 ? a.url : b.url;
        const r = await api(base, 'POST', '/api/uploads', bearer('mallory'), { name: 'q.bin', type: 'application/octet-stream', size: 6 * MiB, multipart: true });
        last = r;
        if (r.status === 201) made.push(base === a.url ? 'A' : 'B');
      }
      return { ...refusedWith(last as never, 429, 'quota_exceeded'), answer: `created on ${made.join(',')}, then ${answerOf(last)}` };
    });
    attack('7', 'two signer instances sharing one Redis: the request budget holds across both', async () => {
      const [a, b] = env().shared;
      let limited = 0;
      for (let i = 0; i < 30; i++) {
        const r = await api(i % 2 === 0 ? a.url : b.url, 'GET', '/api/uploads', bearer('bob'));
        if (r.status === 429) limited++;
      }
      return { answer: `${limited} of 30 answered 429 (capacity 10 per user in all)`, refused: limited >= 15 };
    });
  });

  describe('12. the rate limiter at 100,000 callers', () => {
    attack('12', '100,000 distinct IPs fill the limiter; a flooding caller is still limited and a new one still served', async () => {
      const signer = createSigner({
        s3: { bucket: BUCKET, endpoint: env().store.r2.url, forcePathStyle: true, credentials: CREDS },
        tokenSecrets: ['x'.repeat(40)],
        authenticate: () => null,
        rateLimit: { capacity: 3, refillPerSecond: 0.01 },
      });
      const hit = (ip: string) => signer.fetch(new Request('http://127.0.0.1/api/uploads'), { ip }).then((r) => r.status);
      for (let i = 0; i < 100_000; i++) await hit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      const flood: number[] = [];
      for (let i = 0; i < 10; i++) flood.push(await hit('192.0.2.1'));
      const fresh = await hit('192.0.2.2');
      signer.store.client.destroy();
      return { answer: `flooder: ${flood.join(',')}; new caller: ${fresh}`, refused: flood.includes(429) && fresh === 401 };
    }, 120_000);
  });
}
