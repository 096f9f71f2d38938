// Small files: hash the whole file in a worker, ask the signer for one PUT with Content-MD5
// signed in, send it, and check the ETag (and any checksum) the bucket returns.
import { CHECKSUM_HEADERS, type Verification } from '@chute/protocol';
import { hexToBase64, normalizeEtag } from './encoding.js';
import { UploaderError } from './errors.js';
import { hashingError } from './multipart.js';
import { type SignedTarget, sendWithRecovery, signedTarget } from './send.js';
import type { PartDigest } from './hash-messages.js';
import type { EngineContext, UploadResult } from './types.js';
import type { UploadDriver } from './upload.js';

/** The whole file's digests (and, with `probeBytes`, its fingerprint probe when the hasher can). */
export function hashSingle(ctx: EngineContext, file: Blob & { name: string }, probeBytes?: number): Promise<PartDigest> {
  const algorithm = ctx.options.checksumAlgorithm;
  return ctx.hasher
    .hashPart(file, 0, file.size, {
      md5: true,
      crc64nvme: algorithm === 'CRC64NVME',
      sha256: algorithm === 'SHA256',
      ...(probeBytes === undefined ? {} : { probeBytes }),
    })
    .catch((err: unknown) => {
      throw hashingError(file.name, err);
    });
}

/** `first`: the digests already made with the fingerprint (the file is hashed again only if the bucket rejects it). */
export async function runSingle(d: UploadDriver, first?: PartDigest): Promise<UploadResult> {
  const { ctx, file } = d;
  const algorithm = ctx.options.checksumAlgorithm;
  const rehash = () => hashSingle(ctx, file);
  let digest = first ?? (await rehash());
  let signed: SignedTarget | undefined;
  let key = '';
  let discardToken: string | undefined;
  // Removes an object that failed the check, so it is never listed (signers that predate the route: nothing to do).
  const discard = async (etag: string): Promise<boolean> =>
    discardToken && ctx.signer.discard
      ? (await ctx.signer.discard(discardToken, etag).catch(() => undefined))?.discarded === true
      : false;
  const checksumOf = () =>
    algorithm === 'CRC64NVME' && digest.crc64nvme
      ? hexToBase64(digest.crc64nvme)
      : algorithm === 'SHA256' && digest.sha256
        ? hexToBase64(digest.sha256)
        : undefined;

  const sign = async (signal: AbortSignal): Promise<SignedTarget> => {
    const created = await ctx.signer.create(
      {
        name: file.name,
        type: file.type,
        size: file.size,
        multipart: false,
        checksumAlgorithm: algorithm,
        // One checksum per request (R2 refuses two): Content-MD5, which the ETag echoes back.
        md5: hexToBase64(digest.md5 as string),
        ...(ctx.options.metadata ? { metadata: ctx.options.metadata } : {}),
      },
      signal,
    );
    if (created.type !== 'single') throw new UploaderError('bad_response', 'The upload service answered a single-PUT create with a multipart upload.');
    if (created.storeMultiplexed) ctx.storeMultiplexed();
    key = created.key;
    discardToken = created.discardToken;
    d.setKey(key);
    const { url, headers, expiresAt } = created.request;
    return signedTarget(url, headers, expiresAt, ctx.clock.now(), ctx.options.urlExpiryMarginMs);
  };

  // The create is made before the PUT waits for a connection slot: with many files queued, their
  // creates run ahead of need (on the signer's connections) instead of holding a store slot for a
  // signer round trip each. A URL that went stale while waiting is signed again in the slot.
  signed = await d.signerCall('create', (signal) => sign(signal));
  d.setStatus('uploading');
  d.setParts(0, 1);
  const res = await sendWithRecovery(d, {
    body: () => file,
    signed: async () => {
      if (!signed || ctx.clock.now() >= signed.staleAtMs) signed = await sign(d.signal);
      return signed;
    },
    invalidate: () => {
      signed = undefined;
    },
    rehash: async () => {
      digest = await rehash();
      signed = undefined;
    },
    onProgress: (loaded) => d.progress(loaded),
  });
  const etag = normalizeEtag(res.etag as string);
  // The bucket enforced the signed Content-MD5 (and any checksum); what it returns is compared
  // when it returns it: a plain-MD5 ETag, and the checksum header when CORS exposes it.
  const echoed = algorithm === 'NONE' ? null : res.header(CHECKSUM_HEADERS[algorithm]);
  const local = checksumOf();
  const checked: string[] = [];
  const fail = async (message: string): Promise<never> => {
    const removed = await discard(etag);
    throw new UploaderError('verification_failed', `${message} ${removed ? 'The object was removed.' : 'The object could not be removed.'}`, {
      details: { key, removed },
    });
  };
  let verifiedBy: UploadResult['verifiedBy'];
  if (echoed && local && algorithm !== 'NONE') {
    if (echoed !== local) await fail(`The stored object's ${algorithm} ${echoed} differs from the file's ${local}.`);
    verifiedBy = { algorithm, value: local };
    checked.push(`${algorithm} ${local} of the whole file, returned by the store, equals the file's`);
  }
  if (/^[0-9a-f]{32}$/.test(etag)) {
    if (etag !== digest.md5) await fail(`The stored object's ETag ${etag} differs from the file's MD5 ${digest.md5}.`);
    verifiedBy ??= { algorithm: 'MD5', value: hexToBase64(digest.md5 as string) };
    checked.push(`ETag ${etag} equals the file's MD5 (Content-MD5 signed, enforced by the store)`);
  }
  checked.push(`size ${file.size} signed as Content-Length`);
  d.setParts(1, 1);
  d.setStatus('completing');
  const verification: Verification = verifiedBy
    ? { level: 'full-object-checksum', checked }
    : {
        level: 'not-verifiable',
        checked,
        warning: `Stored, but not verifiable on this store: its ETag (${etag}) is not an MD5 and it returned no ${algorithm === 'NONE' ? 'checksum' : algorithm}.`,
      };
  return {
    key,
    location: signed?.url.split('?')[0] ?? '',
    etag,
    size: file.size,
    verification,
    ...(verifiedBy ? { verifiedBy } : {}),
    keptParts: 0,
    sentParts: 1,
  };
}
