import { afterAll, beforeAll } from 'vitest';
import { mem0Store } from '../../../src/stores/mem0/index.js';
import { createMockMem0Client } from '../../../src/testing/mock-mem0-client.js';
import { testStoreContract } from '../../../src/testing/vitest/index.js';
import { connectMemoryClient, type FakeMem0, startFakeMem0 } from '../../fakes/mem0-server.js';
import { createOssMemory } from './oss-memory.js';

let fake: FakeMem0;
beforeAll(async () => {
  fake = await startFakeMem0();
});
afterAll(async () => {
  await fake.close();
});

// The real MemoryClient against the loopback platform fake.
testStoreContract('mem0Store (platform, MemoryClient against the fake)', async () =>
  mem0Store({ client: await connectMemoryClient(fake) }),
);

// mem0 open source in process: SQLite vector store in memory, memory history, hash embedder.
testStoreContract('mem0Store (OSS Memory in process)', () => mem0Store({ memory: createOssMemory() }));

// The mock client offers the same methods with the same answers.
testStoreContract('mem0Store (createMockMem0Client)', () => mem0Store({ client: createMockMem0Client() }));
