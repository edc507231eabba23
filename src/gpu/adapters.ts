// Which WebGPU adapter the engine runs on. Chromium offers two routes on
// one machine: its default adapter ('core': Vulkan on a GPU, SwiftShader on
// a machine without one) and, with ANGLE on OpenGL ES, a compatibility-mode
// adapter ('compat': Mesa's llvmpipe here, several times faster than
// SwiftShader). A page learns which one to use from its URL
// (`?adapter=compat`), so the CLI, the tests and a visitor choose alike.

import { InvalidArgumentError } from './errors';

export const ADAPTER_KINDS = ['core', 'compat'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** What the command line accepts: a kind, or 'auto' for the fastest. */
export const ADAPTER_CHOICES = ['auto', ...ADAPTER_KINDS] as const;
export type AdapterChoice = (typeof ADAPTER_CHOICES)[number];

/** The page URL's query parameters that carry the choice. */
export const ADAPTER_PARAM = 'adapter';
/** Most invocations per workgroup the device is given (tests use 128). */
export const WORKGROUP_PARAM = 'workgroup';

/**
 * Invocations per workgroup every compatibility-mode device grants (the
 * proposal's default; core devices grant 256). The engine needs no more.
 */
export const COMPAT_WORKGROUP_INVOCATIONS = 128;

export const ADAPTER_HELP: Record<AdapterChoice, string> = {
  auto: 'the fastest available, measured once per machine and cached',
  core: "Chromium's default WebGPU adapter: the GPU, or SwiftShader without one",
  compat:
    "compatibility mode on ANGLE's OpenGL ES: Mesa's llvmpipe without a GPU",
};

function parseChoice<T extends string>(
  value: string,
  allowed: readonly T[],
  what: string,
): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidArgumentError(
    `${what} ${JSON.stringify(value)} is invalid; expected one of ` +
      `${allowed.join(', ')}`,
  );
}

/** `--adapter VALUE`: auto, core or compat, or an error naming them. */
export function parseAdapterChoice(
  value: string,
  what = '--adapter',
): AdapterChoice {
  return parseChoice(value, ADAPTER_CHOICES, what);
}

export function parseAdapterKind(
  value: string,
  what = '--adapter',
): AdapterKind {
  return parseChoice(value, ADAPTER_KINDS, what);
}

/** How a page asks for its adapter (a subset of GpuOptions). */
export interface AdapterRequest {
  featureLevel?: 'core' | 'compatibility';
  /** Ceiling on the workgroup size limits requested from the adapter. */
  maxWorkgroupInvocations?: number;
}

export function adapterRequest(
  kind: AdapterKind,
  maxWorkgroupInvocations?: number,
): AdapterRequest {
  return {
    ...(kind === 'compat' ? { featureLevel: 'compatibility' as const } : {}),
    ...(maxWorkgroupInvocations === undefined
      ? {}
      : { maxWorkgroupInvocations }),
  };
}

/**
 * The request a page's URL carries (`?adapter=compat&workgroup=128`); empty
 * without parameters. A bad value throws rather than run on another adapter.
 */
export function adapterRequestFromSearch(search: string): AdapterRequest {
  const params = new URLSearchParams(search);
  const kind = params.get(ADAPTER_PARAM);
  const workgroup = params.get(WORKGROUP_PARAM);
  let ceiling: number | undefined;
  if (workgroup !== null) {
    ceiling = Number(workgroup);
    if (!Number.isInteger(ceiling) || ceiling < 1) {
      throw new InvalidArgumentError(
        `the page URL's ?${WORKGROUP_PARAM}=${workgroup} is invalid; ` +
          `expected a positive integer`,
      );
    }
  }
  return adapterRequest(
    kind === null
      ? 'core'
      : parseAdapterKind(kind, `the page URL's ?${ADAPTER_PARAM}=`),
    ceiling,
  );
}

/** The query string that makes a page use `kind` (empty for core). */
export function adapterSearch(
  kind: AdapterKind,
  maxWorkgroupInvocations?: number,
): Record<string, string> {
  const params: Record<string, string> = {};
  if (kind !== 'core') params[ADAPTER_PARAM] = kind;
  if (maxWorkgroupInvocations !== undefined) {
    params[WORKGROUP_PARAM] = String(maxWorkgroupInvocations);
  }
  return params;
}
