/**
 * @chute/protocol — the signer HTTP API as zod schemas and TypeScript types, its error codes,
 * checksum names and part-size maths. No Node imports: runs in browsers, workers and Node.
 */
export * from './api.js';
export * from './checksums.js';
export * from './errors.js';
export * from './parts.js';
export * from './text.js';
export * from './uppy.js';
