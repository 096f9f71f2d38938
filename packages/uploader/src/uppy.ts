// `@chute/uploader/uppy`: the Uppy 6 integrations (kept off the main entry so the engine alone
// needs no @uppy/core).
export { type ChuteBody, type ChuteFileState, type ChutePluginOptions, type ChutePluginState, ChuteUppyPlugin } from './uppy-plugin.js';
export {
  type ChuteSignRequestOptions,
  chuteAwsS3Options,
  type PresignableRequest,
  type PresignedResponse,
} from './sign-request.js';
export { uppyChunkSize } from '@chute/protocol';
