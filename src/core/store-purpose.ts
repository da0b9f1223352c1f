/**
 * Why a store is being called: the turn's own search (`prompt`), or an extractor looking up what
 * the turn corrects (`extract`). The pipeline hands extractors a view of the store that marks
 * its calls, so a store (the testing kit's mock) can tell the two apart.
 *
 * @module
 */

import type { Extractor, MemoryStore } from './types.js';

/** What a store call is for. */
export type StorePurpose = 'prompt' | 'extract';

// Set only while a call through the extractor's view starts: a store reads it synchronously, at
// the start of its method, before its first await.
let current: StorePurpose = 'prompt';

/** The purpose of the store call now starting. */
export function currentStorePurpose(): StorePurpose {
  return current;
}

const readMethods = ['search', 'get', 'list', 'history'] as const;

/** The extractor, given a view of the store whose reads are marked as the extractor's look-ups. */
export function markLookups(extractor: Extractor): Extractor {
  return {
    name: extractor.name,
    extract: (turn, context) => extractor.extract(turn, { ...context, store: lookupView(context.store) }),
  };
}

function lookupView(store: MemoryStore): MemoryStore {
  const view: MemoryStore = Object.create(store);
  for (const name of readMethods) {
    const method = store[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof method !== 'function') continue;
    Object.defineProperty(view, name, {
      value: (...args: unknown[]) => {
        const before = current;
        current = 'extract';
        try {
          return method.apply(store, args);
        } finally {
          current = before;
        }
      },
    });
  }
  return view;
}
