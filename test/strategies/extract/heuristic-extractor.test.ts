import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError, type MemoryError } from '../../../src/core/errors.js';
import type { WriteEvent } from '../../../src/core/options.js';
import type { Memory, MemoryStore, Scope } from '../../../src/core/types.js';
import type { MemoryFunctionRequest } from '../../../src/providers/function.js';
import { inMemoryStore } from '../../../src/stores/in-memory.js';
import { localStore } from '../../../src/stores/local/index.js';
import { type HeuristicExtractorOptions, heuristicExtractor } from '../../../src/strategies/extract/heuristic/index.js';
import { createMockStore } from '../../../src/testing/mock-store.js';
import { withMemory } from '../../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../fakes/anthropic-server.js';

// Wednesday 3 June 2026, noon UTC: relative dates below are resolved against it.
const noon = () => new Date('2026-06-03T12:00:00Z');
const inUtc: HeuristicExtractorOptions = { timeZone: 'UTC' };
const scope: Scope = { userId: 'user_42' };

/** Talks to a function target wrapped by withMemory, one turn per entry; writes are awaited. */
async function converse(
  store: MemoryStore,
  turns: Array<string | { user: string; assistant: string }>,
  options: { scope?: Scope; extract?: HeuristicExtractorOptions; now?: () => Date } = {},
) {
  const errors: MemoryError[] = [];
  let reply = 'OK.';
  // Episodes off: these tests are about the facts the extractor makes.
  const llm = withMemory(async (_request: MemoryFunctionRequest) => reply, {
    scope: options.scope ?? scope,
    store,
    write: 'await',
    episodes: false,
    now: options.now ?? noon,
    extract: heuristicExtractor({ ...inUtc, ...options.extract }),
    onError: (error) => errors.push(error),
  });
  for (const turn of turns) {
    const { user, assistant } = typeof turn === 'string' ? { user: turn, assistant: 'OK.' } : turn;
    reply = assistant;
    await llm({ messages: [{ role: 'user', content: user }] });
  }
  return { errors };
}

async function texts(store: MemoryStore, forScope: Scope = scope): Promise<string[]> {
  const memories = (await store.list?.({ scope: forScope })) ?? [];
  return memories.map((memory) => memory.text).sort();
}

