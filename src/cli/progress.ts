// Progress of a sweep on stderr: configurations done of the total, the
// training rate in configuration-steps per second and the time left. A bar
// (cli-progress) on a terminal; one line per batch otherwise, so logs of a
// scheduler's job stay readable. Silent with --quiet.

import cliProgress from 'cli-progress';

export interface ProgressOptions {
  total: number;
  /** Configurations done before this run (resumed). */
  done: number;
  /** Steps each remaining configuration trains, summed: the work left. */
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
  private workDone = 0;
  /** Config-steps of the batch in flight, counted as its steps arrive. */
  private inFlight = 0;
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

  private rate(): number {
    const seconds = (performance.now() - this.start) / 1000;
    return (this.workDone + this.inFlight) / Math.max(seconds, 1e-3);
  }

  private payload() {
    const rate = this.rate();
    const left = this.options.work - this.workDone - this.inFlight;
    return {
      rate: rate > 0 ? rate.toPrecision(3) : '?',
      left: rate > 0 ? duration(left / rate) : '?',
    };
  }

  /** The batch in flight reached `step` with `configs` runs. */
  step(step: number, configs: number): void {
    this.inFlight = step * configs;
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

  /** A batch finished: `configs` runs of `steps` steps each. */
  batch(configs: number, steps: number, label: string): void {
    this.done += configs;
    this.workDone += configs * steps;
    this.inFlight = 0;
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
