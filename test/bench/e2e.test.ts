import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { contentWords, runE2eBench, sessionTime } from '../../bench/e2e.js';
import { locomoFixture, temporaryFolder } from './locomo-fixture.js';

describe('bench e2e (smoke)', () => {
  it('reads answers as content words and session dates as times', () => {
    expect([...contentWords('The week before 9 June, 2023')]).toEqual(['week', '9', 'june', '2023']);
    expect(sessionTime({ date: '1:56 pm on 8 May, 2023' })).toEqual(new Date('2023-05-08T13:56:00Z'));
    expect(sessionTime({ date: '12:05 am on 1 January, 2024' })).toEqual(new Date('2024-01-01T00:05:00Z'));
    expect(() => sessionTime({ date: 'someday' })).toThrow(/someday/);
  });

  it('measures what each configuration puts in the blocks, with the full conversation as the ceiling', async () => {
    const result = await runE2eBench({ dataPath: locomoFixture(), store: 'memory' });
    expect(result.results.map((entry) => entry.config)).toEqual(['default', 'facts-only', 'verbatim', 'full-context']);
    expect(result.turns).toBe(7);
    const byConfig = Object.fromEntries(result.results.map((entry) => [entry.config, entry]));
    for (const entry of result.results) {
      expect(entry.overall.questions).toBe(4);
      expect(Object.keys(entry.categories).sort()).toEqual(['1', '2', '3', '4']);
      expect(entry.overall.allWords).toBeLessThanOrEqual(entry.overall.wordRecall);
    }
    // The default keeps what was said ("A shiba inu, very stubborn."), which no fact rule takes.
    expect(byConfig.default?.categories['4']?.allWords).toBe(100);
    expect(byConfig['facts-only']?.categories['4']?.allWords).toBe(0);
    expect(byConfig.default?.episodesPerConversation).toBeGreaterThan(0);
    expect(byConfig['facts-only']?.episodesPerConversation).toBe(0);
    // Two speakers, each block at most 400 tokens.
    expect(byConfig.default?.overall.blockTokens).toBeLessThanOrEqual(800);
    expect(byConfig['full-context']?.overall.blockTokens).toBeGreaterThan(0);
    expect(byConfig['full-context']?.ingestMsPerTurn).toBe(0);
  });

  it('runs from the command line and writes the JSON file', async () => {
    const directory = temporaryFolder('with-memory-bench-e2e-');
    const json = join(directory, 'e2e.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        'e2e',
        '--data',
        locomoFixture(),
        '--configs',
        'default,verbatim',
        '--json',
        json,
      ],
      { env: { ...process.env, MEM0_TELEMETRY: 'false' } },
    );
    expect(stdout).toContain('| default');
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written).toMatchObject({
      benchmark: 'e2e',
      store: 'local',
      maxTokensPerScope: 400,
      conversations: ['conv-test'],
    });
    expect(written.results.map((entry: { config: string }) => entry.config)).toEqual(['default', 'verbatim']);
    expect(written.machine.cpus).toBeGreaterThan(0);
  });
});
