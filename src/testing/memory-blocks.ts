/**
 * `recordMemoryBlocks`: what the model was shown, call by call: the memory block the wrapper
 * injected into each call's system prompt.
 *
 * @module
 */

import type { SearchEvent } from '../core/options.js';

/** The memory blocks injected, one per model call, with the hook that records them. */
export interface MemoryBlockRecorder {
  /** One entry per call, in order: the injected block, or `''` when nothing was injected. */
  readonly blocks: string[];
  /** Pass as `onSearch` to `withMemory` or `memoryMiddleware` (call yours from here if you have one). */
  onSearch(event: SearchEvent): void;
}

/**
 * Records the memory block each call of a wrapper showed the model, for asserting on what the
 * model was told. Needs no test framework.
 *
 * @example
 * const shown = recordMemoryBlocks();
 * const agent = withMemory(model, { scope: { userId: 'u1' }, store, onSearch: shown.onSearch });
 * await agent({ messages: [{ role: 'user', content: 'Room temperature?' }] });
 * expect(shown.blocks[0]).toContain('Celsius');
 */
export function recordMemoryBlocks(): MemoryBlockRecorder {
  const blocks: string[] = [];
  return {
    blocks,
    onSearch(event) {
      blocks.push(event.memoryBlock);
    },
  };
}
