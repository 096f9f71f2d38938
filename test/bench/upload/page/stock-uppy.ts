// Peer: stock @uppy/aws-s3 6 with its signRequest answered by Chute's stock-Uppy endpoint.
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { measure, pause, theFile } from './common.js';
import { signForUppy } from './uppy-sign.js';

interface Opts {
  signerUrl: string;
  token: string;
  /** Absent: Uppy's own default chunk size (ceil(size / 10,000), at least 5 MiB). */
  partSize?: number;
  /** The plugin exactly as shipped: its default chunk size and its own single-PUT/multipart choice (multipart above 100 MiB). */
  defaults?: boolean;
  /** Time between making Uppy (page open) and the upload (the user picking a file). */
  pickMs?: number;
}

async function run(o: Opts) {
  // Made when the page opens, as an app makes it; the user picks the file later (as for Chute).
  const file = theFile();
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(AwsS3, {
    ...(o.defaults ? {} : { shouldUseMultipart: true }),
    ...(o.partSize && !o.defaults ? { getChunkSize: () => o.partSize as number } : {}),
    limit: 6, // the plugin's default
    signRequest: (req) => signForUppy(o, req, file.size, o.defaults ? undefined : o.partSize),
  });
  await pause(o.pickMs ?? 0);
  return measure(async () => {
    uppy.addFile({ name: file.name, type: file.type || 'application/octet-stream', data: file });
    const result = await uppy.upload();
    const failed = result?.failed ?? [];
    if (failed.length > 0 || !result?.successful?.[0]) throw new Error(`uppy upload failed: ${failed[0]?.error ?? 'no result'}`);
    const body = result.successful[0].response?.body as { key?: string } | undefined;
    uppy.destroy();
    return { key: body?.key ?? '' };
  });
}

(window as unknown as { bench: unknown }).bench = { run };
