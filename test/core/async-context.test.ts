// H1: a wrapper per user or per request must not add work to every async step of the process.
import { generateText, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it, vi } from 'vitest';
import { memoryMiddleware } from '../../src/ai-sdk/index.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';

// Every AsyncLocalStorage that has run stays registered on Node 20 and is propagated at every
// async resource of the process: the count of them is the per-await cost, without timing anything.
const storages = vi.hoisted(() => ({ created: 0 }));
vi.mock('node:async_hooks', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:async_hooks')>();
  class CountedStorage<T> extends original.AsyncLocalStorage<T> {
    constructor() {
      super();
      storages.created += 1;
    }
  }
  return { ...original, AsyncLocalStorage: CountedStorage };
});

describe('H1: one AsyncLocalStorage for the module, however many wrappers', () => {
  it('creates none per withMemory wrapper, each used for a call', async () => {
    const store = inMemoryStore();
    const before = storages.created;
    for (let user = 0; user < 200; user += 1) {
      const chat = withMemory(async (_request: MemoryFunctionRequest) => 'ok', {
        scope: { userId: `u${user}` },
        store,
      });
      await chat({ messages: [{ role: 'user', content: 'I live in Oslo.' }] });
      await flushMemory(chat);
    }
    expect(storages.created - before).toBe(0);
  });

  it('creates none per memoryMiddleware, each used for a call', async () => {
    const store = inMemoryStore();
    const before = storages.created;
    for (let user = 0; user < 100; user += 1) {
      const memory = memoryMiddleware({ scope: { userId: `u${user}` }, store });
      const model = new MockLanguageModelV3({
        doGenerate: {
          content: [{ type: 'text', text: 'ok' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage: {
            inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
            outputTokens: { total: 1, text: 1, reasoning: undefined },
          },
          warnings: [],
        },
      });
      await generateText({ model: wrapLanguageModel({ model, middleware: memory }), prompt: 'I live in Oslo.' });
      await flushMemory(memory);
    }
    expect(storages.created - before).toBe(0);
  });
});
