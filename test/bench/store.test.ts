import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatOneScopeResult,
  formatStoreResult,
  generateWorkload,
  runOneScopeBench,
  runStoreBench,
} from '../../bench/store.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('store benchmark', () => {
  it('generates the same workload from the same seed: many users, sentence-like memories, questions', () => {
    const first = generateWorkload({ count: 1000, queryCount: 50 });
    expect(generateWorkload({ count: 1000, queryCount: 50 })).toEqual(first);
    expect(generateWorkload({ count: 1000, queryCount: 50, seed: 7 })).not.toEqual(first);
    expect(first.users).toHaveLength(10);
    expect(first.users.reduce((sum, user) => sum + user.facts.length, 0)).toBe(1000);
    expect(first.queries).toHaveLength(50);
    for (const fact of first.users[0]?.facts ?? []) expect(fact.text.split(' ').length).toBeGreaterThan(5);
    const users = new Set(first.users.map((user) => user.scope.userId));
    expect(first.queries.every((query) => users.has(query.scope.userId))).toBe(true);
  });

  it('measures one scope holding every memory: search, the standing-preferences list, recall', async () => {
    const results = await runOneScopeBench({ sizes: [300], queryCount: 40 });
    for (const name of ['local', 'memory']) {
      const result = results['300']?.[name];
      expect(result, name).toMatchObject({
        addsPerSec: expect.any(Number),
        searchP50Ms: expect.any(Number),
        searchP95Ms: expect.any(Number),
        listP50Ms: expect.any(Number),
        listP95Ms: expect.any(Number),
      });
      expect(result?.memories).toBeGreaterThan(100);
      expect(result?.memories).toBeLessThanOrEqual(300);
      expect(result?.recallAt8).toBeGreaterThan(50);
    }
    expect(formatOneScopeResult(results)).toMatch(/^\| memories in one scope \| store/);
  });

  it('measures each store at each size and writes the JSON keys the dispatcher reads', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'with-memory-bench-test-'));
    folders.push(folder);
    const json = join(folder, 'store.json');
    const results = await runStoreBench({ sizes: [300], json, print: false });
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(results)));
    for (const name of ['local', 'memory']) {
      const result = results['300']?.[name];
      expect(result, name).toMatchObject({
        addsPerSec: expect.any(Number),
        concurrentAddsPerSec: expect.any(Number),
        searchP50Ms: expect.any(Number),
        searchP95Ms: expect.any(Number),
      });
      expect(result?.concurrentAddsPerSec).toBeGreaterThan(0);
      expect(result?.memories).toBeGreaterThan(250);
    }
    expect(results['300']?.local?.fileBytes).toBeGreaterThan(0);
    expect(results['300']?.memory?.fileBytes).toBeNull();
    expect(formatStoreResult(results)).toMatch(/\| 300 +\| local +\|/);
    await expect(runStoreBench({ sizes: [10], stores: ['nope'], print: false })).rejects.toThrow(/Unknown store nope/);
  });
});
