import { createRequire } from 'node:module';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type * as Presigner from '@aws-sdk/s3-request-presigner';

// Loaded through Node's own resolver: the SDK's ESM build ("module" condition) is not loadable by
// Node directly, and Vite's server conditions would otherwise pick it.
const require = createRequire(import.meta.url);
export const sdk = require('@aws-sdk/client-s3') as typeof ClientS3;
export const presigner = require('@aws-sdk/s3-request-presigner') as typeof Presigner;
