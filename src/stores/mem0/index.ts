/**
 * `with-memory/mem0`: a memory store on mem0, the hosted platform (`MemoryClient`) or mem0 open
 * source (`Memory` from `mem0ai/oss`), behind one `MemoryStore`. `mem0ai` is an optional peer
 * dependency: this entry loads without it when you pass a client or memory of your own.
 *
 * @example
 * ```ts
 * import { MemoryClient } from 'mem0ai';
 * import { mem0Store } from 'with-memory/mem0';
 *
 * const store = mem0Store({ client: new MemoryClient({ apiKey: process.env.MEM0_API_KEY ?? '' }) });
 * ```
 *
 * @module
 */

export type { Mem0ClientLike, Mem0MemoryLike, Mem0Message } from './mem0-shapes.js';
export { type Mem0StoreOptions, mem0Store } from './mem0-store.js';
