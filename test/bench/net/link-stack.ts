// The store side of the shaped-link benches (links, many-files), set up once: a network namespace
// joined by a shaped veth pair (net/netns.ts), local-r2 and chute-server inside it, the bench pages
// served from the root namespace, the bucket's CORS rule for them, and the userland delay proxy
// that adds the round trip in front of both (started per link: its delay is the link's).
//
// `h2: true` adds what a real R2 deployment has in front of the same store: an HTTPS edge speaking
// HTTP/2 (net/h2-edge.ts, a throwaway certificate Chromium is told to trust by its key) before
// local-r2 and before a second chute-server that signs URLs for it. Browsers then multiplex every
// request to an origin over one connection instead of 6 HTTP/1.1 connections per host.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { nodeEntry, repoRoot } from '../../reliability/lib/services.js';
import { serverEnv } from '../../reliability/lib/signer-process.js';
import { putBenchCors } from '../lib/bucket-cors.js';
import { buildPages } from '../lib/build-pages.js';
import { startStaticServer } from '../lib/static-server.js';
import { s3Client, type StoreAccess } from '../upload/peers.js';
import { createShapedNamespace, type ShapedNamespace, type SpawnedInNs } from './netns.js';
import { makeBenchCert } from './tls-cert.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_BUCKET = 'bench';
export const BENCH_CREDS = { accessKeyId: 'chute-bench', secretAccessKey: 'chute-bench-secret-key-0123456789' };
export const BENCH_TOKEN = 'bench-user-token';
/**
 * The user's pause between opening the page (the page makes the engine, or Uppy, as an app does)
 * and picking the files: well inside Chromium's 10 s for an unused preconnected socket.
 */
export const PICK_MS = 1000;
const R2_PORT = 9000;
const SIGNER_PORT = 9001;
const SIGNER_H2_PORT = 9002;
const STORE_PROXY_PORT = 9100;
const SIGNER_PROXY_PORT = 9101;
const STORE_H2_PROXY_PORT = 9102;
const SIGNER_H2_PROXY_PORT = 9103;
const EDGE_STORE_PORT = 9200;
const EDGE_SIGNER_PORT = 9201;

export type HttpVersion = 'http/1.1' | 'h2';

export interface LinkStackOptions {
  workDir: string;
  /** Bench pages (test/bench/upload/page/<name>.ts) to build and serve. */
  pages: string[];
  /** Also serve the store and a signer over HTTPS + HTTP/2 (see above). */
  h2?: boolean;
}

/** Where a browser reaches the store and the signer over the shaped link, per HTTP version. */
export interface Endpoints {
  /** Store endpoint the signer signs for (through the delay proxy). */
  store: StoreAccess;
  signerUrl: string;
}

export interface LinkStack {
  ns: ShapedNamespace;
  storeHost: string;
  r2: SpawnedInNs;
  /** The chute-server processes (HTTP/1.1 one first). */
  signers: SpawnedInNs[];
  /** Other processes of the stack (the edge), for CPU accounting. */
  helpers: SpawnedInNs[];
  web: { url: string };
  pages: string[];
  /** Bench's own calls to the store: unshaped control veth, no proxy. */
  control: StoreAccess;
  s3: S3Client;
  /** local-r2 straight over the shaped link, no delay proxy (the link proof). */
  direct: StoreAccess;
  endpoints: Partial<Record<HttpVersion, Endpoints>>;
  /** Extra Chromium flags: trust the edge's certificate (h2 only). */
  chromiumArgs: string[];
  /** Starts the delay proxy for one link's round trip (kill it before the next). */
  startDelayProxy(rttMs: number): Promise<SpawnedInNs>;
  close(): Promise<void>;
}

