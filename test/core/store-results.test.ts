import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { checkHits, checkMemories } from '../../src/core/store-results.js';

const scope = { userId: 'u' };
const hit = {
  id: 'm1',
  text: 'User lives in Oslo.',
  metadata: {},
  scope,
  createdAt: new Date('2026-11-01T00:00:00Z'),
  updatedAt: new Date('2026-11-02T00:00:00Z'),
  score: 0.7,
};

describe('checking what a store returned', () => {
  it('passes well-formed hits through as they are', () => {
    const hits = [hit];
    expect(checkHits(hits, 'test', scope)).toEqual({ hits, outside: 0 });
    expect(checkHits(hits, 'test', scope).hits[0]).toBe(hit);
  });

  it('converts what a third-party store may send: ISO dates, no metadata, a score out of range', () => {
    const { hits } = checkHits(
      [{ id: 'm1', text: 'x', scope, createdAt: '2026-11-01T00:00:00Z', updatedAt: 1_700_000_000_000, score: 1.4 }],
      'test',
      scope,
    );
    expect(hits[0]?.createdAt).toEqual(new Date('2026-11-01T00:00:00Z'));
    expect(hits[0]?.updatedAt).toEqual(new Date(1_700_000_000_000));
    expect(hits[0]?.metadata).toEqual({});
    expect(hits[0]?.score).toBe(1);
  });

  it('passes how a score was made through, and refuses a malformed account of it', () => {
    const scoreParts = { words: 0.4, neighbours: 0.1, recency: 0.98 };
    expect(checkHits([{ ...hit, scoreParts }], 'test', scope).hits[0]?.scoreParts).toEqual(scoreParts);
    const converted = checkHits([{ ...hit, createdAt: hit.createdAt.toISOString(), scoreParts }], 'test', scope);
    expect(converted.hits[0]?.scoreParts).toEqual(scoreParts);
    expect(() => checkHits([{ ...hit, scoreParts: { words: 'high' } }], 'test', scope)).toThrow(/\[0\.scoreParts/);
  });

  it('names what is wrong in a malformed answer', () => {
    expect(() => checkHits([{ ...hit, createdAt: 'yesterday' }], 'test', scope)).toThrow(StoreError);
    expect(() => checkHits([{ ...hit, score: Number.NaN }], 'test', scope)).toThrow(/\[0\.score\]/);
    expect(() => checkMemories({ results: [] }, 'test', scope)).toThrow(/malformed list result/);
  });

  it('counts and drops memories outside the scope', () => {
    const result = checkMemories([hit, { ...hit, id: 'm2', scope: { userId: 'someone-else' } }], 'test', scope);
    expect(result.memories.map((memory) => memory.id)).toEqual(['m1']);
    expect(result.outside).toBe(1);
  });
});
