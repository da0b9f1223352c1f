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

/** Which messages a provider's user sends, and how their text is read. */
export interface UserTextOptions {
  /**
   * Whether a message is the user's.
   * @default a message of role `user`
   */
  isUser?: (message: Json) => boolean;
  /**
   * The type of the content parts that hold text.
   * @default 'text'
   */
  partType?: string;
  /**
   * Pass over user messages without text: where a provider's tool results arrive as user messages
   * (Anthropic) or files stand alone, the turn's question is further back than the last message.
   * @default false
   */
  skipTextless?: boolean;
}

/** The text of the last user message (the turn's question), and its index (-1 when none). */
export function lastUserText(
  messages: unknown[],
  { isUser = (message) => message.role === 'user', partType = 'text', skipTextless = false }: UserTextOptions = {},
): { query: string; index: number } {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (!isJson(message) || !isUser(message)) continue;
    const query = textOf(message.content, partType);
    if (query !== '' || !skipTextless) return { query, index };
  }
  return { query: '', index: -1 };
}
