import type { Verification } from '@chute/protocol';
import { handlesFromDrop, pickFiles, supportsFileHandles } from '@chute/uploader';
import type { ChuteBody } from '@chute/uploader/uppy';
import type { Body, Meta, Uppy } from '@uppy/core';
import { useUppyEvent } from '@uppy/react';
import Dashboard from '@uppy/react/dashboard';
import { type DragEvent, type MouseEvent, useMemo } from 'react';
import { type ChuteFileView, type PendingView, useChuteFiles, usePendingUploads } from './hooks.js';
import { type ChuteUppyOptions, chutePluginOf, useChuteUppy } from './use-chute-uppy.js';

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
  /**
   * Status lines listed below the Dashboard (default 100): failed files first, then the others in
   * the order added; the rest are counted in a summary line. Uppy's Dashboard lists every file.
   */
  maxFileLines?: number;
}

const MAX_FILE_LINES = 100;

/** The lines to render (failed first) and the per-status counts of all files. */
function visibleLines(files: ChuteFileView[], max: number) {
  const counts: Record<string, number> = {};
  const failed: ChuteFileView[] = [];
  const rest: ChuteFileView[] = [];
  for (const f of files) {
    const status = f.chute?.status ?? 'waiting';
    counts[status] = (counts[status] ?? 0) + 1;
    if (status === 'failed') failed.push(f);
    else if (rest.length < max) rest.push(f);
  }
  const shown = [...failed, ...rest].slice(0, Math.max(max, failed.length));
  return { shown, hidden: files.length - shown.length, counts };
}

function summaryOf(counts: Record<string, number>): string {
  const order = ['verified', 'uploading', 'hashing', 'completing', 'retrying', 'paused', 'waiting', 'failed'];
  return order
    .filter((s) => counts[s])
    .map((s) => `${counts[s]} ${s === 'waiting' ? 'waiting' : (LABEL[s] ?? s).replace('…', '').toLowerCase()}`)
    .join(', ');
}

/**
 * Drag-and-drop uploader: Uppy's Dashboard (progress, ETA, pause/resume/retry) driven by the
 * Chute engine, a per-file "verified" line, and an "Interrupted uploads" panel. Where the browser
 * has the File System Access API (Chromium), files picked with "browse" or dropped keep their
 * handle, so an upload interrupted by a crash, a closed browser or a reload resumes with one click.
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
  const { shown, hidden, counts } = useMemo(() => visibleLines(files, props.maxFileLines ?? MAX_FILE_LINES), [files, props.maxFileLines]);
  useUppyEvent(uppy, 'upload-success', (file, response) => {
    if (file && onUploaded) onUploaded({ id: file.id, name: file.name ?? '' }, response.body as unknown as ChuteBody);
  });
  // A drop: its items give handles only during the event itself (Dashboard adds the files).
  const onDropCapture = (e: DragEvent<HTMLDivElement>) => {
    if (supportsFileHandles()) void chutePluginOf(uppy).rememberHandles(handlesFromDrop(e.dataTransfer));
  };
  // "browse": Chute's picker (showOpenFilePicker) instead of the input, so the files keep handles.
  const onClickCapture = (e: MouseEvent<HTMLDivElement>) => {
    if (!supportsFileHandles() || !(e.target as Element).closest?.('.uppy-Dashboard-browse')) return;
    e.preventDefault();
    e.stopPropagation();
    void pickFiles({ multiple: true }).then(async (picked) => {
      const list = picked ?? [];
      const handles = list.flatMap(({ handle }) => (handle ? [handle] : []));
      if (handles.length) await chutePluginOf(uppy).rememberHandles(handles);
      // One addFiles (the plugin hands a large selection to Uppy in slices); refusals by a
      // restriction or duplicates are shown by Uppy.
      try {
        uppy.addFiles(list.map(({ file }) => ({ name: file.name, type: file.type, data: file, source: 'Chute' })));
      } catch {
        // onBeforeFileAdded threw: Uppy has told the user
      }
    });
  };
  return (
    <div
      className="chute-uploader"
      data-file-count={files.length}
      data-verified-count={counts.verified ?? 0}
      onDropCapture={onDropCapture} onClickCapture={onClickCapture}>
      <InterruptedUploads uppy={uppy} />
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
          {shown.map((f) => (
            <FileLine key={f.id} file={f} />
          ))}
        </ul>
      )}
      {hidden > 0 && (
        <p className="chute-files__summary" role="status" data-hidden-count={hidden}>
          and {hidden} more {hidden === 1 ? 'file' : 'files'} ({summaryOf(counts)} in all)
        </p>
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

function formatAge(ms: number): string {
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/**
 * Uploads interrupted on this device (a crash, a closed browser, a reload) or running in another
 * tab: name, size, % done, age, and Resume (from the kept file handle: asks once for permission to
 * read the file) / Discard (aborts the multipart upload). Where the browser cannot keep file
 * handles, it says to select the same file again.
 */
