// Random test files, written in 4 MiB blocks (fast, and the same bytes are never repeated so no
// layer can deduplicate or compress them).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, openSync, statSync, writeSync, closeSync } from 'node:fs';

export const MiB = 1024 * 1024;

export function makeRandomFile(file: string, size: number): string {
  if (existsSync(file) && statSync(file).size === size) return file;
  const fd = openSync(file, 'w');
  try {
    for (let off = 0; off < size; off += 4 * MiB) writeSync(fd, randomBytes(Math.min(4 * MiB, size - off)));
  } finally {
    closeSync(fd);
  }
  return file;
}

export function md5File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(file, { highWaterMark: 4 * MiB })
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
