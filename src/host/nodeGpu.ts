// WebGPU in Node without a browser: Dawn for Node (npm `webgpu`). Picks a
// full (core) adapter when Dawn's default backend has one (Vulkan on a Linux
// GPU server), else a compatibility adapter through OpenGL ES (Mesa's
// llvmpipe on a machine without a GPU), and names what it found. When none
// exists, the error says what was tried and what to install.

import { existsSync, readdirSync } from 'node:fs';

import {
  acquireGpu,
  adapterName,
  summarizeAdapter,
  type Gpu,
  type GpuOptions,
} from '../gpu/device';
import { GpuUnavailableError } from '../gpu/errors';

type FeatureLevel = 'core' | 'compatibility';

/** One way of asking Dawn for an adapter. */
export interface NodeRoute {
  /** Dawn's backend name, or null for Dawn's own choice. */
  backend: string | null;
  featureLevels: readonly FeatureLevel[];
}

/**
 * The routes tried in order when $NCLAB_NODE_BACKEND is unset: Dawn's
 * default backend for a full adapter, then OpenGL ES, which Dawn offers only
 * as a compatibility adapter (no timestamps, no subgroups).
 */
export const DEFAULT_NODE_ROUTES: readonly NodeRoute[] = [
  { backend: null, featureLevels: ['core'] },
  { backend: 'opengles', featureLevels: ['compatibility'] },
];

/** The route for a backend the user names: full first, then compatibility. */
export function namedRoute(backend: string): NodeRoute {
  return { backend, featureLevels: ['core', 'compatibility'] };
}

/** What the Node host uses: a device, and how it was found. */
export interface NodeGpu {
  gpu: Gpu;
  backend: string;
  featureLevel: FeatureLevel;
  /** e.g. "llvmpipe-llvm-15-0-6-256-bits- (OpenGL ES 3.2 Mesa 22.3.6)
   * [node, opengles, compatibility]": what the results rows record. */
  name: string;
}

export interface NodeGpuOptions {
  /** Replaces $NCLAB_NODE_BACKEND (one backend, e.g. "vulkan"). */
  backend?: string;
  routes?: readonly NodeRoute[];
  onFatal?: GpuOptions['onFatal'];
  env?: Record<string, string | undefined>;
}

const INSTALL_HINT =
  'For a GPU: install the Vulkan loader (Debian/Ubuntu: libvulkan1) and ' +
  "the GPU vendor's Vulkan driver (NVIDIA's driver, or Mesa's " +
  'mesa-vulkan-drivers for AMD and Intel); if Dawn still finds none, set ' +
  "VK_DRIVER_FILES to the driver's ICD file (e.g. " +
  "/usr/share/vulkan/icd.d/nvidia_icd.json). Without a GPU: Mesa's EGL " +
  'and llvmpipe (Debian: libegl1 libegl-mesa0) give the OpenGL ES route. ' +
  'Or run in the browser host (--host browser).';

type DawnModule = { create: (flags: string[]) => GPU; globals: object };

let dawn: DawnModule | null = null;

/**
 * Dawn's instances with a live device. Dawn for Node frees its instance
 * when the object `create` returned is garbage-collected, even while a
 * device made from it is in use (a crash in Dawn's threads some steps
 * later): each is held here until its device is lost or destroyed.
 */
const liveInstances = new Set<GPU>();

/** Loads the `webgpu` package once and installs its WebGPU globals
 * (GPUBufferUsage, GPUMapMode, …) that the runtime reads. */
async function loadDawn(): Promise<DawnModule> {
  if (dawn) return dawn;
  try {
    dawn = await import('webgpu');
  } catch (cause) {
    throw new GpuUnavailableError(
      `the Node host could not load Dawn (npm package "webgpu"): ` +
        `${(cause as Error).message}. Run \`npm ci\` on this platform ` +
        '(the package ships dist/<platform>-<arch>/dawn.node).',
    );
  }
  Object.assign(globalThis, dawn.globals);
  return dawn;
}

/** Where shared libraries usually are, to say which ones are missing. */
const LIBRARY_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/lib64',
];

