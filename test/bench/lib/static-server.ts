// A tiny static server for bench pages: a fixed table of URL → file or text, loopback only.
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';

export type Route = { file: string; type: string } | { body: string; type: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
};
export const typeOf = (file: string): string => TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';

/** Serves `routes`, then files under `dir` (if given); nothing outside `dir` is reachable. */
export async function startStaticServer(
  routes: Record<string, Route>,
  dir?: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let route = routes[pathname];
    if (!route && dir) {
      const file = path.resolve(dir, `.${pathname}`);
      if (file.startsWith(path.resolve(dir) + path.sep) && existsSync(file) && statSync(file).isFile()) route = { file, type: typeOf(file) };
    }
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' });
    if ('file' in route) createReadStream(route.file).pipe(res);
    else res.end(route.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
