/**
 * The progress bar of `with-memory import`, drawn on stderr when stderr is a terminal.
 *
 * @module
 */

import cliProgress from 'cli-progress';
import type { CliIo } from './cli-io.js';

/** Counts imported memories on a bar; does nothing where stderr is not a terminal. */
export interface ImportProgress {
  /** One more memory read. */
  tick(): void;
  /** Draws the final state and releases the terminal. */
  stop(): void;
}

/** A progress bar for `total` memories on `io.stderr`, or a silent one when that is no terminal. */
export function importProgress(io: CliIo, total: number): ImportProgress {
  if (io.stderr.isTTY !== true || total === 0) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr as NodeJS.WritableStream,
      format: 'Importing |{bar}| {value}/{total} memories',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick() {
      bar.increment();
    },
    stop() {
      bar.stop();
    },
  };
}
