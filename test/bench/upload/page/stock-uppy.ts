// Peer: stock @uppy/aws-s3 6 with its signRequest answered by Chute's stock-Uppy endpoint.
import { uppyChunkSize } from '@chute/protocol';
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import { measure, pause, theFile } from './common.js';

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
    signRequest: async (req) => {
      // The signer signs only URLs of a known length: the app adds the sizes Uppy knows but
      // does not pass (no hashing: this is stock Uppy's own data path).
      const chunk = uppyChunkSize(file.size, o.defaults ? undefined : o.partSize);
      const sizes =
        req.method === 'POST' && !('uploadId' in req)
          ? { size: file.size, ...(o.partSize && !o.defaults ? { partSize: o.partSize } : {}) }
          : req.method === 'PUT' && 'partNumber' in req
            ? { contentLength: Math.min(chunk, file.size - (req.partNumber - 1) * chunk) }
            : req.method === 'PUT'
              ? { contentLength: file.size } // a single PutObject (files Uppy does not split)
              : {};
      const res = await fetch(`${o.signerUrl}/api/uppy/sign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...req, ...sizes }),
      });
      if (!res.ok) throw new Error(`signRequest ${res.status}: ${await res.text()}`);
      return res.json();
    },
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
