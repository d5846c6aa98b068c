import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console SPA, built into dist/console and served by the API at `/` (scripts/build-console.js).
// `npx vite apps/console` serves it for development, proxying the API on :3000.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: 'public',
  // The API's contracts and client SDK (libs/*/src), as the root tsconfig's @slotwise/* paths resolve them.
  resolve: {
    alias: [
      {
        find: /^@slotwise\/([a-z-]+)$/,
        replacement: fileURLToPath(new URL('../../libs/$1/src/index.ts', import.meta.url)),
      },
    ],
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: '../../dist/console',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000', '/docs': 'http://127.0.0.1:3000' } },
});