describe.each([
  ['the local store', (directory: string) => localStore({ path: join(directory, 'memory.db') })],
  ['the in-memory store', () => inMemoryStore()],
])('heuristicExtractor: a scripted conversation on %s', (_, makeStore) => {
  let directory: string;
  let fake: FakeAnthropic;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'with-memory-heuristic-'));
    fake = await startFakeAnthropic();
  });
  afterEach(async () => {
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('leaves exactly the expected memories after 10 turns, with the history of each update and deletion', async () => {
    const store = makeStore(directory);
    const writes: WriteEvent[] = [];
    const errors: MemoryError[] = [];
    const claude = withMemory(new Anthropic({ apiKey: 'test', baseURL: fake.url, maxRetries: 0 }), {
      scope,
      store,
      write: 'await',
      episodes: false,
      now: noon,
      extract: heuristicExtractor(inUtc),
      onWrite: (event) => writes.push(event),
      onError: (error) => errors.push(error),
    });
    const script: Array<[user: string, assistant?: string]> = [
      ['Hi! How are you today?'], // small talk and a question
      ['I prefer dark mode in every app. My name is Alex.'], // stated
      ["I live in Paris. I like spicy food. I'm vegetarian."], // stated
      ["Thanks, that's helpful!"], // small talk
      ['I prefer dark mode in every app.'], // repeated
      ['Actually, I moved to Berlin last month.'], // changed
      ['I hate spicy food.'], // contradicted
      ['My exam is on 15 June.', 'Good luck! Would you like me to remind you about the exam the day before?'],
      ['Yes please.'], // confirms the assistant's offer
      ["I'm not vegetarian anymore. Actually I prefer light mode now."], // retired, changed again
    ];
    const idOf = new Map<string, string>();
    for (const [user, assistant = 'Noted.'] of script) {
      fake.replies.push({ text: assistant });
      await claude.messages.create({
        model: 'claude-test',
        max_tokens: 100,
        messages: [{ role: 'user', content: user }],
      });
      for (const memory of await store.list({ scope })) idOf.set(memory.text, memory.id);
    }

    expect(errors).toEqual([]);
    const memories = await store.list({ scope });
    expect(memories.map(({ type, text }) => ({ type, text })).sort(byText)).toEqual(
      [
        { type: 'preference', text: 'User prefers light mode.' },
        { type: 'profile', text: "User's name is Alex." },
        { type: 'profile', text: 'User lives in Berlin.' },
        { type: 'preference', text: 'User hates spicy food.' },
        { type: 'event', text: "User's exam is on 15 June 2026." },
        { type: 'task', text: 'User wants the assistant to remind them about the exam the day before.' },
      ].sort(byText),
    );
    const exam = memories.find((memory) => memory.type === 'event');
    expect(exam?.metadata).toMatchObject({ date: '2026-06-15' });

    const historyOf = async (text: string) =>
      (await store.history(idOf.get(text) ?? 'missing')).map(({ event, oldText, newText, reason }) => ({
        event,
        oldText,
        newText,
        reason,
      }));
    // Stated once, repeated (no change), then changed: one ADD and one UPDATE, never a second memory.
    expect(await historyOf('User prefers light mode.')).toEqual([
      {
        event: 'ADD',
        oldText: undefined,
        newText: 'User prefers dark mode in every app.',
        reason: 'heuristic: stated by the user',
      },
      {
        event: 'UPDATE',
        oldText: 'User prefers dark mode in every app.',
        newText: 'User prefers light mode.',
        reason: 'heuristic: the user corrected this preference',
      },
    ]);
    expect(await historyOf('User lives in Berlin.')).toEqual([
      { event: 'ADD', oldText: undefined, newText: 'User lives in Paris.', reason: 'heuristic: stated by the user' },
      {
        event: 'UPDATE',
        oldText: 'User lives in Paris.',
        newText: 'User lives in Berlin.',
        reason: 'heuristic: the user corrected their home',
      },
    ]);
    expect(await historyOf('User hates spicy food.')).toEqual([
      { event: 'ADD', oldText: undefined, newText: 'User likes spicy food.', reason: 'heuristic: stated by the user' },
      {
        event: 'UPDATE',
        oldText: 'User likes spicy food.',
        newText: 'User hates spicy food.',
        reason: 'heuristic: the user changed this preference',
      },
    ]);
    expect(await historyOf('User is vegetarian.')).toEqual([
      { event: 'ADD', oldText: undefined, newText: 'User is vegetarian.', reason: 'heuristic: stated by the user' },
      {
        event: 'DELETE',
        oldText: 'User is vegetarian.',
        newText: undefined,
        reason: 'heuristic: the user said this no longer holds',
      },
    ]);
    expect(await historyOf('User wants the assistant to remind them about the exam the day before.')).toEqual([
      {
        event: 'ADD',
        oldText: undefined,
        newText: 'User wants the assistant to remind them about the exam the day before.',
        reason: "heuristic: the user accepted the assistant's offer",
      },
    ]);
    // Small talk, the question and the repeated preference wrote nothing at all.
    expect(writes.map((write) => write.operation.kind)).toEqual([
      'add', // turn 2
      'add', // turn 3
      'update', // turn 6
      'update', // turn 7
      'add', // turn 8
      'add', // turn 9
      'delete', // turn 10
      'update', // turn 10
    ]);
    await store.close();
  });
});

