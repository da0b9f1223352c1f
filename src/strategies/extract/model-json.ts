/**
 * Reads a model's JSON answer against a schema. Errors name what was wrong and where, never the
 * answer itself: a model's text may hold the user's words, and error messages end up in logs.
 *
 * @module
 */

import type { z } from 'zod';
import { ExtractionError } from '../../core/errors.js';

/**
 * Parses `text` as JSON (a single surrounding ```json fence is allowed, as models like to add one)
 * and checks it against `schema`. Throws `ExtractionError` for anything else, without `text` in the
 * message or cause (`JSON.parse` errors quote the input, so they are not kept).
 */
export function parseModelJson<Schema extends z.ZodType>(
  text: string,
  schema: Schema,
  { who, reply }: { who: string; reply: string },
): z.infer<Schema> {
  let body = text.trim();
  const fenced = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(body);
  if (fenced) body = (fenced[1] ?? '').trim();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ExtractionError(
      who,
      `the model's ${reply} reply is not JSON (${text.length} characters); nothing was applied.`,
    );
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(root)';
    // zod's messages describe the expectation ("expected number"), not the input.
    throw new ExtractionError(
      who,
      `the model's ${reply} reply does not have the expected shape (at ${path}: ${issue?.message ?? 'invalid'}); nothing was applied.`,
    );
  }
  return result.data;
}
