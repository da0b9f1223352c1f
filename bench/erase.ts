/**
 * `npm run bench -- erase [--sizes 10000,100000]`: what an erase costs on the local store.
 * `deleteAll` of one user (and `delete(id, { erase: true })` of one memory) rewrite the file
 * (VACUUM) so that no copy of the erased entries survives in the unused space of live pages; this
 * times both in stores of 1,000 users of growing size, beside the file's size.
 *
 * @module
 */

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localStore } from '../src/stores/local/index.js';
import { markdownTable } from './markdown-table.js';

const users = 1000;
const batch = 500;

/** One measured store size. */
export interface EraseRow {
  memories: number;
  fileMb: number;
  /** `deleteAll` of one user (memories / 1,000 of them), VACUUM and WAL truncation included. */
  deleteAllMs: number;
  /** `delete(id, { erase: true })` of one memory. */
  eraseOneMs: number;
  /** `delete(id)` of one memory (the history keeps its text), for comparison. */
  deleteOneMs: number;
}

async function measure(memories: number): Promise<EraseRow> {
  const folder = mkdtempSync(join(tmpdir(), 'with-memory-erase-bench-'));
  const store = localStore({ path: join(folder, 'memory.db') });
  try {
    for (let first = 0; first < memories; first += batch) {
      const count = Math.min(batch, memories - first);
      // One user per batch, in turn: every user ends up with memories / 1,000 of them.
      await store.add(
        {
          facts: Array.from({ length: count }, (_, offset) => ({
            text: `Note ${first + offset}: likes word${((first + offset) * 7919) % 100_003} and topic${(first + offset) % 371}`,
          })),
        },
        { scope: { userId: `user-${(first / batch) % users}` } },
      );
    }
    const fileMb = statSync(store.path).size / 1e6;
    const timed = async (work: () => Promise<unknown>) => {
      const started = performance.now();
      await work();
      return Math.round(performance.now() - started);
    };
    const [one, two] = await store.list({ scope: { userId: 'user-2' }, limit: 2 });
    const deleteOneMs = await timed(() => store.delete(one?.id ?? ''));
    const eraseOneMs = await timed(() => store.delete(two?.id ?? '', { erase: true }));
    const deleteAllMs = await timed(() => store.deleteAll({ userId: 'user-1' }));
    return { memories, fileMb: Math.round(fileMb * 10) / 10, deleteAllMs, eraseOneMs, deleteOneMs };
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Measures an erase at each size (memories in the file, 1,000 users), one size after another. */
export async function runEraseBench(sizes: number[] = [10_000, 100_000]): Promise<EraseRow[]> {
  const rows: EraseRow[] = [];
  for (const memories of sizes) rows.push(await measure(memories));
  return rows;
}

/** The table of `runEraseBench`'s rows. */
export function formatEraseResult(rows: EraseRow[]): string {
  return markdownTable(
    ['memories', 'file (MB)', 'deleteAll of a user (ms)', 'delete + erase one (ms)', 'delete one (ms)'],
    rows.map((row) => [row.memories, row.fileMb, row.deleteAllMs, row.eraseOneMs, row.deleteOneMs]),
  );
}
