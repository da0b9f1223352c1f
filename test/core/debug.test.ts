import { describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../src/core/errors.js';
import { flushMemory } from '../../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../../src/providers/function.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { withMemory } from '../../src/with-memory.js';

const alice = { userId: 'alice' };
const answer = async (_request: MemoryFunctionRequest) => 'Noted.';

async function seededStore() {
  const store = inMemoryStore();
  const [change] = await store.add({ facts: [{ text: 'Alice keeps bees in Oslo.' }] }, { scope: alice });
  return { store, id: change?.id ?? '' };
}

// Issue 19: the debug option.
describe('debug', () => {
  it('logs per turn the query size, the block size and memory ids, and the writes, without any text', async () => {
    const { store, id } = await seededStore();
    const lines: string[] = [];
    const chat = withMemory(answer, { scope: alice, store, debug: { log: (line) => lines.push(line) } });
    await chat({ messages: [{ role: 'user', content: 'Where are my bees?' }] });
    await flushMemory(chat);

    const search = lines.find((line) => line.startsWith('[with-memory] search'));
    expect(search).toContain('{"userId":"alice"}');
    expect(search).toContain('query of 18 characters');
    expect(search).toMatch(/1 hit, 0 standing, block of \d+ characters/);
    expect(search).toContain(`memories [${id}]`);
    const writes = lines.filter((line) => line.startsWith('[with-memory] write'));
    expect(writes).toEqual([
      expect.stringMatching(/^\[with-memory\] write \{"userId":"alice"\}: add 1 fact -> ADD \S+ \(1 attempt\)$/),
    ]);
    // Neither the memory's text nor what the user said.
    expect(lines.join('\n')).not.toMatch(/bees|Oslo/i);
  });

  it('logs the query and the memory text when asked', async () => {
    const { store } = await seededStore();
    const lines: string[] = [];
    const chat = withMemory(answer, { scope: alice, store, debug: { text: true, log: (line) => lines.push(line) } });
    await chat({ messages: [{ role: 'user', content: 'Where are my bees?' }] });
    await flushMemory(chat);
    expect(lines.join('\n')).toContain('"Where are my bees?"');
    expect(lines.join('\n')).toContain('Alice keeps bees in Oslo.');
  });

  it('logs failed writes and calls that had no scope', async () => {
    const lines: string[] = [];
    const store = inMemoryStore();
    const chat = withMemory(answer, {
      scope: () => {
        throw new Error('no session');
      },
      store,
      onError: () => {},
      debug: { log: (line) => lines.push(line) },
    });
    await chat({ messages: [{ role: 'user', content: 'Hello.' }] });
    expect(lines).toEqual(['[with-memory] no scope for this call (MemoryError): no search, no write']);
  });

  it('goes to console.debug with debug: true, and is off by default', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    try {
      const { store } = await seededStore();
      await withMemory(answer, { scope: alice, store, write: false })({
        messages: [{ role: 'user', content: 'Bees?' }],
      });
      expect(debug).not.toHaveBeenCalled();
      await withMemory(answer, { scope: alice, store, write: false, debug: true })({
        messages: [{ role: 'user', content: 'Bees?' }],
      });
      expect(debug).toHaveBeenCalledWith(expect.stringMatching(/^\[with-memory\] search/));
    } finally {
      debug.mockRestore();
    }
  });

  it('refuses an unknown debug setting', () => {
    expect(() => withMemory(answer, { scope: alice, debug: { verbose: true } as never })).toThrow(InvalidOptionsError);
  });
});
