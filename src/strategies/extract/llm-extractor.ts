import { z } from 'zod';
import { ExtractionError } from '../../core/errors.js';
import { toInvalidOptionsError } from '../../core/options.js';
import { scopeMatches } from '../../core/scope.js';
import { checkHits } from '../../core/store-results.js';
import type {
  Extractor,
  FactInput,
  Memory,
  MemoryOperation,
  MemoryStore,
  MemoryType,
  Metadata,
  Scope,
} from '../../core/types.js';
import { type ModelCall, type ModelSource, modelCall, modelSourceSchema } from './llm-client.js';
import {
  type ExtractionPromptInput,
  extractionPrompt,
  llmPromptVersion,
  type NumberedText,
  type ReconciliationPromptInput,
  reconciliationPrompt,
} from './llm-extractor-prompts.js';
import { parseModelJson } from './model-json.js';

/** Your own prompts for `llmExtractor`. Their answers must keep the built-in JSON shapes. */
export interface LlmExtractorPrompts {
  /**
   * A label written into the reason of every change, so history says which prompts decided it.
   * @default 'v1' for the built-in prompts, 'custom' when you replace one
   */
  version?: string;
  /** Builds the prompt that distils a turn into facts. @default extractionPrompt */
  extract?: (input: ExtractionPromptInput) => string;
  /** Builds the prompt that decides ADD, UPDATE, DELETE or NONE per fact. @default reconciliationPrompt */
  reconcile?: (input: ReconciliationPromptInput) => string;
}

/** Options of `llmExtractor`: a model source (`client` and `model`, or `complete`) and tuning. */
export interface LlmExtractorOptions extends ModelSource {
  /** Replaces the built-in prompts. */
  prompts?: LlmExtractorPrompts;
  /** Time-out of each model call, in milliseconds; on time-out nothing of the turn is applied. @default 20000 */
  timeoutMs?: number;
  /** Most tokens each model answer may have. @default 1024 */
  maxTokens?: number;
  /** Facts the model is less sure of (0..1) are dropped. @default 0.5 */
  minConfidence?: number;
  /** Stored memories searched per fact, to reconcile it against. @default 5 */
  similarLimit?: number;
  /** The types a fact may have; a fact of another type makes the reply malformed. @default ['preference', 'profile', 'fact', 'task', 'event'] */
  types?: MemoryType[];
  /** Metadata put on every fact it adds, e.g. `{ source: 'chat' }`. */
  metadata?: Metadata;
}

const defaultTypes: MemoryType[] = ['preference', 'profile', 'fact', 'task', 'event'];
// Enough for any real turn; bounds the prompt when a model lists a whole conversation.
const maxFactsPerTurn = 20;
const maxMemoriesShown = 50;
const maxReasonLength = 200;
// A reason is one line of history.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]+/g;

const optionsSchema = z
  .object(
    {
      client: z.unknown().optional(),
      model: z.unknown().optional(),
      complete: z.unknown().optional(),
      prompts: z
        .object({
          version: z.string().trim().min(1).max(40).optional(),
          extract: z.custom<LlmExtractorPrompts['extract']>((value) => typeof value === 'function', {
            error: 'a function (input) => string',
          }),
          reconcile: z.custom<LlmExtractorPrompts['reconcile']>((value) => typeof value === 'function', {
            error: 'a function (input) => string',
          }),
        })
        .partial()
        .strict()
        .optional(),
      timeoutMs: z.number().int().min(1).max(600_000).default(20_000),
      maxTokens: z.number().int().min(64).max(64_000).default(1024),
      minConfidence: z.number().min(0).max(1).default(0.5),
      similarLimit: z.number().int().min(1).max(50).default(5),
      types: z.array(z.string().trim().min(1)).min(1).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    },
    { error: 'an options object such as { client: new Anthropic(), model: "claude-haiku-4-5" }' },
  )
  .strict();

const index = z.number().int().min(1);
const reason = z.string().optional();

const decisionSchema = z.preprocess(
  // Models write "add" as often as "ADD".
  (value) =>
    typeof value === 'object' && value !== null && typeof (value as { action?: unknown }).action === 'string'
      ? { ...value, action: (value as { action: string }).action.toUpperCase() }
      : value,
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('ADD'), fact: index, reason }),
    z.object({
      action: z.literal('UPDATE'),
      fact: index.optional(),
      memory: index,
      text: z.string().trim().min(1).max(1000),
      reason,
    }),
    z.object({ action: z.literal('DELETE'), fact: index.optional(), memory: index, reason }),
    z.object({ action: z.literal('NONE'), fact: index.optional(), memory: index.optional(), reason }),
  ]),
);
const decisionsReplySchema = z.object({ decisions: z.array(decisionSchema) });

type Decision = z.infer<typeof decisionSchema>;

interface ExtractedFact {
  text: string;
  type: MemoryType;
  confidence: number;
  date?: string | undefined;
}

