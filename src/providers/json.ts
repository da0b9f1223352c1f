/**
 * Reading the JSON shapes of provider requests and replies, which the providers check field by
 * field instead of trusting the SDK's types (a request may come from any caller, a reply from any
 * compatible server).
 *
 * @module
 */

/** A JSON object as it arrives: any field may be missing or of another type. */
export type Json = Record<string, unknown>;

/** True for a plain object (not null, not an array). */
export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The text of a message's content: a string as it is, or the `text` of its parts of type
 * `partType` joined by line breaks. Images, files, audio and tool parts are left out.
 */
export function textOf(content: unknown, partType = 'text'): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((part): part is Json => isJson(part) && part.type === partType && typeof part.text === 'string')
    .map((part) => part.text as string)
    .join('\n');
}

/**
 * The text of the last `user` message that has text, and its index (-1 when none): where a
 * provider's tool results arrive as user messages (Anthropic) or files stand alone, the turn's
 * question is further back than the last message.
 */
export function lastUserText(messages: unknown[]): { query: string; index: number } {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (!isJson(message) || message.role !== 'user') continue;
    const query = textOf(message.content);
    if (query !== '') return { query, index };
  }
  return { query: '', index: -1 };
}