describe('heuristicExtractor: what it recognises', () => {
  it.each([
    ['Always answer in French.', 'preference', "User's standing rule: always answer in French."],
    ['Never use bullet points.', 'preference', "User's standing rule: never use bullet points."],
    ["Please don't use emojis.", 'preference', "User's standing rule: do not use emojis."],
    ['Stop adding disclaimers.', 'preference', "User's standing rule: stop adding disclaimers."],
    ['I really love hiking in the Alps.', 'preference', 'User loves hiking in the Alps.'],
    ["I don't like long meetings.", 'preference', "User doesn't like long meetings."],
    ["I can't stand cilantro.", 'preference', "User can't stand cilantro."],
    ["I'd rather not get calls after 6pm.", 'preference', 'User would rather not get calls after 6pm.'],
    ["I'm not a big fan of horror films.", 'preference', 'User is not a fan of horror films.'],
    ['I avoid sugar.', 'preference', 'User avoids sugar.'],
    ['Call me Sam.', 'profile', "User's name is Sam."],
    ["I'm based in Lisbon.", 'profile', 'User lives in Lisbon.'],
    ['I work as a nurse.', 'profile', 'User works as a nurse.'],
    ["I'm allergic to peanuts.", 'profile', 'User is allergic to peanuts.'],
    ["I'm currently working on a thesis about bees.", 'task', 'User is working on a thesis about bees.'],
    ['My favourite colour is green.', 'fact', "User's favourite colour is green."],
    ['My birthday is on 14 March.', 'profile', "User's birthday is on 14 March."],
    ['I have a dentist appointment tomorrow.', 'event', 'User has a dentist appointment on Thursday 4 June 2026.'],
    ["I'm flying to Rome next Friday.", 'event', 'User is flying to Rome on Friday 5 June 2026.'],
    ['The report is due Monday.', 'task', 'The report is due on Monday 8 June 2026.'],
    ['I need to submit my thesis by March 1st.', 'task', 'User needs to submit their thesis by 1 March 2027.'],
    ['My interview is on 2026-07-09.', 'event', "User's interview is on 9 July 2026."],
    ['I prefer meetings on Monday.', 'preference', 'User prefers meetings on Monday.'],
    ['Do not use emojis.', 'preference', "User's standing rule: do not use emojis."],
  ])('%s', async (said, type, text) => {
    const store = inMemoryStore();
    const { errors } = await converse(store, [said]);
    expect(errors).toEqual([]);
    const memories = await store.list({ scope });
    expect(memories.map((memory) => ({ type: memory.type, text: memory.text }))).toEqual([{ type, text }]);
  });

  it('puts the date of events, deadlines and birthdays in metadata', async () => {
    const store = inMemoryStore();
    await converse(store, ['My exam is on 3rd of July.', 'The invoice is due in two weeks.', 'My birthday is June 9.']);
    const dates = Object.fromEntries(
      (await store.list({ scope })).map((memory) => [memory.text, memory.metadata.date]),
    );
    expect(dates).toEqual({
      "User's exam is on 3 July 2026.": '2026-07-03',
      'The invoice is due on Wednesday 17 June 2026.': '2026-06-17',
      "User's birthday is 9 June.": '--06-09',
    });
  });

  it('resolves "tomorrow" in the configured time zone', async () => {
    const store = inMemoryStore();
    // 23:30 UTC on 3 June is already 4 June in Tokyo.
    await converse(store, ['I have a flight tomorrow.'], {
      now: () => new Date('2026-06-03T23:30:00Z'),
      extract: { timeZone: 'Asia/Tokyo' },
    });
    expect((await store.list({ scope }))[0]?.metadata.date).toBe('2026-06-05');
  });

  it.each([
    'Hello there!',
    'Thanks so much!',
    'ok',
    'Got it.',
    'Hmm, never mind.',
    'Haha',
    'What is the capital of France?',
    'Can you help me plan a trip?',
    'Do I need a visa?',
    "Don't worry about it.",
    'My question is about taxes.',
    'I usually go to the gym on Monday.',
    'Never mind.',
    // Reactions to what someone else said are not the user's preferences.
    'I love that you chose pottery for your art!',
    'I love it!',
    'I like how you put it.',
    'I love seeing your paintings.',
    'Never saw this coming!',
  ])('ignores questions, greetings, filler and reactions: %s', async (said) => {
    const store = createMockStore();
    await converse(store, [said]);
    expect(store.addCalls).toEqual([]);
    expect(await store.list({ scope })).toEqual([]);
  });

  it('keeps the assistant out of it: its own statements are never stored', async () => {
    const store = inMemoryStore();
    await converse(store, [{ user: 'Tell me a fun fact.', assistant: 'I love that question! My name is Claude.' }]);
    expect(await texts(store)).toEqual([].sort());
  });

  it('stores an offer only when the user accepts it on the next turn', async () => {
    const store = inMemoryStore();
    await converse(store, [
      { user: 'I keep forgetting things.', assistant: 'Shall I send you a summary after each chat?' },
      'No thanks.',
      { user: 'Okay.', assistant: "From now on, I'll keep my answers short." },
      'Sounds good.',
      { user: 'Hmm.', assistant: 'Would you like me to translate everything into German?' },
      'I live in Vienna.',
      'Yes.',
    ]);
    expect(await texts(store)).toEqual(
      ['User lives in Vienna.', 'User wants the assistant to keep its answers short.'].sort(),
    );
  });
});