/**
 * Distils each turn with a model into short typed facts, then reconciles them with what the store
 * already holds: a second call decides, for each fact, ADD, UPDATE (a stored memory, with its new
 * text), DELETE (a stored memory it contradicts) or NONE (already known). The model sees the
 * user's text and the assistant's final text, never the injected memory block, and stored
 * memories by number, never by id. A reply that is not JSON, has the wrong shape, names a number
 * it was not given or would touch another scope's memory is an `ExtractionError`, and nothing of
 * the turn is applied.
 *
 * `client` must be the plain Anthropic or OpenAI client, not one returned by `withMemory`: a
 * wrapped one would search, inject and extract around every extraction call (detected: the nested
 * extraction fails with an `ExtractionError` saying so). When no stored memory resembles any fact,
 * the facts are added without the second call. Each change's `reason`, kept in the store's
 * history, names the prompt version and the model's reason.
 *
 * @example
 * ```ts
 * const anthropic = new Anthropic();
 * const claude = withMemory(anthropic, {
 *   scope: { userId },
 *   extract: llmExtractor({ client: anthropic, model: 'claude-haiku-4-5' }),
 * });
 * ```
 */
export function llmExtractor(options: LlmExtractorOptions): Extractor {
  const parsedOptions = optionsSchema.safeParse(options);
  if (!parsedOptions.success) throw toInvalidOptionsError(parsedOptions.error, 'extract');
  const parsedSource = modelSourceSchema.safeParse({
    client: options.client,
    model: options.model,
    complete: options.complete,
  });
  if (!parsedSource.success) throw toInvalidOptionsError(parsedSource.error, 'extract');
  const { prompts = {}, timeoutMs, maxTokens, minConfidence, similarLimit, metadata } = parsedOptions.data;
  const types = parsedOptions.data.types ?? defaultTypes;
  const version = prompts.version ?? (prompts.extract || prompts.reconcile ? 'custom' : llmPromptVersion);
  const buildExtraction = prompts.extract ?? extractionPrompt;
  const buildReconciliation = prompts.reconcile ?? reconciliationPrompt;
  const name = 'llm';
  const call: ModelCall = modelCall(parsedSource.data as ModelSource, { who: name, timeoutMs, maxTokens });

  const factsReplySchema = z.object({
    facts: z.array(
      z.object({
        text: z.string().trim().min(1).max(1000),
        type: z.enum(types as [string, ...string[]]),
        confidence: z.number().min(0).max(1),
        date: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'a date YYYY-MM-DD' })
          .nullish()
          .transform((value) => value ?? undefined),
      }),
    ),
  });

  const because = (text: string | undefined, fallback: string) => `llm ${version}: ${cleanReason(text) || fallback}`;

  return {
    name,
    async extract(turn, { store, signal }) {
      if (turn.userText.trim() === '') return [];
      const today = turn.at.toISOString().slice(0, 10);

      const extraction = await call(
        buildExtraction({ userText: turn.userText, assistantText: turn.assistantText, today, types }),
        signal,
      );
      const facts = distinct(
        parseModelJson(extraction, factsReplySchema, { who: name, reply: 'extraction' })
          .facts.filter((fact) => fact.confidence >= minConfidence)
          .slice(0, maxFactsPerTurn),
      );
      if (facts.length === 0) return [];

      const similar = await similarMemories(
        store,
        turn.scope,
        turn.injected,
        facts,
        { limit: similarLimit, types },
        signal,
      );
      const known = new Set(similar.map((memory) => normalise(memory.text)));
      // A fact that restates a stored memory word for word needs no decision (and no call).
      const fresh = facts.filter((fact) => !known.has(normalise(fact.text)));
      if (fresh.length === 0) return [];
      const toFact = (fact: ExtractedFact): FactInput => ({
        text: fact.text,
        type: fact.type,
        metadata: { ...metadata, confidence: fact.confidence, ...(fact.date && { date: fact.date }) },
      });
      if (similar.length === 0) {
        return fresh.map((fact) => ({
          kind: 'add',
          write: { facts: [toFact(fact)] },
          reason: because(undefined, 'new fact, nothing similar stored'),
        }));
      }

      const shown = similar.slice(0, maxMemoriesShown);
      const reconciliation = await call(
        buildReconciliation({
          facts: numbered(fresh),
          memories: numbered(shown),
          today,
        }),
        signal,
      );
      const { decisions } = parseModelJson(reconciliation, decisionsReplySchema, {
        who: name,
        reply: 'reconciliation',
      });
      const checked = checkDecisions(decisions, fresh.length, shown.length, name);
      await checkScopes(checked, shown, store, turn.scope, name);

      const operations: MemoryOperation[] = [];
      const adds: MemoryOperation[] = [];
      const added = new Set<number>();
      for (const decision of checked) {
        if (decision.action === 'DELETE') {
          const memory = shown[decision.memory - 1] as Memory;
          operations.push({ kind: 'delete', id: memory.id, reason: because(decision.reason, 'contradicted') });
        } else if (decision.action === 'UPDATE') {
          const memory = shown[decision.memory - 1] as Memory;
          if (normalise(decision.text) === normalise(memory.text)) continue;
          operations.push({
            kind: 'update',
            id: memory.id,
            patch: { text: decision.text },
            reason: because(decision.reason, 'updated by a newer statement'),
          });
        } else if (decision.action === 'ADD' && !added.has(decision.fact)) {
          added.add(decision.fact);
          const fact = fresh[decision.fact - 1] as ExtractedFact;
          adds.push({ kind: 'add', write: { facts: [toFact(fact)] }, reason: because(decision.reason, 'new fact') });
        }
      }
      // Removals and corrections first, so an added fact never meets the text it replaces.
      return [...operations, ...adds];
    },
  };
}

