/**
 * `bench e2e`: what `withMemory` remembers end to end, on a LoCoMo-format file, as a user's agent
 * would feel it. mem0's protocol: one scope per speaker; each of a speaker's turns goes through a
 * wrapped function as the user message ("Speaker: text"), the other speaker's next turn is the
 * reply, and the session's date is the clock. Then each question of categories 1-4 is asked
 * read-only under both speakers' scopes, each block with `maxTokens` 400, and the two blocks
 * together are what the model would see. A question is answerable from the blocks when they hold
 * the gold answer's content words.
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
import { defaultLocomoPath } from './locomo.js';
import { type LocomoConversation, type LocomoQuestion, type LocomoTurn, loadLocomo, turnText } from './locomo-data.js';
import { markdownTable } from './markdown-table.js';
import { round } from './percentiles.js';

/** What is kept of a conversation: the default, its parts, and the ceiling. */
export const e2eConfigs = ['default', 'facts-only', 'verbatim', 'full-context'] as const;
export type E2eConfig = (typeof e2eConfigs)[number];

/** Stores the end-to-end benchmark runs on; each conversation gets a fresh one. */
export const e2eStores = ['local', 'memory'] as const;
export type E2eStore = (typeof e2eStores)[number];

const configDescriptions: Record<E2eConfig, string> = {
  default: 'withMemory defaults: heuristic facts and episodes',
  'facts-only': 'heuristic facts only (episodes: false; the default before episodes)',
  verbatim: "each user turn stored as said, nothing else (an extractor that keeps the user's text)",
  'full-context': 'no memory: the whole conversation in the prompt (the ceiling)',
};

/** Options of `runE2eBench`. */
export interface E2eBenchOptions {
  /** @default '../shared/data/locomo/locomo-dev.json' */
  dataPath?: string;
  conversations?: string[];
  /** @default every configuration */
  configs?: E2eConfig[];
  /** @default 'local' */
  store?: E2eStore;
  /** Token budget of each speaker's block. @default 400 */
  maxTokens?: number;
  /** Only the first N questions of each conversation (smoke runs). */
  questionsPerConversation?: number;
}

/** Scores of one group of questions. */
export interface AnswerScores {
  questions: number;
  /** Percent of gold-answer content words found in the blocks, averaged over questions. */
  wordRecall: number;
  /** Percent of questions whose every gold-answer content word is in the blocks. */
  allWords: number;
  /** Mean cl100k tokens of the blocks together. */
  blockTokens: number;
}

/** One configuration's result. */
export interface E2eConfigResult {
  config: E2eConfig;
  description: string;
  overall: AnswerScores;
  /** Per category: `1` multi-hop, `2` temporal, `3` open-domain, `4` single-hop. */
  categories: Record<string, AnswerScores & { name: string }>;
  /** Memories stored per conversation (both scopes), and of them episodes. */
  memoriesPerConversation: number;
  episodesPerConversation: number;
  /** Wall time per ingested turn: the wrapped call's search, the extraction and the awaited write. */
  ingestMsPerTurn: number;
}

/** What `bench e2e` measures; written as JSON. */
export interface E2eBenchResult {
  benchmark: 'e2e';
  date: string;
  data: string;
  store: E2eStore;
  maxTokensPerScope: number;
  conversations: string[];
  turns: number;
  results: E2eConfigResult[];
}

const categoryNames: Record<LocomoQuestion['category'], string> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};

// Function words of English (NLTK's list, less the negations): an answer's content is the rest.
const stopWords = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself ' +
    'it its itself they them their theirs themselves what which who whom this that these those am is are was were be ' +
    'been being have has had having do does did doing a an the and but if or because as until while of at by for with ' +
    'about against between into through during before after above below to from up down in out on off over under ' +
    'again further then once here there when where why how all any both each few more most other some such only own ' +
    'same so than too very s t can will just should now'
  ).split(' '),
);

/**
 * The content words of a text: lower case, runs of letters and digits, stop words dropped. Words
 * must match exactly (no stemming): "agency" does not answer "agencies".
 */
export function contentWords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((word) => !stopWords.has(word)));
}

/**
 * Runs the end-to-end benchmark.
 *
 * @example
 * const result = await runE2eBench({ configs: ['default'], conversations: ['conv-26'] });
 * console.log(result.results[0]?.overall.allWords);
 */
