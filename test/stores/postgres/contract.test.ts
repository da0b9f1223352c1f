import { beforeAll } from 'vitest';
import { postgresStore } from '../../../src/stores/postgres/index.js';
import { testStoreContract } from '../../../src/testing/vitest/index.js';
import { pgliteDatabase, serverDatabase } from './databases.js';

const server = serverDatabase('contract');
testStoreContract('postgresStore (PostgreSQL server)', () =>
  postgresStore({ pool: server.pool, schema: server.schema() }),
);

// One schema shared by every check: scopes must keep them apart.
const shared = server.schema();
testStoreContract('postgresStore (one shared schema)', () => postgresStore({ pool: server.pool, schema: shared }));

const lite = pgliteDatabase();
// Starting PGlite takes seconds (18 s on a loaded machine): not inside the first check's time-out.
beforeAll(() => lite.pool().waitReady, 120_000);
testStoreContract('postgresStore (PGlite with pgvector)', () =>
  postgresStore({ pool: lite.pool(), schema: lite.schema() }),
);
