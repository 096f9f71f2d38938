// Reference: what a browser gets from parallel parts with no hashing at all. Speaks the stock
// @uppy/aws-s3 6 signRequest protocol (Chute's stock-Uppy endpoint), but sends `concurrency`
// parts at once, as uppy PR #6568 would. The ceiling Chute's hashing and verification cost against.
import { measure, theFile } from './common.js';

interface Opts {
  signerUrl: string;
  token: string;
  partSize: number;
  concurrency: number;
}

async function run(o: Opts) {
  const sign = async (req: Record<string, unknown>) => {
    const res = await fetch(`${o.signerUrl}/api/uppy/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(req),
    });
    if (!res.ok) throw new Error(`sign ${res.status}: ${await res.text()}`);
    return (await res.json()) as { url: string; key?: string; headers?: Record<string, string> };
  };
  const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';
  return measure(async () => {
    const file = theFile();
    const created = await sign({ method: 'POST', key: file.name, size: file.size, partSize: o.partSize });
    const key = created.key ?? file.name;
    const init = await fetch(created.url, { method: 'POST', headers: created.headers ?? {} });
    const uploadId = tag(await init.text(), 'UploadId');
    const count = Math.ceil(file.size / o.partSize);
    const etags: string[] = [];
    let next = 1;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next <= count) {
          const n = next++;
          const s = await sign({ method: 'PUT', key, uploadId, partNumber: n, contentLength: Math.min(o.partSize, file.size - (n - 1) * o.partSize) });
          const res = await fetch(s.url, { method: 'PUT', headers: s.headers ?? {}, body: file.slice((n - 1) * o.partSize, n * o.partSize) });
          if (!res.ok) throw new Error(`part ${n}: ${res.status}`);
          etags[n - 1] = res.headers.get('etag') ?? '';
        }
      }),
    );
    const c = await sign({ method: 'POST', key, uploadId });
    const body = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await fetch(c.url, { method: 'POST', headers: { ...(c.headers ?? {}), 'content-type': 'application/xml' }, body });
    const xml = await done.text();
    if (!done.ok) throw new Error(`complete ${done.status}: ${xml.slice(0, 200)}`);
    return { key: tag(xml, 'Key') || key };
  });
}

(window as unknown as { bench: unknown }).bench = { run };
