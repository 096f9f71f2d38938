// `pnpm start`: for now the embedded R2-compatible store alone (the signer and demo join later).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../packages/local-r2/dist/cli.js', import.meta.url));
const args = ['--host', '127.0.0.1', '--port', process.env.PORT ?? '9000', '--data-dir', '.data/local-r2', '--bucket', 'chute'];
const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
