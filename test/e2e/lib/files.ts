import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MiB = 1024 * 1024;

/** A temp dir of random files, each with its SHA-256; removed by `cleanup()`. */
export function tempFiles() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chute-e2e-files-'));
  return {
    dir,
    make(name: string, size: number): { path: string; sha256: string; size: number } {
      const file = path.join(dir, name);
      const fd = openSync(file, 'w');
      const hash = createHash('sha256');
      try {
        for (let done = 0; done < size; ) {
          const chunk = randomBytes(Math.min(4 * MiB, size - done));
          writeSync(fd, chunk);
          hash.update(chunk);
          done += chunk.length;
        }
      } finally {
        closeSync(fd);
      }
      return { path: file, sha256: hash.digest('hex'), size };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
