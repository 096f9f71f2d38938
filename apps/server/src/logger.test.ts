import { Writable } from 'node:stream';
import { expect, test } from 'vitest';
import { createLogger } from './logger.js';

test('logs never contain URL signatures, tokens, Authorization or configured secrets', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const secret = 'my-s3-secret-access-key-123';
  const log = createLogger('info', [secret, 'static-bearer-token-abc'], sink);
  const url =
    'http://127.0.0.1:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261125%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20261125T000000Z&X-Amz-Expires=900&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&X-Amz-SignedHeaders=host&X-Amz-Security-Token=SESSIONTOKEN';
  log.info({ url, headers: { authorization: 'Bearer static-bearer-token-abc' }, token: 'eyJ0eXAiOiJ1cGxvYWQifQ.c2lnbmF0dXJl' }, `signed ${url}`);
  log.error({ err: new Error(`S3 failed for ${url} with secret ${secret}`) }, 'failed');
  log.info({ self: 'http://h/api/uppy/s3/parts?t=eyJhbGciOi.abc', nested: { deep: { v: `Bearer static-bearer-token-abc` } } }, 'nested');
  log.info(`config secretAccessKey=${secret}`);
  const out = lines.join('');
  for (const leak of ['0123456789abcdef0123456789abcdef', 'SESSIONTOKEN', 'AKID', secret, 'static-bearer-token-abc', 'c2lnbmF0dXJl', 'eyJhbGciOi']) {
    expect(out, leak).not.toContain(leak);
  }
  expect(out).toContain('X-Amz-Signature=[redacted]');
  expect(out).toContain('X-Amz-Expires=900'); // what is not secret stays readable
  expect(lines).toHaveLength(4);
  for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
});
