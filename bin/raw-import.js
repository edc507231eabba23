// Node module hooks for vite's `?raw` imports: `import text from
// './file.wgsl?raw'` gives the file's text as the default export, as vite
// does in the page. The kernels import their WGSL this way, so the Node host
// runs the same modules as the browser. Registered by bin/nclab.js after
// tsx; hooks registered later run first, so these see `?raw` before tsx.

import { readFile } from 'node:fs/promises';

const RAW = '?raw';

/** @type {import('node:module').ResolveHook} */
export function resolve(specifier, context, nextResolve) {
  if (!specifier.endsWith(RAW) || !context.parentURL) {
    return nextResolve(specifier, context);
  }
  return {
    url: new URL(specifier, context.parentURL).href,
    shortCircuit: true,
  };
}

/** @type {import('node:module').LoadHook} */
export async function load(url, context, nextLoad) {
  const parsed = new URL(url);
  if (parsed.protocol !== 'file:' || parsed.search !== RAW) {
    return nextLoad(url, context);
  }
  parsed.search = '';
  const text = await readFile(parsed, 'utf8');
  return {
    format: 'module',
    source: `export default ${JSON.stringify(text)};\n`,
    shortCircuit: true,
  };
}
