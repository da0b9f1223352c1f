import type { MemoryPipeline } from '../core/pipeline.js';
import type { ChatMessage } from '../core/types.js';
import { lastUserText } from './json.js';

/** What a function target receives. */
export interface MemoryFunctionRequest {
  system?: string;
  messages: ChatMessage[];
}

/** Any LLM call `withMemory` can wrap: it gets the system prompt and messages, and answers with text. */
export type MemoryFunction = (request: MemoryFunctionRequest) => Promise<string | { text: string }>;

/**
 * Wraps a plain function: the memory block is appended to `system` after a blank line (the
 * caller's system text kept as it was), and the answer's text is written back.
 */
export function wrapFunction<T extends MemoryFunction>(target: T, pipeline: MemoryPipeline): T {
  const wrapped = async (request: MemoryFunctionRequest) => {
    const messages = Array.isArray(request?.messages) ? request.messages : [];
    const { query, index } = lastUserText(messages);
    const turn = await pipeline.begin({ query, continuation: false, turnKey: `${index}:${query}` });
    const { memoryBlock } = turn;
    const system =
      memoryBlock === '' ? request.system : request.system ? `${request.system}\n\n${memoryBlock}` : memoryBlock;
    const result = await target(system === undefined ? request : { ...request, system });
    const text = typeof result === 'string' ? result : result?.text;
    if (typeof text === 'string') await turn.complete(text);
    else
      pipeline.report(
        new Error('the function answered neither a string nor { text }; nothing was written back'),
        'capture',
      );
    return result;
  };
  return wrapped as T;
}
