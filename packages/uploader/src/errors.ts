import type { ErrorCode } from '@chute/protocol';

/** Codes of the engine itself, beside the signer's `ErrorCode`s. */
export type UploaderErrorCode =
  | ErrorCode
  | 'network_error' // the signer could not be reached
  | 'bad_response' // the signer answered something that is not its API
  | 'part_rejected' // the bucket refused a part for a reason retrying cannot fix
  | 'missing_etag' // the bucket's CORS does not expose ETag
  | 'retries_exhausted'
  | 'file_unreadable' // the file changed or vanished on disk
  | 'hashing_failed' // the hashing worker could not start (CSP without 'wasm-unsafe-eval', bundling)
  | 'verification_failed' // the stored object's checksum differs from the local one
  | 'file_changed' // resuming: the file on disk differs from the one the upload began with
  | 'permission_required' // resuming from a kept handle needs a user gesture to ask for read permission
  | 'permission_denied' // the user refused to let the page read the file again
  | 'not_resumable' // no handle was kept (select the file again) or the upload is gone
  | 'in_other_tab' // another tab of this app is uploading the same file
  | 'canceled';

/** The one error class of @chute/uploader: a stable `code` and a sentence a person understands. */
export class UploaderError extends Error {
  constructor(
    readonly code: UploaderErrorCode,
    message: string,
    readonly options: { status?: number; retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UploaderError';
  }

  get retryable(): boolean {
    return this.options.retryable ?? false;
  }

  get status(): number | undefined {
    return this.options.status;
  }
}

/** Reason used to abort in-flight requests on pause (not an error: the upload waits). */
export class PauseSignal extends Error {
  constructor() {
    super('paused');
    this.name = 'PauseSignal';
  }
}

export const isAbortLike = (err: unknown): boolean =>
  err instanceof PauseSignal ||
  (err instanceof UploaderError && err.code === 'canceled') ||
  (err instanceof DOMException && err.name === 'AbortError');

/** The file on disk is not the one the interrupted upload began with. */
export function fileChangedError(name: string, changes: string[]): UploaderError {
  return new UploaderError(
    'file_changed',
    `${name} changed on disk since the upload began (${changes.join('; ')}). Start over to upload the file as it is now.`,
    { details: { changes } },
  );
}
