/**
 * `with-memory stats`: how many memories the database (or a scope) holds, of which types, for how
 * many users, agents, runs and apps, and the file's size.
 *
 * @module
 */

import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Scope } from '../../core/types.js';
import { readLines } from '../../stores/kernel/jsonl.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { countOf, createOutput, formatDate } from '../output.js';
import { addScopeFlags, describeScope, hasScopeFlags, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface StatsFlags extends ScopeFlags, DatabaseFlags {
  json?: boolean;
}

/** What `stats --json` prints. */
export interface Stats {
  /** The absolute path of the database file, or the PostgreSQL server, database and schema. */
  path: string;
  /** The size of the file and its write-ahead log, in bytes (not given for PostgreSQL). */
  bytes?: number;
  /** The scope counted, when scope flags were given. */
  scope?: Scope;
  /** Memories that are stored and not expired. */
  memories: number;
  /** Memories per type. */
  types: Record<string, number>;
  /** Memories without a type. */
  untyped: number;
  /** Distinct user, agent, run and app ids among them. */
  users: number;
  agents: number;
  runs: number;
  apps: number;
  /** When the oldest was created, as an ISO date; `null` without memories. */
  oldest: string | null;
  /** When the latest change was made, as an ISO date; `null` without memories. */
  newest: string | null;
}

interface ExportedLine {
  type?: string;
  scope: Scope;
  createdAt: string;
  updatedAt: string;
}

/** Registers `stats`. */
export function registerStatsCommand(program: Command, io: CliIo): void {
  addScopeFlags(program.command('stats').description('count the memories of the database, or of a scope')).action(
    async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<StatsFlags>();
      const scope = hasScopeFlags(flags) ? scopeFromFlags(flags) : undefined;
      const output = createOutput(io, { json: flags.json === true });
      const stats = await withStore(flags, { create: false }, async (store, location) => {
        const counted = emptyStats(
          location,
          store.name === 'local' ? fileSize(store.path) + fileSize(`${store.path}-wal`) : undefined,
          scope,
        );
        const ids = {
          users: new Set<string>(),
          agents: new Set<string>(),
          runs: new Set<string>(),
          apps: new Set<string>(),
        };
        // The store has no count of its own: the export is read page by page, never held whole.
        for await (const { line } of readLines(store.export(scope === undefined ? {} : { scope }))) {
          const memory = JSON.parse(line) as ExportedLine;
          counted.memories += 1;
          if (memory.type === undefined) counted.untyped += 1;
          else counted.types[memory.type] = (counted.types[memory.type] ?? 0) + 1;
          if (memory.scope.userId !== undefined) ids.users.add(memory.scope.userId);
          if (memory.scope.agentId !== undefined) ids.agents.add(memory.scope.agentId);
          if (memory.scope.runId !== undefined) ids.runs.add(memory.scope.runId);
          if (memory.scope.appId !== undefined) ids.apps.add(memory.scope.appId);
          if (counted.oldest === null || memory.createdAt < counted.oldest) counted.oldest = memory.createdAt;
          if (counted.newest === null || memory.updatedAt > counted.newest) counted.newest = memory.updatedAt;
        }
        return { ...counted, users: ids.users.size, agents: ids.agents.size, runs: ids.runs.size, apps: ids.apps.size };
      });
      output.result(stats, () => renderStats(stats));
    },
  );
}

function emptyStats(path: string, bytes: number | undefined, scope: Scope | undefined): Stats {
  const stats: Stats = {
    path,
    memories: 0,
    types: {},
    untyped: 0,
    users: 0,
    agents: 0,
    runs: 0,
    apps: 0,
    oldest: null,
    newest: null,
  };
  if (bytes !== undefined) stats.bytes = bytes;
  if (scope !== undefined) stats.scope = scope;
  return stats;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function renderStats(stats: Stats): string {
  const types = Object.entries(stats.types)
    .sort(([a, countA], [b, countB]) => countB - countA || a.localeCompare(b))
    .map(([type, count]) => `${type} ${count}`);
  if (stats.untyped > 0) types.push(`untyped ${stats.untyped}`);
  const rows: Array<[string, string]> = [
    ['Database', stats.bytes === undefined ? stats.path : `${stats.path} (${formatBytes(stats.bytes)})`],
    ...(stats.scope === undefined ? [] : [['Scope', describeScope(stats.scope)] as [string, string]]),
    ['Memories', String(stats.memories)],
    ['Types', types.length === 0 ? '-' : types.join(', ')],
    [
      'Owners',
      [
        countOf(stats.users, 'user'),
        countOf(stats.agents, 'agent'),
        countOf(stats.runs, 'run'),
        countOf(stats.apps, 'app'),
      ].join(', '),
    ],
    ['Oldest', stats.oldest === null ? '-' : `${formatDate(new Date(stats.oldest))} UTC`],
    ['Newest', stats.newest === null ? '-' : `${formatDate(new Date(stats.newest))} UTC`],
  ];
  return rows.map(([label, value]) => `${label.padEnd(10)}${value}`).join('\n');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
