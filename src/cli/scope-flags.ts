/**
 * The scope flags `--user`, `--agent`, `--run` and `--app`, and how they become a `Scope`.
 *
 * @module
 */

import type { Command } from 'commander';
import { InvalidOptionsError } from '../core/errors.js';
import { parseScope } from '../core/scope.js';
import type { Scope } from '../core/types.js';
import { CliError, exitCodes } from './cli-error.js';

/** The scope flags as commander parses them. */
export interface ScopeFlags {
  user?: string;
  agent?: string;
  run?: string;
  app?: string;
}

const flagOfField: Record<keyof Scope, string> = {
  userId: '--user',
  agentId: '--agent',
  runId: '--run',
  appId: '--app',
};

/** Adds the four scope flags to a command. */
export function addScopeFlags(command: Command): Command {
  return command
    .option('--user <id>', 'the user whose memories these are')
    .option('--agent <id>', 'the agent whose memories these are')
    .option('--run <id>', 'the run (session) whose memories these are')
    .option('--app <id>', 'the application, to narrow the scope further');
}

/** True when any scope flag was given. */
export function hasScopeFlags(flags: ScopeFlags): boolean {
  return [flags.user, flags.agent, flags.run, flags.app].some((value) => value !== undefined);
}

/**
 * The scope the flags name, validated as `withMemory` validates scopes. Without any of `--user`,
 * `--agent`, `--run` it fails with exit code 2, saying which flags to pass.
 */
export function scopeFromFlags(flags: ScopeFlags): Scope {
  if (flags.user === undefined && flags.agent === undefined && flags.run === undefined) {
    const appOnly = flags.app === undefined ? 'no scope given' : '--app alone is not a scope';
    throw new CliError(
      `${appOnly}; pass --user <id>, --agent <id> or --run <id> (and --app <id> to narrow it)`,
      exitCodes.usage,
    );
  }
  const scope: Record<string, string> = {};
  if (flags.user !== undefined) scope.userId = flags.user;
  if (flags.agent !== undefined) scope.agentId = flags.agent;
  if (flags.run !== undefined) scope.runId = flags.run;
  if (flags.app !== undefined) scope.appId = flags.app;
  try {
    return parseScope(scope);
  } catch (error) {
    if (!InvalidOptionsError.isInstance(error)) throw error;
    const field = error.path.replace(/^scope\.?/, '') as keyof Scope | '';
    const flag = field === '' ? 'the scope' : flagOfField[field];
    throw new CliError(`invalid ${flag}: expected ${error.expected}`, exitCodes.usage);
  }
}

/** The scope as words for messages and prompts, e.g. `user u1, agent support`. */
export function describeScope(scope: Scope): string {
  const parts: string[] = [];
  if (scope.userId !== undefined) parts.push(`user ${scope.userId}`);
  if (scope.agentId !== undefined) parts.push(`agent ${scope.agentId}`);
  if (scope.runId !== undefined) parts.push(`run ${scope.runId}`);
  if (scope.appId !== undefined) parts.push(`app ${scope.appId}`);
  return parts.join(', ');
}
