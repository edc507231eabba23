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
    entries: [
      'index.html',
      'sweep.html',
      'test/page/index.html',
      'bench/index.html',
    ],
  },
  // `npm run build`: the app, the sweep page and the benchmark page as a
  // static site in dist/.
  build: {
    rolldownOptions: {
      input: ['index.html', 'sweep.html', 'bench/index.html'],
    },
    // The sweep page carries vega and vega-lite: ~820 kB minified (280 kB
    // gzipped), above the default 500 kB warning.
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
