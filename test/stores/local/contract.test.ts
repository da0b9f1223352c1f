import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { localStore } from '../../../src/stores/local/index.js';
import { testStoreContract } from '../../../src/testing/vitest/index.js';

const folder = mkdtempSync(join(tmpdir(), 'with-memory-contract-'));
let count = 0;

afterAll(() => rmSync(folder, { recursive: true, force: true }));

testStoreContract('localStore', () => {
  count += 1;
  return localStore({ path: join(folder, `store-${count}.db`) });
});

// One file shared by every check: scopes must keep them apart.
testStoreContract('localStore (one shared file)', () => localStore({ path: join(folder, 'shared.db') }));
