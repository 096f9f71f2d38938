// Starts a throwaway radosgw for manual poking: `npx tsx test/stores/radosgw-cli.ts`; Ctrl-C stops it.
import { startRadosgw } from './radosgw.js';

const gw = await startRadosgw({ keepDir: process.argv.includes('--keep') });
console.log(`radosgw ${gw.version} ready in ${(gw.startMs / 1000).toFixed(1)} s`);
console.log(`endpoint   ${gw.endpoint}  (path-style, region "${gw.region}")`);
console.log(`bucket     ${gw.bucket}`);
console.log(`access key ${gw.credentials.accessKeyId}`);
console.log(`secret     ${gw.credentials.secretAccessKey}`);
console.log(`logs       ${gw.dir}/log`);
const stop = () => void gw.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
