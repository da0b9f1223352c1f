/**
 * `with-memory mcp`: a stdio MCP server over the store of `--db`, with the tools
 * `search_memory`, `add_memory`, `list_memories` and `delete_memory`. Needs
 * `@modelcontextprotocol/sdk` (an optional peer of the package: only this command loads it).
 *
 * @module
 */

import type { Command } from 'commander';
import { serveMcp } from '../../tools/mcp-server.js';
import { CliError, exitCodes } from '../cli-error.js';
import type { CliIo } from '../cli-io.js';
import { type DatabaseFlags, withStore } from '../open-store.js';
import { addScopeFlags, hasScopeFlags, type ScopeFlags, scopeFromFlags } from '../scope-flags.js';

interface McpFlags extends ScopeFlags, DatabaseFlags {}

/** Registers `mcp`. */
export function registerMcpCommand(program: Command, io: CliIo, version: string): void {
  addScopeFlags(
    program
      .command('mcp')
      .description(
        'serve the memory tools to an MCP client (Claude Desktop, Claude Code, Cursor) over stdio; the scope flags give the scope of calls that name none',
      ),
  ).action(async (_options: unknown, command: Command) => {
    const flags = command.optsWithGlobals<McpFlags>();
    const defaultScope = hasScopeFlags(flags) ? scopeFromFlags(flags) : undefined;
    await import('@modelcontextprotocol/sdk/server/index.js').catch(() => {
      throw new CliError(
        'the MCP server needs @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk (or npx -p with-memory -p @modelcontextprotocol/sdk with-memory mcp)',
        exitCodes.usage,
      );
    });
    await withStore(flags, { create: true }, (store) =>
      // stdout carries the protocol: errors go to stderr, without memory text.
      serveMcp({
        store,
        defaultScope,
        version,
        onError: (message) => io.stderr.write(`with-memory mcp: ${message}\n`),
      }),
    );
  });
}
