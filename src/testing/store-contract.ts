/**
 * The conformance suite every `MemoryStore` must pass, built-in or third-party. It checks what the
 * pipeline relies on (scope isolation above all) and nothing a particular store adds on top, so a
 * store with word search and one with embeddings (mem0) can both pass it. Optional methods are
 * feature-detected: a store without `get` skips only the parts that need `get`.
 *
 * The checks need no test framework; `testStoreContract` of `with-memory/testing/vitest`
 * registers them with vitest.
 *
 * @module
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDate } from 'node:util/types';
import type { Memory, MemoryHit, MemoryStore, Scope } from '../core/types.js';

/** Makes a fresh store for one check. */
export type MakeStore = () => MemoryStore | Promise<MemoryStore>;

/** One conformance check: it makes its own stores, asserts, and closes them. */
export interface StoreContractCheck {
  name: string;
  run(makeStore: MakeStore): Promise<void>;
}

/** The checks of the store contract, for any test runner (each throws an `AssertionError` when it fails). */
export const storeContractChecks: StoreContractCheck[] = [
  {
    name: 'add then search finds the memory, with a score between 0 and 1',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        const text = 'The user keeps a tortoise named Quillon';
        await store.add({ facts: [{ text }] }, { scope });
        const hits = await store.search('tortoise Quillon', { scope });
        const hit = findText(hits, text);
        assert.ok(hit, 'the stored fact should be found');
        assert.ok(hit.score >= 0 && hit.score <= 1, `score ${hit.score} should be within 0..1`);
        assert.ok(hit.id, 'a hit should have an id');
        assert.deepEqual(pickScope(hit.scope, scope), scope);
      }),
  },
  {
    name: 'search is isolated by userId',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const alice = { userId: uniqueId('alice') };
        const bob = { userId: uniqueId('bob') };
        await store.add({ facts: [{ text: 'Alice collects vintage harmonicas' }] }, { scope: alice });
        await store.add({ facts: [{ text: 'Bob collects vintage typewriters' }] }, { scope: bob });
        const aliceHits = await store.search('collects vintage harmonicas typewriters', { scope: alice });
        assert.deepEqual(
          aliceHits.map((hit) => hit.text),
          ['Alice collects vintage harmonicas'],
        );
        const bobHits = await store.search('collects vintage harmonicas typewriters', { scope: bob });
        assert.deepEqual(
          bobHits.map((hit) => hit.text),
          ['Bob collects vintage typewriters'],
        );
      }),
  },
  ...(['agentId', 'runId', 'appId'] as const).map(
    (field): StoreContractCheck => ({
      name: `search is isolated by ${field}`,
      run: (makeStore) =>
        withStore(makeStore, async (store) => {
          const userId = uniqueId('user');
          const stored: Scope = { userId };
          stored[field] = uniqueId('x');
          const text = `Remembered under one ${field}: the pelican Marzipan`;
          await store.add({ facts: [{ text }] }, { scope: stored });
          const query = 'pelican Marzipan';
          assert.ok(findText(await store.search(query, { scope: { userId } }), text), 'found by the user alone');
          assert.ok(findText(await store.search(query, { scope: stored }), text), `found by the user and ${field}`);
          const otherScope: Scope = { userId };
          otherScope[field] = uniqueId('y');
          assert.deepEqual(await store.search(query, { scope: otherScope }), [], `not found under another ${field}`);
          assert.deepEqual(
            await store.search(query, { scope: { userId: uniqueId('other') } }),
            [],
            'not found by another user',
          );
        }),
    }),
  ),
  {
    name: 'an empty scope reaches no memories',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        const text = 'The user sails a catamaran called Brightwater';
        await store.add({ facts: [{ text }] }, { scope });
        // Rejecting is as good as finding nothing; returning someone's memories is not.
        const hits = await settled(store.search('catamaran Brightwater', { scope: {} }));
        assert.equal(hits?.length ?? 0, 0, 'search with an empty scope finds nothing');
        if (store.list) {
          const listed = await settled(store.list({ scope: {} }));
          assert.equal(listed?.length ?? 0, 0, 'list with an empty scope lists nothing');
        }
        if (store.deleteAll) assert.ok([0, undefined].includes(await settled(store.deleteAll({}))));
        assert.ok(findText(await store.search('catamaran Brightwater', { scope }), text), 'still stored');
      }),
  },
  {
    name: 'list returns the newest first and pages with limit and offset',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.list) return;
        const scope = { userId: uniqueId('user') };
        const texts = ['First: the user studies Basque', 'Second: the user bakes sourdough', 'Third: the user rows'];
        for (const text of texts) {
          await store.add({ facts: [{ text }] }, { scope });
          // Distinct timestamps, so "newest first" has one right answer on every store.
          await sleep(5);
        }
        const all = await store.list({ scope });
        assert.deepEqual(
          all.map((memory) => memory.text),
          [...texts].reverse(),
        );
        assertNewestFirst(all);
        const firstPage = await store.list({ scope, limit: 2 });
        const secondPage = await store.list({ scope, limit: 2, offset: 2 });
        assert.deepEqual(
          firstPage.map((memory) => memory.text),
          [texts[2], texts[1]],
        );
        assert.deepEqual(
          secondPage.map((memory) => memory.text),
          [texts[0]],
        );
      }),
  },
  {
    name: 'get returns a stored memory, and null for an unknown id',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.get) return;
        const scope = { userId: uniqueId('user') };
        const text = 'The user plays the bassoon on Sundays';
        const id = await addAndFind(store, scope, text, 'bassoon Sundays');
        const memory = await store.get(id);
        assert.equal(memory?.text, text);
        assert.equal(memory?.id, id);
        // A Date of any realm: a runner's sandbox (Jest) has a Date of its own beside Node's.
        assert.ok(isDate(memory?.createdAt) && isDate(memory?.updatedAt), 'dates are Dates');
        assert.equal(await store.get(randomUUID()), null);
      }),
  },
  {
    name: 'update changes the text, and search finds the new words',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.update) return;
        const scope = { userId: uniqueId('user') };
        const id = await addAndFind(store, scope, 'The user drives a scooter', 'scooter');
        const updatedText = 'The user drives a tandem bicycle';
        const updated = await store.update(id, { text: updatedText });
        assert.equal(updated?.text, updatedText);
        assert.equal(findText(await store.search('tandem bicycle', { scope }), updatedText)?.id, id);
        if (store.get) assert.equal((await store.get(id))?.text, updatedText);
      }),
  },
  {
    name: 'delete removes the memory',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.delete) return;
        const scope = { userId: uniqueId('user') };
        const text = 'The user owns a canoe painted ochre';
        const id = await addAndFind(store, scope, text, 'canoe ochre');
        assert.equal(await store.delete(id), true);
        assert.equal(findText(await store.search('canoe ochre', { scope }), text), undefined);
        if (store.get) assert.equal(await store.get(id), null);
        if (store.list) assert.deepEqual(await store.list({ scope }), []);
      }),
  },
  {
    name: "deleteAll removes one scope's memories and leaves another's intact",
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.deleteAll) return;
        const alice = { userId: uniqueId('alice') };
        const bob = { userId: uniqueId('bob') };
        await store.add({ facts: [{ text: 'Alice grows saffron' }, { text: 'Alice keeps bees' }] }, { scope: alice });
        await store.add({ facts: [{ text: 'Bob grows saffron' }] }, { scope: bob });
        assert.equal(await store.deleteAll(alice), 2);
        assert.deepEqual(await store.search('saffron bees', { scope: alice }), []);
        if (store.list) assert.deepEqual(await store.list({ scope: alice }), []);
        assert.ok(findText(await store.search('saffron', { scope: bob }), 'Bob grows saffron'), "Bob's memory stays");
      }),
  },
  {
    name: 'history shows ADD, then UPDATE, then DELETE',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        if (!store.history || !store.update || !store.delete) return;
        const scope = { userId: uniqueId('user') };
        const original = 'The user lives in Valparaiso';
        const updatedText = 'The user lives in Reykjavik';
        const id = await addAndFind(store, scope, original, 'Valparaiso');
        await store.update(id, { text: updatedText }, { reason: 'moved' });
        await store.delete(id);
        const history = await store.history(id);
        assert.deepEqual(
          history.map((entry) => entry.event),
          ['ADD', 'UPDATE', 'DELETE'],
        );
        assert.ok(history.every((entry) => entry.memoryId === id && isDate(entry.createdAt)));
        assert.equal(history[1]?.oldText, original);
        assert.equal(history[1]?.newText, updatedText);
      }),
  },
  {
    name: 'search and list filter by memory type',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        await store.add(
          {
            facts: [
              { text: 'The user prefers window seats on trains', type: 'preference' },
              { text: 'The user takes the train to Lyon on Friday', type: 'event' },
            ],
          },
          { scope },
        );
        const preferences = await store.search('train window seats Lyon Friday', { scope, types: ['preference'] });
        assert.deepEqual(
          preferences.map((hit) => hit.type),
          ['preference'],
        );
        if (store.list) {
          const events = await store.list({ scope, types: ['event'] });
          assert.deepEqual(
            events.map((memory) => memory.text),
            ['The user takes the train to Lyon on Friday'],
          );
        }
      }),
  },
  {
    name: 'search and list filter by metadata: equal values, or one of an array',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        await store.add(
          { facts: [{ text: 'Ticket about a broken kettle', metadata: { channel: 'email' } }] },
          { scope },
        );
        await store.add(
          { facts: [{ text: 'Ticket about a cracked kettle lid', metadata: { channel: 'chat' } }] },
          { scope },
        );
        await store.add(
          { facts: [{ text: 'Ticket about a kettle refund', metadata: { channel: 'phone' } }] },
          { scope },
        );
        const query = 'ticket kettle broken cracked lid refund';
        const email = await store.search(query, { scope, filters: { channel: 'email' } });
        assert.deepEqual(
          email.map((hit) => hit.metadata.channel),
          ['email'],
        );
        const written = await store.search(query, { scope, filters: { channel: ['email', 'chat'] } });
        assert.deepEqual(written.map((hit) => hit.metadata.channel).sort(), ['chat', 'email']);
        if (store.list) {
          const phone = await store.list({ scope, filters: { channel: 'phone' } });
          assert.deepEqual(
            phone.map((memory) => memory.text),
            ['Ticket about a kettle refund'],
          );
        }
      }),
  },
  {
    name: 'unicode text (CJK, accents, emoji) is stored and found intact',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        const text = 'Zephyrine loves 寿司 and crème brûlée 🍣🍮 at Café Noël';
        await store.add({ facts: [{ text }] }, { scope });
        for (const query of ['Zephyrine', '寿司', 'crème brûlée']) {
          assert.equal(findText(await store.search(query, { scope }), text)?.text, text, `found by "${query}"`);
        }
      }),
  },
  {
    name: 'empty or whitespace-only text does not create a memory',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        // Refusing the write is fine too; storing an empty memory is not.
        const changes = await settled(store.add({ facts: [{ text: '' }, { text: ' \n\t ' }] }, { scope }));
        assert.ok(!changes?.some((change) => change.event === 'ADD'), 'no ADD for empty text');
        if (store.list) assert.deepEqual(await store.list({ scope }), []);
      }),
  },
  {
    name: 'very long text (100 KB) is stored and read back intact',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        let text = 'Longfellowmarker begins this note.';
        for (let index = 0; text.length < 100 * 1024; index += 1) {
          text += ` Line ${index} of the note mentions ${wordFor(index)} and ${wordFor(index * 7 + 3)}.`;
        }
        const id = await addAndFind(store, scope, text, 'Longfellowmarker');
        if (store.get) assert.equal((await store.get(id))?.text, text);
      }),
  },
  {
    name: '50 concurrent adds of distinct facts are all stored',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        const texts = Array.from(
          { length: 50 },
          (_, index) => `Parcel ${index} holds ${wordFor(index)} ${wordFor(index + 50)}`,
        );
        await Promise.all(texts.map((text) => store.add({ facts: [{ text }] }, { scope })));
        if (store.list) {
          const listed = await store.list({ scope });
          assert.deepEqual(listed.map((memory) => memory.text).sort(), [...texts].sort());
        }
        const missing: string[] = [];
        for (const [index, text] of texts.entries()) {
          const hits = await store.search(`${wordFor(index)} ${wordFor(index + 50)}`, { scope });
          if (!findText(hits, text)) missing.push(text);
        }
        assert.deepEqual(missing, [], 'every fact should be found by its own words');
      }),
  },
  {
    name: 'expired memories are not returned',
    run: (makeStore) =>
      withStore(makeStore, async (store) => {
        const scope = { userId: uniqueId('user') };
        const expired = 'Voucher code for the Ambergris spa, expired';
        const current = 'Voucher code for the Tamarind cafe, current';
        await store.add(
          {
            facts: [
              { text: expired, expiresAt: new Date(Date.now() - 60_000) },
              { text: current, expiresAt: new Date(Date.now() + 3_600_000) },
            ],
          },
          { scope },
        );
        const hits = await store.search('voucher code Ambergris spa Tamarind cafe', { scope });
        assert.deepEqual(
          hits.map((hit) => hit.text),
          [current],
        );
        if (store.list) {
          assert.deepEqual(
            (await store.list({ scope })).map((memory) => memory.text),
            [current],
          );
        }
      }),
  },
];

