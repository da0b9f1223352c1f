/**
 * `with-memory/ai-sdk`: `memoryMiddleware(options)`, long-term memory for any Vercel AI SDK
 * language model through `wrapLanguageModel`. Needs `ai` 5 or 6 (an optional peer of this entry
 * only); nothing from `ai` is loaded at run time.
 *
 * @module
 */

export { type MemoryMiddlewareOptions, memoryMiddleware } from './memory-middleware.js';
