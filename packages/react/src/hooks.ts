import { type PendingUpload, supportsFileHandles, type TabProgress, type UploadRecord } from '@chute/uploader';
import type { ChuteFileState, ChutePluginState } from '@chute/uploader/uppy';
import type { Body, Meta, Uppy } from '@uppy/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { chutePluginOf } from './use-chute-uppy.js';

export interface ChuteFileView {
  id: string;
  name: string;
  size: number;
  bytesUploaded: number;
  /** 0–100. */
  percentage: number;
  isPaused: boolean;
  chute: ChuteFileState | undefined;
  /** The Uppy error text, if any. */
  error: string | null;
}

type UppyFiles = ReturnType<Uppy<Meta, Body>['getState']>['files'];
interface FilesSnapshot {
  files: UppyFiles;
  chute: ChutePluginState['files'] | undefined;
}
const snapshotOf = (uppy: Uppy<Meta, Body>): FilesSnapshot => {
  const s = uppy.getState();
  return { files: s.files, chute: (s.plugins.Chute as ChutePluginState | undefined)?.files };
};

/**
 * Uppy's files and Chute's per-file state, re-read at most once per animation frame (every 100 ms
 * in a hidden tab) however many state updates come in between: with 1,000 files uploading, Uppy
 * updates its state on every progress event of every file, and re-rendering on each would block
 * the main thread.
 */
