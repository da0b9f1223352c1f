/**
 * Planning a turn's statements against the user's stored memories for the heuristic extractor:
 * a new value of a one-value detail or a preference about the same thing updates the stored
 * memory, a retirement deletes what it retires, and what is already stored or injected is not
 * stored again.
 *
 * @module
 */

import { ExtractionError } from '../../../core/errors.js';
import { scopeMatches } from '../../../core/scope.js';
import { checkHits } from '../../../core/store-results.js';
import type { FactInput, Memory, MemoryOperation, MemoryStore, Metadata, Scope } from '../../../core/types.js';
import { terms, wordOverlap } from '../../../text/text-terms.js';
import type { Step } from './read-turn.js';
import { describe, type Shape } from './statement-rules.js';

const slotReasons: Record<string, string> = {
  name: 'name',
  home: 'home',
  employer: 'employer',
  job: 'job',
  diet: 'diet',
  birthday: 'birthday',
};

// Verbs so common that sharing only them says nothing about which memory a retirement means.
const genericTerms = new Set(
  terms('live lives work works like likes love prefer enjoy want need have has eat drink use go do get make take user'),
);
// A memory a step corrects shares its words (the same slot, or most of the same object), so it
// ranks among the step's best matches.
const lookupLimit = 20;
// The types this extractor writes, and so may correct: episodes are what was said, never corrected.
const correctableTypes = ['preference', 'profile', 'fact', 'task', 'event'];

/** The user's memories a turn may correct: what the store finds for each step, plus what was injected. */
export async function storedMemories(
  store: MemoryStore,
  scope: Scope,
  injected: Memory[],
  steps: Step[],
  signal: AbortSignal,
): Promise<Memory[]> {
  const found: Memory[] = [];
  try {
    const queries = steps.map((step) => (step.kind === 'fact' ? step.fact.text : step.content));
    const results = await Promise.all(
      queries.map((query) => store.search(query, { scope, types: correctableTypes, limit: lookupLimit, signal })),
    );
    for (const hits of results) found.push(...checkHits(hits, store.name, scope).hits);
  } catch (error) {
    throw new ExtractionError(
      'heuristic',
      `could not read the stored memories a correction may replace (${error instanceof Error ? error.name : typeof error}); nothing was applied.`,
      { cause: error },
    );
  }
  const byId = new Map<string, Memory>();
  for (const memory of [...found, ...injected]) {
    if (!byId.has(memory.id) && scopeMatches(memory.scope, scope)) byId.set(memory.id, memory);
  }
  return [...byId.values()];
}

/** Turns the steps into operations against what is stored: update or delete where a step corrects, add the rest. */
export function plan(
  steps: Step[],
  context: { stored: Memory[]; recalled: Memory[]; fallbackMetadata: Metadata | undefined },
): MemoryOperation[] {
  // Texts change as the plan goes, so a later sentence of the same turn sees the earlier ones.
  const live = context.stored.map((memory) => ({ memory, text: memory.text, gone: false }));
  const recalledTexts = context.recalled.map((memory) => normalise(memory.text));
  const known = () =>
    new Set([...live.filter((entry) => !entry.gone).map((entry) => normalise(entry.text)), ...recalledTexts]);
  const changes: MemoryOperation[] = [];
  const adds: Array<{ fact: FactInput; reason: string; shape: Shape }> = [];

  for (const step of steps) {
    if (step.kind === 'retire') {
      const target = retirementTarget(
        step.content,
        live.filter((entry) => !entry.gone),
      );
      if (target) {
        target.gone = true;
        changes.push({ kind: 'delete', id: target.memory.id, reason: 'heuristic: the user said this no longer holds' });
      } else if (!known().has(normalise(step.fallback.text))) {
        const fallback = context.fallbackMetadata
          ? { ...step.fallback, metadata: { ...context.fallbackMetadata } }
          : step.fallback;
        adds.push({ fact: fallback, reason: 'heuristic: stated by the user', shape: {} });
      }
      continue;
    }
    const { fact, corrective } = step;
    if (known().has(normalise(fact.text))) continue;
    const shape = describe(fact.text);
    // A second statement of the same detail in one turn replaces the first.
    const earlier = adds.findIndex((add) => sameSubject(shape, add.shape, corrective));
    if (earlier >= 0) adds.splice(earlier, 1);
    const target = correctionTarget(fact, shape, corrective, live);
    if (target) {
      target.text = fact.text;
      const metadata = fact.metadata ? { ...target.memory.metadata, ...fact.metadata } : undefined;
      changes.push({
        kind: 'update',
        id: target.memory.id,
        patch: { text: fact.text, ...(metadata && { metadata }) },
        reason: updateReason(shape, corrective),
      });
      continue;
    }
    adds.push({ fact, reason: step.reason, shape });
  }

  const byReason = new Map<string, FactInput[]>();
  for (const add of adds) byReason.set(add.reason, [...(byReason.get(add.reason) ?? []), add.fact]);
  for (const [reason, facts] of byReason) changes.push({ kind: 'add', write: { facts }, reason });
  return changes;
}

