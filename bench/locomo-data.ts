/**
 * Reads a LoCoMo-format file (Maharana et al., ACL 2024) into turns and questions for the
 * retrieval benchmark. The data is never copied into the repository: it is read by path.
 *
 * @module
 */

import { readFileSync } from 'node:fs';

/** One turn of a conversation, as it becomes one memory. */
export interface LocomoTurn {
  /** The turn's id in the data set, e.g. `D3:12` (session 3, turn 12). */
  diaId: string;
  session: number;
  speaker: string;
  text: string;
  /** The caption of an image the speaker shared, when there is one. */
  caption?: string;
  /** The session's date as the data set writes it, e.g. `1:56 pm on 8 May, 2023`. */
  date: string;
}

/** One question with the turns that hold its answer. */
export interface LocomoQuestion {
  question: string;
  /** 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop (5, adversarial, is left out). */
  category: 1 | 2 | 3 | 4;
  /** The dia ids of the evidence turns, repaired and limited to turns that exist. */
  evidence: string[];
  /** The gold answer, as text. */
  answer: string;
}

/** One conversation with its questions. */
export interface LocomoConversation {
  id: string;
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

interface RawTurn {
  speaker?: unknown;
  dia_id?: unknown;
  text?: unknown;
  blip_caption?: unknown;
}

interface RawSample {
  sample_id?: unknown;
  conversation?: Record<string, unknown>;
  qa?: Array<{ question?: unknown; answer?: unknown; evidence?: unknown; category?: unknown }>;
}

/** Loads a LoCoMo-format file; `only` keeps the conversations with these sample ids. */
export function loadLocomo(path: string, only?: string[]): LocomoConversation[] {
  const samples = JSON.parse(readFileSync(path, 'utf8')) as RawSample[];
  if (!Array.isArray(samples)) throw new Error(`${path} is not a LoCoMo file (expected a JSON array)`);
  const conversations = samples.map(toConversation);
  if (!only || only.length === 0) return conversations;
  const missing = only.filter((id) => !conversations.some((conversation) => conversation.id === id));
  if (missing.length > 0) throw new Error(`no conversation ${missing.join(', ')} in ${path}`);
  return conversations.filter((conversation) => only.includes(conversation.id));
}

function toConversation(sample: RawSample): LocomoConversation {
  const id = String(sample.sample_id ?? '');
  const conversation = sample.conversation ?? {};
  const turns: LocomoTurn[] = [];
  const sessions = Object.keys(conversation)
    .map((key) => /^session_(\d+)$/.exec(key)?.[1])
    .filter((number): number is string => number !== undefined)
    .map(Number)
    .sort((x, y) => x - y);
  for (const session of sessions) {
    const date = String(conversation[`session_${session}_date_time`] ?? '');
    const raw = conversation[`session_${session}`];
    if (!Array.isArray(raw)) continue;
    for (const turn of raw as RawTurn[]) {
      if (typeof turn.dia_id !== 'string' || typeof turn.text !== 'string') continue;
      const item: LocomoTurn = {
        diaId: turn.dia_id,
        session,
        speaker: String(turn.speaker ?? ''),
        text: turn.text,
        date,
      };
      if (typeof turn.blip_caption === 'string' && turn.blip_caption.trim() !== '') item.caption = turn.blip_caption;
      turns.push(item);
    }
  }
  const known = new Set(turns.map((turn) => turn.diaId));
  const questions: LocomoQuestion[] = [];
  for (const qa of sample.qa ?? []) {
    const category = Number(qa.category);
    if (category !== 1 && category !== 2 && category !== 3 && category !== 4) continue;
    if (typeof qa.question !== 'string') continue;
    const evidence = repairEvidence(qa.evidence, known);
    if (evidence.length === 0) continue;
    questions.push({ question: qa.question, category, evidence, answer: String(qa.answer ?? '') });
  }
  return { id, turns, questions };
}

/**
 * A few evidence strings are malformed ("D8:6; D9:17", "D:11:26", "D30:05"): split them, repair
 * the spelling, and drop ids of turns that do not exist.
 */
export function repairEvidence(evidence: unknown, known: Set<string>): string[] {
  const list = Array.isArray(evidence) ? evidence : [];
  const repaired = new Set<string>();
  for (const entry of list) {
    for (const part of String(entry).split(/[;,\s]+/)) {
      const match = /^D:?(\d+):0*(\d+)$/.exec(part.trim());
      if (!match) continue;
      const id = `D${Number(match[1])}:${Number(match[2])}`;
      if (known.has(id)) repaired.add(id);
    }
  }
  return [...repaired];
}

/** The text one turn is stored as: who said it, what they said, and the image they shared. */
export function turnText(turn: LocomoTurn): string {
  return turn.caption === undefined
    ? `${turn.speaker}: ${turn.text}`
    : `${turn.speaker}: ${turn.text} [shared ${turn.caption}]`;
}
