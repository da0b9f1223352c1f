import { describe, expect, it } from 'vitest';
import { InvalidOptionsError, StoreError } from '../../src/core/errors.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { testStoreContract } from '../../src/testing/vitest/index.js';
import { terms, wordOverlap } from '../../src/text/text-terms.js';
import { describeInputRules, describeSharedBehaviour } from './store-behaviour.js';

testStoreContract('inMemoryStore', () => inMemoryStore());
describeInputRules('inMemoryStore', () => inMemoryStore());
describeSharedBehaviour('inMemoryStore', () => inMemoryStore(), ['restatements', 'large', 'search']);

const scope = { userId: 'user_42' };

describe('terms', () => {
  it('lowercases, drops stop words and stems English words', () => {
    expect(terms('The user prefers dark themes')).toEqual(['user', 'prefer', 'dark', 'theme']);
  });

  it('splits words of any script and keeps emoji and accents', () => {
    expect(terms('Ama el café 🍕 東京に住む')).toEqual(expect.arrayContaining(['café', '🍕', '東京']));
    // Decomposed and precomposed accents are the same word.
    expect(terms('cafe\u0301')).toEqual(terms('café'));
  });

  it('measures overlap as the Jaccard index of the term sets', () => {
    expect(wordOverlap(terms('User likes dark mode'), terms('The user likes dark mode'))).toBe(1);
    expect(wordOverlap(['a', 'b', 'c'], ['b', 'c', 'd'])).toBe(0.5);
    expect(wordOverlap(['a'], ['b'])).toBe(0);
  });
});

