/**
 * Asks the person at the terminal a yes/no question before something that cannot be undone.
 *
 * @module
 */

import { createInterface } from 'node:readline';
import type { CliIo } from './cli-io.js';

/** Asks `question` on stderr and reads one line from stdin; only `y` or `yes` count as yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.stderr.write(`${question} [y/N] `);
  const lines = createInterface({ input: io.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      lines.once('line', resolve);
      // End of input (Ctrl-D) is a no.
      lines.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    lines.close();
  }
}
