import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url));
// Resolved here so that the CLI can run with any folder as its working directory.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** What one run of the command did. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface CliRunOptions {
  /** The working directory. */
  cwd: string;
  /** Written to stdin, which is then closed; stdin is never a terminal here. */
  input?: string;
  /** Added to the environment (which never has WITH_MEMORY_DB otherwise). */
  env?: Record<string, string>;
}

/** Starts `with-memory <args>` from the source, in its own Node process, through tsx. */
export function spawnCli(
  args: string[],
  { cwd, env = {} }: Omit<CliRunOptions, 'input'>,
): ChildProcessWithoutNullStreams {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.WITH_MEMORY_DB === undefined) delete environment.WITH_MEMORY_DB;
  return spawn(process.execPath, ['--import', tsx, entry, ...args], { cwd, env: environment, stdio: 'pipe' });
}

/** Runs `with-memory <args>` to its end and collects what it printed. */
export function runCli(args: string[], { cwd, input = '', env = {} }: CliRunOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Parses the JSON a `--json` run printed, with its stderr in the failure message. */
export function parseJson<T>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`The command failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
