import { describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/core/errors.js';
import {
  parseAddResult,
  parseHistory,
  parseListPage,
  parseMemory,
  parseSearchResult,
} from '../../../src/stores/mem0/normalise.js';

describe('parseSearchResult', () => {
  it("reads the platform client's camelCase answer", () => {
    const [hit] = parseSearchResult(
      {
        results: [
          {
            id: 'p1',
            memory: 'Likes jazz',
            score: 0.82,
            userId: 'alice',
            agentId: null,
            appId: 'web',
            runId: null,
            metadata: { memory_type: 'preference', expires_at: '2999-01-01T00:00:00.000Z', mood: 'mellow' },
            categories: ['music'],
            expirationDate: '2999-01-01',
            createdAt: '2025-01-02T03:04:05.000Z',
            updatedAt: '2025-02-02T03:04:05.000Z',
          },
        ],
      },
      'platform',
      { userId: 'alice' },
    );
    expect(hit).toEqual({
      id: 'p1',
      text: 'Likes jazz',
      type: 'preference',
      metadata: { mood: 'mellow', categories: ['music'] },
      scope: { userId: 'alice', appId: 'web' },
      createdAt: new Date('2025-01-02T03:04:05.000Z'),
      updatedAt: new Date('2025-02-02T03:04:05.000Z'),
      expiresAt: new Date('2999-01-01T00:00:00.000Z'),
      score: 0.82,
    });
  });

  it("reads the OSS Memory's mixed casing: createdAt camel, user_id snake, app id and expiry in metadata", () => {
    const [hit] = parseSearchResult(
      {
        results: [
          {
            id: 'o1',
            memory: 'Likes tea',
            hash: 'abc',
            createdAt: '2025-01-02T03:04:05.000Z',
            score: 1.4,
            metadata: { app_id: 'mobile', memory_type: 'fact', expiration_date: '2999-12-30', source: 'chat' },
            user_id: 'alice',
            run_id: 'r1',
          },
        ],
      },
      'oss',
      { userId: 'alice' },
    );
    expect(hit).toMatchObject({
      text: 'Likes tea',
      type: 'fact',
      metadata: { source: 'chat' },
      scope: { userId: 'alice', runId: 'r1', appId: 'mobile' },
      // Never updated: updatedAt is the creation time.
      updatedAt: new Date('2025-01-02T03:04:05.000Z'),
      // mem0 keeps it through its expiry day.
      expiresAt: new Date('2999-12-31T00:00:00.000Z'),
      // Clamped into 0..1.
      score: 1,
    });
  });

  it("accepts mem0 2.x's bare array and snake_case keys", () => {
    const hits = parseSearchResult(
      [{ id: 7, memory: 'Old shape', score: 0.5, user_id: 'bob', created_at: '2024-05-05T00:00:00Z' }],
      'platform',
      {},
    );
    expect(hits.map((hit) => [hit.id, hit.scope])).toEqual([['7', { userId: 'bob' }]]);
  });

  it('fills entity ids an item leaves out from the searched scope', () => {
    const [hit] = parseSearchResult(
      { results: [{ id: 'x', memory: 'm', score: 0.3, createdAt: '2025-01-01T00:00:00Z' }] },
      'platform',
      { userId: 'alice', agentId: 'a' },
    );
    expect(hit?.scope).toEqual({ userId: 'alice', agentId: 'a' });
  });

  it.each([
    ['no results at all', { hits: [] }],
    ['a memory that is not text', { results: [{ id: 'x', memory: 5, score: 0.1, createdAt: '2025-01-01' }] }],
    ['a hit without a score', { results: [{ id: 'x', memory: 'm', createdAt: '2025-01-01' }] }],
    ['a hit without any date', { results: [{ id: 'x', memory: 'm', score: 0.2 }] }],
    ['an unreadable date', { results: [{ id: 'x', memory: 'm', score: 0.2, createdAt: 'last Tuesday' }] }],
  ])('%s is a StoreError, not retryable', (_, answer) => {
    let error: unknown;
    try {
      parseSearchResult(answer, 'platform', { userId: 'alice' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ operation: 'search', retryable: false });
  });
});

describe('parseAddResult', () => {
  it('PENDING from the platform is an accepted write, not a created memory', () => {
    expect(parseAddResult({ eventId: 'e1', status: 'PENDING' })).toEqual([{ event: 'PENDING' }]);
    expect(parseAddResult([{ message: 'queued', status: 'PENDING', eventId: 'e1' }])).toEqual([{ event: 'PENDING' }]);
  });

  it("reads the platform's synchronous infer:false answer and the OSS answer", () => {
    expect(
      parseAddResult({
        message: 'ok',
        status: 'SUCCEEDED',
        results: [{ id: 'm1', data: { memory: 'A' }, event: 'ADD' }],
      }),
    ).toEqual([{ event: 'ADD', id: 'm1', text: 'A' }]);
    expect(
      parseAddResult({
        results: [{ id: 'm2', memory: 'B', metadata: { event: 'UPDATE', previousMemory: 'b' } }],
      }),
    ).toEqual([{ event: 'UPDATE', id: 'm2', text: 'B', previousText: 'b' }]);
    expect(parseAddResult({ results: [] })).toEqual([]);
  });

  it('an answer of no known shape is a StoreError', () => {
    expect(() => parseAddResult('done')).toThrow(StoreError);
    expect(() => parseAddResult({ status: 'FAILED' })).toThrow(StoreError);
  });
});

describe('parseHistory', () => {
  it('reads platform rows and OSS rows, oldest first', () => {
    const platform = parseHistory(
      [
        {
          id: 'h2',
          memoryId: 'm',
          event: 'UPDATE',
          oldMemory: 'a',
          newMemory: 'b',
          createdAt: '2025-01-02T00:00:00Z',
          updatedAt: '2025-01-02T00:00:00Z',
        },
        { id: 'h1', memoryId: 'm', event: 'ADD', oldMemory: null, newMemory: 'a', createdAt: '2025-01-01T00:00:00Z' },
      ],
      'm',
    );
    expect(platform.map((entry) => [entry.event, entry.oldText, entry.newText])).toEqual([
      ['ADD', undefined, 'a'],
      ['UPDATE', 'a', 'b'],
    ]);

    // OSS rows keep the memory's creation time in created_at; the change's time is updated_at.
    const oss = parseHistory(
      [
        {
          id: 'h3',
          memory_id: 'm',
          previous_value: 'b',
          new_value: null,
          action: 'DELETE',
          created_at: '2025-01-03T00:00:00Z',
          updated_at: null,
        },
        {
          id: 'h2',
          memory_id: 'm',
          previous_value: 'a',
          new_value: 'b',
          action: 'UPDATE',
          created_at: '2025-01-01T00:00:00Z',
          updated_at: '2025-01-02T00:00:00Z',
        },
        {
          id: 'h1',
          memory_id: 'm',
          previous_value: null,
          new_value: 'a',
          action: 'ADD',
          created_at: '2025-01-01T00:00:00Z',
          updated_at: null,
        },
      ],
      'm',
    );
    expect(oss.map((entry) => [entry.event, entry.createdAt.toISOString()])).toEqual([
      ['ADD', '2025-01-01T00:00:00.000Z'],
      ['UPDATE', '2025-01-02T00:00:00.000Z'],
      ['DELETE', '2025-01-03T00:00:00.000Z'],
    ]);
  });
});

describe('parseListPage and parseMemory', () => {
  it("maps the platform getAll's session_id to the run and tells whether a page follows", () => {
    const page = parseListPage(
      {
        count: 3,
        next: '?page=2',
        previous: null,
        results: [{ id: 'a', memory: 'A', userId: 'u', sessionId: 's1', createdAt: '2025-01-01T00:00:00Z' }],
      },
      'platform',
      { userId: 'u' },
    );
    expect(page.hasNext).toBe(true);
    expect(page.memories[0]?.scope).toEqual({ userId: 'u', runId: 's1' });
  });

  it('null from get is null; a memory is a Memory', () => {
    expect(parseMemory(null, 'oss', 'get')).toBeNull();
    expect(parseMemory({ id: 'a', memory: 'A', createdAt: '2025-01-01T00:00:00Z' }, 'oss', 'get')?.text).toBe('A');
  });
});
