/**
 * `with-memory/ai-sdk`: `memoryMiddleware(options)`, long-term memory for any Vercel AI SDK
 * language model through `wrapLanguageModel`, and `memoryTools(options)`, the tools a model calls
 * to search, save and forget memories itself. Needs `ai` 5, 6 or 7 (an optional peer of this
 * entry only); nothing from `ai` is loaded at run time.
 *
 * @module
 */

export { type MemoryMiddlewareOptions, memoryMiddleware } from './memory-middleware.js';
export { memoryTools } from './memory-tools.js';
