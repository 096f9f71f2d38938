import type { Section } from '../report.js';
import type { BenchContext } from '../sections.js';

export async function benchUpload(_ctx: BenchContext): Promise<Omit<Section, 'id' | 'title'>> {
  return { status: 'skipped', reason: 'upload bench not written yet', figures: [] };
}
