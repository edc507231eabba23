// One config for the dev server that serves the engine's pages (app, tests,
// benchmarks; always on 127.0.0.1) and for vitest, which runs in Node and
// drives those pages through puppeteer.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  optimizeDeps: {
    // Pre-bundle up front so the page never reloads mid-run on discovery.
    include: ['wgsl-preprocessor/wgsl-preprocessor.js'],
    entries: ['index.html', 'test/page/index.html', 'bench/index.html'],
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
