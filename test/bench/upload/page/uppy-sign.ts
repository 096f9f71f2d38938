// The stock-Uppy pages' `signRequest`, answered by Chute's stock-Uppy endpoint. The signer signs
// only URLs of a known length, so the app adds the sizes Uppy knows but does not pass (no hashing:
// this is stock Uppy's own data path).
import { uppyChunkSize } from '@chute/protocol';
import type { AwsS3Options } from '@uppy/aws-s3';
import type { Body, Meta } from '@uppy/core';

type SignRequestFn = Extract<AwsS3Options<Meta, Body>, { signRequest: unknown }>['signRequest'];
type SignRequest = Parameters<SignRequestFn>[0];

/** Signs `req` for an object of `size` bytes; `partSize` when the page overrides Uppy's chunk size. */
export async function signForUppy(
  o: { signerUrl: string; token: string },
  req: SignRequest,
  size: number,
  partSize?: number,
): Promise<Awaited<ReturnType<SignRequestFn>>> {
  const chunk = uppyChunkSize(size, partSize);
  const sizes =
    req.method === 'POST' && !('uploadId' in req)
      ? { size, ...(partSize ? { partSize } : {}) }
      : req.method === 'PUT' && 'partNumber' in req
        ? { contentLength: Math.min(chunk, size - (req.partNumber - 1) * chunk) }
        : req.method === 'PUT'
          ? { contentLength: size } // a single PutObject (files Uppy does not split)
          : {};
  const res = await fetch(`${o.signerUrl}/api/uppy/sign`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...req, ...sizes }),
  });
  if (!res.ok) throw new Error(`signRequest ${res.status}: ${await res.text()}`);
  return res.json();
}
