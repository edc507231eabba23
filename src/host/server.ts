// Serves the engine's pages (the app, the test page, the benchmark page) with
// vite, on 127.0.0.1 only, on a free port.

import { fileURLToPath } from 'node:url';

import { createServer, type Plugin, type ViteDevServer } from 'vite';

import { DATA_PREFIX } from '../data/datasets';

export { DATA_PREFIX };

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PageServer {
  /** Base URL ending in '/', e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves in-memory buffers at DATA_PREFIX + name: how the CLI hands large
 * arrays (features of 10^5 × 512) to the page without going through the
 * DevTools protocol.
 */
function dataPlugin(files: ReadonlyMap<string, Uint8Array>): Plugin {
  return {
    name: 'nclab-data',
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const url = request.url ?? '';
        if (!url.startsWith(DATA_PREFIX)) {
          next();
          return;
        }
        const body = files.get(
          decodeURIComponent(url.slice(DATA_PREFIX.length)),
        );
        if (!body) {
          response.statusCode = 404;
          response.end();
          return;
        }
        response.setHeader('Content-Type', 'application/octet-stream');
        response.setHeader('Content-Length', body.byteLength);
        response.end(body);
      });
    },
  };
}

export async function startPageServer(
  options: { files?: ReadonlyMap<string, Uint8Array> } = {},
): Promise<PageServer> {
  const server: ViteDevServer = await createServer({
    plugins: options.files ? [dataPlugin(options.files)] : [],
    root: PROJECT_ROOT,
    configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)),
    logLevel: 'error',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error('vite did not report the port it listens on');
  }
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => server.close(),
  };
}
