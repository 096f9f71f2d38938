export { ChuteUploader, type ChuteUploaderProps, RestorePrompt } from './chute-uploader.js';
export { type ChuteFileView, useChuteFiles, useResumableUploads } from './hooks.js';
export { type ChuteUppyOptions, chutePluginOf, createChuteUppy, useChuteUppy } from './use-chute-uppy.js';
