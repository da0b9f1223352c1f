/**
 * Estimates how many tokens a text costs a model, without loading a tokenizer on every call.
 *
 * cl100k/o200k and Claude's tokenizers average about 4 characters of English per token; we count
 * one token per 3.6 ASCII characters and one per other character (CJK, emoji and accented text
 * tokenise far denser), so the estimate is slightly high and a block built within a budget stays
 * within it. `bench locomo` reports the real cl100k count beside the budget.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  // By UTF-16 unit, a surrogate pair counted once (as one character), without iterating strings.
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 128) ascii += 1;
    else if (code < 0xdc00 || code > 0xdfff) other += 1;
  }
  return Math.ceil(ascii / 3.6) + other;
}
