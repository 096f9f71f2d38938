import type { Verification } from '@chute/protocol';
import type { UploadRecord } from '@chute/uploader';
import type { ChuteBody } from '@chute/uploader/uppy';
import type { Body, Meta, Uppy } from '@uppy/core';
import { useUppyEvent } from '@uppy/react';
import Dashboard from '@uppy/react/dashboard';
import { type ChuteFileView, useChuteFiles, useResumableUploads } from './hooks.js';
import { type ChuteUppyOptions, useChuteUppy } from './use-chute-uppy.js';

export interface ChuteUploaderProps {
  /** Base URL of the Chute signer; `''` for the page's origin. */
  endpoint: string;
  /** Returns the caller's credential, sent as `Authorization: Bearer …`. */
  getAuthToken?: ChuteUppyOptions['getAuthToken'];
  /** Engine and Uppy options (concurrency, partSize, uppyOptions, …); read once. */
  options?: Omit<ChuteUppyOptions, 'endpoint' | 'getAuthToken'>;
  /** Use this Uppy instance (made with `createChuteUppy`) instead of creating one. */
  uppy?: Uppy<Meta, Body>;
  /** Called once per file that is stored and verified. */
  onUploaded?: (file: { id: string; name: string }, body: ChuteBody) => void;
  height?: number | string;
  theme?: 'auto' | 'dark' | 'light';
  note?: string;
}

/**
 * Drag-and-drop uploader: Uppy's Dashboard (progress, ETA, pause/resume/retry) driven by the
 * Chute engine, a per-file "verified" line, and a prompt to re-select interrupted uploads.
 * Apps import the CSS: `@uppy/core/css/style.min.css` and `@uppy/dashboard/css/style.min.css`.
 */
export function ChuteUploader(props: ChuteUploaderProps) {
  const own = useChuteUppy({
    endpoint: props.endpoint,
    ...(props.getAuthToken ? { getAuthToken: props.getAuthToken } : {}),
    ...props.options,
  });
  const uppy = props.uppy ?? own;
  return <ChuteUploaderView uppy={uppy} {...props} />;
}

function ChuteUploaderView(props: ChuteUploaderProps & { uppy: Uppy<Meta, Body> }) {
  const { uppy, onUploaded } = props;
  const files = useChuteFiles(uppy);
  useUppyEvent(uppy, 'upload-success', (file, response) => {
    if (file && onUploaded) onUploaded({ id: file.id, name: file.name ?? '' }, response.body as unknown as ChuteBody);
  });
  return (
    <div className="chute-uploader">
      <RestorePrompt uppy={uppy} />
      <Dashboard
        uppy={uppy}
        proudlyDisplayPoweredByUppy={false}
        hideProgressDetails={false}
        height={props.height ?? 360}
        width="100%"
        theme={props.theme ?? 'light'}
        {...(props.note ? { note: props.note } : {})}
      />
      {files.length > 0 && (
        <ul className="chute-files" aria-label="Upload status">
          {files.map((f) => (
            <FileLine key={f.id} file={f} />
          ))}
        </ul>
      )}
    </div>
  );
}

const LABEL: Record<string, string> = {
  hashing: 'Hashing…',
  uploading: 'Uploading',
  paused: 'Paused',
  retrying: 'Retrying…',
  completing: 'Completing…',
  verified: 'Verified',
  failed: 'Failed',
};

/** What the file row says about a stored file: the verification level, in words. */
export function verificationLabel(v: Verification | undefined, algorithm: string | undefined): string {
  switch (v?.level) {
    case 'full-object-checksum':
      return `Verified (${algorithm ?? 'checksum'} of the whole file)`;
    case 'part-checksums-and-etag':
      return `Verified (part ${algorithm === 'SHA256' ? 'SHA-256 checksums' : 'MD5s'} + ETag + size)`;
    case 'etag-and-size':
      return 'Verified (ETag + size)';
    case 'not-verifiable':
      return 'Stored \u2014 not verifiable on this store';
    default:
      return algorithm ? `Verified (${algorithm})` : 'Verified';
  }
}

function FileLine({ file }: { file: ChuteFileView }) {
  const status = file.chute?.status ?? 'waiting';
  const verification = file.chute?.verification;
  const verified = file.chute?.verifiedBy;
  const unverifiable = status === 'verified' && verification?.level === 'not-verifiable';
  const label = status === 'verified' ? verificationLabel(verification, verified?.algorithm) : (LABEL[status] ?? 'Waiting');
  const kept = file.chute?.keptParts ? ` (resumed: ${file.chute.keptParts} parts kept)` : '';
  return (
    <li
      className={`chute-file chute-file--${status}${unverifiable ? ' chute-file--unverifiable' : ''}`}
      data-file-name={file.name}
      data-status={status}
      {...(verification ? { 'data-verification': verification.level } : {})}
    >
      <span className="chute-file__name">{file.name}</span>{' '}
      <span className="chute-file__status" title={verification?.checked.join('\n')}>
        {label}
      </span>
      {status === 'verified' && !unverifiable && verified && (
        <span className="chute-file__verified" title={`${verified.algorithm} ${verified.value}`}>
          {' '}
          ✓ bucket confirmed {verified.algorithm} {verified.value}
          {kept}
        </span>
      )}
      {unverifiable && (
        <span className="chute-file__warning" role="status">
          {' '}
          ⚠ {verification?.warning ?? 'The store returned nothing to compare with the file.'}
          {kept}
        </span>
      )}
      {status === 'failed' && file.chute?.error && (
        <span className="chute-file__error" role="alert">
          {' '}
          {file.chute.error.message} <code>{file.chute.error.code}</code>
        </span>
      )}
    </li>
  );
}

function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** After a reload, lists the uploads that can resume once the same file is selected again. */
export function RestorePrompt({ uppy }: { uppy: Uppy<Meta, Body> }) {
  const { records, discard } = useResumableUploads(uppy);
  if (records.length === 0) return null;
  return (
    <div className="chute-restore" role="status">
      <p>
        {records.length === 1 ? 'An upload was interrupted.' : `${records.length} uploads were interrupted.`} Select the same
        {records.length === 1 ? ' file' : ' files'} again to resume; parts already stored are checked and kept.
      </p>
      <ul>
        {records.map((r: UploadRecord) => (
          <li key={r.fingerprint} data-restore-name={r.name}>
            {r.name} ({formatSize(r.size)}){' '}
            <button type="button" onClick={() => void discard(r)}>
              Discard
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
