// Child-process entry used only when @chute/local-r2 has no CLI entry yet: the library's
// startLocalR2() with the CLI's flags, printing the CLI's ready line.
import { parseArgs } from 'node:util';
import { startLocalR2 } from '@chute/local-r2';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
    bucket: { type: 'string', multiple: true },
    'access-key-id': { type: 'string' },
    'secret-access-key': { type: 'string' },
  },
});
const r2 = await startLocalR2({
  host: values.host as string,
  port: Number(values.port),
  dataDir: values['data-dir'] as string,
  buckets: values.bucket ?? [],
  ...(values['access-key-id'] && values['secret-access-key']
    ? { credentials: { accessKeyId: values['access-key-id'], secretAccessKey: values['secret-access-key'] } }
    : {}),
});
console.log(`local-r2 listening on ${r2.endpoint}`);
process.on('SIGTERM', () => void r2.close().then(() => process.exit(0)));
