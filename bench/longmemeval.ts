/**
 * `bench longmemeval`: what `withMemory` remembers of one user's long chat history, on
 * LongMemEval-S (Wu et al., ICLR 2025). The protocol of `../shared/data/longmemeval/README.md`:
 * one scope per question; the sessions in date order; each user turn goes through one wrapped
 * call whose reply is the assistant turn after it and whose clock is the session's date, writes
 * awaited; then the question is asked read-only with the clock at the question's date, at three
 * budgets. A question is answerable from the block when the block holds every content word of
 * the gold answer.
 *
 * @module
 */

import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import type { WithMemoryOptions } from '../src/core/options.js';
import type { Extractor, MemoryStore, Scope } from '../src/core/types.js';
import { flushMemory } from '../src/core/writeback.js';
import type { MemoryFunctionRequest } from '../src/providers/function.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { localStore } from '../src/stores/local/index.js';
import { withMemory } from '../src/with-memory.js';
import { type AnswerScores, asker, contentWords, type E2eStore, listAll, summarise } from './e2e.js';
import { type LongMemEvalQuestion, loadLongMemEval } from './longmemeval-data.js';
import { markdownTable } from './markdown-table.js';
import { round } from './percentiles.js';

/** The development split, relative to the repository. */
export const defaultLongMemEvalPath = '../shared/data/longmemeval/longmemeval-s-dev.jsonl.gz';

/** What is kept of the history: the default, every turn as said, and the whole history (the ceiling). */
export const longMemEvalConfigs = ['default', 'verbatim', 'full-history'] as const;
export type LongMemEvalConfig = (typeof longMemEvalConfigs)[number];

/** The budgets each question is asked at: the default, and two larger ones for the budget curve. */
export const longMemEvalBudgets = [
  { limit: 8, maxTokens: 800 },
  { limit: 100, maxTokens: 2000 },
  { limit: 100, maxTokens: 4000 },
] as const;

const configDescriptions: Record<LongMemEvalConfig, string> = {
  default: 'withMemory defaults',
  verbatim: 'every user and assistant turn stored as said, nothing else',
  'full-history': 'no memory: the whole history in the prompt (the ceiling)',
};

/** Options of `runLongMemEvalBench`. */
export interface LongMemEvalBenchOptions {
  /** @default defaultLongMemEvalPath */
  dataPath?: string;
  /** @default every configuration */
  configs?: LongMemEvalConfig[];
  /** @default 'local' */
  store?: E2eStore;
  /** Only the first N scored questions of each type (quick runs while iterating). */
  perType?: number;
  /** Only these question ids. */
  questionIds?: string[];
}

/** Scores of one group of questions at one budget, counted as `bench e2e` counts them. */
export type LongMemEvalScores = AnswerScores;

/** One configuration at one budget. */
export interface LongMemEvalBudgetResult {
  /** `limit/maxTokens`, e.g. `8/800`; `whole` for the full history. */
  budget: string;
  overall: LongMemEvalScores;
  types: Record<string, LongMemEvalScores>;
  /**
   * Knowledge-update questions whose block misses the current value but shows a sentence of an
   * older evidence turn (an evidence session before the last one).
   */
  staleKnowledgeUpdates: number;
  /** The ids of the questions whose block misses an answer word. */
  missed: string[];
}

/** One configuration's result. */
export interface LongMemEvalConfigResult {
  config: LongMemEvalConfig;
  description: string;
  budgets: LongMemEvalBudgetResult[];
  memoriesPerQuestion: number;
  /** Wall time per ingested user turn: the wrapped call's search, the extraction and the awaited writes. */
  ingestMsPerTurn: number;
}

/** What `bench longmemeval` measures; written as JSON. */
export interface LongMemEvalBenchResult {
  benchmark: 'longmemeval';
  date: string;
  data: string;
  store: E2eStore;
  /** Scored questions (abstention and preference questions are left out). */
  questions: number;
  userTurns: number;
  results: LongMemEvalConfigResult[];
}

interface Outcome {
  id: string;
  type: string;
  wordRecall: number;
  allWords: boolean;
  tokens: number;
  stale: boolean;
}

/**
 * The gold answer's content words as LongMemEval's protocol reads them: lower case, letters and
 * digits, stop words dropped, a trailing "s" removed (so "eggs" answers "egg").
 */
export function answerWords(text: string): Set<string> {
  return new Set([...contentWords(text)].map((word) => (word.length > 2 ? word.replace(/s$/, '') : word)));
}

