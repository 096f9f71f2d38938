export type { Credentials } from './auth.js';
export { type S3ErrorCode, S3Error } from './errors.js';
export {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_CREDENTIALS,
  DEFAULT_SECRET_ACCESS_KEY,
  type LocalR2,
  type LocalR2Options,
  startLocalR2,
} from './server.js';