export async function runE2eBench(options: E2eBenchOptions = {}): Promise<E2eBenchResult> {
  const { dataPath = defaultLocomoPath, configs = [...e2eConfigs], store = 'local', maxTokens = 400 } = options;
  const conversations = loadLocomo(dataPath, options.conversations).map((conversation) =>
    options.questionsPerConversation === undefined
      ? conversation
      : { ...conversation, questions: conversation.questions.slice(0, options.questionsPerConversation) },
  );
  const results: E2eConfigResult[] = [];
  for (const config of configs) results.push(await runConfig(config, conversations, { store, maxTokens }));
  return {
    benchmark: 'e2e',
    date: new Date().toISOString(),
    data: dataPath,
    store,
    maxTokensPerScope: maxTokens,
    conversations: conversations.map((conversation) => conversation.id),
    turns: conversations.reduce((sum, conversation) => sum + conversation.turns.length, 0),
    results,
  };
}

interface Outcome {
  category: LocomoQuestion['category'];
  wordRecall: number;
  allWords: boolean;
  tokens: number;
}

async function runConfig(
  config: E2eConfig,
  conversations: LocomoConversation[],
  { store: storeKind, maxTokens }: { store: E2eStore; maxTokens: number },
): Promise<E2eConfigResult> {
  const outcomes: Outcome[] = [];
  let memories = 0;
  let episodes = 0;
  let ingestMs = 0;
  let turns = 0;
  for (const conversation of conversations) {
    if (config === 'full-context') {
      const block = conversation.turns.map((turn) => `[${turn.date}] ${turnText(turn)}`).join('\n');
      const tokens = countTokens(block);
      for (const question of conversation.questions) outcomes.push(judge(question, block, tokens));
      continue;
    }
    const store = storeKind === 'local' ? localStore({ path: ':memory:' }) : inMemoryStore();
    try {
      const scopes = speakerScopes(conversation);
      const started = performance.now();
      await ingest(conversation, store, scopes, config);
      ingestMs += performance.now() - started;
      turns += conversation.turns.length;
      for (const scope of scopes.values()) {
        const stored = await listAll(store, scope);
        memories += stored.length;
        episodes += stored.filter((memory) => memory.type === 'episode').length;
      }
      const askers = [...scopes.values()].map((scope) => asker(store, scope, { maxTokens }));
      for (const question of conversation.questions) {
        const blocks = await Promise.all(askers.map((ask) => ask(question.question)));
        const block = blocks.filter(Boolean).join('\n');
        outcomes.push(judge(question, block, block === '' ? 0 : countTokens(block)));
      }
    } finally {
      await store.close?.();
    }
  }
  const categories: E2eConfigResult['categories'] = {};
  for (const category of [1, 2, 3, 4] as const) {
    const inCategory = outcomes.filter((outcome) => outcome.category === category);
    if (inCategory.length > 0)
      categories[String(category)] = { name: categoryNames[category], ...summarise(inCategory) };
  }
  return {
    config,
    description: configDescriptions[config],
    overall: summarise(outcomes),
    categories,
    memoriesPerConversation: round(memories / conversations.length, 1),
    episodesPerConversation: round(episodes / conversations.length, 1),
    ingestMsPerTurn: turns === 0 ? 0 : round(ingestMs / turns, 3),
  };
}

function speakerScopes(conversation: LocomoConversation): Map<string, Scope> {
  const scopes = new Map<string, Scope>();
  for (const turn of conversation.turns) {
    if (!scopes.has(turn.speaker)) scopes.set(turn.speaker, { userId: `${conversation.id}:${turn.speaker}` });
  }
  return scopes;
}

// Keeps the user's turn as it was said: the "verbatim turns" configuration.
const verbatimExtractor: Extractor = {
  name: 'verbatim',
  async extract({ userText }) {
    return userText.trim() === '' ? [] : [{ kind: 'add', write: { facts: [{ text: userText, type: 'event' }] } }];
  },
};

/** Each turn through its speaker's wrapper, the other speaker's next turn as the reply. */
async function ingest(
  conversation: LocomoConversation,
  store: MemoryStore,
  scopes: Map<string, Scope>,
  config: Exclude<E2eConfig, 'full-context'>,
): Promise<void> {
  let clock = new Date(0);
  const reply = { text: '' };
  const errors: string[] = [];
  const wrappers = new Map(
    [...scopes].map(([speaker, scope]) => {
      const options: WithMemoryOptions = {
        scope,
        store,
        write: 'await',
        now: () => clock,
        onError: (error, context) => errors.push(`${context.stage}: ${error.message}`),
        ...(config === 'facts-only' && { episodes: false }),
        ...(config === 'verbatim' && { episodes: false, extract: verbatimExtractor }),
      };
      return [speaker, withMemory(async (_request: MemoryFunctionRequest) => reply.text, options)] as const;
    }),
  );
  const { turns } = conversation;
  for (const [index, turn] of turns.entries()) {
    clock = sessionTime(turn);
    const next = turns[index + 1];
    reply.text = next && next.session === turn.session && next.speaker !== turn.speaker ? turnText(next) : '';
    await wrappers.get(turn.speaker)?.({ messages: [{ role: 'user', content: turnText(turn) }] });
  }
  for (const wrapper of wrappers.values()) await flushMemory(wrapper);
  // A benchmark of what is remembered must not quietly remember less: any memory error stops it.
  if (errors.length > 0) throw new Error(`memory errors during ingest: ${errors.slice(0, 3).join('; ')}`);
}

