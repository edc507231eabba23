// Figures of single runs: NC1–NC4 and the loss along training for a few
// representative configurations, and the d = 2 feature scatters.

import type { TopLevelSpec } from 'vega-lite';

import type { FeatureScatter, ResultRow } from '../sweep/row';
import type { TrajectoryPoint } from '../train/batch';
import { configurationLabel, representativeRows } from './rows';
import { AXIS, CONFIG, drawn, omitted, valueScale, type Figure } from './spec';
import { isFiniteNumber } from './stats';

/** Configurations drawn along training, and scatter panels, at most. */
export const MAX_TRAJECTORIES = 9;
export const MAX_SCATTERS = 6;

interface TrajectoryMetric {
  name: string;
  title: string[];
  value: (p: TrajectoryPoint) => number | null | undefined;
}

const TRAJECTORY_METRICS: TrajectoryMetric[] = [
  {
    name: 'loss',
    title: ['training loss', '(mean, observed labels)'],
    value: (p) => p.loss,
  },
  {
    name: 'NC1',
    title: ['NC1', '(Tr(Σ_W Σ_B†)/K)'],
    value: (p) => p.collapse?.nc1,
  },
  {
    name: 'NC2',
    title: ['NC2: ETF distance', '(of the class means)'],
    value: (p) => p.collapse?.nc2?.etfDistance,
  },
  {
    name: 'NC3',
    title: ['NC3: self-duality', '(W vs class means)'],
    value: (p) => p.collapse?.nc3,
  },
  {
    name: 'NC4',
    title: ['NC4', '(classifier ≠ nearest mean)'],
    value: (p) => p.collapse?.nc4,
  },
];

export function trajectoryFigure(rows: readonly ResultRow[]): Figure {
  const name = 'training-trajectories';
  const title = 'Collapse and loss along training';
  const chosen = representativeRows(
    rows,
    (r) => r.trajectory.some((p) => p.step > 0),
    MAX_TRAJECTORIES,
  );
  if (chosen.length === 0) {
    return omitted(
      name,
      title,
      'No non-diverged configuration recorded a trajectory beyond step 0.',
    );
  }
  const labels = chosen.map(configurationLabel);
  const values = chosen.flatMap((row, i) =>
    row.trajectory.flatMap((p) =>
      p.step > 0
        ? TRAJECTORY_METRICS.flatMap((m) => {
            const value = m.value(p);
            return isFiniteNumber(value)
              ? [
                  {
                    configuration: labels[i],
                    metric: m.name,
                    step: p.step,
                    value,
                  },
                ]
              : [];
          })
        : [],
    ),
  );
  const present = TRAJECTORY_METRICS.filter((m) =>
    values.some((v) => v.metric === m.name),
  );
  const absent = TRAJECTORY_METRICS.filter((m) => !present.includes(m));
  const panels = present.map((m) => {
    const own = values.filter((v) => v.metric === m.name).map((v) => v.value);
    return {
      transform: [{ filter: { field: 'metric', equal: m.name } }],
      width: 230,
      height: 170,
      mark: { type: 'line' as const, point: true },
      encoding: {
        x: {
          field: 'step',
          type: 'quantitative' as const,
          title: AXIS.step,
          scale: { type: 'log' as const },
        },
        y: {
          field: 'value',
          type: 'quantitative' as const,
          title: m.title,
          scale: valueScale(own),
        },
        color: {
          field: 'configuration',
          type: 'nominal' as const,
          title: 'configuration',
          sort: labels,
        },
      },
    };
  });
  const spec: TopLevelSpec = {
    title: {
      text: title,
      subtitle: 'per model and loss, the configuration with the largest η',
    },
    config: CONFIG,
    data: { values },
    columns: 3,
    concat: panels,
  };
  const logY = present.filter(
    (m) =>
      'type' in
      valueScale(values.filter((v) => v.metric === m.name).map((v) => v.value)),
  );
  return drawn(
    name,
    title,
    'The loss and the collapse metrics (science.md §4, grouped by the ' +
      'observed labels) at the logged steps of one configuration per model ' +
      'and loss: the one with the largest η (lowest sweep index among ' +
      'ties). Steps are on a log axis, so step 0 is not drawn; missing ' +
      'values (not applicable, or not recorded) are skipped.' +
      (logY.length > 0
        ? ` Log y axis where the values span two decades or more: ` +
          `${logY.map((m) => m.name).join(', ')}.`
        : '') +
      (absent.length > 0
        ? ` Not drawn, no chosen trajectory records them: ` +
          `${absent.map((m) => m.name).join(', ')} (md rows keep no ` +
          'collapse metrics along training).'
        : ''),
    spec,
  );
}

