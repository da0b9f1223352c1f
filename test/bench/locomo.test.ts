import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bm25Index } from '../../bench/bm25-baseline.js';
import { runLocomoBench } from '../../bench/locomo.js';
import { loadLocomo, repairEvidence } from '../../bench/locomo-data.js';
import { locomoFixture, temporaryFolder } from './locomo-fixture.js';

const scoreKeys = ['questions', 'recall@1', 'recall@5', 'recall@10', 'recall@20', 'mrr'];
function expectScores(scores: Record<string, number>, questions: number): void {
  expect(Object.keys(scores)).toEqual(expect.arrayContaining(scoreKeys));
  expect(scores.questions).toBe(questions);
  for (const key of scoreKeys.slice(1)) {
    expect(scores[key]).toBeGreaterThanOrEqual(0);
    expect(scores[key]).toBeLessThanOrEqual(100);
  }
  // Recall can only grow with k.
  expect(scores['recall@5']).toBeGreaterThanOrEqual(scores['recall@1'] ?? 0);
  expect(scores['recall@20']).toBeGreaterThanOrEqual(scores['recall@10'] ?? 0);
}

describe('LoCoMo data', () => {
  it('reads turns and questions of categories 1-4, repairing malformed evidence', () => {
    const [conversation] = loadLocomo(locomoFixture());
    expect(conversation?.turns).toHaveLength(7);
    expect(conversation?.turns[2]).toMatchObject({ diaId: 'D1:3', caption: 'a photo of a small dog', session: 1 });
    expect(conversation?.questions.map((question) => question.category)).toEqual([2, 4, 1, 3]);
    expect(conversation?.questions[2]?.evidence).toEqual(['D1:4', 'D2:2']);
    expect(conversation?.questions[3]?.evidence).toEqual(['D2:3']);
    expect(repairEvidence(['D:1:3', 'D2:01'], new Set(['D1:3', 'D2:1']))).toEqual(['D1:3', 'D2:1']);
  });

  it('fails on a conversation id the file does not hold', () => {
    expect(() => loadLocomo(locomoFixture(), ['conv-404'])).toThrow(/conv-404/);
  });
});

describe('BM25 baseline', () => {
  it('ranks the document with the rare query words first', () => {
    const index = bm25Index([
      'Ana: I like tea',
      'Ben: I started rowing on the river',
      'Ana: rowing is hard work',
      'Ana: my puppy is called Miso',
      'Ana: see you soon',
    ]);
    expect(index.search('When did Ben start rowing on the river?', 10)).toEqual([1, 2]);
    expect(index.search('the of', 10)).toEqual([]);
  });
});

describe('bench locomo (smoke)', () => {
  it('measures recall, tokens, budgets and timings beside the baseline', async () => {
    const result = await runLocomoBench({ dataPath: locomoFixture(), store: 'memory' });
    expectScores(result.overall as unknown as Record<string, number>, 4);
    expectScores(result.baseline.overall as unknown as Record<string, number>, 4);
    expect(Object.keys(result.categories).sort()).toEqual(['1', '2', '3', '4']);
    expect(result.categories['2']?.name).toBe('temporal');
    expect(result.turns).toBe(7);
    expect(result.budgets.map((budget) => budget.maxTokens)).toEqual([512, 1024]);
    for (const budget of result.budgets) {
      expect(budget.tokens).toBeGreaterThan(0);
      expect(budget.tokens).toBeLessThanOrEqual(budget.maxTokens);
    }
    expect(result.tokens.fullContext).toBeGreaterThan(result.tokens.blockAtK10 / 10);
    expect(result.searchMs.p95).toBeGreaterThanOrEqual(result.searchMs.p50);
    // Every question has its evidence in this 7-turn conversation's top 20, for both rankers.
    expect(result.overall['recall@20']).toBeGreaterThan(50);
  });

  it('runs from the command line and writes the JSON file', async () => {
    const directory = temporaryFolder('with-memory-bench-json-');
    const json = join(directory, 'locomo.json');
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', 'locomo', '--data', locomoFixture(), '--store', 'local', '--json', json],
      { env: { ...process.env, MEM0_TELEMETRY: 'false' } },
    );
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written).toMatchObject({
      benchmark: 'locomo',
      store: 'local',
      embedder: 'none',
      conversations: ['conv-test'],
    });
    expectScores(written.overall, 4);
    expect(Object.keys(written.categories)).toHaveLength(4);
    expect(written.machine.cpus).toBeGreaterThan(0);
  });
});
