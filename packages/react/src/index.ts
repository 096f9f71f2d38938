export { ChuteUploader, type ChuteUploaderProps, InterruptedUploads, RestorePrompt, verificationLabel } from './chute-uploader.js';
export { type ChuteFileView, type PendingView, useChuteFiles, usePendingUploads, useResumableUploads } from './hooks.js';
export { type ChuteUppyOptions, chutePluginOf, createChuteUppy, useChuteUppy } from './use-chute-uppy.js';
