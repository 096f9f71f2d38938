import { S3ServiceException } from '@aws-sdk/client-s3';
import { ChuteError } from './errors.js';

/** Map an S3 failure to the signer's error model. */
export function mapS3Error(err: unknown): ChuteError {
  if (err instanceof ChuteError) return err;
  if (err instanceof S3ServiceException) {
    const code = err.name;
    const msg = err.message;
    switch (code) {
      case 'NoSuchUpload':
        return new ChuteError('not_found', 'The multipart upload does not exist (it was completed, aborted or expired).', { cause: err });
      case 'NoSuchKey':
      case 'NotFound':
        return new ChuteError('not_found', 'No such object.', { cause: err });
      case 'InvalidPart':
      case 'InvalidPartOrder':
      case 'EntityTooSmall':
        return new ChuteError('upload_incomplete', `The bucket refused the parts: ${msg}`, { cause: err, details: { s3Code: code } });
      case 'BadDigest':
        return new ChuteError('checksum_mismatch', `The bucket computed a different checksum: ${msg}`, { cause: err });
      case 'InvalidDigest':
        return new ChuteError('invalid_checksum', `The bucket refused a checksum value: ${msg}`, { cause: err });
      case 'InvalidRequest':
        return new ChuteError('bad_request', `The bucket refused the request: ${msg}`, { cause: err, details: { s3Code: code } });
      default:
        return new ChuteError('storage_error', `The bucket answered ${err.$metadata.httpStatusCode ?? '?'} ${code}.`, {
          cause: err,
          details: { s3Code: code },
        });
    }
  }
  return new ChuteError('storage_unavailable', 'The bucket could not be reached.', { cause: err });
}

/** Await an S3 call, mapping its failure. */
export async function s3<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw mapS3Error(err);
  }
}

/** RFC 6266 attachment header with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