/** The `describe` and `it` of a test runner, as much of them as the contract needs. */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/** Registers the checks with a runner: one suite, one test per check, each with a fresh store. */
export function registerStoreContract(runner: ContractRunner, name: string, makeStore: MakeStore): void {
  runner.describe(`${name} store contract`, () => {
    for (const check of storeContractChecks) runner.it(check.name, () => check.run(makeStore));
  });
}

/**
 * Registers the store contract with the test runner's global `describe` and `it` (Jest, Mocha,
 * vitest with `globals: true`): one test per check, each with a fresh store from `makeStore`.
 * Without globals, import it from `with-memory/testing/vitest` or `with-memory/testing/node-test`.
 *
 * @example
 * ```ts
 * import { testStoreContract } from 'with-memory/testing';
 * testStoreContract('redisStore', () => redisStore({ url }));
 * ```
 */
export function testStoreContract(name: string, makeStore: MakeStore): void {
  const { describe, it } = globalThis as Partial<ContractRunner>;
  if (typeof describe !== 'function' || typeof it !== 'function') {
    throw new Error(
      'testStoreContract found no global describe/it: import it from "with-memory/testing/vitest" (vitest without globals) or "with-memory/testing/node-test" (node --test).',
    );
  }
  registerStoreContract({ describe, it }, name, makeStore);
}

