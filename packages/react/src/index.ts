export { ChuteUploader, type ChuteUploaderProps, RestorePrompt, verificationLabel } from './chute-uploader.js';
export { type ChuteFileView, useChuteFiles, useResumableUploads } from './hooks.js';
export { type ChuteUppyOptions, chutePluginOf, createChuteUppy, useChuteUppy } from './use-chute-uppy.js';
