import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import type { ErrorContext } from '../../src/core/options.js';
import type { Scope } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { createMockStore } from '../../src/testing/mock-store.js';
import { withMemory } from '../../src/with-memory.js';

/** A model that records the system prompt of each call and answers after a moment. */
function recordingModel() {
  const systems: string[] = [];
  const model = async (request: MemoryFunctionRequest) => {
    systems.push(request.system ?? '');
    await new Promise((resolve) => setTimeout(resolve, 5));
    return 'Noted.';
  };
  return { model, systems };
}

// Issue 19, serving many users: the per-call scope.
describe('scope as a function (one wrapper, every user)', () => {
  it('serves two users through one wrapper, each seeing only their own memories', async () => {
    const store = inMemoryStore();
    // The application's own request context, as a server keeps it.
    const requestUser = new AsyncLocalStorage<string>();
    const shown = new Map<string, string>();
    const chat = withMemory(
      async (request: MemoryFunctionRequest) => {
        shown.set(requestUser.getStore() ?? '', request.system ?? '');
        await new Promise((resolve) => setTimeout(resolve, 5));
        return 'Noted.';
      },
      { store, scope: () => ({ userId: requestUser.getStore() ?? 'nobody' }) },
    );
    const ask = (user: string, content: string) =>
      requestUser.run(user, () => chat({ system: 'You help.', messages: [{ role: 'user', content }] }));

    // Both users at once, interleaved on the same wrapper.
    await Promise.all([ask('alice', 'I live in Oslo.'), ask('bob', 'I live in Rome.')]);
    expect((await flushMemory(chat)).failed).toEqual([]);
    await Promise.all([ask('alice', 'Where do I live?'), ask('bob', 'Where do I live?')]);

    expect(shown.get('alice')).toContain('Oslo');
    expect(shown.get('alice')).not.toContain('Rome');
    expect(shown.get('bob')).toContain('Rome');
    expect(shown.get('bob')).not.toContain('Oslo');
    const texts = async (userId: string) => (await store.list({ scope: { userId } })).map((memory) => memory.text);
    expect((await texts('alice')).join(' ')).toContain('Oslo');
    expect((await texts('alice')).join(' ')).not.toContain('Rome');
    expect((await texts('bob')).join(' ')).toContain('Rome');
    expect((await texts('bob')).join(' ')).not.toContain('Oslo');
  });

  it('calls the function once per turn, and may answer a promise', async () => {
    const store = createMockStore();
    let calls = 0;
    const chat = withMemory(async (_request: MemoryFunctionRequest) => 'ok', {
      store,
      write: 'await',
      scope: async () => {
        calls += 1;
        return { userId: `user-${calls}` };
      },
    });
    await chat({ messages: [{ role: 'user', content: 'I live in Oslo.' }] });
    await chat({ messages: [{ role: 'user', content: 'I live in Rome.' }] });
    expect(calls).toBe(2);
    // The prompt's search and the extractor's look-ups of each turn, each under that turn's scope.
    const users = (calls: Array<{ options: { scope: Scope } }>) => [
      ...new Set(calls.map((call) => call.options.scope.userId)),
    ];
    expect(users(store.searchCalls)).toEqual(['user-1', 'user-2']);
    expect(users(store.addCalls)).toEqual(['user-1', 'user-2']);
  });

  const unusable: Array<[string, () => Scope | Promise<Scope>]> = [
    [
      'throws',
      () => {
        throw new Error('no session');
      },
    ],
    ['returns an invalid scope', () => ({ userId: '' })],
    ['returns no scope at all', () => undefined as unknown as Scope],
    ['returns a promise that rejects', () => Promise.reject(new Error('session store down'))],
    ['returns a promise that never settles', () => new Promise<Scope>(() => {})],
  ];
  it.each(unusable)('gives no memory (no search, no write) and reports it when the function %s', async (_, scope) => {
    const store = createMockStore([{ text: 'Alice lives in Oslo.', scope: { userId: 'alice' } }]);
    const errors: ErrorContext[] = [];
    const { model, systems } = recordingModel();
    const chat = withMemory(model, {
      store,
      scope,
      search: { timeoutMs: 50 },
      onError: (_error, context) => errors.push(context),
    });
    const answer = await chat({ system: 'You help.', messages: [{ role: 'user', content: 'Where do I live?' }] });
    await flushMemory(chat);
    expect(answer).toBe('Noted.');
    expect(systems).toEqual(['You help.']);
    expect(store.searchCalls).toEqual([]);
    expect(store.addCalls).toEqual([]);
    expect(errors).toEqual([{ stage: 'scope', scope: {} }]);
  });

  it("keeps each user's tool-loop search to that user: a continuation never reuses another user's", async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Alice lives in Oslo.' }] }, { scope: { userId: 'alice' } });
    let user = 'alice';
    const events: Array<{ scope: Scope; reused: boolean; memoryBlock: string }> = [];
    const chat = withMemory(async (_request: MemoryFunctionRequest) => 'ok', {
      store,
      scope: () => ({ userId: user }),
      write: false,
      onSearch: ({ scope, reused, memoryBlock }) => events.push({ scope, reused, memoryBlock }),
    });
    await chat({ messages: [{ role: 'user', content: 'Where does Alice live?' }] });
    user = 'bob';
    await chat({ messages: [{ role: 'user', content: 'Where does Alice live?' }] });
    expect(events[0]?.memoryBlock).toContain('Oslo');
    expect(events[1]?.scope).toEqual({ userId: 'bob' });
    expect(events[1]?.memoryBlock).toBe('');
  });
});