/**
 * Runs the LongMemEval benchmark.
 *
 * @example
 * const result = await runLongMemEvalBench({ configs: ['default'], perType: 2 });
 * console.log(result.results[0]?.budgets[0]?.overall.allWords);
 */
export async function runLongMemEvalBench(options: LongMemEvalBenchOptions = {}): Promise<LongMemEvalBenchResult> {
  const { dataPath = defaultLongMemEvalPath, configs = [...longMemEvalConfigs], store = 'local' } = options;
  const questions = pick(
    loadLongMemEval(dataPath).filter((question) => question.scored),
    options,
  );
  const results: LongMemEvalConfigResult[] = [];
  for (const config of configs) results.push(await runConfig(config, questions, store));
  return {
    benchmark: 'longmemeval',
    date: new Date().toISOString(),
    data: dataPath,
    store,
    questions: questions.length,
    userTurns: questions.reduce((sum, question) => sum + userTurns(question), 0),
    results,
  };
}

function pick(questions: LongMemEvalQuestion[], { perType, questionIds }: LongMemEvalBenchOptions) {
  let picked = questions;
  if (questionIds) {
    const missing = questionIds.filter((id) => !questions.some((question) => question.id === id));
    if (missing.length > 0) throw new Error(`no scored question with id ${missing.join(', ')}`);
    picked = picked.filter((question) => questionIds.includes(question.id));
  }
  if (perType !== undefined) {
    const taken = new Map<string, number>();
    picked = picked.filter((question) => {
      const count = taken.get(question.type) ?? 0;
      taken.set(question.type, count + 1);
      return count < perType;
    });
  }
  return picked;
}

function userTurns(question: LongMemEvalQuestion): number {
  return question.sessions.reduce(
    (sum, session) => sum + session.turns.filter((turn) => turn.role === 'user').length,
    0,
  );
}

async function runConfig(
  config: LongMemEvalConfig,
  questions: LongMemEvalQuestion[],
  storeKind: E2eStore,
): Promise<LongMemEvalConfigResult> {
  const budgets = config === 'full-history' ? [undefined] : [...longMemEvalBudgets];
  const outcomes = budgets.map(() => [] as Outcome[]);
  let memories = 0;
  let ingestMs = 0;
  let turns = 0;
  for (const question of questions) {
    if (config === 'full-history') {
      const block = question.sessions
        .flatMap((session) =>
          session.turns.map((turn) => `[${session.at.toISOString()}] ${turn.role}: ${turn.content}`),
        )
        .join('\n');
      outcomes[0]?.push(judge(question, block, plainTokens(block)));
      continue;
    }
    const store = storeKind === 'local' ? localStore({ path: ':memory:' }) : inMemoryStore();
    try {
      const scope = { userId: question.id };
      const started = performance.now();
      await ingest(question, store, scope, config);
      ingestMs += performance.now() - started;
      turns += userTurns(question);
      memories += (await listAll(store, scope)).length;
      for (const [index, budget] of budgets.entries()) {
        const block = await asker(store, scope, { ...budget }, () => question.at)(question.question);
        outcomes[index]?.push(judge(question, block, block === '' ? 0 : plainTokens(block)));
      }
    } finally {
      await store.close?.();
    }
  }
  return {
    config,
    description: configDescriptions[config],
    budgets: budgets.map((budget, index) => {
      const found = outcomes[index] ?? [];
      const types: Record<string, LongMemEvalScores> = {};
      for (const type of [...new Set(found.map((outcome) => outcome.type))].sort()) {
        types[type] = summarise(found.filter((outcome) => outcome.type === type));
      }
      return {
        budget: budget ? `${budget.limit}/${budget.maxTokens}` : 'whole',
        overall: summarise(found),
        types,
        staleKnowledgeUpdates: found.filter((outcome) => outcome.stale).length,
        missed: found.filter((outcome) => !outcome.allWords).map((outcome) => outcome.id),
      };
    }),
    memoriesPerQuestion: config === 'full-history' ? 0 : round(memories / Math.max(1, questions.length), 1),
    ingestMsPerTurn: turns === 0 ? 0 : round(ingestMs / turns, 3),
  };
}

// Keeps every turn as it was said: the "verbatim" configuration.
const verbatimExtractor: Extractor = {
  name: 'verbatim',
  async extract({ userText, assistantText }) {
    const facts = [userText, assistantText]
      .filter((text) => text.trim() !== '')
      .map((text) => ({ text, type: 'event' }));
    return facts.length === 0 ? [] : [{ kind: 'add', write: { facts } }];
  },
};

