/**
 * Unit-testing an agent that has memory under Jest, in CommonJS: `with-memory/testing` needs no
 * vitest (nor any test framework), so the same calls work under Jest, `node:test` or Mocha.
 *
 * Three things a test of a memory-enabled agent usually wants to see:
 * - what the agent searched for the prompt (`purpose: 'prompt'`), apart from the look-ups the
 *   extractor makes while it writes the turn (`purpose: 'extract'`);
 * - what it wrote, once the write has finished: writes run after the reply, so `await
 *   flushMemory(store)` first;
 * - what the model was shown: `recordMemoryBlocks()` keeps the block injected into each call.
 *
 * A store of your own is checked by the conformance suite: under Jest, `testStoreContract` from
 * `with-memory/testing` registers its checks with Jest's global `describe` and `it`.
 *
 * Run:  npx jest examples/testing-with-jest.test.cjs
 */

const { flushMemory, inMemoryStore, withMemory } = require('with-memory');
const { createMockStore, recordMemoryBlocks, testStoreContract } = require('with-memory/testing');

/** A stand-in model that records what it was asked. */
function recordingModel(answer) {
  const requests = [];
  const model = async (request) => {
    requests.push(request);
    return answer;
  };
  return { model, requests };
}

const scope = { userId: 'ana', agentId: 'travel' };

test('a statement is searched once for the prompt, and written once the write has finished', async () => {
  const store = createMockStore();
  const { model } = recordingModel('Noted.');
  const agent = withMemory(model, { scope, store });

  await agent({ system: 'You are a travel agent.', messages: [{ role: 'user', content: 'I live in Porto.' }] });
  await flushMemory(store); // the write happens after the reply

  const promptSearches = store.searchCalls.filter((call) => call.purpose === 'prompt');
  expect(promptSearches).toHaveLength(1);
  expect(promptSearches[0].query).toBe('I live in Porto.');
  expect(store.addCalls.length).toBeGreaterThan(0);
  expect(store.addCalls.every((call) => call.options.scope.userId === 'ana')).toBe(true);
  expect(JSON.stringify(store.addCalls)).toContain('Porto');
});

test('the model is shown what was remembered, and another user is shown nothing', async () => {
  const store = createMockStore([{ text: 'User prefers window seats', type: 'preference', scope }]);
  const shown = recordMemoryBlocks();
  const { model, requests } = recordingModel('Booked.');

  const ana = withMemory(model, { scope, store, onSearch: shown.onSearch, write: false });
  await ana({ messages: [{ role: 'user', content: 'Book me a flight to Lisbon.' }] });
  const bruno = withMemory(model, { scope: { userId: 'bruno', agentId: 'travel' }, store, onSearch: shown.onSearch });
  await bruno({ messages: [{ role: 'user', content: 'Book me a window seat too.' }] });
  await flushMemory(store);

  expect(shown.blocks).toHaveLength(2);
  expect(shown.blocks[0]).toContain('User prefers window seats');
  expect(requests[0].system).toContain(shown.blocks[0]);
  expect(shown.blocks[1]).toBe('');
});

// The store conformance suite, one Jest test per check (here on the built-in in-memory store).
testStoreContract('inMemoryStore', () => inMemoryStore());
