import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { localStore } from '../../src/stores/local/index.js';
import { withMemory } from '../../src/with-memory.js';

// The CLI as `npm run build` makes it, built inside node_modules so its dependencies resolve.
const run = promisify(execFile);
const built = join('node_modules', '.cache', 'with-memory-mcp-cli');
const folder = mkdtempSync(join(tmpdir(), 'with-memory-mcp-'));
const db = join(folder, 'memory.db');

beforeAll(async () => {
  await run(process.execPath, [
    'node_modules/tsup/dist/cli-default.js',
    'src/cli/index.ts',
    '--no-config',
    '--format',
    'esm',
    '--no-dts',
    '--out-dir',
    built,
  ]);
}, 120_000);
afterAll(() => {
  rmSync(built, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

async function connect(...flags: string[]): Promise<Client> {
  const client = new Client({ name: 'with-memory-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [join(built, 'index.js'), 'mcp', '--db', db, ...flags],
    }),
  );
  return client;
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const [first] = result.content as Array<{ type: string; text: string }>;
  return first?.text ?? '';
}

describe('with-memory mcp', () => {
  it('lists four tools, and a memory added through MCP is injected by withMemory on the same file', async () => {
    const client = await connect();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['search_memory', 'add_memory', 'list_memories', 'delete_memory']);
      expect(tools.find((tool) => tool.name === 'add_memory')?.inputSchema.properties).toHaveProperty('userId');

      const added = await client.callTool({
        name: 'add_memory',
        arguments: { userId: 'alice', text: 'Alice is allergic to peanuts.', type: 'profile' },
      });
      expect(added.isError).toBe(false);
      expect(text(added)).toMatch(/^Saved as a profile \(id .+\)\.$/);
      const found = await client.callTool({ name: 'search_memory', arguments: { userId: 'alice', query: 'peanuts' } });
      expect(text(found)).toContain('Alice is allergic to peanuts.');
      const listed = await client.callTool({ name: 'list_memories', arguments: { userId: 'bob' } });
      expect(text(listed)).toBe('No memories yet.');
    } finally {
      await client.close();
    }

    const store = localStore({ path: db });
    const prompts: string[] = [];
    const agent = withMemory(
      async ({ system }: MemoryFunctionRequest) => {
        prompts.push(system ?? '');
        return 'OK';
      },
      { scope: { userId: 'alice' }, store, write: false },
    );
    await agent({ messages: [{ role: 'user', content: 'Any snack ideas?' }] });
    await flushMemory(agent);
    await store.close();
    expect(prompts[0]).toContain('Alice is allergic to peanuts.');
  });

  it('refuses a call without a scope, a bad scope and bad input with a message; the default scope applies', async () => {
    const client = await connect('--user', 'carol');
    try {
      const noScope = await client.callTool({ name: 'add_memory', arguments: { text: 'Likes jazz' } });
      expect(noScope.isError).toBe(false);
      expect(text(await client.callTool({ name: 'list_memories', arguments: {} }))).toContain('Likes jazz');
      const badScope = await client.callTool({ name: 'search_memory', arguments: { userId: '', query: 'jazz' } });
      expect(badScope.isError).toBe(true);
      expect(text(badScope)).toMatch(/^Refused \(search_memory\): scope\.userId: a non-empty string/);
      const badInput = await client.callTool({ name: 'delete_memory', arguments: { userId: 'carol' } });
      expect(badInput.isError).toBe(true);
      expect(text(badInput)).toMatch(/^Refused \(forget\): id:/);
    } finally {
      await client.close();
    }
    const noDefault = await connect();
    try {
      const refused = await noDefault.callTool({ name: 'list_memories', arguments: {} });
      expect(text(refused)).toBe('Refused (list_memories): give userId, agentId or runId (and appId to narrow it).');
    } finally {
      await noDefault.close();
    }
  });
});
