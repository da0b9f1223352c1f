import { describe, expect, it } from 'vitest';
import { contextualScores, neighbourWeights, timeCueBoost } from '../../src/stores/contextual-ranking.js';
import { inMemoryStore } from '../../src/stores/in-memory.js';
import { searchTerms, terms } from '../../src/text/text-terms.js';

describe('searchTerms', () => {
  it('drops the words that only carry the question, keeps the topic', () => {
    expect(searchTerms('When did Caroline go to the support group?')).toEqual(['carolin', 'go', 'support', 'group']);
    expect(searchTerms('What would you do?')).toEqual([]);
  });

  it('maps common irregular verbs to their base, in memories and queries alike', () => {
    expect(terms('I went there and bought shoes')).toEqual(terms('I go there and buy shoes'));
    expect(searchTerms('Where did she go?')).toEqual(terms('went'));
  });
});

describe('contextualScores', () => {
  it('adds the neighbours’ scores by distance, only to memories that match themselves', () => {
    const [first = 0, second = 0] = neighbourWeights;
    const scores = contextualScores([0, 2, 1, 0, 0], ['a', 'b', 'c', 'd', 'e'], 'oslo');
    expect(scores).toEqual([0, 2 + first * 1, 1 + first * 2, 0, 0]);
    expect(contextualScores([1, 0, 3], ['a', 'b', 'c'], 'oslo')).toEqual([1 + second * 3, 0, 3 + second * 1]);
  });

  it('favours memories that mention a time when the query asks when', () => {
    const texts = ['We moved to Oslo last year', 'We moved to Oslo'];
    expect(contextualScores([1, 0, 0, 1], [texts[0] ?? '', '', '', texts[1] ?? ''], 'When did they move?')).toEqual([
      timeCueBoost,
      0,
      0,
      1,
    ]);
    expect(contextualScores([1], texts, 'Where did they move?')).toEqual([1]);
  });
});

describe('in-memory store with context', () => {
  it('ranks the answer turn above an equal lone match, through the question turn before it', async () => {
    const store = inMemoryStore();
    const scope = { userId: 'u1' };
    const texts = [
      'Ben: Did you finally adopt the puppy?',
      'Ana: Yes! Her name is Miso.',
      'Ben: Nice.',
      'Ana: My name is on the list.',
    ];
    for (const text of texts) await store.add({ facts: [{ text }] }, { scope });
    const hits = await store.search('What is the name of the puppy Ana adopted?', { scope });
    // The last memory shares as many query words as the answer, and is shorter: alone, BM25 puts it first.
    const order = hits.map((hit) => hit.text);
    expect(order.indexOf(texts[1] ?? '')).toBeLessThan(order.indexOf(texts[3] ?? ''));
    expect(order).toHaveLength(3);
    expect(order).not.toContain(texts[2]);
    await store.close();
  });
});
