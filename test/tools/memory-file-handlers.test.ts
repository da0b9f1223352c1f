import Anthropic from '@anthropic-ai/sdk';
import { betaMemoryTool } from '@anthropic-ai/sdk/helpers/beta/memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InMemoryStore, inMemoryStore } from '../../src/stores/in-memory.js';
import { memoryToolHandlers } from '../../src/tools/memory-file-handlers.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.js';

const model = 'claude-test';
const scope = { userId: 'user_42' };

let fake: FakeAnthropic;
let store: InMemoryStore;
const client = () => new Anthropic({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0 });

beforeEach(async () => {
  fake = await startFakeAnthropic();
  store = inMemoryStore();
});
afterEach(async () => {
  await fake.close();
  await store.close?.();
});

/** The tool results the fake was sent, as [text, is_error] pairs. */
function toolResults(): Array<[string, boolean]> {
  return fake.requests.flatMap((body) =>
    (body.messages as Array<{ content: unknown }>).flatMap((message) =>
      Array.isArray(message.content)
        ? message.content
            .filter((block: { type: string }) => block.type === 'tool_result')
            .map((block: { content: unknown; is_error?: boolean }): [string, boolean] => [
              typeof block.content === 'string' ? block.content : JSON.stringify(block.content),
              block.is_error === true,
            ])
        : [],
    ),
  );
}