export function InterruptedUploads({ uppy }: { uppy: Uppy<Meta, Body> }) {
  const { rows, handlesSupported, resume, restart, discard } = usePendingUploads(uppy);
  if (rows.length === 0) return null;
  const reselect = rows.some((r) => !r.upload.hasHandle);
  return (
    <section className="chute-restore" aria-label="Interrupted uploads">
      <h2 className="chute-restore__title">Interrupted uploads</h2>
      <ul>
        {rows.map((row) => (
          <PendingLine key={row.upload.id} row={row} resume={resume} restart={restart} discard={discard} />
        ))}
      </ul>
      {reselect && (
        <p className="chute-restore__note">
          {handlesSupported
            ? 'Select the same file again to resume it; parts already stored are checked and kept.'
            : 'This browser cannot reopen files by itself (no File System Access API): select the same file again to resume it; parts already stored are checked and kept.'}
        </p>
      )}
    </section>
  );
}

function PendingLine(props: { row: PendingView; resume: (id: string) => void; restart: (id: string) => void; discard: (id: string) => void }) {
  const { row } = props;
  const p = row.upload;
  const elsewhere = p.activeIn === 'other-tab';
  const changed = row.problem?.code === 'file_changed' || row.problem?.code === 'token_expired';
  const state = elsewhere ? 'other-tab' : changed ? 'changed' : 'interrupted';
  return (
    <li className={`chute-restore__item chute-restore__item--${state}`} data-restore-name={p.name} data-restore-id={p.id} data-state={state}>
      <span className="chute-restore__name">{p.name}</span>{' '}
      <span className="chute-restore__meta">
        {formatSize(p.size)} · {row.percent}% done · {elsewhere ? 'uploading in another tab' : formatAge(p.ageMs)}
      </span>
      <progress className="chute-restore__bar" max={100} value={row.percent} aria-label={`${p.name}: ${row.percent}% done`} />
      {!elsewhere && (
        <span className="chute-restore__actions">
          {changed ? (
            <button type="button" disabled={row.busy} onClick={() => props.restart(p.id)}>
              Start over
            </button>
          ) : p.hasHandle ? (
            <button type="button" disabled={row.busy} onClick={() => props.resume(p.id)}>
              Resume
            </button>
          ) : (
            <span className="chute-restore__hint">select it again to resume</span>
          )}{' '}
          <button type="button" disabled={row.busy} onClick={() => props.discard(p.id)}>
            Discard
          </button>
        </span>
      )}
      {row.problem && (
        <span className="chute-restore__problem" role="alert" data-code={row.problem.code}>
          {row.problem.message}
        </span>
      )}
    </li>
  );
}

/** @deprecated the panel is `InterruptedUploads` (kept-handle resume, other tabs); this name stays for existing apps. */
export const RestorePrompt = InterruptedUploads;
