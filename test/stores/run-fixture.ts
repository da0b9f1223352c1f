/**
 * Runs a test fixture (a TypeScript file) in its own Node process, for the tests of several
 * processes sharing one store; `onLine` sees each line it prints, and may kill it.
 *
 * @module
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** What a fixture's process did. */
export interface Run {
  lines: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** A runner for the fixtures of `folder`; every process still running after a test is killed. */
export function fixtureRunner(
  folder: string,
): (script: string, args: string[], onLine?: (line: string, child: ChildProcess) => void) => Promise<Run> {
  const children = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
  });
  return (script, args, onLine) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(folder, script), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      const lines: string[] = [];
      let pending = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        for (let index = pending.indexOf('\n'); index !== -1; index = pending.indexOf('\n')) {
          const line = pending.slice(0, index);
          pending = pending.slice(index + 1);
          lines.push(line);
          onLine?.(line, child);
        }
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        children.delete(child);
        resolve({ lines, code, signal, stderr });
      });
    });
}