describe('memoryToolHandlers with betaMemoryTool on a real Anthropic client', () => {
  it('a file Claude creates is found by view in a new conversation and injected by withMemory', async () => {
    const memory = betaMemoryTool(memoryToolHandlers({ scope, store }));
    fake.replies.push(
      {
        toolUse: {
          name: 'memory',
          input: { command: 'create', path: '/memories/diet.md', file_text: 'The user is vegetarian.\nNo mushrooms.' },
        },
      },
      { text: 'Noted.' },
    );
    const first = await client().beta.messages.toolRunner({
      model,
      max_tokens: 100,
      tools: [memory],
      messages: [{ role: 'user', content: 'I am vegetarian and I hate mushrooms.' }],
    });
    expect(first.content[0]).toMatchObject({ type: 'text', text: 'Noted.' });
    expect(toolResults()).toEqual([['File created successfully at: /memories/diet.md', false]]);

    // A new conversation: Claude views the directory, then the file.
    fake.replies.push(
      { toolUse: { name: 'memory', input: { command: 'view', path: '/memories' } } },
      { toolUse: { name: 'memory', input: { command: 'view', path: '/memories/diet.md' } } },
      { text: 'You are vegetarian.' },
    );
    await client().beta.messages.toolRunner({
      model,
      max_tokens: 100,
      tools: [betaMemoryTool(memoryToolHandlers({ scope, store }))],
      messages: [{ role: 'user', content: 'What do I eat?' }],
    });
    const [, listing, content] = toolResults();
    expect(listing?.[0]).toContain('/memories/diet.md');
    expect(content).toEqual([
      "Here's the content of /memories/diet.md with line numbers:\n     1\tThe user is vegetarian.\n     2\tNo mushrooms.",
      false,
    ]);

    // The wrapper on the same store injects the file's memory.
    const wrapped = withMemory(client(), { scope, store, write: false });
    await wrapped.messages.create({
      model,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Am I vegetarian?' }],
    });
    expect(JSON.stringify(fake.requests.at(-1)?.system)).toContain('The user is vegetarian.');
  });

  it('edits, inserts, renames and deletes files as memories of the scope', async () => {
    const handlers = memoryToolHandlers({ scope, store });
    await handlers.create({ command: 'create', path: '/memories/trip/plan.md', file_text: 'Venue: Lisbon' });
    await handlers.str_replace({
      command: 'str_replace',
      path: '/memories/trip/plan.md',
      old_str: 'Lisbon',
      new_str: 'Porto',
    });
    await handlers.insert({
      command: 'insert',
      path: '/memories/trip/plan.md',
      insert_line: 1,
      insert_text: 'Date: May',
    });
    expect(await handlers.view({ command: 'view', path: '/memories/trip/plan.md' })).toContain(
      '1\tVenue: Porto\n     2\tDate: May',
    );
    await handlers.rename({ command: 'rename', old_path: '/memories/trip', new_path: '/memories/travel' });
    const [memory] = await store.list({ scope });
    expect(memory).toMatchObject({
      text: 'Venue: Porto\nDate: May',
      type: 'note',
      metadata: { file: '/memories/travel/plan.md' },
    });
    expect((await store.history(String(memory?.id))).map((entry) => entry.event)).toEqual([
      'ADD',
      'UPDATE',
      'UPDATE',
      'UPDATE',
    ]);
    await handlers.delete({ command: 'delete', path: '/memories/travel' });
    expect(await store.list({ scope })).toEqual([]);
    await expect(handlers.view({ command: 'view', path: '/memories/travel/plan.md' })).rejects.toThrow(
      'Error: The path /memories/travel/plan.md does not exist.',
    );
  });

  it('refuses path traversal and oversize files with a message the model reads', async () => {
    fake.replies.push(
      { toolUse: { name: 'memory', input: { command: 'view', path: '/memories/../etc/passwd' } } },
      {
        toolUse: {
          name: 'memory',
          input: { command: 'create', path: '/memories/big.md', file_text: 'x'.repeat(2001) },
        },
      },
      { toolUse: { name: 'memory', input: { command: 'create', path: '/secrets.md', file_text: 'hi' } } },
      { text: 'Sorry.' },
    );
    await client().beta.messages.toolRunner({
      model,
      max_tokens: 100,
      tools: [betaMemoryTool(memoryToolHandlers({ scope, store }))],
      messages: [{ role: 'user', content: 'Look around.' }],
    });
    const results = toolResults();
    expect(results.map(([, isError]) => isError)).toEqual([true, true, true]);
    expect(results[0]?.[0]).toMatch(/path must be a plain path under \/memories \(no "\.\.", "\." or empty parts\)/);
    expect(results[1]?.[0]).toMatch(/file_text is 2001 characters; a memory file holds at most 2000\. Split it/);
    expect(results[2]?.[0]).toMatch(/path must be a plain path under \/memories/);
    expect(await store.list({ scope })).toEqual([]);
  });

  it('a file is never also a directory, and a restated file is named, not silently merged', async () => {
    const handlers = memoryToolHandlers({ scope, store });
    await handlers.create({
      command: 'create',
      path: '/memories/a.md',
      file_text: 'The venue is the old harbour hall',
    });
    await expect(handlers.create({ command: 'create', path: '/memories/a.md/b.md', file_text: 'x' })).rejects.toThrow(
      'Error: /memories/a.md is a file, so /memories/a.md/b.md cannot be inside it.',
    );
    await expect(handlers.create({ command: 'create', path: '/memories', file_text: 'x' })).rejects.toThrow(
      'must name a file inside /memories',
    );
    await expect(
      handlers.create({ command: 'create', path: '/memories/copy.md', file_text: 'The venue is the old harbour hall' }),
    ).rejects.toThrow('Error: this text restates /memories/a.md, which keeps it; edit that file instead.');
    expect((await store.list({ scope })).map((memory) => memory.metadata.file)).toEqual(['/memories/a.md']);
  });

  it("keeps to its scope: another user's files are invisible and untouched", async () => {
    await memoryToolHandlers({ scope: { userId: 'other' }, store }).create({
      command: 'create',
      path: '/memories/secret.md',
      file_text: 'Plan B',
    });
    const mine = memoryToolHandlers({ scope, store });
    expect(await mine.view({ command: 'view', path: '/memories' })).not.toContain('secret');
    await expect(mine.delete({ command: 'delete', path: '/memories/secret.md' })).rejects.toThrow('does not exist');
    expect(await store.list({ scope: { userId: 'other' } })).toHaveLength(1);
  });

  it('read-only handlers view but refuse every write', async () => {
    await memoryToolHandlers({ scope, store }).create({ command: 'create', path: '/memories/a.md', file_text: 'A' });
    const readOnly = memoryToolHandlers({ scope, store, mode: 'read-only' });
    expect(await readOnly.view({ command: 'view', path: '/memories/a.md' })).toContain('1\tA');
    await expect(readOnly.create({ command: 'create', path: '/memories/b.md', file_text: 'B' })).rejects.toThrow(
      'Memory is read-only here; nothing was changed.',
    );
    await expect(readOnly.delete({ command: 'delete', path: '/memories/a.md' })).rejects.toThrow('read-only');
    expect(await store.list({ scope })).toHaveLength(1);
  });

  it('a scope function serves two users through one set of handlers; one that throws touches nothing', async () => {
    let user: string | undefined = 'alice';
    const stages: string[] = [];
    const handlers = memoryToolHandlers({
      scope: async () => {
        if (!user) throw new Error('no session');
        return { userId: user };
      },
      store,
      onError: (_error, context) => stages.push(context.stage),
    });
    await handlers.create({ command: 'create', path: '/memories/drink.md', file_text: 'Green tea' });
    user = 'bob';
    await handlers.create({ command: 'create', path: '/memories/drink.md', file_text: 'Black coffee' });
    expect(await handlers.view({ command: 'view', path: '/memories/drink.md' })).toContain('Black coffee');
    user = 'alice';
    expect(await handlers.view({ command: 'view', path: '/memories/drink.md' })).toContain('Green tea');
    expect((await store.list({ scope: { userId: 'bob' } })).map((memory) => memory.text)).toEqual(['Black coffee']);

    user = undefined;
    await expect(handlers.delete({ command: 'delete', path: '/memories/drink.md' })).rejects.toThrow(
      'memory is unavailable right now',
    );
    expect(stages).toEqual(['scope']);
    expect(await store.list({ scope: { userId: 'alice' } })).toHaveLength(1);
  });
});
