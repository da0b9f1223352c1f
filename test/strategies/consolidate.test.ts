import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExtractionError, InvalidOptionsError } from '../../src/core/errors.js';
import type { MemoryStore, Scope } from '../../src/core/types.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { localStore } from '../../src/stores/local/index.js';
import { consolidate } from '../../src/strategies/consolidate.js';
import type { CompleteFunction } from '../../src/strategies/extract/llm-client.js';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.js';
import { promptOf, script } from './extract/llm-script.js';

const scope: Scope = { userId: 'user_42' };
const other: Scope = { userId: 'someone_else' };
const now = () => new Date('2026-06-03T12:00:00Z');
const answerNothing: CompleteFunction = async () => '{}';

type FullStore = MemoryStore & Required<Pick<MemoryStore, 'list' | 'history' | 'update' | 'delete' | 'close'>>;

async function seed(store: MemoryStore): Promise<void> {
  const add = (text: string, type: string, forScope: Scope = scope, metadata?: Record<string, unknown>) =>
    store.add({ facts: [{ text, type, ...(metadata && { metadata }) }] }, { scope: forScope });
  await add('User prefers tea over coffee.', 'preference');
  await add('User prefers tea to coffee in the morning.', 'preference');
  await add('User likes jazz.', 'preference');
  await add('User likes jazz music.', 'preference');
  await add('User lives in Berlin.', 'profile');
  await add('User had a dentist appointment.', 'event', scope, { date: '2026-03-02' });
  await add('User sat the driving test and passed.', 'event', scope, { date: '2026-04-10' });
  await add("User's exam is on 15 June 2026.", 'event', scope, { date: '2026-06-15' });
  await add('User prefers tea over coffee.', 'preference', other);
  await add('User prefers tea to coffee in the morning.', 'preference', other);
}

async function snapshot(store: FullStore, forScope: Scope = scope) {
  const memories = await store.list({ scope: forScope });
  return Promise.all(
    memories.map(async ({ id, text, type, metadata }) => ({
      text,
      type,
      metadata,
      history: (await store.history(id)).map((entry) => entry.event),
    })),
  );
}

let fake: FakeAnthropic;
let directory: string;
beforeEach(async () => {
  fake = await startFakeAnthropic();
  directory = mkdtempSync(join(tmpdir(), 'with-memory-consolidate-'));
});
afterEach(async () => {
  await fake.close();
  rmSync(directory, { recursive: true, force: true });
});

