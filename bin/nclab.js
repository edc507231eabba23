#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx (no build step). The
// `?raw` hooks let Node load the kernels' WGSL the way vite does in the page.
import { register } from 'node:module';

import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-import.js', import.meta.url);
await import('../src/cli/main.ts');