function findLibrary(name: string): string | null {
  for (const dir of LIBRARY_DIRS) {
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/** What this machine has for each route, in words (Linux only). */
export function routeDiagnosis(
  env: Record<string, string | undefined>,
): string[] {
  if (process.platform !== 'linux') return [];
  const notes: string[] = [];
  notes.push(
    findLibrary('libvulkan.so.1')
      ? 'the Vulkan loader is installed'
      : 'no Vulkan loader (libvulkan.so.1) in the usual library folders',
  );
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
  const icds = icdDirs.flatMap((dir) =>
    existsSync(dir) ? readdirSync(dir).map((f) => `${dir}/${f}`) : [],
  );
  if (env.VK_DRIVER_FILES) {
    notes.push(`VK_DRIVER_FILES=${env.VK_DRIVER_FILES}`);
  } else {
    notes.push(
      icds.length > 0
        ? `Vulkan drivers: ${icds.join(', ')}`
        : `no Vulkan driver files in ${icdDirs.join(' or ')}`,
    );
  }
  const vendors = '/usr/share/glvnd/egl_vendor.d';
  const egl =
    findLibrary('libEGL.so.1') &&
    existsSync(vendors) &&
    readdirSync(vendors).length > 0;
  notes.push(
    egl
      ? `EGL is installed (EGL_PLATFORM=${env.EGL_PLATFORM ?? 'unset'})`
      : 'no EGL (libEGL.so.1 with a vendor file in ' + vendors + ')',
  );
  return notes;
}

function describeRoute(route: NodeRoute): string {
  const backend = route.backend ?? "Dawn's default backend";
  return `${backend} (${route.featureLevels.join(' or ')})`;
}

/**
 * A device from the first route that gives an adapter. Throws
 * GpuUnavailableError naming every route tried, what this machine lacks
 * and what to install, when none does.
 */
export async function openNodeGpu(
  options: NodeGpuOptions = {},
): Promise<NodeGpu> {
  const env = options.env ?? process.env;
  const named = options.backend ?? env.NCLAB_NODE_BACKEND;
  const routes =
    options.routes ?? (named ? [namedRoute(named)] : DEFAULT_NODE_ROUTES);
  // Mesa's EGL needs a platform when there is no display; surfaceless
  // renders to no window at all. Must be set before Dawn opens EGL.
  if (routes.some((r) => r.backend?.startsWith('opengl'))) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
  }
  const { create } = await loadDawn();

  const tried: string[] = [];
  for (const route of routes) {
    if (route.backend === 'null') {
      tried.push("null: Dawn's null backend computes nothing; not used");
      continue;
    }
    let entry: GPU;
    try {
      entry = create(route.backend ? [`backend=${route.backend}`] : []);
    } catch (cause) {
      tried.push(`${describeRoute(route)}: ${(cause as Error).message}`);
      continue;
    }
    let failure = 'no adapter';
    for (const featureLevel of route.featureLevels) {
      let adapter: GPUAdapter | null;
      try {
        adapter = await entry.requestAdapter({
          featureLevel,
          powerPreference: 'high-performance',
        });
      } catch (cause) {
        // Dawn rejects a backend name it does not know, listing those it
        // does.
        failure = (cause as Error).message.replace(/\s+/g, ' ').trim();
        break;
      }
      if (!adapter) continue;
      const summary = summarizeAdapter(adapter);
      const gpu = await acquireGpu({
        gpu: entry,
        featureLevel,
        powerPreference: 'high-performance',
        onFatal: options.onFatal,
      });
      liveInstances.add(entry);
      void gpu.device.lost.then(() => liveInstances.delete(entry));
      const backend = route.backend ?? 'default';
      return {
        gpu,
        backend,
        featureLevel,
        name: `${adapterName(summary)} [node: ${backend}, ${featureLevel}]`,
      };
    }
    tried.push(`${describeRoute(route)}: ${failure}`);
  }
  const diagnosis = routeDiagnosis(env);
  throw new GpuUnavailableError(
    `the Node host found no WebGPU adapter. Tried ${tried.join('; ')}.` +
      (diagnosis.length > 0 ? ` This machine: ${diagnosis.join('; ')}.` : '') +
      ` ${INSTALL_HINT}`,
  );
}
