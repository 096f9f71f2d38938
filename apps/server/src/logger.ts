import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * JSON logs that never carry credentials: URL signatures, security tokens, upload tokens in
 * query strings, bearer tokens and every configured secret are replaced before a line is written.
 */
const PATTERNS: [RegExp, string][] = [
  [/(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"']+/gi, '$1[redacted]'],
  [/(Bearer\s+)[^\s"',]+/gi, '$1[redacted]'],
  [/([?&]t=)[^&\s"']+/g, '$1[redacted]'],
  [/("?(?:token|authorization|secret(?:AccessKey)?|password)"?\s*[:=]\s*"?)[^"\s,}]+/gi, '$1[redacted]'],
];

export function scrubber(secrets: readonly string[]): (s: string) => string {
  const literal = secrets.filter((s) => s.length >= 8).sort((a, b) => b.length - a.length);
  return (s) => {
    let out = s;
    for (const secret of literal) out = out.split(secret).join('[redacted]');
    for (const [re, rep] of PATTERNS) out = out.replace(re, rep);
    return out;
  };
}

function scrubDeep(value: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: scrub(value.message), stack: value.stack ? scrub(value.stack) : undefined };
  }
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, scrub, depth + 1);
  return out;
}

export function createLogger(level: string, secrets: readonly string[], destination?: DestinationStream): Logger {
  const scrub = scrubber(secrets);
  return pino(
    {
      level,
      base: { service: 'chute-server' },
      redact: { paths: ['headers.authorization', 'req.headers.authorization', '*.token', 'token'], censor: '[redacted]' },
      formatters: { log: (obj) => scrubDeep(obj, scrub) as Record<string, unknown> },
      hooks: {
        // Messages are scrubbed too, not only the merged object.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination,
  );
}
