import type { ChuteEngineOptions } from '@chute/uploader';
import { type ChutePluginOptions, ChuteUppyPlugin } from '@chute/uploader/uppy';
import Uppy, { type Body, type Meta, type UppyOptions } from '@uppy/core';
import GoldenRetriever from '@uppy/golden-retriever';
import { useState } from 'react';

export type ChuteUppyOptions = Partial<ChuteEngineOptions> & {
  /** Base URL of the Chute signer; `''` for the page's origin. */
  endpoint: string;
  getAuthToken?: ChuteEngineOptions['getAuthToken'];
  /** Options for the Uppy instance (id, restrictions, autoProceed, …). */
  uppyOptions?: Partial<UppyOptions<Meta, Body>>;
  plugin?: Omit<ChutePluginOptions, keyof ChuteEngineOptions>;
  /**
   * Restore the file list after a reload with Uppy's Golden Retriever (large files come back as
   * "ghosts" to re-select; Chute then resumes them with verified parts). Default true.
   */
  goldenRetriever?: boolean;
};

/** Builds an Uppy instance with the Chute uploader plugin (outside React, e.g. at module scope). */
export function createChuteUppy(options: ChuteUppyOptions): Uppy<Meta, Body> {
  const { uppyOptions, plugin, goldenRetriever = true, ...engine } = options;
  const uppy = new Uppy<Meta, Body>({ id: 'chute', ...uppyOptions });
  uppy.use(ChuteUppyPlugin, { ...engine, ...plugin });
  if (goldenRetriever && typeof indexedDB !== 'undefined') uppy.use(GoldenRetriever);
  return uppy;
}

/**
 * One Uppy + Chute instance for the component's lifetime. Created in a `useState` initialiser
 * and never destroyed in an effect cleanup: React 19 StrictMode re-runs effects, and destroying
 * Uppy there would cancel uploads (and abort multipart uploads) for nothing. Options are read
 * once; change them with `uppy.getPlugin('Chute').setOptions()`.
 */
export function useChuteUppy(options: ChuteUppyOptions): Uppy<Meta, Body> {
  const [uppy] = useState(() => createChuteUppy(options));
  return uppy;
}

/** The Chute plugin of an Uppy instance made by `createChuteUppy`. */
export function chutePluginOf(uppy: Uppy<Meta, Body>): ChuteUppyPlugin<Meta, Body> {
  const plugin = uppy.getPlugin('Chute');
  if (!(plugin instanceof ChuteUppyPlugin)) throw new Error('This Uppy instance has no Chute plugin (id "Chute").');
  return plugin as ChuteUppyPlugin<Meta, Body>;
}
