import { describe, expect, it } from 'vitest';
import type { Extractor, Scope } from '../../src/core/types.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { heuristicExtractor } from '../../src/strategies/extract/heuristic/heuristic-extractor.js';
import { withMemory } from '../../src/with-memory.js';

const userId = 'user_42';

/** The default extractor, plus a task memory of what the agent itself did (its own, never shared). */
function withTasks(): Extractor {
  const facts = heuristicExtractor();
  return {
    name: 'with-tasks',
    extract: async (turn, context) => [
      ...(await facts.extract(turn, context)),
      { kind: 'add', write: { facts: [{ text: `Task: ${turn.assistantText}`, type: 'task' }] } },
    ],
  };
}

function agent(agentId: string, reply: string, store: ReturnType<typeof inMemoryStore>, shared: Scope | (() => Scope)) {
  const systems: string[] = [];
  const chat = withMemory(
    async (request: MemoryFunctionRequest) => {
      systems.push(request.system ?? '');
      return reply;
    },
    { scope: { userId, agentId }, shared, store, extract: withTasks() },
  );
  return { chat, systems, say: (content: string) => chat({ messages: [{ role: 'user', content }] }) };
}

// Issue 22, item 3: several agents, one user.
describe('shared: a scope several agents of one user share', () => {
  it.each([
    ['a scope', { userId }],
    ['a function', () => ({ userId })],
  ])(
    'given as %s: both agents see the preference and episode told to either, neither sees the other’s tasks',
    async (_, shared) => {
      const store = inMemoryStore();
      const planner = agent('planner', 'Planned three museums for Saturday.', store, shared);
      const executor = agent('executor', 'Booked the early train to Porto.', store, shared);

      await planner.say('I prefer window seats on trains.');
      await executor.say('I went to Lisbon last week with my sister.');
      expect((await flushMemory(store)).failed).toEqual([]);

      const question = 'Which trains and seats for the Lisbon trip with my sister, and what was planned?';
      planner.systems.length = 0;
      executor.systems.length = 0;
      await planner.say(question);
      await executor.say(question);
      const [plannerPrompt = '', executorPrompt = ''] = [planner.systems[0], executor.systems[0]];

      for (const prompt of [plannerPrompt, executorPrompt]) {
        expect(prompt).toMatch(/window seats/);
        expect(prompt).toMatch(/Lisbon last week/);
      }
      expect(plannerPrompt).toContain('Planned three museums');
      expect(plannerPrompt).not.toContain('Booked the early train');
      expect(executorPrompt).toContain('Booked the early train');
      expect(executorPrompt).not.toContain('Planned three museums');

      // Where each went: standing memories and episodes to { userId }, tasks to the agent's own scope.
      await flushMemory(store);
      const stored = await store.list({ scope: { userId }, limit: 100 });
      const scopeOf = (text: string) => stored.find((memory) => memory.text.includes(text))?.scope;
      expect(scopeOf('window seats')).toEqual({ userId });
      expect(scopeOf('Lisbon last week')).toEqual({ userId });
      expect(scopeOf('Planned three museums')).toEqual({ userId, agentId: 'planner' });
      expect(scopeOf('Booked the early train')).toEqual({ userId, agentId: 'executor' });
    },
  );

  it('lets an extractor update a shared memory, and still refuses another agent’s own', async () => {
    const store = inMemoryStore();
    const [sharedMemory] = await store.add(
      { facts: [{ text: 'User prefers tea.', type: 'preference' }] },
      { scope: { userId } },
    );
    const [othersMemory] = await store.add(
      { facts: [{ text: 'Executor booked a hotel.', type: 'task' }] },
      { scope: { userId, agentId: 'executor' } },
    );
    const errors: string[] = [];
    const planner = withMemory(async (_request: MemoryFunctionRequest) => 'ok', {
      scope: { userId, agentId: 'planner' },
      shared: { userId },
      store,
      episodes: false,
      extract: {
        name: 'updates',
        extract: async () => [
          { kind: 'update', id: sharedMemory?.id ?? '', patch: { text: 'User prefers coffee.' } },
          { kind: 'delete', id: othersMemory?.id ?? '' },
        ],
      },
      onError: (error) => errors.push(error.message),
    });
    await planner({ messages: [{ role: 'user', content: 'Coffee now, not tea.' }] });
    await flushMemory(planner);
    expect((await store.get(sharedMemory?.id ?? ''))?.text).toBe('User prefers coffee.');
    expect(await store.get(othersMemory?.id ?? '')).not.toBeNull();
    expect(errors).toEqual([expect.stringMatching(/belongs to another scope/)]);
  });
});
