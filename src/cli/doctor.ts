// `nclab doctor`: starts each adapter route in its own browser (or only the
// one --adapter names), runs the page-side doctor there and prints what it
// found: adapter, features, limits, a kernel checked against float64 and a
// speed probe. With --adapter auto it also stores which adapter is fastest,
// for later commands. Exits 1, with the reason, when no adapter is usable.

import {
  ADAPTER_HELP,
  ADAPTER_KINDS,
  type AdapterChoice,
  type AdapterKind,
} from '../gpu/adapters';
import {
  adapterCachePath,
  cacheSurvey,
  describeSurvey,
  fastestAdapter,
  surveyAdapters,
  type AdapterProbe,
} from '../host/adapterChoice';
import { findBrowser } from '../host/browser';
import type { DoctorReport } from '../doctor';

export interface DoctorOptions {
  json?: boolean;
  verbose?: boolean;
  /** auto (every adapter) by default. */
  adapter?: AdapterChoice;
}

const SHOWN_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
];

function formatReport(
  kind: AdapterKind,
  report: DoctorReport,
  verbose: boolean,
): string[] {
  const lines = ['', `${kind} (${ADAPTER_HELP[kind]})`];
  const a = report.adapter;
  if (a) {
    lines.push(
      `adapter:  ${a.name}`,
      `          vendor "${a.vendor}", architecture "${a.architecture}", ` +
        `fallback ${a.isFallbackAdapter ? 'yes' : 'no'}, ` +
        `feature level ${a.featureLevel ?? 'core'}`,
    );
  }
  if (report.device) {
    lines.push(`features: ${report.device.features.join(', ') || 'none'}`);
    const limits = report.device.limits;
    lines.push('limits:');
    for (const key of verbose ? Object.keys(limits) : SHOWN_LIMITS) {
      lines.push(`  ${key}: ${limits[key]}`);
    }
  }
  if (report.check) {
    const c = report.check;
    lines.push(
      `check:    ${c.kernel} ${c.shape}: max |error| ${c.maxAbsError.toExponential(2)} ` +
        `(${c.withinBound ? 'within' : 'OUTSIDE'} the float32 bound), ` +
        `${c.timeMs.toFixed(3)} ms (${c.timing})`,
    );
  }
  if (report.speed) {
    lines.push(
      `speed:    ${report.speed.workload}: ${report.speed.ms.toFixed(1)} ms ` +
        `(wall clock, median of 3)`,
    );
  }
  if (!report.ok) lines.push(`problem:  ${report.problem}`);
  return lines;
}

/** Returns the process exit code. */
export async function doctor(options: DoctorOptions): Promise<number> {
  const choice = options.adapter ?? 'auto';
  const kinds: readonly AdapterKind[] =
    choice === 'auto' ? ADAPTER_KINDS : [choice];
  const probes = await surveyAdapters(
    kinds,
    options.verbose ? undefined : () => {},
  );
  const best = fastestAdapter(probes);
  // The report of the adapter commands would use, or the first problem.
  const main: AdapterProbe = best ?? probes[0]!;

  let note: string | null = null;
  if (choice === 'auto' && best) {
    const browserPath = await findBrowser()
      .then((found) => found.path)
      .catch(() => null);
    const problem = browserPath
      ? await cacheSurvey(probes, browserPath)
      : 'no browser';
    const adapters = probes.map((p) => ({
      kind: p.kind,
      speedMs: p.report.ok ? (p.report.speed?.ms ?? null) : null,
    }));
    note =
      `auto picks ${best.kind}: ${describeSurvey(adapters, best.kind)} ` +
      `in the speed probe` +
      (problem
        ? ` (not cached: ${problem})`
        : ` (cached in ${adapterCachePath()})`);
  }

  if (options.json) {
    console.log(
      JSON.stringify(
        {
          browser: main.browser,
          kind: main.kind,
          ...main.report,
          chosen: best?.kind ?? null,
          adapters: probes.map((p) => ({
            kind: p.kind,
            browser: p.browser,
            ...p.report,
          })),
        },
        null,
        2,
      ),
    );
  } else {
    const lines = [`browser:  ${main.browser}`];
    for (const probe of probes) {
      lines.push(...formatReport(probe.kind, probe.report, !!options.verbose));
    }
    lines.push('');
    if (note) lines.push(note);
    lines.push(
      best
        ? 'WebGPU is usable.'
        : `WebGPU is NOT usable: ${main.report.problem}`,
    );
    console.log(lines.join('\n'));
  }
  return best ? 0 : 1;
}
