/**
 * Progress bars for long work (backtests, exports), drawn on a terminal only: piped or
 * redirected output stays clean for scripts.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

export const NO_PROGRESS: Progress = { start: () => {}, update: () => {}, stop: () => {} };

/**
 * A bar on `stream` when it is a terminal; nothing otherwise. Totals below `minTotal` draw no
 * bar either: a bar that flashes for a few milliseconds tells nobody anything.
 */
export function progressBar(stream: NodeJS.WritableStream | null, label: string, minTotal = 0): Progress {
  if (stream === null) return NO_PROGRESS;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total) {
      if (total < minTotal) return;
      bar = new cliProgress.SingleBar(
        { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update(done) {
      bar?.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
