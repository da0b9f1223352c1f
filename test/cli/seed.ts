import type { Scope } from '../../src/core/types.js';
import { localStore } from '../../src/stores/local/index.js';

/** A memory to put in a test database. */
export interface SeedMemory {
  text: string;
  scope: Scope;
  type?: string;
}

/** Writes memories straight through the store (faster than a CLI run each); returns their ids. */
export async function seed(path: string, memories: SeedMemory[]): Promise<string[]> {
  const store = localStore({ path });
  try {
    const ids: string[] = [];
    for (const { text, scope, type } of memories) {
      const [change] = await store.add({ facts: [type === undefined ? { text } : { text, type }] }, { scope });
      if (change?.id === undefined) throw new Error('The seed was not stored.');
      ids.push(change.id);
    }
    return ids;
  } finally {
    await store.close();
  }
}
