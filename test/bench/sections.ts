// The bench sections, in run order. Each returns its figures; run.ts adds id, title and timing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Section } from './report.js';

export interface BenchContext {
  quick: boolean;
  /** A scratch directory removed after the run (under test/bench/tmp, git-ignored). */
  workDir: string;
}

export interface SectionDef {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Modules other helpers own (e.g. local-r2.ts) are loaded only if they exist yet. */
async function optionalModule(file: string): Promise<Record<string, unknown> | null> {
  if (!existsSync(path.join(here, `${file}.ts`))) return null;
  const spec = `./${file}.js`;
  return (await import(spec)) as Record<string, unknown>;
}

export const sections: SectionDef[] = [
  {
    id: 'hashing',
    title: 'Hashing in Chromium workers',
    run: async (ctx) => (await import('./hashing/bench.js')).benchHashing(ctx),
  },
  {
    id: 'upload',
    title: 'Upload, Chromium → local-r2',
    run: async (ctx) => (await import('./upload/bench.js')).benchUpload(ctx),
  },
  {
    id: 'local-r2',
    title: 'local-r2 (store) figures',
    run: async (ctx) => {
      const mod = await optionalModule('local-r2');
      const fn = mod?.benchLocalR2 as ((o: { quick: boolean; workDir: string }) => Promise<Record<string, unknown>>) | undefined;
      if (!fn) return { status: 'skipped', reason: 'test/bench/local-r2.ts (benchLocalR2) not present yet', figures: [] };
      const extra = await fn({ quick: ctx.quick, workDir: ctx.workDir });
      return { status: 'ok', figures: [], extra };
    },
  },
];
