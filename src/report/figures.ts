// The report's figures as Vega-Lite specs built from result rows: the sweep
// summaries here, the per-run training figures in training.ts. Each builder
// returns a figure, or says why there is nothing to draw.

import type { TopLevelSpec } from 'vega-lite';

import type { ModelName, ResultRow } from '../sweep/row';
import { configurationLabel, diverged, formatNumber, MODELS } from './rows';
import {
  AXIS,
  CONFIG,
  drawn,
  omitted,
  parameterScale,
  spread,
  type Figure,
} from './spec';
import { isFiniteNumber } from './stats';
import { featureScatterFigure, trajectoryFigure } from './training';

/** η columns drawn in the coupling figures at most. */
const MAX_ETA_COLUMNS = 4;

const divergedNote = (rows: readonly ResultRow[]) => {
  const n = rows.filter(diverged).length;
  return n > 0 ? ` ${n} diverged configuration(s) are left out.` : '';
};

const lossColour = { field: 'loss', type: 'nominal', title: 'loss' } as const;

export function memorizationDilationFigure(rows: readonly ResultRow[]): Figure {
  const name = 'dilation-vs-memorization';
  const title = 'Dilation against memorization';
  const values = rows
    .filter(
      (r) =>
        !diverged(r) &&
        r.eta > 0 &&
        isFiniteNumber(r.final.relativeMemorization) &&
        isFiniteNumber(r.final.relativeDilation),
    )
    .map((r) => ({
      model: r.model,
      loss: r.loss,
      relativeMemorization: r.final.relativeMemorization,
      relativeDilation: r.final.relativeDilation,
      configuration: configurationLabel(r),
    }));
  if (values.length === 0) {
    return omitted(
      name,
      title,
      'No non-diverged configuration with η > 0 has both a relative ' +
        'memorization and a relative dilation.' +
        divergedNote(rows),
    );
  }
  const models = MODELS.filter((m) => values.some((v) => v.model === m));
  const spec: TopLevelSpec = {
    title: { text: title, subtitle: 'one point per configuration, η > 0' },
    config: CONFIG,
    data: { values },
    facet: {
      column: { field: 'model', type: 'nominal', title: 'model', sort: models },
    },
    spec: {
      width: 240,
      height: 220,
      mark: { type: 'point', filled: true, opacity: 0.75, size: 50 },
      encoding: {
        x: {
          field: 'relativeMemorization',
          type: 'quantitative',
          title: AXIS.relativeMemorization,
        },
        y: {
          field: 'relativeDilation',
          type: 'quantitative',
          title: AXIS.relativeDilation,
        },
        color: lossColour,
        shape: { field: 'model', type: 'nominal', title: 'model' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
  return drawn(
    name,
    title,
    'Final relative dilation (root-mean-square distance of clean examples ' +
      'to their clean class centre) against final relative memorization ' +
      '(mean distance of mislabelled examples to the clean centre of their ' +
      'true class), both divided by the mean distance between clean class ' +
      'centres (science.md §5). One panel per model, each with its own ' +
      'scales; colour is the loss.' +
      divergedNote(rows),
    spec,
  );
}

/** A mean-over-configurations line with every configuration as a point. */
function meanWithPoints(x: object, y: string, yTitle: string[]) {
  return {
    layer: [
      {
        mark: { type: 'line' as const, point: false },
        encoding: {
          x,
          y: {
            aggregate: 'mean' as const,
            field: y,
            type: 'quantitative' as const,
            title: yTitle,
          },
          color: lossColour,
        },
      },
      {
        mark: { type: 'point' as const, filled: true, opacity: 0.5 },
        encoding: {
          x,
          y: { field: y, type: 'quantitative' as const, title: yTitle },
          color: lossColour,
        },
      },
    ],
  };
}

export function accuracyVsEtaFigure(rows: readonly ResultRow[]): Figure {
  const name = 'accuracy-vs-eta';
  const title = 'Test accuracy against label noise';
  const values = rows
    .filter(
      (r) =>
        !diverged(r) &&
        (r.model === 'md' || r.model === 'graph') &&
        isFiniteNumber(r.final.testAccuracy),
    )
    .map((r) => ({
      model: r.model,
      loss: r.loss,
      eta: r.eta,
      testAccuracy: r.final.testAccuracy,
    }));
  if (values.length === 0) {
    return omitted(
      name,
      title,
      'No non-diverged md or graph configuration has a test accuracy ' +
        '(the ufm has no test set).' +
        divergedNote(rows),
    );
  }
  const x = { field: 'eta', type: 'quantitative' as const, title: AXIS.eta };
  const spec: TopLevelSpec = {
    title: {
      text: title,
      subtitle: 'line: mean per loss and η; points: each configuration',
    },
    config: CONFIG,
    data: { values },
    facet: {
      column: {
        field: 'model',
        type: 'nominal',
        title: 'model',
        sort: ['md', 'graph'],
      },
    },
    spec: {
      width: 260,
      height: 220,
      ...meanWithPoints(x, 'testAccuracy', AXIS.testAccuracy),
    },
  };
  return drawn(
    name,
    title,
    'Test accuracy (md: probability that a test example of the model’s ' +
      'class distribution is classified correctly; graph: accuracy on the ' +
      'held-out images) against η, one panel per model. The line is the ' +
      'mean over seeds and over any other swept value (λ, γ, …) at that η; ' +
      'each point is one configuration.' +
      divergedNote(rows),
    spec,
  );
}

/** Relative memorization and test accuracy against λ (md) or γ (graph). */
export function couplingFigure(
  rows: readonly ResultRow[],
  model: Extract<ModelName, 'md' | 'graph'>,
): Figure {
  const field = model === 'md' ? 'coupling' : 'gamma';
  const symbol = model === 'md' ? 'λ' : 'γ';
  const name = model === 'md' ? 'md-coupling' : 'graph-gamma';
  const title = `Memorization and test accuracy against ${symbol} (${model})`;
  const usable = rows.filter(
    (r) => r.model === model && !diverged(r) && r.eta > 0,
  );
  const parameter = (r: ResultRow) => (model === 'md' ? r.coupling : r.gamma);
  const withParameter = usable.filter((r) => isFiniteNumber(parameter(r)));
  const distinct = new Set(withParameter.map(parameter));
  if (distinct.size < 2) {
    return omitted(
      name,
      title,
      `The sweep has ${distinct.size === 0 ? 'no' : 'one'} value of ` +
        `${symbol} among its non-diverged ${model} rows with η > 0` +
        `${distinct.size === 1 ? ` (${formatNumber([...distinct][0])})` : ''}` +
        ': nothing to plot against.' +
        divergedNote(rows.filter((r) => r.model === model)),
    );
  }
  const etas = spread(
    withParameter.map((r) => r.eta),
    MAX_ETA_COLUMNS,
  );
  const values = withParameter
    .filter((r) => etas.includes(r.eta))
    .map((r) => ({
      loss: r.loss,
      eta: formatNumber(r.eta),
      [field]: parameter(r),
      relativeMemorization: r.final.relativeMemorization,
      testAccuracy: r.final.testAccuracy,
    }));
  const x = {
    field,
    type: 'quantitative' as const,
    title: AXIS[field],
    scale: parameterScale(values.map((v) => v[field] as number)),
  };
  const panels = (
    [
      ['relativeMemorization', AXIS.relativeMemorization],
      ['testAccuracy', AXIS.testAccuracy],
    ] as const
  )
    .filter(([y]) => values.some((v) => isFiniteNumber(v[y])))
    .map(([y, yTitle]) => ({
      transform: [{ filter: `isValid(datum.${y}) && isFinite(datum.${y})` }],
      facet: {
        column: {
          field: 'eta',
          type: 'ordinal' as const,
          title: 'label-noise rate η',
          sort: etas.map(formatNumber),
        },
      },
      spec: { width: 200, height: 170, ...meanWithPoints(x, y, [...yTitle]) },
    }));
  if (panels.length === 0) {
    return omitted(
      name,
      title,
      `No ${model} row with η > 0 has a relative memorization or a test ` +
        'accuracy.',
    );
  }
  const spec: TopLevelSpec = {
    title: {
      text: title,
      subtitle: `line: mean per loss and ${symbol}; points: each configuration`,
    },
    config: CONFIG,
    data: { values },
    vconcat: panels,
  };
  return drawn(
    name,
    title,
    `Relative memorization and test accuracy (one row each, where measured) ` +
      `of the ${model} ` +
      `configurations with η > 0 against ${symbol}, one column per η ` +
      `(${etas.length < distinct.size ? 'a spread of ' : ''}` +
      `η = ${etas.map(formatNumber).join(', ')}). The line is the mean over ` +
      `seeds and the other swept values; points are configurations.` +
      (x.scale.type === 'symlog'
        ? ` The ${symbol} axis is symmetric-log (linear below the smallest ` +
          `positive ${symbol}, so ${symbol} = 0 is drawn).`
        : '') +
      divergedNote(rows.filter((r) => r.model === model)),
    spec,
  );
}

/** Every figure of the report, drawn or with why it was left out. */
export function reportFigures(rows: readonly ResultRow[]): Figure[] {
  return [
    memorizationDilationFigure(rows),
    accuracyVsEtaFigure(rows),
    couplingFigure(rows, 'md'),
    couplingFigure(rows, 'graph'),
    trajectoryFigure(rows),
    featureScatterFigure(rows),
  ];
}
