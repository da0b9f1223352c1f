import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { answerWords, runLongMemEvalBench } from '../../bench/longmemeval.js';
import { longMemEvalTime } from '../../bench/longmemeval-data.js';
import { temporaryFolder } from './locomo-fixture.js';

const session = (user: string, assistant: string, hasAnswer = false) => [
  { role: 'user', content: user, ...(hasAnswer && { has_answer: true }) },
  { role: 'assistant', content: assistant },
];

/** A tiny invented file in LongMemEval's format (the real data is never copied into the repository). */
const questions = [
  {
    question_id: 'q-hotel',
    question_type: 'single-session-assistant',
    question: 'What was the hotel you suggested in Porto?',
    answer: 'Casa Amarela',
    question_date: '2023/06/10 (Sat) 10:00',
    haystack_dates: ['2023/06/01 (Thu) 09:00', '2023/05/20 (Sat) 18:30'],
    haystack_session_ids: ['s2', 's1'],
    answer_session_ids: ['s2'],
    haystack_sessions: [
      session('Where should I stay in Porto?', 'I suggest the Casa Amarela, a small hotel by the river.', true),
      session('Thanks, that helps.', 'Glad I could help!'),
    ],
  },
  {
    question_id: 'q-followers',
    question_type: 'knowledge-update',
    question: 'How many followers do I have on Instagram now?',
    answer: '1300',
    question_date: '2023/07/01 (Sat) 12:00',
    haystack_dates: ['2023/05/01 (Mon) 08:00', '2023/06/15 (Thu) 08:00'],
    haystack_session_ids: ['a', 'b'],
    answer_session_ids: ['a', 'b'],
    haystack_sessions: [
      session(
        'I just reached 1250 followers on Instagram, which feels like a milestone to me.',
        'Congratulations!',
        true,
      ),
      session('My Instagram account now has 1300 followers after the giveaway last week.', 'Well done!', true),
    ],
  },
  {
    question_id: 'q-missing_abs',
    question_type: 'single-session-user',
    question: 'What is the name of my cat?',
    answer: 'You did not mention a cat.',
    question_date: '2023/07/01 (Sat) 12:00',
    haystack_dates: ['2023/05/01 (Mon) 08:00'],
    haystack_session_ids: ['c'],
    answer_session_ids: [],
    haystack_sessions: [session('I walked my dog Biscuit today.', 'Nice!')],
  },
];

function writeFixture(): string {
  const path = join(temporaryFolder('with-memory-lme-'), 'lme.jsonl.gz');
  writeFileSync(path, gzipSync(questions.map((question) => JSON.stringify(question)).join('\n')));
  return path;
}

describe('bench longmemeval (smoke)', () => {
  it('reads dates and answer words as the protocol does', () => {
    expect(longMemEvalTime('2023/05/30 (Tue) 23:42')).toEqual(new Date('2023-05-30T23:42:00Z'));
    expect(() => longMemEvalTime('May 30')).toThrow(/May 30/);
    expect([...answerWords("The user's 3 eggs and 2 cups")]).toEqual(['user', '3', 'egg', '2', 'cup']);
  });

  it('scores each configuration at each budget, per question type, leaving out abstention questions', async () => {
    const result = await runLongMemEvalBench({ dataPath: writeFixture(), store: 'memory' });
    expect(result.questions).toBe(2);
    expect(result.userTurns).toBe(4);
    expect(result.results.map((entry) => entry.config)).toEqual(['default', 'verbatim', 'full-history']);
    for (const entry of result.results) {
      const budgets = entry.budgets.map((budget) => budget.budget);
      expect(budgets).toEqual(entry.config === 'full-history' ? ['whole'] : ['8/800', '100/2000', '100/4000']);
      for (const budget of entry.budgets) {
        expect(Object.keys(budget.types)).toEqual(['knowledge-update', 'single-session-assistant']);
        expect(budget.overall.questions).toBe(2);
        expect(budget.overall.allWords).toBeLessThanOrEqual(budget.overall.wordRecall);
        expect(budget.missed.length).toBeLessThanOrEqual(2);
        expect(budget.staleKnowledgeUpdates).toBeLessThanOrEqual(1);
      }
    }
    const [defaults] = result.results;
    expect(defaults?.memoriesPerQuestion).toBeGreaterThan(0);
    expect(defaults?.ingestMsPerTurn).toBeGreaterThan(0);
    expect(result.results.at(-1)?.memoriesPerQuestion).toBe(0);
  });

  it('runs from the command line and writes the JSON file', async () => {
    const json = join(temporaryFolder('with-memory-bench-lme-'), 'lme.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        'longmemeval',
        '--data',
        writeFixture(),
        '--configs',
        'default',
        '--json',
        json,
      ],
      { env: { ...process.env, MEM0_TELEMETRY: 'false' } },
    );
    expect(stdout).toContain('| knowledge-update');
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written).toMatchObject({ benchmark: 'longmemeval', store: 'local', questions: 2 });
    expect(written.results.map((entry: { config: string }) => entry.config)).toEqual(['default']);
    expect(written.machine.cpus).toBeGreaterThan(0);
  });
});
