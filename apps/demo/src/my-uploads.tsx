import type { UploadedObject } from '@chute/protocol';
import { HttpSignerClient } from '@chute/uploader';
import { useEffect, useMemo, useState } from 'react';
import { getAuthToken } from './auth.js';

/** The caller's stored objects, newest first, each with a download link (a short-lived presigned GET). */
export function MyUploads({ endpoint, version }: { endpoint: string; version: number }) {
  const client = useMemo(() => new HttpSignerClient({ endpoint, getAuthToken }), [endpoint]);
  const [items, setItems] = useState<UploadedObject[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = version >= 0;
    client
      .listUploads()
      .then((res) => {
        if (!live) return;
        setItems([...res.uploads].sort((a, b) => b.lastModified.localeCompare(a.lastModified)));
        setError(null);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [client, version]);

  const download = async (item: UploadedObject) => {
    try {
      const res = await client.download(item.key, item.name);
      window.location.assign(res.request.url);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section className="my-uploads" aria-label="My uploads">
      <h2>My uploads</h2>
      {error && <p role="alert">{error}</p>}
      {items === null && !error && <p>Loading…</p>}
      {items?.length === 0 && <p>Nothing uploaded yet.</p>}
      {items && items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Size</th>
              <th>Uploaded</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.key} data-key={item.key}>
                <td>{item.name}</td>
                <td>{formatBytes(item.size)}</td>
                <td>{new Date(item.lastModified).toLocaleString()}</td>
                <td>
                  <button type="button" onClick={() => void download(item)}>
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
