// What delay-proxy-cli.ts and h2-edge-cli.ts share: `--forward LISTEN_HOST:PORT=TARGET_HOST:PORT`
// (repeatable), `--lifetime-s` (default 1800), and the process lifecycle of a helper spawned into
// the link bench's store namespace: it exits on SIGTERM/SIGINT, when its parent goes away (stdin
// closes), or when its lifetime is up. Prints `NAME listening on URL → TARGET` per forward, then
// `NAME ready` (what link-stack.ts waits for); on a bad command line, the usage, and exits 1.

export interface Forward {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
  /** `TARGET_HOST:PORT` as given. */
  target: string;
}

export interface ProxyCli<C> {
  /** `delay-proxy`, `h2-edge`: the prefix of the lines it prints. */
  name: string;
  usage: string;
  /** The CLI's own flags, read once (`value('--delay')`); undefined: say the usage and exit. */
  options(value: (flag: string) => string | undefined, lifetimeMs: number): C | undefined;
  start(forward: Forward, options: C): Promise<{ url: string; close(): Promise<void> }>;
}

export async function runProxyCli<C>(cli: ProxyCli<C>, args = process.argv.slice(2)): Promise<void> {
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const forwards = args.flatMap((a, i) => (a === '--forward' && args[i + 1] ? [args[i + 1] as string] : []));
  const lifetimeMs = Number(value('--lifetime-s') ?? '1800') * 1000;
  const split = (hp: string): [string, number] => {
    const i = hp.lastIndexOf(':');
    return [hp.slice(0, i), Number(hp.slice(i + 1))];
  };

  const running: { close(): Promise<void> }[] = [];
  const stop = async (code: number) => {
    await Promise.all(running.map((r) => r.close()));
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('error', () => void stop(0));
  process.stdin.resume();
  setTimeout(() => void stop(0), lifetimeMs).unref();

  try {
    const options = forwards.length ? cli.options(value, lifetimeMs) : undefined;
    if (options === undefined) throw new Error(`usage: ${cli.usage}`);
    for (const f of forwards) {
      const [listen, target] = f.split('=') as [string, string];
      const [listenHost, listenPort] = split(listen);
      const [targetHost, targetPort] = split(target);
      const r = await cli.start({ listenHost, listenPort, targetHost, targetPort, target }, options);
      running.push(r);
      console.log(`${cli.name} listening on ${r.url} → ${target}`);
    }
    console.log(`${cli.name} ready`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    await stop(1);
  }
}
