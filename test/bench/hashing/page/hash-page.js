// Bench driver: window.hashBench.run({ algo, mode, workers, partSize }) hashes the selected file
// part by part on the main thread or in a pool of workers and reports time and long tasks.
import { digest, hex } from './hash-core.js';

const longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) longTasks.push(e.duration);
}).observe({ type: 'longtask', buffered: false });

function parts(size, partSize) {
  const out = [];
  for (let s = 0; s < size; s += partSize) out.push([s, Math.min(size, s + partSize)]);
  return out;
}

async function makePool(n, algo, source, partSize) {
  const workers = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' });
    // Warm up: load and instantiate the WASM before the clock starts.
    await call(w, { id: -1, blob: new Blob([new Uint8Array(1024)]), start: 0, end: 1024, algo });
    // ...and fill its in-memory part, when that is the source, outside the timing too.
    if (source === 'memory') await call(w, { id: -2, blob: null, start: 0, end: partSize, algo, source });
    workers.push(w);
  }
  return workers;
}

function call(w, msg) {
  return new Promise((resolve) => {
    const on = (e) => {
      if (e.data.id !== msg.id) return;
      w.removeEventListener('message', on);
      resolve(e.data.hex);
    };
    w.addEventListener('message', on);
    w.postMessage(msg);
  });
}

async function run({ algo, mode, workers = 1, partSize, source = 'file' }) {
  const file = document.querySelector('#file').files[0];
  const list = parts(file.size, partSize);
  const digests = new Array(list.length);
  let pool = [];
  if (mode === 'main') await digest(algo, new Uint8Array(1024));
  else pool = await makePool(workers, algo, source, partSize);
  await new Promise((r) => setTimeout(r, 50));
  longTasks.length = 0;
  const t0 = performance.now();
  if (mode === 'main') {
    for (let i = 0; i < list.length; i++) {
      const [s, e] = list[i];
      digests[i] = hex(await digest(algo, new Uint8Array(await file.slice(s, e).arrayBuffer())));
    }
  } else {
    let next = 0;
    await Promise.all(
      pool.map(async (w) => {
        while (next < list.length) {
          const i = next++;
          const [start, end] = list[i];
          digests[i] = await call(w, { id: i, blob: file, start, end, algo, source });
        }
      }),
    );
  }
  const ms = performance.now() - t0;
  // Long-task entries are delivered asynchronously; give the observer a moment.
  await new Promise((r) => setTimeout(r, 100));
  for (const w of pool) w.terminate();
  return {
    ms,
    bytes: file.size,
    firstDigest: digests[0],
    longTaskCount: longTasks.length,
    longTaskMs: longTasks.reduce((a, b) => a + b, 0),
  };
}

window.hashBench = { run, cores: navigator.hardwareConcurrency };
