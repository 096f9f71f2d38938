import { type ErrorCode, errorBody, statusOf } from '@chute/protocol';

/** The one error class of the signer: a stable code (with its HTTP status) and a human sentence. */
export class ChuteError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers (e.g. `retry-after`). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChuteError';
    this.code = code;
    this.status = statusOf(code);
    this.details = options.details;
    this.headers = options.headers;
  }

  toBody() {
    return errorBody(this.code, this.message, this.details);
  }
}

export function isChuteError(err: unknown): err is ChuteError {
  return err instanceof ChuteError;
}

/** Any thrown value as a ChuteError; unknown errors become `internal_error` (the cause is kept for logs). */
export function toChuteError(err: unknown): ChuteError {
  if (err instanceof ChuteError) return err;
  return new ChuteError('internal_error', 'The signer failed unexpectedly; the error was logged.', { cause: err });
}

/** The one error handler: a ChuteError as a JSON Response. */
export function errorResponse(err: ChuteError, extraHeaders: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(err.toBody()), {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...err.headers, ...extraHeaders },
  });
}
