/**
 * `with-memory inspect`: serves a local web page to browse users and scopes, list and search
 * their memories with scores, read histories and, with `--allow-edit`, edit or delete memories.
 * Bound to 127.0.0.1; the printed address carries a random token that every request needs.
 * Runs until Ctrl-C (SIGINT) or SIGTERM.
 *
 * @module
 */

import type { Command } from 'commander';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { type Inspector, startInspector } from '../inspect/inspect-server.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { portNumber } from '../option-values.js';
import { createOutput } from '../output.js';

interface InspectFlags extends DatabaseFlags {
  port: number;
  allowEdit?: boolean;
  json?: boolean;
}

/** Registers `inspect`. */
export function registerInspectCommand(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('browse and search memories in a local web page (127.0.0.1 only, with a secret address)')
    .option('--port <n>', 'the port to listen on (0: any free port)', portNumber, 0)
    .option('--allow-edit', 'let the page edit and delete memories (read-only otherwise)')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<InspectFlags>();
      const output = createOutput(io, { json: flags.json === true });
      const allowEdit = flags.allowEdit === true;
      await withStore(flags, { create: false }, async (store) => {
        const inspector = await listen(() => startInspector({ store, port: flags.port, allowEdit }), flags.port);
        output.result({ url: inspector.url, allowEdit }, () => inspector.url);
        output.note(
          `${allowEdit ? 'Edits and deletes are allowed.' : 'Read-only; pass --allow-edit to edit or delete.'} Keep the address private: it is the key. Press Ctrl-C to stop.`,
        );
        await stopSignal();
        await inspector.close();
      });
    });
}

async function listen(start: () => Promise<Inspector>, port: number): Promise<Inspector> {
  try {
    return await start();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new CliError(
        `cannot listen on port ${port} (${code}); pick another --port, or 0 for any free one`,
        exitCodes.usage,
      );
    }
    throw error;
  }
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
