// `nclab doctor`: launches the browser, runs the page-side doctor and prints
// what it found. Exits non-zero, with the reason, when WebGPU is not usable.

import type { DoctorReport } from '../doctor';
import { openSession } from '../host/session';

export interface DoctorOptions {
  json?: boolean;
  verbose?: boolean;
}

function formatReport(
  report: DoctorReport,
  browser: string,
  verbose: boolean,
): string {
  const lines: string[] = [`browser:  ${browser}`];
  if (report.adapter) {
    const a = report.adapter;
    lines.push(
      `adapter:  ${a.name}`,
      `          vendor "${a.vendor}", architecture "${a.architecture}", ` +
        `fallback ${a.isFallbackAdapter ? 'yes' : 'no'}`,
    );
  }
  if (report.device) {
    lines.push(`features: ${report.device.features.join(', ') || 'none'}`);
    const limits = report.device.limits;
    const shown = verbose
      ? Object.keys(limits)
      : [
          'maxStorageBufferBindingSize',
          'maxBufferSize',
          'maxComputeInvocationsPerWorkgroup',
          'maxComputeWorkgroupStorageSize',
          'maxStorageBuffersPerShaderStage',
        ];
    lines.push('limits:');
    for (const key of shown) lines.push(`  ${key}: ${limits[key]}`);
  }
  if (report.check) {
    const c = report.check;
    lines.push(
      `check:    ${c.kernel} ${c.shape}: max |error| ${c.maxAbsError.toExponential(2)} ` +
        `(${c.withinBound ? 'within' : 'OUTSIDE'} the float32 bound), ` +
        `${c.timeMs.toFixed(3)} ms (${c.timing})`,
    );
  }
  lines.push(
    report.ok ? 'WebGPU is usable.' : `WebGPU is NOT usable: ${report.problem}`,
  );
  return lines.join('\n');
}

/** Returns the process exit code. */
export async function doctor(options: DoctorOptions): Promise<number> {
  let report: DoctorReport;
  let browser = 'none';
  try {
    const session = await openSession({
      log: options.verbose ? undefined : () => {},
    });
    try {
      browser = `${session.launched.found.path} (from ${session.launched.found.source})`;
      const page = await session.open('index.html');
      await page.waitForFunction(() => window.nclab !== undefined);
      report = await page.evaluate(() => window.nclab!.doctor());
    } finally {
      await session.close();
    }
  } catch (error) {
    report = {
      ok: false,
      userAgent: '',
      problem: error instanceof Error ? error.message : String(error),
    };
  }

  if (options.json) {
    console.log(JSON.stringify({ browser, ...report }, null, 2));
  } else {
    console.log(formatReport(report, browser, options.verbose ?? false));
  }
  return report.ok ? 0 : 1;
}
