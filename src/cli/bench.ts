// `nclab bench [--quick] [--only NAME]... [--out DIR]`: the benchmark of
// `npm run bench` (bench/run.ts) from the nclab command. It opens the
// benchmark page in headless Chromium, times nclab next to plain JS and
// TensorFlow.js (WebGPU and WebGL) on the same adapter, prints the markdown
// table on stdout and writes it, with the JSON, to the output directory.

import { benchCommand } from '../../bench/run';
import type { AdapterKind } from '../gpu/adapters';

export interface BenchCliOptions {
  quick?: boolean;
  only?: string[];
  out?: string;
  /** From --adapter: one adapter, or (auto) every one, a table each. */
  adapters?: readonly AdapterKind[];
}

/** Collects a repeatable option's values (commander's reducer). */
export function collectOption(value: string, previous: string[] = []) {
  return [...previous, value];
}

/** Returns the process exit code: 0 good, 1 failed check, 2 bad name. */
export function bench(options: BenchCliOptions): Promise<number> {
  return benchCommand(options);
}
