import { expect, it, vi } from 'vitest';
import { inMemoryStore } from '../../src/stores/in-memory.js';

// Any value import of `ai` by the entry would hit this factory and fail the import below.
vi.mock('ai', () => {
  throw new Error('the with-memory/ai-sdk entry loaded `ai` at run time');
});

it('loads and builds a middleware without loading `ai`', async () => {
  const { memoryMiddleware } = await import('../../src/ai-sdk/index.js');
  const store = inMemoryStore();

  const middleware = memoryMiddleware({ scope: { userId: 'user_42' }, store });

  expect(middleware.specificationVersion).toBe('v3');
  expect(typeof middleware.transformParams).toBe('function');
  expect(typeof middleware.wrapGenerate).toBe('function');
  expect(typeof middleware.wrapStream).toBe('function');
  await store.close();
});