/**
 * Asks a question read-only under one scope, with `search` options and the clock `now`; resolves
 * with the memory block the model would get.
 */
export function asker(
  store: MemoryStore,
  scope: Scope,
  search: WithMemoryOptions['search'],
  now?: () => Date,
): (question: string) => Promise<string> {
  let seen = '';
  const ask = withMemory(
    async ({ system }: MemoryFunctionRequest) => {
      seen = system ?? '';
      return '';
    },
    { scope, store, mode: 'read-only', ...(search && { search }), ...(now && { now }) },
  );
  return async (question) => {
    seen = '';
    await ask({ messages: [{ role: 'user', content: question }] });
    return seen;
  };
}

/** Every memory of a scope, page by page. */
export async function listAll(store: MemoryStore, scope: Scope) {
  const all = [];
  for (let offset = 0; ; offset += 1000) {
    const page = (await store.list?.({ scope, limit: 1000, offset })) ?? [];
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

function judge(question: LocomoQuestion, block: string, tokens: number): Outcome {
  const gold = contentWords(question.answer);
  const seen = contentWords(block);
  const found = [...gold].filter((word) => seen.has(word)).length;
  return {
    category: question.category,
    wordRecall: gold.size === 0 ? 1 : found / gold.size,
    allWords: found === gold.size,
    tokens,
  };
}

/** The scores of a group of judged questions (the LongMemEval bench scores its own the same way). */
export function summarise(outcomes: Array<Pick<Outcome, 'wordRecall' | 'allWords' | 'tokens'>>): AnswerScores {
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
  return {
    questions: outcomes.length,
    wordRecall: round(100 * mean(outcomes.map((outcome) => outcome.wordRecall))),
    allWords: round(100 * mean(outcomes.map((outcome) => (outcome.allWords ? 1 : 0)))),
    blockTokens: round(mean(outcomes.map((outcome) => outcome.tokens)), 1),
  };
}

const months = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "1:56 pm on 8 May, 2023" as a UTC time. */
export function sessionTime(turn: Pick<LocomoTurn, 'date'>): Date {
  const match = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})/i.exec(turn.date);
  if (!match) throw new Error(`unreadable session date "${turn.date}"`);
  const [, hours, minutes, half, day, month, year] = match;
  const hour = (Number(hours) % 12) + ((half ?? '').toLowerCase() === 'pm' ? 12 : 0);
  const monthIndex = months.indexOf((month ?? '').toLowerCase());
  if (monthIndex < 0) throw new Error(`unreadable month in session date "${turn.date}"`);
  return new Date(Date.UTC(Number(year), monthIndex, Number(day), hour, Number(minutes)));
}

/** The result as tables: per configuration and category, then costs. */
export function formatE2eResult(result: E2eBenchResult): string {
  const header = ['configuration', 'category', 'questions', 'word recall %', 'all words %', 'block tokens'];
  const rows: Array<Array<string | number>> = [];
  for (const entry of result.results) {
    for (const [key, scores] of Object.entries(entry.categories)) {
      rows.push([
        entry.config,
        `${key} ${scores.name}`,
        scores.questions,
        scores.wordRecall,
        scores.allWords,
        scores.blockTokens,
      ]);
    }
    const { overall } = entry;
    rows.push([entry.config, 'overall', overall.questions, overall.wordRecall, overall.allWords, overall.blockTokens]);
  }
  const costs = markdownTable(
    ['configuration', 'memories / conversation', 'of them episodes', 'ingest ms / turn'],
    result.results
      .filter((entry) => entry.config !== 'full-context')
      .map((entry) => [
        entry.config,
        entry.memoriesPerConversation,
        entry.episodesPerConversation,
        entry.ingestMsPerTurn,
      ]),
  );
  return [
    `End to end on LoCoMo: ${result.conversations.join(', ')} (${result.turns} turns), ${result.store} store, ${result.maxTokensPerScope} block tokens per speaker`,
    '',
    markdownTable(header, rows),
    '',
    costs,
  ].join('\n');
}
