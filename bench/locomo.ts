/**
 * `bench locomo`: retrieval quality on a LoCoMo-format file. Per conversation one scope and one
 * memory per turn (speaker, text and image caption; session date, session and dia id in
 * metadata); each question of categories 1-4, verbatim, is the query. Reports recall@1/5/10/20
 * and MRR of the evidence turns, per category and overall, the cl100k tokens of the memory block
 * the default prompt builder would inject, recall within token budgets, search latency and ingest
 * time, beside a plain Okapi BM25 baseline over the same turns.
 *
 * @module
 */

import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import type { Memory, MemoryHit, MemoryStore } from '../src/core/types.js';
import { escapeMemoryText, systemPromptBuilder } from '../src/strategies/prompt/system-prompt-builder.js';
import { bm25Index } from './bm25-baseline.js';
import { type LocomoConversation, type LocomoQuestion, loadLocomo, turnText } from './locomo-data.js';
import { markdownTable } from './markdown-table.js';
import { type BenchEmbedderName, type BenchStoreKind, openBenchStore } from './open-bench-store.js';
import { percentile, round } from './percentiles.js';

/** The default data file, relative to the repository (the data is never copied into it). */
export const defaultLocomoPath = '../shared/data/locomo/locomo-dev.json';

/** Options of `runLocomoBench`. */
export interface LocomoBenchOptions {
  /** The LoCoMo-format JSON file. @default '../shared/data/locomo/locomo-dev.json' */
  dataPath?: string;
  /** Sample ids of the conversations to run (all when omitted). */
  conversations?: string[];
  /** @default 'memory' */
  store?: BenchStoreKind;
  /** @default 'none' */
  embedder?: BenchEmbedderName;
  /** Run only the first N questions of each conversation (for smoke runs). */
  questionsPerConversation?: number;
}

/** Recall (percent of evidence turns found, averaged over questions) and MRR (percent). */
export interface RetrievalScores {
  questions: number;
  'recall@1': number;
  'recall@5': number;
  'recall@10': number;
  'recall@20': number;
  mrr: number;
}

/** Recall within a token budget: what the builder would inject when given `maxTokens`. */
export interface BudgetScores {
  maxTokens: number;
  /** Percent of evidence turns inside the block. */
  recall: number;
  /** Mean cl100k tokens of the block. */
  tokens: number;
  /** Mean memories in the block. */
  memories: number;
  /** The block's tokens as a percentage of the whole conversation's. */
  percentOfFullContext: number;
}

/** What `bench locomo` measures; written as JSON by `--json`. */
export interface LocomoBenchResult {
  benchmark: 'locomo';
  date: string;
  data: string;
  store: BenchStoreKind;
  embedder: BenchEmbedderName;
  conversations: string[];
  turns: number;
  /** Memories the store holds after ingest (a restated turn may update an earlier memory). */
  memoriesStored: number;
  overall: RetrievalScores;
  /** Per category: `1` multi-hop, `2` temporal, `3` open-domain, `4` single-hop. */
  categories: Record<string, RetrievalScores & { name: string }>;
  budgets: BudgetScores[];
  tokens: {
    /** Mean cl100k tokens of the block built from the top 10 hits, without a budget. */
    blockAtK10: number;
    /** Mean cl100k tokens of a whole conversation, every turn as "[date] Speaker: text". */
    fullContext: number;
    blockAtK10PercentOfFullContext: number;
  };
  searchMs: { p50: number; p95: number; mean: number };
  ingest: { ms: number; msPerTurn: number };
  baseline: {
    name: string;
    overall: RetrievalScores;
    categories: Record<string, RetrievalScores & { name: string }>;
    budgets: BudgetScores[];
  };
}

const categoryNames: Record<LocomoQuestion['category'], string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};
const cutoffs = [1, 5, 10, 20] as const;
const budgets = [512, 1024] as const;
// Enough hits to fill the largest budget; recall@k reads the first 20.
const searchLimit = 60;
const builder = systemPromptBuilder();

interface QuestionOutcome {
  category: LocomoQuestion['category'];
  /** Evidence found in the top k, as a fraction, per cutoff. */
  recall: Record<(typeof cutoffs)[number], number>;
  reciprocalRank: number;
  budgets: Array<{ recall: number; tokens: number; memories: number; percent: number }>;
}

/**
 * Runs the retrieval benchmark.
 *
 * @example
 * const result = await runLocomoBench({ store: 'memory', conversations: ['conv-26'] });
 * console.log(result.overall['recall@10']);
 */
