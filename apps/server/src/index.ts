export { ConfigError, loadConfig, type ServerConfig } from './config.js';
export { createLogger, scrubber } from './logger.js';
export { applyBucket, chuteCorsRule, planBucket, readBucket } from './setup.js';
export { type RunningServer, startServer } from './server.js';