export function useFilesSnapshot(uppy: Uppy<Meta, Body>): FilesSnapshot {
  const [snapshot, setSnapshot] = useState(() => snapshotOf(uppy));
  useEffect(() => {
    let frame: number | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      frame = undefined;
      timer = undefined;
      const next = snapshotOf(uppy);
      setSnapshot((prev) => (prev.files === next.files && prev.chute === next.chute ? prev : next));
    };
    const schedule = () => {
      if (frame !== undefined || timer !== undefined) return;
      const hidden = typeof document !== 'undefined' && document.hidden;
      if (typeof requestAnimationFrame === 'function' && !hidden) frame = requestAnimationFrame(update);
      else timer = setTimeout(update, 100);
    };
    uppy.on('state-update', schedule);
    update();
    return () => {
      uppy.off('state-update', schedule);
      if (frame !== undefined) cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [uppy]);
  return snapshot;
}

/**
 * Every file with its progress and Chute state (status, verified checksum, error), for custom UIs.
 * Updated at most once per animation frame (see `useFilesSnapshot`).
 */
export function useChuteFiles(uppy: Uppy<Meta, Body>): ChuteFileView[] {
  const { files, chute } = useFilesSnapshot(uppy);
  return useMemo(() => viewsOf(files, chute), [files, chute]);
}

function viewsOf(files: UppyFiles, chute: FilesSnapshot['chute']): ChuteFileView[] {
  return Object.values(files).map((f) => ({
    id: f.id,
    name: f.name ?? '',
    size: f.size ?? 0,
    bytesUploaded: typeof f.progress.bytesUploaded === 'number' ? f.progress.bytesUploaded : 0,
    percentage: f.progress.percentage ?? 0,
    isPaused: f.isPaused ?? false,
    chute: chute?.[f.id],
    error: f.error ?? null,
  }));
}

/**
 * Uploads interrupted earlier on this device (e.g. by a reload) that can be resumed by
 * re-selecting the same file, plus a way to discard one (aborts its multipart upload).
 */
export function useResumableUploads(uppy: Uppy<Meta, Body>): {
  records: UploadRecord[];
  discard: (record: UploadRecord) => Promise<void>;
  refresh: () => void;
} {
  const [records, setRecords] = useState<UploadRecord[]>([]);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  const { files } = useFilesSnapshot(uppy);
  // Re-read when the set of files changes (one may be a re-selected interrupted upload) or on
  // refresh(); not on progress updates (an IndexedDB read each time).
  const presentKey = useMemo(() => Object.values(files).map((f) => `${f.name}|${f.size}`).join('\n'), [files]);
  useEffect(() => {
    let live = tick >= 0;
    chutePluginOf(uppy)
      .engine.resumable()
      .then((all) => {
        // A record whose file is back in Uppy is being resumed: no need to ask for it.
        const present = new Set(presentKey.split('\n'));
        if (live) setRecords(all.filter((r) => !present.has(`${r.name}|${r.size}`)));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [uppy, presentKey, tick]);
  const discard = useCallback(
    async (record: UploadRecord) => {
      await chutePluginOf(uppy).engine.discard(record);
      refresh();
    },
    [uppy, refresh],
  );
  return { records, discard, refresh };
}

/** One row of the "Interrupted uploads" panel. */
export interface PendingView {
  upload: PendingUpload;
  /** 0–100, live from the other tab when it uploads there. */
  percent: number;
  /** Live progress from the tab that uploads it (BroadcastChannel), if any. */
  remote?: TabProgress;
  /** Set after Resume found the file changed (`file_changed`) or failed otherwise. */
  problem?: { code: string; message: string };
  busy: boolean;
}

/**
 * Interrupted uploads of this device with what can be done about them: `resume(id)` (from the
 * kept file handle: one click, one permission prompt), `restart(id)` (after the file changed),
 * `discard(id)` (aborts the multipart upload). Rows uploading in another tab show its progress;
 * when that tab closes, this one takes the upload over if it may read the file without asking.
 */
export function usePendingUploads(uppy: Uppy<Meta, Body>): {
  rows: PendingView[];
  handlesSupported: boolean;
  resume: (id: string) => Promise<void>;
  restart: (id: string) => Promise<void>;
  discard: (id: string) => Promise<void>;
  refresh: () => void;
} {
  const [list, setList] = useState<PendingUpload[]>([]);
  const [remote, setRemote] = useState<Record<string, TabProgress>>({});
  const [problems, setProblems] = useState<Record<string, { code: string; message: string }>>({});
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  const { files, chute } = useFilesSnapshot(uppy);
  // The files present here (not ghosts, not failed): re-read the pending list only when this set
  // changes, not on every progress update (each read is an IndexedDB transaction).
  const presentKey = useMemo(
    () =>
      Object.values(files)
        .filter((f) => !f.isGhost && !f.error)
        .map((f) => `${f.name}|${f.size}`)
        .join('\n'),
    [files],
  );
  const watched = useRef(new Set<string>());

  useEffect(() => {
    const { engine } = chutePluginOf(uppy);
    return engine.on('remote-progress', (m) => {
      setRemote((r) => ({ ...r, [m.fingerprint]: m }));
      if (m.ended) refresh();
    });
  }, [uppy, refresh]);

  useEffect(() => {
    let live = tick >= 0;
    chutePluginOf(uppy)
      .engine.pending()
      .then((all) => {
        if (!live) return;
        // A record whose file is in Uppy (and not failed) is being uploaded here: the Dashboard shows it.
        const present = new Set(presentKey.split('\n'));
        setList(all.filter((p) => p.activeIn !== 'here' && !present.has(`${p.name}|${p.size}`)));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [uppy, presentKey, tick]);

  // Another tab's upload: poll its lock, and take over when it is released.
  const plugin = chutePluginOf(uppy);
  useEffect(() => {
    const elsewhere = list.filter((p) => p.activeIn === 'other-tab');
    for (const p of elsewhere) watched.current.add(p.id);
    const takeover = list.filter((p) => !p.activeIn && p.hasHandle && p.resumable && watched.current.has(p.id));
    for (const p of takeover) {
      watched.current.delete(p.id);
      plugin.resumePending(p.id, { requestPermission: false }).then(refresh, () => undefined);
    }
    if (elsewhere.length === 0) return;
    const timer = setInterval(refresh, 1000);
    return () => clearInterval(timer);
  }, [list, plugin, refresh]);

  const run = useCallback(
    async (id: string, fn: () => Promise<unknown>) => {
      setBusy((b) => ({ ...b, [id]: true }));
      setProblems(({ [id]: _, ...rest }) => rest);
      try {
        await fn();
      } catch (err) {
        const e = err as { code?: string; message?: string };
        setProblems((p) => ({ ...p, [id]: { code: e.code ?? 'error', message: e.message ?? String(err) } }));
      } finally {
        setBusy(({ [id]: _, ...rest }) => rest);
        refresh();
      }
    },
    [refresh],
  );
  const resume = useCallback((id: string) => run(id, () => plugin.resumePending(id)), [run, plugin]);
  const restart = useCallback((id: string) => run(id, () => plugin.resumePending(id, { restart: true })), [run, plugin]);
  const discard = useCallback((id: string) => run(id, () => plugin.engine.discard(id)), [run, plugin]);

  // A resumed file that failed in Uppy because it changed (a part differs): offer Start over here.
  const failedAs = new Map<string, { code: string; message: string }>();
  for (const f of Object.values(files)) {
    const error = chute?.[f.id]?.error;
    if (error && f.error) failedAs.set(`${f.name}|${f.size}`, error);
  }
  const rows = list.map((upload): PendingView => {
    const live = upload.activeIn === 'other-tab' ? remote[upload.record.fingerprint] : undefined;
    const bytes = live && !live.ended ? live.bytesUploaded : upload.bytesDone;
    const problem = problems[upload.id] ?? failedAs.get(`${upload.name}|${upload.size}`);
    return {
      upload,
      percent: upload.size > 0 ? Math.min(100, Math.floor((bytes / upload.size) * 100)) : 0,
      ...(live ? { remote: live } : {}),
      ...(problem ? { problem } : {}),
      busy: busy[upload.id] === true,
    };
  });
  return { rows, handlesSupported: supportsFileHandles(), resume, restart, discard, refresh };
}
