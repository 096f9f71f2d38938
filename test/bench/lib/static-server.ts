// A tiny static server for bench pages: a fixed table of URL → file or text, loopback only.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';

export type Route = { file: string; type: string } | { body: string; type: string };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
};
export const typeOf = (file: string): string => TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';

export async function startStaticServer(routes: Record<string, Route>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
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