/** The stored memories most like the facts: the turn's injected ones and each fact's search hits. */
async function similarMemories(
  store: MemoryStore,
  scope: Scope,
  injected: Memory[],
  facts: ExtractedFact[],
  { limit, types }: { limit: number; types: MemoryType[] },
  signal: AbortSignal,
): Promise<Memory[]> {
  // Only facts of the types this extractor writes can be reconciled: episodes are what was said.
  let found: unknown[];
  try {
    found = await Promise.all(facts.map((fact) => store.search(fact.text, { scope, limit, types, signal })));
  } catch (error) {
    throw new ExtractionError(
      'llm',
      `could not search the store for memories like the new facts (${errorName(error)}); nothing was applied.`,
      { cause: error },
    );
  }
  const byId = new Map<string, Memory>();
  for (const hits of found) {
    for (const hit of checkHits(hits, store.name, scope).hits) if (!byId.has(hit.id)) byId.set(hit.id, hit);
  }
  for (const memory of injected) {
    const reconcilable = memory.type === undefined || types.includes(memory.type);
    if (reconcilable && !byId.has(memory.id) && scopeMatches(memory.scope, scope)) byId.set(memory.id, memory);
  }
  return [...byId.values()];
}

/** Numbers and kinds of the decisions must make sense together; any that does not rejects the reply. */
function checkDecisions(decisions: Decision[], factCount: number, memoryCount: number, who: string): Decision[] {
  const touched = new Set<number>();
  for (const decision of decisions) {
    if (decision.fact !== undefined && decision.fact > factCount) {
      throw new ExtractionError(
        who,
        `the model's reconciliation reply names fact ${decision.fact}, but only ${factCount} were given; nothing was applied.`,
      );
    }
    const memory = 'memory' in decision ? decision.memory : undefined;
    if (memory !== undefined && memory > memoryCount) {
      throw new ExtractionError(
        who,
        `the model's reconciliation reply names memory ${memory}, but only ${memoryCount} were given; nothing was applied.`,
      );
    }
    if (decision.action === 'UPDATE' || decision.action === 'DELETE') {
      if (touched.has(decision.memory)) {
        throw new ExtractionError(
          who,
          `the model's reconciliation reply changes memory ${decision.memory} twice; nothing was applied.`,
        );
      }
      touched.add(decision.memory);
    }
  }
  return decisions;
}

/**
 * An UPDATE or DELETE may only touch a memory of the turn's scope. The hit said so; where the
 * store can `get`, its own record is checked too, so a store that mislabels a hit cannot turn one
 * user's turn into a change of another user's memory.
 */
async function checkScopes(
  decisions: Decision[],
  shown: Memory[],
  store: MemoryStore,
  scope: Scope,
  who: string,
): Promise<void> {
  const targets = decisions.flatMap((decision) =>
    decision.action === 'UPDATE' || decision.action === 'DELETE' ? [decision.memory] : [],
  );
  for (const target of targets) {
    const memory = shown[target - 1] as Memory;
    let current: Memory | null | undefined = memory;
    if (store.get) {
      try {
        current = await store.get(memory.id);
      } catch (error) {
        throw new ExtractionError(
          who,
          `could not read memory ${target} back from the store (${errorName(error)}); nothing was applied.`,
          { cause: error },
        );
      }
    }
    if (current && !scopeMatches(current.scope ?? {}, scope)) {
      throw new ExtractionError(
        who,
        `the model's reconciliation reply would change memory ${target}, which belongs to another scope; nothing was applied.`,
      );
    }
  }
}

function numbered(items: Array<{ text: string; type?: MemoryType | undefined }>): NumberedText[] {
  return items.map(({ text, type }, position) => ({ index: position + 1, text, ...(type !== undefined && { type }) }));
}

function distinct(facts: ExtractedFact[]): ExtractedFact[] {
  const seen = new Set<string>();
  return facts.filter((fact) => {
    const key = normalise(fact.text);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function cleanReason(text: string | undefined): string {
  return (text ?? '').replace(controlCharacters, ' ').trim().slice(0, maxReasonLength);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
