// Progress of a sweep on stderr: configurations done of the total, the
// training rate in configuration-steps per second and the time left. A bar
// (cli-progress) on a terminal; one line per batch otherwise, so logs of a
// scheduler's job stay readable. Silent with --quiet.

import cliProgress from 'cli-progress';

export interface ProgressOptions {
  total: number;
  /** Configurations done before this run (resumed). */
  done: number;
  /** The work left in cost units (src/sweep/plan.ts stepCost × steps,
   * summed): what the time left is estimated from. */
  work: number;
  quiet?: boolean;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** How often a line is printed during a batch when there is no bar. */
const LINE_EVERY_MS = 30_000;

export class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly start = performance.now();
  private done: number;
  /** Config-steps done (the rate shown) and cost units done (the ETA). */
  private stepsDone = 0;
  private workDone = 0;
  /** The same for the batch in flight, counted as its steps arrive. */
  private stepsInFlight = 0;
  private workInFlight = 0;
  private lastLine = performance.now();

  constructor(private readonly options: ProgressOptions) {
    this.done = options.done;
    this.bar =
      !options.quiet && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format:
                '[nclab] {bar} {value}/{total} configurations | {rate} config-steps/s | ETA {left}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    this.bar?.start(options.total, this.done, this.payload());
  }

  private payload() {
    const seconds = Math.max((performance.now() - this.start) / 1000, 1e-3);
    const rate = (this.stepsDone + this.stepsInFlight) / seconds;
    // Steps of different models cost very different times (a graph step
    // over 800 examples vs an md step over 10 points): the time left comes
    // from cost units, not steps.
    const pace = (this.workDone + this.workInFlight) / seconds;
    const left = this.options.work - this.workDone - this.workInFlight;
    return {
      rate: rate > 0 ? rate.toPrecision(3) : '?',
      left: pace > 0 ? duration(left / pace) : '?',
    };
  }

  /** The batch in flight (`configs` runs, `cost` units per step of all of
   * them) reached `step`. */
  step(step: number, configs: number, cost: number): void {
    this.stepsInFlight = step * configs;
    this.workInFlight = step * cost;
    if (this.bar) {
      this.bar.update(this.done, this.payload());
      return;
    }
    // Without a terminal, a long batch still says it is alive, now and then.
    const now = performance.now();
    if (!this.options.quiet && now - this.lastLine >= LINE_EVERY_MS) {
      this.lastLine = now;
      const { rate, left } = this.payload();
      console.error(
        `[nclab] ${this.done}/${this.options.total} configurations, batch in ` +
          `flight at step ${step} | ${rate} config-steps/s | ETA ${left}`,
      );
    }
  }

  /** A batch finished: `configs` runs of `steps` steps each, `cost` units
   * per step of all of them. */
  batch(configs: number, steps: number, cost: number, label: string): void {
    this.done += configs;
    this.stepsDone += configs * steps;
    this.workDone += cost * steps;
    this.stepsInFlight = 0;
    this.workInFlight = 0;
    this.lastLine = performance.now();
    if (this.bar) {
      this.bar.update(this.done, this.payload());
    } else if (!this.options.quiet) {
      const { rate, left } = this.payload();
      console.error(
        `[nclab] ${this.done}/${this.options.total} configurations ` +
          `(${label}) | ${rate} config-steps/s | ETA ${left}`,
      );
    }
  }

  /** A line that must not be overdrawn by the bar. */
  say(line: string): void {
    if (this.options.quiet) return;
    if (this.bar) {
      this.bar.stop();
      console.error(line);
      this.bar.start(this.options.total, this.done, this.payload());
    } else {
      console.error(line);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
