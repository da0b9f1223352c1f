import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(`../../../src/${path}`, import.meta.url));

/**
 * Runs the example tests (`examples/*.test.ts`) the way a user's project runs them: importing the
 * package by name. Here the names resolve to the sources, so no build is needed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  resolve: {
    // Exact names: a plain 'with-memory' alias would also rewrite the start of 'with-memory/mem0'.
    alias: [
      { find: /^with-memory$/, replacement: source('index.ts') },
      { find: /^with-memory\/mem0$/, replacement: source('stores/mem0/index.ts') },
      { find: /^with-memory\/ai-sdk$/, replacement: source('ai-sdk/index.ts') },
      { find: /^with-memory\/testing$/, replacement: source('testing/index.ts') },
    ],
  },
  test: {
    include: ['examples/**/*.test.ts'],
  },
});
