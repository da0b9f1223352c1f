/**
 * Checks what an extractor returned before anything reads it: an extractor is user code (or a
 * model's answer turned into operations), and one malformed operation must cost that operation,
 * not the turn's episode, the later turns, or the process (H4).
 *
 * @module
 */

import { z } from 'zod';
import type { MemoryOperation } from './types.js';

const date = z.date().refine((value) => !Number.isNaN(value.getTime()), 'a valid Date');
const metadata = z.record(z.string(), z.unknown());
const reason = z.string().optional();

const fact = z.looseObject({
  text: z.string(),
  type: z.string().optional(),
  metadata: metadata.optional(),
  expiresAt: date.optional(),
  createdAt: date.optional(),
});
const message = z.looseObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

const operationSchema = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('add'),
    write: z.union([z.looseObject({ messages: z.array(message) }), z.looseObject({ facts: z.array(fact) })]),
    reason,
  }),
  z.looseObject({
    kind: z.literal('update'),
    id: z.string().min(1),
    patch: z.looseObject({
      text: z.string().optional(),
      type: z.string().optional(),
      metadata: metadata.optional(),
      expiresAt: z.union([date, z.null()]).optional(),
    }),
    reason,
  }),
  z.looseObject({ kind: z.literal('delete'), id: z.string().min(1), reason }),
]);

/** An operation an extractor returned that does not have the shape of a `MemoryOperation`. */
export interface MalformedOperation {
  /** Its place in what the extractor returned. */
  index: number;
  /** What is wrong with it, without its content. */
  problem: string;
}

/** Splits what an extractor returned into the well-formed operations (as given) and the rest. */
export function checkOperations(operations: readonly unknown[]): {
  valid: MemoryOperation[];
  malformed: MalformedOperation[];
} {
  const valid: MemoryOperation[] = [];
  const malformed: MalformedOperation[] = [];
  operations.forEach((operation, index) => {
    const result = operationSchema.safeParse(operation);
    if (result.success) {
      valid.push(operation as MemoryOperation);
      return;
    }
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    malformed.push({ index, problem: `${issue?.message ?? 'not an operation'}${where}` });
  });
  return { valid, malformed };
}
