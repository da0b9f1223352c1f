import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/errors.js';
import { parseScope, scopeSchema } from '../../src/core/scope.js';

// parseScope skips zod for scopes that are already clean; it must answer exactly as the schema.
const inputs: unknown[] = [
  { userId: 'u' },
  { userId: 'u', agentId: 'a', runId: 'r', appId: 'p' },
  { agentId: 'a', userId: undefined },
  { userId: '  u  ' },
  { userId: '' },
  { userId: 'x'.repeat(256) },
  { userId: 'x'.repeat(257) },
  { userId: 'a\nb' },
  { userId: 7 },
  { appId: 'p' },
  {},
  { userId: 'u', extra: 'x' },
  { userId: 'u', extra: undefined },
  Object.assign(Object.create({ inherited: true }), { userId: 'u' }),
  null,
  'user_42',
  [],
];

describe('parseScope', () => {
  it.each(inputs.map((input) => [input]))('agrees with the scope schema on %j', (input) => {
    const parsed = scopeSchema.safeParse(input);
    if (parsed.success) {
      const expected = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
      expect(parseScope(input)).toEqual(expected);
    } else {
      expect(() => parseScope(input)).toThrow(InvalidOptionsError);
    }
  });
});