type LiveMemory = { memory: Memory; text: string; gone: boolean };

function correctionTarget(
  fact: FactInput,
  shape: Shape,
  corrective: boolean,
  live: LiveMemory[],
): LiveMemory | undefined {
  const candidates = live.filter((entry) => !entry.gone && entry.memory.type === fact.type);
  if (shape.slot) return candidates.find((entry) => describe(entry.text).slot === shape.slot);
  if (!shape.object) return undefined;
  let best: { entry: LiveMemory; overlap: number } | undefined;
  for (const entry of candidates) {
    const other = describe(entry.text);
    if (!other.object) continue;
    const overlap = objectOverlap(shape.object, other.object);
    if (overlap > (best?.overlap ?? 0)) best = { entry, overlap };
  }
  if (!best) return undefined;
  // Without a correction word only the same subject counts; with one, the closest does.
  return best.overlap >= 0.6 || (corrective && best.overlap > 0) ? best.entry : undefined;
}

function sameSubject(shape: Shape, other: Shape, corrective: boolean): boolean {
  if (shape.slot) return shape.slot === other.slot;
  if (!shape.object || !other.object) return false;
  const overlap = objectOverlap(shape.object, other.object);
  return overlap >= 0.6 || (corrective && overlap > 0);
}

function retirementTarget(content: string, live: LiveMemory[]): LiveMemory | undefined {
  const wanted = [...new Set(terms(content))].filter((term) => term !== 'user');
  if (wanted.length === 0) return undefined;
  const distinctive = wanted.filter((term) => !genericTerms.has(term));
  let best: { entry: LiveMemory; coverage: number } | undefined;
  for (const entry of live) {
    const have = new Set(terms(entry.text));
    const coverage = wanted.filter((term) => have.has(term)).length / wanted.length;
    const specific = distinctive.length === 0 ? coverage === 1 : distinctive.some((term) => have.has(term));
    if (specific && coverage >= 0.5 && coverage > (best?.coverage ?? 0)) best = { entry, coverage };
  }
  return best?.entry;
}

function updateReason(shape: Shape, corrective: boolean): string {
  if (shape.slot) {
    const label = slotReasons[shape.slot] ?? 'detail';
    return corrective
      ? `heuristic: the user corrected their ${label}`
      : `heuristic: a newer value of the user's ${label}`;
  }
  return corrective ? 'heuristic: the user corrected this preference' : 'heuristic: the user changed this preference';
}

function objectOverlap(a: string, b: string): number {
  const termsA = terms(a);
  const termsB = terms(b);
  if (termsA.length === 0 || termsB.length === 0) return 0;
  return wordOverlap(termsA, termsB);
}

// Every turn that states something compares it with up to 500 stored texts, mostly the same ones
// as the turn before: their normal forms are kept (a bounded cache, oldest out first).
const normalForms = new Map<string, string>();
const normalFormsKept = 5000;

function normalise(text: string): string {
  let found = normalForms.get(text);
  if (found === undefined) {
    found = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
    normalForms.set(text, found);
    if (normalForms.size > normalFormsKept) normalForms.delete(normalForms.keys().next().value as string);
  }
  return found;
}