/** Each user turn through the wrapper, the assistant turn after it as the reply, the session's date as the clock. */
async function ingest(
  question: LongMemEvalQuestion,
  store: MemoryStore,
  scope: Scope,
  config: Exclude<LongMemEvalConfig, 'full-history'>,
): Promise<void> {
  let clock = new Date(0);
  const reply = { text: '' };
  const errors: string[] = [];
  const options: WithMemoryOptions = {
    scope,
    store,
    write: 'await',
    now: () => clock,
    onError: (error, context) => errors.push(`${context.stage}: ${error.message}`),
    ...(config === 'verbatim' && { episodes: false, extract: verbatimExtractor }),
  };
  const wrapped = withMemory(async (_request: MemoryFunctionRequest) => reply.text, options);
  for (const session of question.sessions) {
    clock = session.at;
    for (const [index, turn] of session.turns.entries()) {
      if (turn.role !== 'user') continue;
      const next = session.turns[index + 1];
      reply.text = next?.role === 'assistant' ? next.content : '';
      await wrapped({ messages: [{ role: 'user', content: turn.content }] });
    }
  }
  await flushMemory(wrapped);
  // A benchmark of what is remembered must not quietly remember less: any memory error stops it.
  if (errors.length > 0) throw new Error(`memory errors during ingest: ${errors.slice(0, 3).join('; ')}`);
}

// cl100k tokens of text read as text: a chat may quote a special token ("<|endoftext|>").
function plainTokens(text: string): number {
  return countTokens(text, { disallowedSpecial: new Set() });
}

function judge(question: LongMemEvalQuestion, block: string, tokens: number): Outcome {
  const gold = answerWords(question.answer);
  const seen = answerWords(block);
  const found = [...gold].filter((word) => seen.has(word)).length;
  const allWords = found === gold.size;
  return {
    id: question.id,
    type: question.type,
    wordRecall: gold.size === 0 ? 1 : found / gold.size,
    allWords,
    tokens,
    stale: question.type === 'knowledge-update' && !allWords && showsOlderEvidence(question, block),
  };
}

// An older value: a sentence (of 30 characters or more) of an evidence turn in an evidence
// session before the last one, found in the block.
function showsOlderEvidence(question: LongMemEvalQuestion, block: string): boolean {
  const evidence = question.sessions.filter((session) => session.hasAnswer);
  const shown = plain(block);
  return evidence.slice(0, -1).some((session) =>
    session.turns
      .filter((turn) => turn.hasAnswer)
      .some((turn) =>
        turn.content
          .split(/(?<=[.!?])\s+|\n+/)
          .map(plain)
          .some((sentence) => sentence.length >= 30 && shown.includes(sentence)),
      ),
  );
}

function plain(text: string): string {
  return text
    .toLowerCase()
    .replace(/&(?:amp|lt|gt);/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The result as tables: every answer word in the block, per type and budget; then costs. */
export function formatLongMemEvalResult(result: LongMemEvalBenchResult): string {
  const columns = result.results.flatMap((entry) =>
    entry.budgets.map((budget) => ({ label: `${entry.config} ${budget.budget}`, budget })),
  );
  const types = [...new Set(columns.flatMap(({ budget }) => Object.keys(budget.types)))].sort();
  const row = (name: string, scores: (budget: LongMemEvalBudgetResult) => LongMemEvalScores | undefined) => [
    name,
    scores(columns[0]?.budget as LongMemEvalBudgetResult)?.questions ?? 0,
    ...columns.map(({ budget }) => scores(budget)?.allWords ?? 0),
  ];
  const header = ['question type', 'questions', ...columns.map(({ label }) => `${label} %`)];
  const rows = [
    ...types.map((type) => row(type, (budget) => budget.types[type])),
    row('overall', (budget) => budget.overall),
    ['block tokens', '', ...columns.map(({ budget }) => budget.overall.blockTokens)],
    ['word recall %', '', ...columns.map(({ budget }) => budget.overall.wordRecall)],
    ['stale knowledge updates', '', ...columns.map(({ budget }) => budget.staleKnowledgeUpdates)],
  ];
  const costs = markdownTable(
    ['configuration', 'memories / question', 'ingest ms / user turn'],
    result.results
      .filter((entry) => entry.config !== 'full-history')
      .map((entry) => [entry.config, entry.memoriesPerQuestion, entry.ingestMsPerTurn]),
  );
  return [
    `LongMemEval: ${result.questions} scored questions (${result.userTurns} user turns), ${result.store} store; every answer word in the block, % of questions, at limit/maxTokens`,
    '',
    markdownTable(header, rows),
    '',
    costs,
  ].join('\n');
}
