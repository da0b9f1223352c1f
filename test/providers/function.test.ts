import { describe, expect, it } from 'vitest';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';

describe('withMemory around a plain function', () => {
  it('appends the memory block after the caller system text and writes the answer back', async () => {
    const store = inMemoryStore();
    const seen: MemoryFunctionRequest[] = [];
    const model = async (request: MemoryFunctionRequest) => {
      seen.push(request);
      return { text: 'Noted.' };
    };
    const first = withMemory(model, { scope: { userId: 'u' }, store });
    await first({ messages: [{ role: 'user', content: 'I prefer all temperatures in Celsius, never Fahrenheit.' }] });
    await flushMemory(first);

    const second = withMemory(model, { scope: { userId: 'u' }, store });
    const result = await second({
      system: 'You are terse.',
      messages: [{ role: 'user', content: "What's a comfortable room temperature?" }],
    });
    expect(result).toEqual({ text: 'Noted.' });
    expect(seen[0]?.system).toBeUndefined();
    expect(seen[1]?.system?.startsWith('You are terse.\n\n<memories>')).toBe(true);
    expect(seen[1]?.system).toContain('Celsius');
  });

  it('accepts a function that answers with a plain string', async () => {
    const store = inMemoryStore();
    const model = withMemory(async (_request: MemoryFunctionRequest) => 'Sure thing.', {
      scope: { userId: 'u' },
      store,
      write: 'await',
    });
    await expect(model({ messages: [{ role: 'user', content: 'I live in Oslo.' }] })).resolves.toBe('Sure thing.');
    expect((await store.list({ scope: { userId: 'u' } })).map((memory) => memory.text)).toEqual([
      'User lives in Oslo.',
    ]);
  });

  it('lets the error of the function itself through untouched', async () => {
    const failing = withMemory(
      async (_request: MemoryFunctionRequest) => {
        throw new Error('model overloaded');
      },
      { scope: { userId: 'u' }, store: inMemoryStore() },
    );
    await expect(failing({ messages: [{ role: 'user', content: 'Hi' }] })).rejects.toThrow('model overloaded');
  });
});
