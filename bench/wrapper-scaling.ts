/**
 * One measurement of `bench overhead`'s wrapper-scaling row, run in a process of its own so that
 * "fresh" really is a fresh process: create `wrappers` wrappers (each making one call that writes,
 * as a server wrapping per request does), then time `calls` calls of one more wrapper, with a model
 * that answers at once and its own in-memory store. Prints `{ "microsPerCall": n }` on stdout.
 *
 * `node --import tsx bench/wrapper-scaling.ts <wrappers> <calls>`
 *
 * @module
 */

import { flushMemory } from '../src/core/writeback.js';
import type { MemoryFunction } from '../src/providers/function.js';
import { inMemoryStore } from '../src/stores/in-memory.js';
import { withMemory } from '../src/with-memory.js';

const model: MemoryFunction = async () => 'Noted.';
const say = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

async function main(): Promise<void> {
  const wrappers = Number(process.argv[2] ?? 0);
  const calls = Number(process.argv[3] ?? 1000);
  const crowd = inMemoryStore();
  for (let index = 0; index < wrappers; index += 1) {
    const wrapped = withMemory(model, { scope: { userId: `user-${index}` }, store: crowd });
    await wrapped(say(`I live in city number ${index}.`));
    if (index % 1000 === 999) await flushMemory(crowd);
  }
  await flushMemory(crowd);

  const measured = withMemory(model, { scope: { userId: 'measured' }, store: inMemoryStore() });
  for (let index = 0; index < 100; index += 1) await measured(say(`Warm-up note ${index}.`));
  await flushMemory(measured);
  const started = performance.now();
  for (let index = 0; index < calls; index += 1) await measured(say(`Note ${index % 50} about my day.`));
  await flushMemory(measured);
  const microsPerCall = (1000 * (performance.now() - started)) / calls;
  process.stdout.write(`${JSON.stringify({ microsPerCall })}\n`);
}

await main();
