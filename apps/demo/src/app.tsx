import { ChuteUploader } from '@chute/react';
import { useCallback, useState } from 'react';
import { getAuthToken } from './auth.js';
import { MyUploads } from './my-uploads.js';

// The signer serves this page and its API on the same origin (`/api/...`).
const ENDPOINT = '';
// `?goldenRetriever=off` shows Chute's own restore prompt instead of Uppy's ghost files.
const goldenRetriever = new URLSearchParams(location.search).get('goldenRetriever') !== 'off';

export function App() {
  const [version, setVersion] = useState(0);
  const onUploaded = useCallback(() => setVersion((v) => v + 1), []);
  return (
    <main>
      <header>
        <h1>Chute</h1>
        <p>
          Files go straight from this page to the bucket: hashed in Web Workers, sent in parallel parts, checked by the
          bucket, and resumable after a reload.
        </p>
      </header>
      <ChuteUploader
        endpoint={ENDPOINT}
        getAuthToken={getAuthToken}
        onUploaded={onUploaded}
        note="Any file type; large files go in parallel 16 MiB parts."
        options={{ goldenRetriever, uppyOptions: { id: 'chute-demo', autoProceed: false } }}
      />
      <MyUploads endpoint={ENDPOINT} version={version} />
    </main>
  );
}
