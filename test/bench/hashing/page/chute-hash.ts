// @chute/uploader's own WorkerHashPool over the selected file: the pool the product ships.
import { WorkerHashPool } from '@chute/uploader';

type Algo = 'md5' | 'crc64nvme' | 'sha256' | 'md5+crc64nvme';

async function run({ algo, workers, partSize }: { algo: Algo; workers: number; partSize: number }) {
  const file = (document.querySelector('#file') as HTMLInputElement).files?.[0];
  if (!file) throw new Error('no file');
  const options = {
    md5: algo.includes('md5'),
    crc64nvme: algo.includes('crc64nvme'),
    sha256: algo === 'sha256',
  };
  const pool = new WorkerHashPool({ size: workers });
  // Start every worker and load its WASM before the clock starts.
  const tiny = new Blob([new Uint8Array(1024)]);
  await Promise.all(Array.from({ length: workers }, () => pool.hashPart(tiny, 0, 1024, options)));
  const jobs: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let s = 0; s < file.size; s += partSize) jobs.push(pool.hashPart(file, s, Math.min(file.size, s + partSize), options));
  const digests = (await Promise.all(jobs)) as { md5?: string; sha256?: string }[];
  const ms = performance.now() - t0;
  pool.terminate();
  return { ms, bytes: file.size, firstDigest: digests[0]?.md5 ?? digests[0]?.sha256 ?? '' };
}

(window as unknown as { chuteHash: unknown }).chuteHash = { run };
