import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `vite dev` proxies the API to a running signer (`pnpm start` serves both on one origin).
const api = process.env.CHUTE_API_URL ?? 'http://127.0.0.1:8787';

export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['source'] },
  worker: { format: 'es' },
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/api': { target: api, changeOrigin: false } } },
});