describe('heuristicExtractor: keeping memory current', () => {
  it('updates a one-at-a-time detail instead of adding a second value', async () => {
    const store = inMemoryStore();
    await converse(store, [
      'My name is Alex.',
      'Call me Sam.',
      'I work at Acme.',
      'I now work for Globex.',
      'My favourite colour is blue.',
      'My favourite colour is green.',
      "I'm vegetarian.",
      "I'm vegan now.",
      'My exam is on 15 June.',
      'Sorry, my exam is on 16 June.',
    ]);
    expect(await texts(store)).toEqual(
      [
        "User's exam is on 16 June 2026.",
        "User's favourite colour is green.",
        "User's name is Sam.",
        'User is vegan.',
        'User works for Globex.',
      ].sort(),
    );
    const exam = (await store.list({ scope, types: ['event'] }))[0];
    expect(exam?.metadata.date).toBe('2026-06-16');
  });

  it('turns "always" into "never" and a correction into an update of the closest preference', async () => {
    const store = inMemoryStore();
    await converse(store, [
      'Always use metric units.',
      'Never use metric units.',
      'I prefer tea over coffee.',
      'I prefer window seats.',
      'Actually, I prefer aisle seats.',
    ]);
    expect(await texts(store)).toEqual(
      [
        'User prefers aisle seats.',
        'User prefers tea over coffee.',
        "User's standing rule: never use metric units.",
      ].sort(),
    );
  });

  it('adds an unrelated preference next to the stored ones', async () => {
    const store = inMemoryStore();
    await converse(store, ['I like jazz.', 'I like spicy food.']);
    expect(await texts(store)).toEqual(['User likes jazz.', 'User likes spicy food.'].sort());
  });

  it('retires what no longer holds, and keeps the statement when there is nothing to retire', async () => {
    const store = inMemoryStore();
    await converse(store, [
      'I live in Paris. I work at Acme. I love coffee.',
      "I don't drink coffee anymore.",
      'I no longer work at Acme.',
      'I no longer eat meat.',
    ]);
    expect(await texts(store)).toEqual(['User lives in Paris.', 'User no longer eats meat.'].sort());
  });

  it('does not retire a memory that shares only a common verb', async () => {
    const store = inMemoryStore();
    await converse(store, ['I work at Globex.', 'I no longer work at Acme.']);
    expect(await texts(store)).toEqual(['User no longer works at Acme.', 'User works at Globex.'].sort());
  });

  it('keeps the last of two values given in one turn', async () => {
    const store = inMemoryStore();
    await converse(store, ['I live in Paris. Actually, I live in Rome.']);
    expect(await texts(store)).toEqual(['User lives in Rome.'].sort());
  });

  it("never updates or deletes another scope's memory", async () => {
    const store = inMemoryStore();
    const alice = { userId: 'alice' };
    const bob = { userId: 'bob' };
    await converse(store, ['I live in Paris. I love coffee.'], { scope: alice });
    await converse(store, ['Actually, I moved to Berlin.', "I don't drink coffee anymore."], { scope: bob });
    expect(await texts(store, alice)).toEqual(['User lives in Paris.', 'User loves coffee.'].sort());
    expect(await texts(store, bob)).toEqual(['User lives in Berlin.', 'User no longer drinks coffee.'].sort());
  });

  it('finds what to correct through search on a store without list', async () => {
    const backing = inMemoryStore();
    const { list, ...withoutList } = backing;
    const store: MemoryStore = withoutList;
    await converse(store, ['I live in Paris.', 'Actually, I moved to Berlin.']);
    expect(await texts(backing)).toEqual(['User lives in Berlin.']);
  });
});