export async function startLinkStack(o: LinkStackOptions): Promise<LinkStack> {
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const close = async () => {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // keep tearing down
      }
    }
  };
  try {
    const ns = createShapedNamespace();
    cleanup.push(() => ns.teardown());
    const storeHost = ns.storeIp;
    const dataDir = path.join(o.workDir, 'link-stack-r2');
    mkdirSync(dataDir, { recursive: true });
    // The store listens on every address of its namespace: the delay proxy and the edge reach it
    // on loopback, the bench's own control calls on the unshaped control veth.
    const r2 = await ns.spawnNode(
      [
        ...nodeEntry('packages/local-r2', 'cli'),
        ...['--host', '0.0.0.0', '--port', String(R2_PORT), '--data-dir', dataDir, '--bucket', BENCH_BUCKET],
        ...['--access-key-id', BENCH_CREDS.accessKeyId, '--secret-access-key', BENCH_CREDS.secretAccessKey],
        ...['--allowed-host', storeHost, '--allowed-host', ns.controlIp],
      ],
      { ready: /local-r2 listening on (http:\/\/[\d.:]+)/, cwd: repoRoot },
    );
    cleanup.push(() => r2.kill());

    const pagesDir = path.join(o.workDir, 'link-stack-pages');
    const pages = await buildPages(path.join(here, '../upload/page'), pagesDir, o.pages);
    const web = await startStaticServer({}, pagesDir);
    cleanup.push(() => web.close());

    const control: StoreAccess = { endpoint: `http://${ns.controlIp}:${R2_PORT}`, bucket: BENCH_BUCKET, ...BENCH_CREDS };
    const s3 = s3Client(control);
    await putBenchCors(s3, BENCH_BUCKET, web.url);

    // The signer signs URLs for the address browsers use (the delay proxy on the shaped link); its
    // own calls to the store come from inside the namespace and pass the proxy undelayed: it sits
    // next to the store, the user is the one far away.
    const signers: SpawnedInNs[] = [];
    const helpers: SpawnedInNs[] = [];
    const startSigner = async (port: number, storeEndpoint: string, extraEnv: Record<string, string> = {}) => {
      const signer = await ns.spawnNode(nodeEntry('apps/server', 'cli', process.env.CHUTE_USE_SOURCE === '1'), {
        cwd: repoRoot,
        env: {
          // The bench signers' usual settings (S3_*, AUTH_*, TOKEN_SECRETS, rate limits off), as startSignerProcess's.
          ...serverEnv({ port, storeEndpoint, bucket: BENCH_BUCKET, credentials: BENCH_CREDS, tokens: { [BENCH_TOKEN]: 'bench' }, corsOrigins: [web.url] }),
          ALLOWED_HOSTS: storeHost,
          ...extraEnv,
        },
        ready: /chute-server listening on (http:\/\/[\d.:]+)/,
      });
      cleanup.push(() => signer.kill());
      signers.push(signer);
    };
    const endpoints: LinkStack['endpoints'] = {};
    const storeH1 = `http://${storeHost}:${STORE_PROXY_PORT}`;
    await startSigner(SIGNER_PORT, storeH1);
    endpoints['http/1.1'] = { store: { ...control, endpoint: storeH1 }, signerUrl: `http://${storeHost}:${SIGNER_PROXY_PORT}` };

    const chromiumArgs: string[] = [];
    if (o.h2) {
      const cert = await makeBenchCert(o.workDir, [storeHost, '127.0.0.1']);
      const edge = await ns.spawnNode(
        [
          '--import',
          'tsx',
          path.join(here, 'h2-edge-cli.ts'),
          ...['--forward', `127.0.0.1:${EDGE_STORE_PORT}=127.0.0.1:${R2_PORT}`],
          ...['--forward', `127.0.0.1:${EDGE_SIGNER_PORT}=127.0.0.1:${SIGNER_H2_PORT}`],
          ...['--cert', cert.certFile, '--key', cert.keyFile],
        ],
        { ready: /h2-edge (ready)/, cwd: repoRoot },
      );
      cleanup.push(() => edge.kill());
      helpers.push(edge);
      const storeH2 = `https://${storeHost}:${STORE_H2_PROXY_PORT}`;
      await startSigner(SIGNER_H2_PORT, storeH2, { NODE_EXTRA_CA_CERTS: cert.certFile });
      endpoints.h2 = { store: { ...control, endpoint: storeH2 }, signerUrl: `https://${storeHost}:${SIGNER_H2_PROXY_PORT}` };
      chromiumArgs.push(`--ignore-certificate-errors-spki-list=${cert.spki}`);
    }

    const startDelayProxy = (rttMs: number) =>
      ns.spawnNode(
        [
          '--import',
          'tsx',
          path.join(here, 'delay-proxy-cli.ts'),
          ...['--forward', `${storeHost}:${STORE_PROXY_PORT}=127.0.0.1:${R2_PORT}`],
          ...['--forward', `${storeHost}:${SIGNER_PROXY_PORT}=127.0.0.1:${SIGNER_PORT}`],
          ...(o.h2
            ? [
                ...['--forward', `${storeHost}:${STORE_H2_PROXY_PORT}=127.0.0.1:${EDGE_STORE_PORT}`],
                ...['--forward', `${storeHost}:${SIGNER_H2_PROXY_PORT}=127.0.0.1:${EDGE_SIGNER_PORT}`],
              ]
            : []),
          ...['--delay', String(rttMs / 2), '--connect-delay', String(rttMs)],
          ...['--undelayed-from', `${storeHost},127.0.0.1`],
        ],
        { ready: /delay-proxy (ready)/, cwd: repoRoot },
      );

    return {
      ns,
      storeHost,
      r2,
      signers,
      helpers,
      web,
      pages,
      control,
      s3,
      direct: { ...control, endpoint: `http://${storeHost}:${R2_PORT}` },
      endpoints,
      chromiumArgs,
      startDelayProxy,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