describe('inMemoryStore', () => {
  it('updates a restated fact instead of adding a duplicate, and keeps the history', async () => {
    const store = inMemoryStore();
    const [added] = await store.add({ facts: [{ text: 'User likes dark mode', type: 'preference' }] }, { scope });
    const restated = await store.add(
      { facts: [{ text: 'The user likes dark mode.', type: 'preference' }] },
      { scope, reason: 'said again' },
    );
    expect(restated).toEqual([
      { event: 'UPDATE', id: added?.id, text: 'The user likes dark mode.', previousText: 'User likes dark mode' },
    ]);
    expect(await store.list({ scope })).toHaveLength(1);
    const history = await store.history(added?.id ?? '');
    expect(history.map(({ event, oldText, newText, reason }) => ({ event, oldText, newText, reason }))).toEqual([
      { event: 'ADD', oldText: undefined, newText: 'User likes dark mode', reason: undefined },
      { event: 'UPDATE', oldText: 'User likes dark mode', newText: 'The user likes dark mode.', reason: 'said again' },
    ]);
    await store.close();
  });

  it('keeps facts apart when their scope, type or words differ', async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'User likes dark mode', type: 'preference' }] }, { scope });
    await store.add({ facts: [{ text: 'User likes dark mode', type: 'preference' }] }, { scope: { userId: 'other' } });
    await store.add({ facts: [{ text: 'User likes dark mode', type: 'fact' }] }, { scope });
    await store.add({ facts: [{ text: 'User likes light mode', type: 'preference' }] }, { scope });
    expect(await store.list({ scope })).toHaveLength(3);
    await store.close();
  });

  it('merges a restatement that adds detail when duplicateThreshold allows it', async () => {
    const store = inMemoryStore({ duplicateThreshold: 0.5 });
    await store.add({ facts: [{ text: 'User likes dark mode' }] }, { scope });
    const [change] = await store.add({ facts: [{ text: 'User likes dark mode in every editor' }] }, { scope });
    expect(change?.event).toBe('UPDATE');
    expect((await store.list({ scope })).map((memory) => memory.text)).toEqual([
      'User likes dark mode in every editor',
    ]);
    await store.close();
  });

  it('never merges a fact that swaps a word of a stored one, however alike they are', async () => {
    const store = inMemoryStore({ duplicateThreshold: 0.5 });
    await store.add({ facts: [{ text: 'User writes reports in Blender and dislikes Jira' }] }, { scope });
    const [change] = await store.add(
      { facts: [{ text: 'User writes reports in Blender and dislikes Confluence' }] },
      { scope },
    );
    expect(change?.event).toBe('ADD');
    // Every distinct word of this one is in the first, but not as often: still another fact.
    const [repeated] = await store.add(
      { facts: [{ text: 'User writes reports in Blender and dislikes Blender' }] },
      { scope },
    );
    expect(repeated?.event).toBe('ADD');
    expect(await store.list({ scope })).toHaveLength(3);
    await store.close();
  });

  it('ranks by BM25: rare words and denser matches first', async () => {
    const store = inMemoryStore();
    await store.add(
      {
        facts: [
          { text: 'The user has a cat' },
          { text: 'The user has a dog named Rex' },
          { text: 'The user walks the dog twice a day, the dog is a collie' },
          { text: 'The user works from home' },
        ],
      },
      { scope },
    );
    const hits = await store.search('dog collie', { scope });
    expect(hits.map((hit) => hit.text)).toEqual([
      'The user walks the dog twice a day, the dog is a collie',
      'The user has a dog named Rex',
    ]);
    expect(hits[0]?.score).toBeGreaterThan(hits[1]?.score ?? 1);
    // "user" is in every memory, so it weighs little against the rare "collie".
    const [best] = await store.search('user collie', { scope });
    expect(best?.text).toContain('collie');
    await store.close();
  });

  it('breaks score ties by recency and applies threshold and limit', async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Visited Oslo in spring' }] }, { scope });
    await store.add({ facts: [{ text: 'Visited Oslo in winter' }] }, { scope });
    const hits = await store.search('Oslo', { scope });
    expect(hits.map((hit) => hit.text)).toEqual(['Visited Oslo in winter', 'Visited Oslo in spring']);
    // Equal words; the two adds may fall a millisecond apart, which recency tells by 1e-11.
    expect(hits[0]?.score).toBeCloseTo(hits[1]?.score ?? -1, 8);
    expect(await store.search('Oslo', { scope, limit: 1 })).toHaveLength(1);
    expect(await store.search('Oslo', { scope, threshold: (hits[0]?.score ?? 0) + 0.01 })).toEqual([]);
    expect(await store.search('the of and', { scope })).toEqual([]);
    await store.close();
  });

  it('returns copies: changing a result does not change the store', async () => {
    const store = inMemoryStore();
    const [change] = await store.add(
      { facts: [{ text: 'Owns a red kayak', metadata: { tags: ['boat'] } }] },
      { scope },
    );
    const id = change?.id ?? '';
    const [hit] = await store.search('kayak', { scope });
    if (!hit) throw new Error('expected a hit');
    hit.text = 'changed';
    hit.scope.userId = 'someone else';
    (hit.metadata.tags as string[]).push('changed');
    hit.updatedAt.setFullYear(1990);
    const [listed] = await store.list({ scope });
    if (listed) listed.metadata.tags = [];
    const history = await store.history(id);
    if (history[0]) history[0].newText = 'changed';
    const memory = await store.get(id);
    expect(memory).toMatchObject({ text: 'Owns a red kayak', scope, metadata: { tags: ['boat'] } });
    expect(memory?.updatedAt.getFullYear()).not.toBe(1990);
    expect((await store.history(id))[0]?.newText).toBe('Owns a red kayak');
    await store.close();
  });

  it('stores the user messages of a { messages } write as facts', async () => {
    const store = inMemoryStore();
    const changes = await store.add(
      {
        messages: [
          { role: 'system', content: 'You are helpful.' },
          { role: 'user', content: 'My cat is called Miso' },
          { role: 'assistant', content: 'Nice name!' },
        ],
      },
      { scope, metadata: { source: 'chat' } },
    );
    expect(changes.map((change) => change.text)).toEqual(['My cat is called Miso']);
    expect(await store.list({ scope })).toMatchObject([
      { text: 'My cat is called Miso', type: 'fact', metadata: { source: 'chat' } },
    ]);
    await store.close();
  });

  it('updates, removes expiry, and deletes with history', async () => {
    const store = inMemoryStore();
    const [change] = await store.add(
      { facts: [{ text: 'Trial ends soon', expiresAt: new Date(Date.now() + 60_000) }] },
      { scope },
    );
    const id = change?.id ?? '';
    const updated = await store.update(id, { expiresAt: null, metadata: { plan: 'pro' } }, { reason: 'upgraded' });
    expect(updated).toMatchObject({ text: 'Trial ends soon', metadata: { plan: 'pro' } });
    expect(updated).not.toHaveProperty('expiresAt');
    await expect(store.update(id, { text: '  ' })).rejects.toBeInstanceOf(StoreError);
    expect(await store.update('missing', { text: 'x' })).toBeNull();
    expect(await store.delete(id, { reason: 'cancelled' })).toBe(true);
    expect(await store.delete(id)).toBe(false);
    expect((await store.history(id)).map(({ event, reason }) => [event, reason])).toEqual([
      ['ADD', undefined],
      ['UPDATE', 'upgraded'],
      ['DELETE', 'cancelled'],
    ]);
    await store.close();
  });

  it('lists by type after a memory changes type or is deleted', async () => {
    const store = inMemoryStore();
    const changes = await store.add(
      {
        facts: [{ text: 'Likes tea', type: 'preference' }, { text: 'Lives in Oslo', type: 'fact' }, { text: 'Plain' }],
      },
      { scope },
    );
    const [tea, oslo] = changes.map((change) => change.id);
    await store.update(oslo ?? '', { type: 'profile' });
    const texts = async (types: string[]) => (await store.list({ scope, types })).map((memory) => memory.text).sort();
    expect(await texts(['preference', 'profile'])).toEqual(['Likes tea', 'Lives in Oslo']);
    expect(await texts(['fact'])).toEqual([]);
    await store.delete(tea ?? '');
    expect(await texts(['preference', 'profile', 'profile'])).toEqual(['Lives in Oslo']);
    expect((await store.list({ scope })).map((memory) => memory.text).sort()).toEqual(['Lives in Oslo', 'Plain']);
    await store.close();
  });

  it('deleteAll leaves no text of the deleted memories in their history', async () => {
    const store = inMemoryStore();
    const [change] = await store.add({ facts: [{ text: 'Secret: allergic to penicillin' }] }, { scope });
    const id = change?.id ?? '';
    await store.update(id, { text: 'Secret: allergic to penicillin and latex' });
    expect(await store.deleteAll(scope)).toBe(1);
    const history = await store.history(id);
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE', 'DELETE']);
    expect(JSON.stringify(history)).not.toContain('allergic');
    await store.close();
  });

  it('rejects an invalid scope instead of matching everything', async () => {
    const store = inMemoryStore();
    await store.add({ facts: [{ text: 'Lives in Porto' }] }, { scope });
    await expect(store.search('Porto', { scope: {} })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(store.deleteAll({ appId: 'app' })).rejects.toBeInstanceOf(InvalidOptionsError);
    expect(await store.list({ scope })).toHaveLength(1);
    await store.close();
  });

  it('rejects calls after close', async () => {
    const store = inMemoryStore();
    await store.close();
    await expect(store.search('anything', { scope })).rejects.toBeInstanceOf(StoreError);
  });

  it('validates its options', () => {
    expect(() => inMemoryStore({ duplicateThreshold: 2 })).toThrow(InvalidOptionsError);
    expect(() => inMemoryStore({ duplicateTreshold: 0.5 } as never)).toThrow(/duplicateTreshold/);
  });
});

// L9
it('inMemoryStore erases one memory completely with delete(id, { erase: true })', async () => {
  const store = inMemoryStore();
  const [added] = await store.add({ facts: [{ text: 'Owes Bob 40 euros' }] }, { scope });
  const id = added?.id ?? '';
  await store.update(id, { text: 'Owes Bob 50 euros' }, { reason: 'corrected' });
  expect(await store.delete(id)).toBe(true);
  expect((await store.history(id)).at(-1)?.oldText).toBe('Owes Bob 50 euros');
  expect(await store.delete(id, { erase: true })).toBe(true);
  const history = await store.history(id);
  expect(history.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE', 'DELETE', 'DELETE']);
  expect(history.some((entry) => entry.oldText ?? entry.newText ?? entry.reason)).toBe(false);
  expect(await store.delete('no-such-memory', { erase: true })).toBe(false);
});
