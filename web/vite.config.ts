import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The explorer front end: built into dist/web, which `filmatlas serve` serves.
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  // The API contract shared with the server: one module of types and constants, no Node code.
  resolve: { alias: { '@filmatlas/api': fileURLToPath(new URL('../src/api/contract.ts', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
