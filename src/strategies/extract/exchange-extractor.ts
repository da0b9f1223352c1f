import type { ChatMessage, Extractor } from '../../core/types.js';

/**
 * Passes the exchange through as it is: `{ messages: [user, assistant] }`. The default for stores
 * that distil facts themselves (mem0 with inference), which want the conversation, not our facts.
 *
 * @example
 * ```ts
 * const claude = withMemory(new Anthropic(), {
 *   scope: { userId },
 *   store: mem0Store({ apiKey }),
 *   extract: exchangeExtractor(),
 * });
 * ```
 */
export function exchangeExtractor(): Extractor {
  return {
    name: 'exchange',
    async extract({ userText, assistantText }) {
      if (userText.trim() === '') return [];
      const messages: ChatMessage[] = [{ role: 'user', content: userText }];
      if (assistantText.trim() !== '') messages.push({ role: 'assistant', content: assistantText });
      return [{ kind: 'add', write: { messages } }];
    },
  };
}