export async function runLocomoBench(options: LocomoBenchOptions = {}): Promise<LocomoBenchResult> {
  const { dataPath = defaultLocomoPath, store: storeKind = 'memory', embedder = 'none' } = options;
  const conversations = loadLocomo(dataPath, options.conversations).map((conversation) =>
    options.questionsPerConversation === undefined
      ? conversation
      : { ...conversation, questions: conversation.questions.slice(0, options.questionsPerConversation) },
  );
  const outcomes: QuestionOutcome[] = [];
  const baselineOutcomes: QuestionOutcome[] = [];
  const searchTimes: number[] = [];
  const fullContextTokens: number[] = [];
  const blockTokens: number[] = [];
  let ingestMs = 0;
  let turns = 0;
  let memoriesStored = 0;

  const opened = await openBenchStore(storeKind, embedder);
  try {
    for (const conversation of conversations) {
      const scope = { userId: `locomo-${conversation.id}` };
      const fullTokens = countTokens(conversation.turns.map((turn) => `[${turn.date}] ${turnText(turn)}`).join('\n'));
      fullContextTokens.push(fullTokens);
      const started = performance.now();
      memoriesStored += await ingest(opened.store, conversation, scope);
      ingestMs += performance.now() - started;
      turns += conversation.turns.length;

      const baseline = bm25Index(conversation.turns.map((turn) => `[${turn.date}] ${turnText(turn)}`));
      const baselineMemories = conversation.turns.map((turn, index) => asMemory(turn.diaId, turnText(turn), index));

      for (const question of conversation.questions) {
        const searchStarted = performance.now();
        const hits = await opened.store.search(question.question, { scope, limit: searchLimit });
        searchTimes.push(performance.now() - searchStarted);
        const ranked = hits.map((hit) => String(hit.metadata.diaId));
        outcomes.push(score(question, ranked, hits, fullTokens));
        blockTokens.push(
          countTokens(builder.build({ hits: hits.slice(0, 10), standing: [], maxTokens: 1e9, now: new Date() })),
        );

        const baselineHits = baseline
          .search(question.question, searchLimit)
          .map((index) => baselineMemories[index] as MemoryHit);
        baselineOutcomes.push(
          score(
            question,
            baselineHits.map((hit) => String(hit.metadata.diaId)),
            baselineHits,
            fullTokens,
          ),
        );
      }
    }
  } finally {
    await opened.dispose();
  }

  const fullContext = mean(fullContextTokens);
  const blockAtK10 = mean(blockTokens);
  return {
    benchmark: 'locomo',
    date: new Date().toISOString(),
    data: dataPath,
    store: storeKind,
    embedder,
    conversations: conversations.map((conversation) => conversation.id),
    turns,
    memoriesStored,
    overall: summarise(outcomes),
    categories: byCategory(outcomes),
    budgets: summariseBudgets(outcomes),
    tokens: {
      blockAtK10: round(blockAtK10, 1),
      fullContext: round(fullContext, 1),
      blockAtK10PercentOfFullContext: round((100 * blockAtK10) / (fullContext || 1)),
    },
    searchMs: {
      p50: round(percentile(searchTimes, 50), 3),
      p95: round(percentile(searchTimes, 95), 3),
      mean: round(mean(searchTimes), 3),
    },
    ingest: { ms: round(ingestMs, 1), msPerTurn: round(ingestMs / Math.max(1, turns), 3) },
    baseline: {
      name: 'Okapi BM25 (k1 1.2, b 0.75, Porter, English stop words) over "[date] Speaker: text caption"',
      overall: summarise(baselineOutcomes),
      categories: byCategory(baselineOutcomes),
      budgets: summariseBudgets(baselineOutcomes),
    },
  };
}

/** One memory per turn, written one add at a time as a wrapped agent would; returns memories added. */
async function ingest(
  store: MemoryStore,
  conversation: LocomoConversation,
  scope: { userId: string },
): Promise<number> {
  let added = 0;
  for (const turn of conversation.turns) {
    const changes = await store.add(
      {
        facts: [
          {
            text: turnText(turn),
            type: 'event',
            metadata: { diaId: turn.diaId, session: turn.session, sessionDate: turn.date, speaker: turn.speaker },
          },
        ],
      },
      { scope },
    );
    added += changes.filter((change) => change.event === 'ADD').length;
  }
  return added;
}

function score(question: LocomoQuestion, ranked: string[], hits: Memory[], fullTokens: number): QuestionOutcome {
  const gold = new Set(question.evidence);
  const found = (list: string[]) => new Set(list.filter((id) => gold.has(id))).size / gold.size;
  const recall = Object.fromEntries(cutoffs.map((k) => [k, found(ranked.slice(0, k))])) as QuestionOutcome['recall'];
  const firstRank = ranked.slice(0, 20).findIndex((id) => gold.has(id));
  const budgetOutcomes = budgets.map((maxTokens) => {
    const block = builder.build({
      hits: hits as MemoryHit[],
      standing: [],
      maxTokens,
      now: new Date(),
      query: question.question,
    });
    // The builder skips a memory that does not fit and shows a long one by its part about the
    // question: read back which ones made it into the block, whole or in part.
    const shown = block
      .split('\n')
      .filter((line) => line.startsWith('- ['))
      .map((line) =>
        line
          .slice(line.indexOf('] ') + 2)
          .replace(/^… /, '')
          .replace(/ …$/, ''),
      );
    const included = hits.filter((hit) => shown.some((text) => escapeMemoryText(hit.text).includes(text)));
    const tokens = block === '' ? 0 : countTokens(block);
    return {
      recall: found(included.map((hit) => String(hit.metadata.diaId ?? hit.id))),
      tokens,
      memories: included.length,
      percent: (100 * tokens) / (fullTokens || 1),
    };
  });
  return {
    category: question.category,
    recall,
    reciprocalRank: firstRank < 0 ? 0 : 1 / (firstRank + 1),
    budgets: budgetOutcomes,
  };
}

