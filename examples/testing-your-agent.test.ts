/**
 * Unit-testing an agent that has memory, with `createMockStore` from `with-memory/testing`.
 *
 * The mock store is a real in-memory store (search, writes, scopes all behave) that also records
 * every search and add, so a test can assert on what the agent asked of memory: no network, no
 * file, nothing to clean up. Give your agent its store (and its model) as parameters, and pass
 * the mock in the test.
 *
 * Run:  npx vitest run examples/testing-your-agent.test.ts
 */

import { describe, expect, it } from 'vitest';
import { type MemoryFunctionRequest, type MemoryStore, withMemory } from 'with-memory';
import { createMockStore } from 'with-memory/testing';

// ── The code under test (in your application, a module of its own) ─────────────────────────────

/** Any LLM call: the real agent passes a client call here; a test passes a stand-in. */
type Model = (request: MemoryFunctionRequest) => Promise<string>;

/** A small travel agent: remembers each user, answers with the model it is given. */
function createTravelAgent({ model, store }: { model: Model; store: MemoryStore }) {
  return {
    async reply(userId: string, text: string): Promise<string> {
      const remembering = withMemory(model, { scope: { userId, agentId: 'travel' }, store, write: 'await' });
      return remembering({ system: 'You are a travel agent.', messages: [{ role: 'user', content: text }] });
    },
  };
}

// ── The tests ──────────────────────────────────────────────────────────────────────────────────

/** A stand-in model that records what it was asked. */
function recordingModel() {
  const requests: MemoryFunctionRequest[] = [];
  const model: Model = async (request) => {
    requests.push(request);
    return 'Happy to help.';
  };
  return { model, requests };
}

describe('the travel agent', () => {
  it('searches memory for the user and puts what it found into the system prompt', async () => {
    const store = createMockStore([
      { text: 'User prefers window seats', type: 'preference', scope: { userId: 'ana', agentId: 'travel' } },
    ]);
    const { model, requests } = recordingModel();
    const agent = createTravelAgent({ model, store });

    await agent.reply('ana', 'Book me a flight to Lisbon.');

    expect(store.searchCalls).toHaveLength(1);
    expect(store.searchCalls[0]?.query).toBe('Book me a flight to Lisbon.');
    expect(store.searchCalls[0]?.options.scope).toEqual({ userId: 'ana', agentId: 'travel' });
    expect(requests[0]?.system).toContain('You are a travel agent.');
    expect(requests[0]?.system).toContain('User prefers window seats');
  });

  it('writes what the user tells it, under their scope', async () => {
    const store = createMockStore();
    const { model, requests } = recordingModel();
    const agent = createTravelAgent({ model, store });

    await agent.reply('ana', 'I live in Porto.');

    // Nothing was known yet, so the prompt went out as the agent wrote it.
    expect(requests[0]?.system).toBe('You are a travel agent.');
    // Every write is under the user's scope; among them the fact, beside what was said (episodes).
    expect(store.addCalls.map((call) => call.options.scope)).toEqual(
      store.addCalls.map(() => ({ userId: 'ana', agentId: 'travel' })),
    );
    const facts = store.addCalls.flatMap((call) => ('facts' in call.write ? call.write.facts : []));
    expect(facts).toContainEqual(expect.objectContaining({ text: 'User lives in Porto.', type: 'profile' }));
    // The mock is a working store: the next turn finds what this one wrote.
    await agent.reply('ana', 'Where do I live?');
    expect(requests[1]?.system).toContain('User lives in Porto.');
  });

  it("never shows one user's memories to another", async () => {
    const store = createMockStore([
      { text: 'User is allergic to peanuts', type: 'profile', scope: { userId: 'ana', agentId: 'travel' } },
    ]);
    const { model, requests } = recordingModel();
    const agent = createTravelAgent({ model, store });

    await agent.reply('bruno', 'Any snack ideas for the flight? Maybe peanuts?');

    expect(store.searchCalls[0]?.options.scope).toEqual({ userId: 'bruno', agentId: 'travel' });
    expect(requests[0]?.system).toBe('You are a travel agent.');
  });

  it('still answers when memory fails', async () => {
    const store = createMockStore();
    store.search = async () => {
      throw new Error('the memory service is down');
    };
    const { model } = recordingModel();
    const agent = createTravelAgent({ model, store });

    await expect(agent.reply('ana', 'Book me a train to Lisbon.')).resolves.toBe('Happy to help.');
  });
});
