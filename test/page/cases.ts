// Test cases that run inside the browser page, each on its own device inside
// a validation error scope, releasing every tensor it made (checked). They
// generate their inputs from seeds, so the Node side can rebuild the same
// inputs for the float64 reference; results come back as base64.

import { summarizeAdapter, type AdapterSummary } from '../../src/gpu/device';
import { Runtime } from '../../src/gpu/runtime';
import { classSums } from '../../src/kernels/classSums';
import { matmul, planMatmul } from '../../src/kernels/matmul';
import { toBase64 } from '../../src/util/base64';
import {
  classSumsInputs,
  matmulInputs,
  type ClassSumsCase,
  type MatmulCase,
} from './inputs';

interface ErrorInfo {
  name: string;
  message: string;
}

function errorInfo(error: unknown): ErrorInfo {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'unknown', message: String(error) };
}

/**
 * Runs `body` on a fresh runtime inside a validation error scope, then
 * checks the scope is clean and no tensor was leaked, and destroys it all.
 */
async function withRuntime<T>(body: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await Runtime.create();
  rt.device.pushErrorScope('validation');
  try {
    const result = await body(rt);
    await rt.finish();
    const scope = await rt.device.popErrorScope();
    if (scope) throw new Error(`validation error: ${scope.message}`);
    if (rt.pool.liveCount !== 0) {
      throw new Error(`${rt.pool.liveCount} tensors were not released`);
    }
    return result;
  } finally {
    await rt.destroy();
  }
}

export const cases = {
  async matmul(c: MatmulCase) {
    return withRuntime(async (rt) => {
      const { a: aData, b: bData } = matmulInputs(c);
      const a = rt.upload(aData, c.aShape, 'f32');
      const b = rt.upload(bData, c.bShape, 'f32');
      const options = {
        transA: c.transA,
        transB: c.transB,
        alpha: c.alpha,
        splits: c.splits,
      };
      const plan = planMatmul(c.aShape, c.bShape, options, rt.device.limits);
      const outputs: string[] = [];
      for (let run = 0; run < (c.runs ?? 1); run++) {
        const out = await matmul(rt, a, b, options);
        outputs.push(toBase64(await rt.download(out)));
        out.release();
      }
      a.release();
      b.release();
      return { outputs, splits: plan.splits, chunk: plan.chunk };
    });
  },

  async classSums(c: ClassSumsCase) {
    return withRuntime(async (rt) => {
      const { x: xData, labels: labelData } = classSumsInputs(c);
      const [batch, , N] = c.xShape;
      const x = rt.upload(xData, c.xShape, 'f32');
      const labels = rt.upload(
        labelData,
        [c.labelsPerBatch ? batch : 1, 1, N],
        'u32',
      );
      const sums: string[] = [];
      const counts: string[] = [];
      for (let run = 0; run < (c.runs ?? 1); run++) {
        const result = await classSums(rt, x, labels, c.K, c.tuning);
        sums.push(toBase64(await rt.download(result.sums)));
        counts.push(toBase64(await rt.download(result.counts)));
        result.sums.release();
        result.counts.release();
      }
      x.release();
      labels.release();
      return { sums, counts };
    });
  },
};

export type CaseName = keyof typeof cases;
export type CaseArgs<N extends CaseName> = Parameters<(typeof cases)[N]>[0];
export type CaseResult<N extends CaseName> = Awaited<
  ReturnType<(typeof cases)[N]>
>;

export async function adapter(): Promise<AdapterSummary> {
  const found = await navigator.gpu?.requestAdapter();
  if (!found) throw new Error('navigator.gpu.requestAdapter() returned null');
  return summarizeAdapter(found);
}

export { errorInfo };
