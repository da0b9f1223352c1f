#!/usr/bin/env node
/**
 * The `with-memory` command (package `bin`): inspect and manage the memories of a local store.
 * Run `with-memory --help`.
 *
 * @module
 */

import { exitCodes } from './cli-error.js';
import { runCli } from './main.js';

// A reader that stops early (`with-memory list --json | head`) got all it wanted: not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(exitCodes.ok);
});

// exitCode, not exit(): output still being written to a pipe is not cut off.
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
