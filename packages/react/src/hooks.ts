import type { UploadRecord } from '@chute/uploader';
import type { ChuteFileState, ChutePluginState } from '@chute/uploader/uppy';
import type { Body, Meta, Uppy } from '@uppy/core';
import { useUppyState } from '@uppy/react';
import { useCallback, useEffect, useState } from 'react';
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

/** Every file with its progress and Chute state (status, verified checksum, error), for custom UIs. */
export function useChuteFiles(uppy: Uppy<Meta, Body>): ChuteFileView[] {
  const files = useUppyState(uppy, (s) => s.files);
  const chute = useUppyState(uppy, (s) => (s.plugins.Chute as ChutePluginState | undefined)?.files);
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
  const files = useUppyState(uppy, (s) => s.files);
  // Re-read when files change (one may be a re-selected interrupted upload) or on refresh().
  useEffect(() => {
    let live = tick >= 0;
    chutePluginOf(uppy)
      .engine.resumable()
      .then((all) => {
        // A record whose file is back in Uppy is being resumed: no need to ask for it.
        const present = new Set(Object.values(files).map((f) => `${f.name}|${f.size}`));
        if (live) setRecords(all.filter((r) => !present.has(`${r.name}|${r.size}`)));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [uppy, files, tick]);
  const discard = useCallback(
    async (record: UploadRecord) => {
      await chutePluginOf(uppy).engine.discard(record);
      refresh();
    },
    [uppy, refresh],
  );
  return { records, discard, refresh };
}
