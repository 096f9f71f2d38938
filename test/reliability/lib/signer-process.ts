// Starts test/reliability/lib/signer-host.ts as a child process (so it can be kill -9'd and its
// RSS read). Workspace packages come from their sources when CHUTE_USE_SOURCE=1 or unbuilt.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, type Service, spawnService } from './services.js';
import type { SignerHostConfig } from './signer-config.js';

const hostFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'signer-host.ts');

export function startSignerProcess(config: SignerHostConfig): Promise<Service> {
  const useSource = process.env.CHUTE_USE_SOURCE === '1' || !existsSync(path.join(repoRoot, 'packages/signer/dist/index.js'));
  return spawnService({
    args: [...(useSource ? ['--conditions=source'] : []), '--import', 'tsx', hostFile],
    env: { CHUTE_SIGNER_HOST_CONFIG: JSON.stringify(config) },
    ready: /signer listening on (http:\/\/[\d.:]+)/,
  });
}
