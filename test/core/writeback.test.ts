import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/errors.js';
import type { MemoryStore } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';

describe('flushMemory', () => {
  it('waits for writes bound for a store, whichever wrapper made them', async () => {
    const store = inMemoryStore();
    const first = withMemory(async (_request: MemoryFunctionRequest) => 'ok', { scope: { userId: 'a' }, store });
    const second = withMemory(async (_request: MemoryFunctionRequest) => 'ok', { scope: { userId: 'b' }, store });
    await first({ messages: [{ role: 'user', content: 'I live in Oslo.' }] });
    await second({ messages: [{ role: 'user', content: 'I live in Rome.' }] });
    const report = await flushMemory(store);
    expect(report.failed).toEqual([]);
    expect(await store.list({ scope: { userId: 'a' } })).toHaveLength(1);
    expect(await store.list({ scope: { userId: 'b' } })).toHaveLength(1);
  });

  it('stores background writes of consecutive turns in order, so a correction finds what it corrects', async () => {
    const inner = inMemoryStore();
    // A store that takes a moment to add, as a real one does.
    const store: MemoryStore = {
      ...inner,
      add: async (write, options) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return inner.add(write, options);
      },
    };
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'ok', { scope: { userId: 'a' }, store });
    await model({ messages: [{ role: 'user', content: 'I live in Oslo.' }] });
    await model({ messages: [{ role: 'user', content: 'Actually, I moved to Berlin.' }] });
    await flushMemory(model);
    const memories = await inner.list({ scope: { userId: 'a' } });
    // The correction updated the fact; what the user said with it is kept beside it.
    expect(memories.map((memory) => memory.text)).toEqual(['User lives in Berlin.', 'Actually, I moved to Berlin.']);
  });

  it('resolves at once for a wrapper with nothing pending', async () => {
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'ok', {
      scope: { userId: 'a' },
      store: inMemoryStore(),
    });
    await expect(flushMemory(model)).resolves.toEqual({ failed: [] });
  });

  it('refuses something that is neither a wrapper nor a store', async () => {
    await expect(flushMemory({})).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('reports an extractor failure with the exchange it could not write', async () => {
    const errors: string[] = [];
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'Answer.', {
      scope: { userId: 'a' },
      store: inMemoryStore(),
      extract: {
        name: 'broken',
        extract: async () => {
          throw new Error('cannot parse');
        },
      },
      onError: (error, context) => errors.push(`${error.name}:${context.stage}`),
    });
    await model({ messages: [{ role: 'user', content: 'I live in Oslo.' }] });
    const report = await flushMemory(model);
    expect(errors).toEqual(['ExtractionError:extract']);
    expect(JSON.stringify(report.failed[0]?.operation)).toContain('I live in Oslo.');
  });

  it.each([
    ['answers an invalid Date', () => new Date(Number.NaN)],
    [
      'throws',
      () => {
        throw new Error('clock service down');
      },
    ],
  ])('dates the turn by the system clock, and says so, when now() %s', async (_, now) => {
    const store = inMemoryStore();
    const errors: string[] = [];
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'Answer.', {
      scope: { userId: 'a' },
      store,
      now,
      onError: (error, context) => errors.push(`${context.stage}: ${error.message}`),
    });
    const before = Date.now();
    expect(await model({ messages: [{ role: 'user', content: 'I went to the Alps yesterday.' }] })).toBe('Answer.');
    expect((await flushMemory(model)).failed).toEqual([]);
    expect(errors).toEqual([expect.stringMatching(/^capture: now\(\) .*system clock/)]);
    const [memory] = await store.list({ scope: { userId: 'a' } });
    expect(memory?.createdAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it("sends a turn's adds together, and an update only once the adds before it are stored", async () => {
    const inner = inMemoryStore();
    const [stored] = await inner.add(
      { facts: [{ text: 'User lives in Oslo.', type: 'profile' }] },
      { scope: { userId: 'a' } },
    );
    const events: string[] = [];
    const store: MemoryStore = {
      ...inner,
      add: async (write, options) => {
        const text = 'facts' in write ? write.facts.map((fact) => fact.text).join() : '';
        events.push(`add ${text} started`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`add ${text} stored`);
        return inner.add(write, options);
      },
      update: async (id, patch, options) => {
        events.push('update started');
        return inner.update(id, patch, options);
      },
    };
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'Answer.', {
      scope: { userId: 'a' },
      store,
      replies: false,
      extract: {
        name: 'scripted',
        extract: async () => [
          { kind: 'add', write: { facts: [{ text: 'User likes tea.' }] } },
          { kind: 'update', id: stored?.id ?? '', patch: { text: 'User lives in Bergen.' } },
          { kind: 'add', write: { facts: [{ text: 'User likes rain.' }] } },
        ],
      },
    });
    await model({ messages: [{ role: 'user', content: 'I moved to Bergen, I like tea and rain.' }] });
    expect((await flushMemory(model)).failed).toEqual([]);
    expect(events).toEqual([
      'add I moved to Bergen, I like tea and rain. started',
      'add User likes tea. started',
      'add I moved to Bergen, I like tea and rain. stored',
      'add User likes tea. stored',
      'update started',
      'add User likes rain. started',
      'add User likes rain. stored',
    ]);
  });

  it('keeps what the user said even when the extractor fails', async () => {
    const store = inMemoryStore();
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'Answer.', {
      scope: { userId: 'a' },
      store,
      extract: {
        name: 'broken',
        extract: async () => {
          throw new Error('cannot parse');
        },
      },
      onError: () => {},
    });
    await model({ messages: [{ role: 'user', content: 'I went to the Alps last week.' }] });
    await flushMemory(model);
    const memories = await store.list({ scope: { userId: 'a' } });
    // Both sides of the turn: what the user said and what the assistant answered.
    expect(memories.map((memory) => [memory.type, memory.text, memory.metadata.role]).sort()).toEqual([
      ['episode', 'Answer.', 'assistant'],
      ['episode', 'I went to the Alps last week.', 'user'],
    ]);
  });
});
