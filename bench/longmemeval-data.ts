/**
 * Reads a LongMemEval file (Wu et al., ICLR 2025; one JSON object per line, gzip-compressed or
 * not) into questions with their dated sessions, for `bench longmemeval`. The data is never
 * copied into the repository: it is read by path.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One turn of a session. */
export interface LongMemEvalTurn {
  role: 'user' | 'assistant';
  content: string;
  /** True for the turns that hold the evidence. */
  hasAnswer: boolean;
}

/** One chat session, with the time it took place. */
export interface LongMemEvalSession {
  id: string;
  at: Date;
  turns: LongMemEvalTurn[];
  /** True when the data set lists it among the sessions with evidence. */
  hasAnswer: boolean;
}

/** One question with its haystack, sessions in date order. */
export interface LongMemEvalQuestion {
  id: string;
  type: string;
  question: string;
  answer: string;
  at: Date;
  sessions: LongMemEvalSession[];
  /** Abstention (`_abs`) and preference questions: their gold is not a span, so they are not scored. */
  scored: boolean;
}

interface RawQuestion {
  question_id?: unknown;
  question_type?: unknown;
  question?: unknown;
  answer?: unknown;
  question_date?: unknown;
  haystack_sessions?: unknown;
  haystack_dates?: unknown;
  haystack_session_ids?: unknown;
  answer_session_ids?: unknown;
}

/** Loads a LongMemEval file (`.jsonl` or `.jsonl.gz`). */
export function loadLongMemEval(path: string): LongMemEvalQuestion[] {
  const bytes = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => toQuestion(JSON.parse(line) as RawQuestion, `${path} line ${index + 1}`));
}

function toQuestion(raw: RawQuestion, where: string): LongMemEvalQuestion {
  const id = String(raw.question_id ?? '');
  const type = String(raw.question_type ?? '');
  if (id === '' || type === '' || typeof raw.question !== 'string') throw new Error(`${where}: not a question`);
  const sessions = Array.isArray(raw.haystack_sessions) ? (raw.haystack_sessions as unknown[]) : [];
  const dates = Array.isArray(raw.haystack_dates) ? (raw.haystack_dates as unknown[]) : [];
  const ids = Array.isArray(raw.haystack_session_ids) ? (raw.haystack_session_ids as unknown[]) : [];
  const evidence = new Set(Array.isArray(raw.answer_session_ids) ? raw.answer_session_ids.map(String) : []);
  if (sessions.length !== dates.length) throw new Error(`${where}: sessions and dates differ in number`);
  return {
    id,
    type,
    question: raw.question,
    answer: String(raw.answer ?? ''),
    at: longMemEvalTime(String(raw.question_date ?? ''), where),
    sessions: sessions
      .map((session, index) => ({
        id: String(ids[index] ?? index),
        at: longMemEvalTime(String(dates[index]), where),
        hasAnswer: evidence.has(String(ids[index] ?? index)),
        turns: (Array.isArray(session) ? session : []).map((turn: Record<string, unknown>) => ({
          role: turn.role === 'assistant' ? ('assistant' as const) : ('user' as const),
          content: String(turn.content ?? ''),
          hasAnswer: turn.has_answer === true,
        })),
      }))
      // Stable: sessions of one minute keep the data set's order.
      .sort((a, b) => a.at.getTime() - b.at.getTime()),
    scored: !id.endsWith('_abs') && type !== 'single-session-preference',
  };
}

/** "2023/05/30 (Tue) 23:42" as a UTC time. */
export function longMemEvalTime(text: string, where = 'date'): Date {
  const match = /^(\d{4})\/(\d{2})\/(\d{2})\s*(?:\([A-Za-z]+\))?\s*(\d{1,2}):(\d{2})/.exec(text.trim());
  if (!match) throw new Error(`${where}: unreadable date "${text}"`);
  const [, year, month, day, hours, minutes] = match;
  return new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hours), Number(minutes)));
}