describe('heuristicExtractor: recalled memories are never stored again', () => {
  it('over several turns, stores neither the injected block nor a restatement of what was injected', async () => {
    const store = createMockStore();
    const injectedTexts: string[] = [];
    const blocks: string[] = [];
    let reply = 'OK.';
    const llm = withMemory(
      async ({ system }) => {
        if (system) blocks.push(system);
        return reply;
      },
      {
        scope,
        store,
        write: 'await',
        episodes: false,
        now: noon,
        extract: heuristicExtractor(inUtc),
        onSearch: (event) => injectedTexts.push(...event.hits.map(textOf), ...event.standing.map(textOf)),
      },
    );
    const turns = [
      'I prefer tea over coffee.',
      'I prefer tea over coffee. I live in Oslo.',
      'What should I drink this morning?',
      'I live in Oslo. I prefer tea over coffee.',
    ];
    for (const [position, user] of turns.entries()) {
      reply = position === 2 ? 'As you prefer tea over coffee, try a green tea.' : 'OK.';
      await llm({ messages: [{ role: 'user', content: user }] });
    }

    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(injectedTexts).toContain('User prefers tea over coffee.');
    const added = store.addCalls.flatMap((call) =>
      'facts' in call.write ? call.write.facts.map((fact) => fact.text) : [],
    );
    expect(added).toEqual(['User prefers tea over coffee.', 'User lives in Oslo.']);
    expect(store.addCalls.some((call) => JSON.stringify(call.write).includes('<memories>'))).toBe(false);
    for (const memory of await store.list({ scope })) {
      expect((await store.history(memory.id)).map((entry) => entry.event)).toEqual(['ADD']);
    }
  });
});

describe('heuristicExtractor options', () => {
  it('puts its metadata on every fact', async () => {
    const store = inMemoryStore();
    await converse(store, ['I live in Oslo. My exam is on 3 July.'], { extract: { metadata: { source: 'chat' } } });
    const metadata = (await store.list({ scope })).map((memory) => memory.metadata);
    expect(metadata).toEqual(expect.arrayContaining([{ source: 'chat' }, { source: 'chat', date: '2026-07-03' }]));
  });

  it.each([
    [{ timeZone: 'Mars/Olympus' }, 'extract.timeZone'],
    [{ metadata: 'chat' }, 'extract.metadata'],
    [{ colour: 'blue' }, 'extract.colour'],
  ])('rejects bad options %j at construction', (options, path) => {
    expect(() => heuristicExtractor(options as HeuristicExtractorOptions)).toThrow(InvalidOptionsError);
    try {
      heuristicExtractor(options as HeuristicExtractorOptions);
    } catch (error) {
      expect((error as InvalidOptionsError).path).toBe(path);
    }
  });
});

function byText(a: { text: string }, b: { text: string }): number {
  return a.text.localeCompare(b.text);
}

function textOf(memory: Memory): string {
  return memory.text;
}
