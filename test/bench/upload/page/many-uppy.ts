// Peer: stock @uppy/aws-s3 6 with its defaults (limit 6, single PUT up to 100 MiB) on many files
// at once, its signRequest answered by Chute's stock-Uppy endpoint.
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { pause } from './common.js';
import { measureMany, theFiles } from './many-common.js';
import { signForUppy } from './uppy-sign.js';

interface Opts {
  signerUrl: string;
  token: string;
  /** Time between making Uppy (page open) and the files being dropped. */
  pickMs?: number;
}

async function run(o: Opts) {
  // Made when the page opens, as an app makes it; the files are dropped `pickMs` later (as for Chute).
  const files = theFiles();
  const uppy = new Uppy({ autoProceed: false });
  // Filled when the files are dropped, inside the measured run: a File's first `size` read is a
  // synchronous call to Chromium's browser process (~0.4 ms per file), as Chute's add() pays it.
  let bySize = new Map<string, number>();
  const sizeOf = (key: string) => {
    for (const [name, size] of bySize) if (key === name || key.endsWith(`/${name}`) || key.endsWith(name)) return size;
    throw new Error(`no file for key ${key}`);
  };
  uppy.use(AwsS3, {
    // No `limit`: the plugin's default (6, its source: "matches browser HTTP/1.1 per-origin connection limit").
    signRequest: (req) => signForUppy(o, req, sizeOf(req.key)),
  });
  await pause(o.pickMs ?? 0);
  return measureMany(async () => {
    bySize = new Map(files.map((f) => [f.name, f.size]));
    uppy.addFiles(files.map((f) => ({ name: f.name, type: f.type || 'application/octet-stream', data: f })));
    const result = await uppy.upload();
    const failed = result?.failed ?? [];
    if (failed.length > 0) throw new Error(`uppy: ${failed.length} failed: ${failed[0]?.error ?? ''}`);
    const keys = (result?.successful ?? []).map((f) => (f.response?.body as { key?: string } | undefined)?.key ?? '');
    uppy.destroy();
    return { keys };
  });
}

(window as unknown as { bench: unknown }).bench = { run };