async function withStore(makeStore: MakeStore, run: (store: MemoryStore) => Promise<void>): Promise<void> {
  const store = await makeStore();
  try {
    await run(store);
  } finally {
    await store.close?.();
  }
}

/** Adds one fact and returns its id, found by searching (not every store returns ids from `add`). */
async function addAndFind(store: MemoryStore, scope: Scope, text: string, query: string): Promise<string> {
  await store.add({ facts: [{ text }] }, { scope });
  const hit = findText(await store.search(query, { scope }), text);
  assert.ok(hit, `the stored fact should be found by "${query}"`);
  return hit.id;
}

function findText(hits: MemoryHit[], text: string): MemoryHit | undefined {
  return hits.find((hit) => hit.text === text);
}

function assertNewestFirst(memories: Memory[]): void {
  for (const [index, memory] of memories.entries()) {
    const previous = memories[index - 1];
    if (previous) assert.ok(previous.updatedAt.getTime() >= memory.updatedAt.getTime(), 'ordered newest first');
  }
}

/** The fields of `scope` that `expected` gives, so stores may add fields of their own. */
function pickScope(scope: Scope, expected: Scope): Scope {
  return Object.fromEntries(Object.keys(expected).map((key) => [key, scope[key as keyof Scope]]));
}

/** The value, or undefined when the promise rejects. */
async function settled<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch {
    return undefined;
  }
}

function uniqueId(label: string): string {
  return `contract-${label}-${randomUUID()}`;
}

/** A made-up word per number, letters only, so every tokenizer and stemmer keeps them apart. */
function wordFor(index: number): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let word = '';
  let rest = index;
  do {
    word += letters[rest % letters.length];
    rest = Math.floor(rest / letters.length);
  } while (rest > 0);
  return `quo${word}ax`;
}