describe.each([
  ['the local store', () => localStore({ path: join(directory, 'memory.db') }) as FullStore],
  ['the in-memory store', () => inMemoryStore() as FullStore],
])('consolidate on %s', (_, makeStore) => {
  it('merges near-duplicates and folds old events into a summary, keeping history', async () => {
    const store = makeStore();
    await seed(store);
    const played = script([
      (prompt) => {
        const groups = JSON.parse(prompt.split('\n').at(-1) ?? '[]') as Array<{ group: number; memories: string[] }>;
        return JSON.stringify({
          groups: groups.map(({ group, memories }) => ({
            group,
            text: memories.some((text) => text.includes('tea'))
              ? 'User prefers tea over coffee, especially in the morning.'
              : null,
          })),
        });
      },
      JSON.stringify({
        summary: 'In spring 2026 the user went to the dentist (2 March) and passed the driving test (10 April).',
      }),
    ]);
    fake.respond = (body) => ({ text: played.reply(promptOf(body)) });

    const report = await consolidate(store, scope, {
      client: new Anthropic({ apiKey: 'test', baseURL: fake.url, maxRetries: 0 }),
      model: 'claude-test',
      olderThan: '30d',
      now,
    });

    expect(played.left).toBe(0);
    expect(report).toMatchObject({ merged: 1, summaries: 1, deleted: 3 });
    const after = await store.list({ scope });
    expect(after.map(({ type, text }) => `${type}: ${text}`).sort()).toEqual([
      "event: User's exam is on 15 June 2026.",
      'preference: User likes jazz music.',
      'preference: User likes jazz.',
      'preference: User prefers tea over coffee, especially in the morning.',
      'profile: User lives in Berlin.',
      'summary: In spring 2026 the user went to the dentist (2 March) and passed the driving test (10 April).',
    ]);
    const summary = after.find((memory) => memory.type === 'summary');
    expect(summary?.metadata).toEqual({ from: '2026-03-02', to: '2026-04-10', events: 2 });
    expect((await store.history(summary?.id ?? '')).map(({ event, reason }) => ({ event, reason }))).toEqual([
      { event: 'ADD', reason: 'consolidate: summary of 2 past events' },
    ]);
    const merged = after.find((memory) => memory.text.startsWith('User prefers tea'));
    expect(
      (await store.history(merged?.id ?? '')).map(({ event, newText, reason }) => ({ event, newText, reason })),
    ).toEqual([
      { event: 'ADD', newText: 'User prefers tea to coffee in the morning.', reason: undefined },
      {
        event: 'UPDATE',
        newText: 'User prefers tea over coffee, especially in the morning.',
        reason: 'consolidate: merged 2 near-duplicate memories',
      },
    ]);
    const deletions = report.changes.filter((change) => change.event === 'DELETE');
    for (const deleted of deletions) {
      const history = await store.history(deleted.id ?? '');
      expect(history.at(-1)).toMatchObject({ event: 'DELETE', oldText: deleted.previousText });
      expect(history.at(-1)?.reason).toMatch(/^consolidate: (merged into memory|folded into summary) /);
    }
    // Another user's duplicates are not this scope's business.
    expect((await store.list({ scope: other })).map((memory) => memory.text).sort()).toEqual([
      'User prefers tea over coffee.',
      'User prefers tea to coffee in the morning.',
    ]);
    // The model saw memory texts as data, and never an id.
    for (const memory of after) expect(played.prompts.join('\n')).not.toContain(memory.id);

    // A second pass only meets the group the model kept apart, and changes nothing.
    const asked: string[] = [];
    const again = await consolidate(store, scope, {
      complete: async (prompt) => {
        asked.push(prompt);
        return '{"groups":[{"group":1,"text":null}]}';
      },
      now,
    });
    expect(again).toEqual({ merged: 0, summaries: 0, deleted: 0, changes: [] });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('"User likes jazz."');
    expect(asked[0]).toContain('"User likes jazz music."');
    await store.close();
  });
});

describe('consolidate: malformed model output changes nothing', () => {
  const mergeAll = (prompt: string) => {
    const groups = JSON.parse(prompt.split('\n').at(-1) ?? '[]') as Array<{ group: number }>;
    return JSON.stringify({ groups: groups.map(({ group }) => ({ group, text: 'Merged.' })) });
  };
  it.each([
    ['a merge reply that is not JSON', ['Here you go: merged!', '{"summary":"ok"}'], /merge reply is not JSON/],
    ['an unknown group', ['{"groups":[{"group":7,"text":"x"}]}', '{"summary":"ok"}'], /names group 7 but only 2/],
    [
      'a summary of the wrong shape',
      [mergeAll, '{"text":"A summary."}'],
      /summary reply does not have the expected shape/,
    ],
  ])('%s', async (_, replies, message) => {
    const store = inMemoryStore();
    await seed(store);
    const before = await snapshot(store);
    const played = script(replies as Array<string | ((prompt: string) => string)>);
    await expect(consolidate(store, scope, { complete: async (prompt) => played.reply(prompt), now })).rejects.toThrow(
      message,
    );
    await expect(consolidate(store, scope, { complete: async () => 'nope', now })).rejects.toBeInstanceOf(
      ExtractionError,
    );
    expect(await snapshot(store)).toEqual(before);
  });
});

describe('consolidate: arguments', () => {
  it('needs a store that can list, update and delete', async () => {
    const { update, ...readOnly } = inMemoryStore();
    await expect(consolidate(readOnly, scope, { complete: async () => '{}' })).rejects.toMatchObject({
      path: 'store',
    });
  });

  it.each([
    [{}, 'client'],
    [{ complete: answerNothing, olderThan: 'soon' }, 'olderThan'],
    [{ complete: answerNothing, similarity: 0 }, 'similarity'],
  ])('rejects options %j', async (options, path) => {
    const error = await consolidate(inMemoryStore(), scope, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).path).toBe(path);
  });

  it('rejects an invalid scope', async () => {
    await expect(consolidate(inMemoryStore(), {}, { complete: async () => '{}' })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
  });
});