/** A scatter whose arrays agree in length (d = 2: x, y pairs). */
function wellFormed(s: FeatureScatter): boolean {
  const n = s.points.length / 2;
  return (
    Number.isInteger(n) &&
    n > 0 &&
    s.labels.length === n &&
    s.trueLabels.length === n &&
    s.centres.length % 2 === 0
  );
}

const KINDS = ['clean example', 'mislabelled example', 'clean class centre'];

export function featureScatterFigure(rows: readonly ResultRow[]): Figure {
  const name = 'feature-scatter';
  const title = 'Features of d = 2 runs';
  const chosen = representativeRows(
    rows,
    (r) => r.scatter !== null && wellFormed(r.scatter),
    MAX_SCATTERS,
  );
  if (chosen.length === 0) {
    return omitted(
      name,
      title,
      'No non-diverged configuration saved a feature scatter (only d = 2 ' +
        'runs do).',
    );
  }
  const panels = chosen.map(configurationLabel);
  const values = chosen.flatMap((row, r) => {
    const s = row.scatter!;
    const examples = s.labels.map((label, i) => ({
      panel: panels[r],
      x: s.points[2 * i],
      y: s.points[2 * i + 1],
      class: `class ${s.trueLabels[i]}`,
      kind: label === s.trueLabels[i] ? KINDS[0] : KINDS[1],
    }));
    const centres = Array.from({ length: s.centres.length / 2 }, (_, k) => ({
      panel: panels[r],
      x: s.centres[2 * k],
      y: s.centres[2 * k + 1],
      class: `class ${k}`,
      kind: KINDS[2],
    }));
    return [...examples, ...centres].filter(
      (v) => isFiniteNumber(v.x) && isFiniteNumber(v.y),
    );
  });
  const encoding = {
    x: { field: 'x', type: 'quantitative' as const, title: 'feature 1 (x)' },
    y: { field: 'y', type: 'quantitative' as const, title: 'feature 2 (y)' },
    color: { field: 'class', type: 'nominal' as const, title: 'true class' },
    shape: {
      field: 'kind',
      type: 'nominal' as const,
      title: 'point',
      scale: { domain: KINDS, range: ['circle', 'cross', 'diamond'] },
    },
  };
  const isCentre = `datum.kind === '${KINDS[2]}'`;
  const spec: TopLevelSpec = {
    title: {
      text: title,
      subtitle: 'per model and loss, the configuration with the largest η',
    },
    config: CONFIG,
    data: { values },
    facet: {
      field: 'panel',
      type: 'nominal',
      title: 'configuration',
      sort: panels,
    },
    columns: 3,
    spec: {
      width: 200,
      height: 200,
      layer: [
        {
          transform: [{ filter: `!(${isCentre})` }],
          mark: { type: 'point', filled: true, opacity: 0.7, size: 40 },
          encoding,
        },
        {
          transform: [{ filter: isCentre }],
          mark: {
            type: 'point',
            filled: true,
            size: 260,
            stroke: 'black',
            strokeWidth: 1.5,
          },
          encoding,
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
  return drawn(
    name,
    title,
    'Final features of a seeded subsample of examples, coloured by true ' +
      'class: circles are clean examples, crosses mislabelled ones (observed ' +
      'label ≠ true label), large outlined diamonds the clean class centres. ' +
      `One panel per model and loss (at most ${MAX_SCATTERS}), each with ` +
      'its own scales.',
    spec,
  );
}
