// Part transport: one PUT of a Blob slice to a presigned URL. XHR (not fetch) because only XHR
// reports upload progress in browsers; the body is the Blob itself, so the browser streams it
// from disk without a copy in JS memory.
import { type PartFailure, parseS3Error } from './retry.js';

export interface PutRequest {
  url: string;
  headers: Record<string, string>;
  body: Blob;
  /** Abort (and fail as `stalled`) when no progress was seen for this long. */
  stallTimeoutMs: number;
  signal: AbortSignal;
  onProgress: (loaded: number) => void;
}

export interface PutResult {
  etag: string | null;
  /** Response header lookup (ETag and checksums must be in the bucket's CORS ExposeHeaders). */
  header: (name: string) => string | null;
}

export class TransportError extends Error {
  constructor(readonly failure: PartFailure) {
    super(
      failure.kind === 'http'
        ? `HTTP ${failure.status}${failure.code ? ` ${failure.code}` : ''}${failure.message ? `: ${failure.message}` : ''}`
        : failure.kind === 'stalled'
          ? 'no upload progress: request stalled'
          : 'network error',
    );
    this.name = 'TransportError';
  }
}

export interface PartTransport {
  put(req: PutRequest): Promise<PutResult>;
}

// Browsers refuse to let scripts set these; they are computed from the Blob anyway.
const FORBIDDEN = new Set(['content-length', 'host', 'connection', 'expect']);

export class XhrTransport implements PartTransport {
  put(req: PutRequest): Promise<PutResult> {
    return new Promise((resolve, reject) => {
      if (req.signal.aborted) {
        reject(req.signal.reason);
        return;
      }
      const xhr = new XMLHttpRequest();
      let stallTimer: ReturnType<typeof setTimeout> | undefined;
      let stalled = false;
      const armStall = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          stalled = true;
          xhr.abort();
        }, req.stallTimeoutMs);
      };
      const onAbort = () => xhr.abort();
      const done = () => {
        clearTimeout(stallTimer);
        req.signal.removeEventListener('abort', onAbort);
      };
      req.signal.addEventListener('abort', onAbort, { once: true });

      xhr.open('PUT', req.url, true);
      for (const [name, value] of Object.entries(req.headers)) {
        if (!FORBIDDEN.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = (e) => {
        armStall();
        req.onProgress(e.loaded);
      };
      // The response can also stall after the body went out (server hashing, lost FIN).
      xhr.onreadystatechange = armStall;
      xhr.onload = () => {
        done();
        if (xhr.status >= 200 && xhr.status < 300) {
          req.onProgress(req.body.size);
          resolve({ etag: xhr.getResponseHeader('etag'), header: (n) => xhr.getResponseHeader(n) });
          return;
        }
        const { code, message } = parseS3Error(typeof xhr.responseText === 'string' ? xhr.responseText : '');
        reject(new TransportError({ kind: 'http', status: xhr.status, code, message }));
      };
      xhr.onerror = () => {
        done();
        reject(new TransportError({ kind: 'network' }));
      };
      xhr.onabort = () => {
        done();
        if (stalled) reject(new TransportError({ kind: 'stalled' }));
        else reject(req.signal.reason ?? new DOMException('aborted', 'AbortError'));
      };
      armStall();
      xhr.send(req.body);
    });
  }
}