function summarise(outcomes: QuestionOutcome[]): RetrievalScores {
  const percent = (values: number[]) => round(100 * mean(values));
  return {
    questions: outcomes.length,
    'recall@1': percent(outcomes.map((outcome) => outcome.recall[1])),
    'recall@5': percent(outcomes.map((outcome) => outcome.recall[5])),
    'recall@10': percent(outcomes.map((outcome) => outcome.recall[10])),
    'recall@20': percent(outcomes.map((outcome) => outcome.recall[20])),
    mrr: percent(outcomes.map((outcome) => outcome.reciprocalRank)),
  };
}

function byCategory(outcomes: QuestionOutcome[]): Record<string, RetrievalScores & { name: string }> {
  const result: Record<string, RetrievalScores & { name: string }> = {};
  for (const category of [1, 2, 3, 4] as const) {
    const inCategory = outcomes.filter((outcome) => outcome.category === category);
    if (inCategory.length > 0) result[String(category)] = { name: categoryNames[category], ...summarise(inCategory) };
  }
  return result;
}

function summariseBudgets(outcomes: QuestionOutcome[]): BudgetScores[] {
  return budgets.map((maxTokens, index) => {
    const at = outcomes.map((outcome) => outcome.budgets[index] ?? { recall: 0, tokens: 0, memories: 0, percent: 0 });
    return {
      maxTokens,
      recall: round(100 * mean(at.map((entry) => entry.recall))),
      tokens: round(mean(at.map((entry) => entry.tokens)), 1),
      memories: round(mean(at.map((entry) => entry.memories)), 1),
      percentOfFullContext: round(mean(at.map((entry) => entry.percent))),
    };
  });
}

// The baseline's ranked turns, shaped as memories so that the same builder renders them.
function asMemory(diaId: string, text: string, index: number): MemoryHit {
  const at = new Date(0);
  return {
    id: `${diaId}#${index}`,
    text,
    type: 'event',
    metadata: { diaId },
    scope: { userId: 'baseline' },
    createdAt: at,
    updatedAt: at,
    score: 1,
  };
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The result as tables: scores per category beside the baseline, tokens, budgets, timings. */
export function formatLocomoResult(result: LocomoBenchResult): string {
  const scoreRow = (label: string, ours: RetrievalScores, theirs: RetrievalScores | undefined) => [
    label,
    ours.questions,
    ours['recall@1'],
    ours['recall@5'],
    ours['recall@10'],
    theirs?.['recall@10'] ?? 0,
    ours['recall@20'],
    ours.mrr,
    theirs?.mrr ?? 0,
  ];
  const rows = [
    ...Object.entries(result.categories).map(([key, scores]) =>
      scoreRow(`${key} ${scores.name}`, scores, result.baseline.categories[key]),
    ),
    scoreRow('overall', result.overall, result.baseline.overall),
  ];
  const name = `${result.store}${result.embedder === 'none' ? '' : ` + ${result.embedder} embedder`}`;
  const scores = markdownTable(
    ['category', 'questions', 'R@1', 'R@5', 'R@10', 'BM25 R@10', 'R@20', 'MRR', 'BM25 MRR'],
    rows as Array<Array<string | number>>,
  );
  const budgetTable = markdownTable(
    ['token budget', 'recall', 'BM25 recall', 'block tokens (cl100k)', 'memories', '% of full context'],
    result.budgets.map((budget, index) => [
      budget.maxTokens,
      budget.recall,
      result.baseline.budgets[index]?.recall ?? 0,
      budget.tokens,
      budget.memories,
      budget.percentOfFullContext,
    ]),
  );
  const costs = markdownTable(
    [
      'block at k=10 (tokens)',
      'full context (tokens)',
      '% of full',
      'search p50 ms',
      'search p95 ms',
      'ingest ms/turn',
    ],
    [
      [
        result.tokens.blockAtK10,
        result.tokens.fullContext,
        result.tokens.blockAtK10PercentOfFullContext,
        result.searchMs.p50,
        result.searchMs.p95,
        result.ingest.msPerTurn,
      ],
    ],
  );
  return [
    `LoCoMo retrieval: ${name}, ${result.conversations.join(', ')} (${result.turns} turns, ${result.overall.questions} questions)`,
    '',
    scores,
    '',
    budgetTable,
    '',
    costs,
  ].join('\n');
}
