// Configuration of signer-host.ts (kept apart so importers don't compile the signer itself).
export interface SignerHostConfig {
  port?: number;
  storeEndpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** bearer token → user id */
  tokens: Record<string, string>;
  corsOrigins?: string[];
  tokenSecrets?: string[];
  rateLimit?: false | { capacity: number; refillPerSecond: number };
  /** Partial `Limits` of @chute/signer (maxFileSize, requireMd5, urlTtlSeconds, …). */
  limits?: Record<string, unknown>;
}
