import { z } from 'zod';
import { toInvalidOptionsError } from '../../../core/options.js';
import { scopeKey } from '../../../core/scope.js';
import type { Extractor, FactInput } from '../../../core/types.js';
import { calendarDate, processTimeZone } from '../date-phrases.js';
import { plan, storedMemories } from './plan.js';
import { findOffer, readTurn } from './read-turn.js';

/** Options of `heuristicExtractor`. */
export interface HeuristicExtractorOptions {
  /** Metadata put on every fact it stores, e.g. `{ source: 'chat' }`. */
  metadata?: Record<string, unknown>;
  /** The IANA time zone in which "today" is reckoned, e.g. `Europe/Berlin`. @default the process's time zone */
  timeZone?: string;
}

const rememberedOffers = 1000;

const optionsSchema = z
  .object(
    {
      metadata: z.record(z.string(), z.unknown()).optional(),
      timeZone: z.string().refine(isTimeZone, { error: 'an IANA time zone such as "Europe/Berlin"' }).optional(),
    },
    { error: 'an options object such as { metadata: { source: "chat" } }' },
  )
  .strict()
  .optional();

/**
 * Stores what the user says about themselves as short third-person facts with a type, with no
 * model call: "I prefer all temperatures in Celsius, never Fahrenheit." becomes the preference
 * "User prefers all temperatures in Celsius, never Fahrenheit.". Corrections update or delete the
 * memory they correct instead of adding a second one, dates become absolute and go to
 * `metadata.date`, and nothing already stored or injected is stored again. The default extractor
 * for stores that do not extract facts themselves. The table in `statement-rules.ts` lists what it recognises.
 *
 * Only when a turn states something does it read the store: a search per statement for the 20
 * stored memories of the types it writes that match it best, where what it corrects is found.
 * Relative dates are resolved against the turn's time (`Turn.at`, the wrapper's `now` clock). An
 * offer the assistant makes is remembered in this process for the next turn of the same scope,
 * where a "yes" turns it into a memory.
 *
 * @example
 * ```ts
 * const claude = withMemory(new Anthropic(), {
 *   scope: { userId },
 *   extract: heuristicExtractor({ metadata: { source: 'chat' }, timeZone: 'Europe/Berlin' }),
 * });
 * ```
 */
export function heuristicExtractor(options?: HeuristicExtractorOptions): Extractor {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw toInvalidOptionsError(parsed.error, 'extract');
  const metadata = parsed.data?.metadata;
  const timeZone = parsed.data?.timeZone ?? processTimeZone();
  const pendingOffers = new Map<string, string>();

  const withMetadata = (fact: FactInput): FactInput => {
    const merged = { ...metadata, ...fact.metadata };
    return Object.keys(merged).length > 0 ? { ...fact, metadata: merged } : fact;
  };

  return {
    name: 'heuristic',
    async extract({ userText, assistantText, scope, injected, at }, { store, signal }) {
      // Read and replace the scope's pending offer before any await, so turns keep their order.
      const key = scopeKey(scope);
      const offered = pendingOffers.get(key);
      pendingOffers.delete(key);
      const offer = findOffer(assistantText);
      if (offer) {
        pendingOffers.set(key, offer);
        if (pendingOffers.size > rememberedOffers) pendingOffers.delete(pendingOffers.keys().next().value as string);
      }

      const steps = readTurn(userText, offered, calendarDate(at, timeZone));
      if (steps.length === 0) return [];
      const stored = await storedMemories(store, scope, injected, steps, signal);
      return plan(
        steps.map((step) => (step.kind === 'fact' ? { ...step, fact: withMetadata(step.fact) } : step)),
        {
          stored,
          recalled: injected,
          fallbackMetadata: metadata,
        },
      );
    },
  };
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
