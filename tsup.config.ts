import { defineConfig } from 'tsup';

// Keep in step with the `exports` map of package.json; test/package/exports.test.ts checks both agree.
export const entries = {
  index: 'src/index.ts',
  'mem0/index': 'src/stores/mem0/index.ts',
  'ai-sdk/index': 'src/ai-sdk/index.ts',
  'testing/index': 'src/testing/index.ts',
  'testing/vitest/index': 'src/testing/vitest/index.ts',
  'testing/node-test/index': 'src/testing/node-test/index.ts',
  'postgres/index': 'src/stores/postgres/index.ts',
  'cli/index': 'src/cli/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Entries share chunks (one core per format), so classes, the write trackers and the default
  // store are one per process for ESM users and one for CommonJS users. tsup's CommonJS splitting
  // is marked experimental; test/package/ checks the built entries share their classes.
  splitting: true,
  treeshake: true,
  // stemmer ships ESM only; bundling it keeps the CommonJS build loadable on every Node 20.
  noExternal: ['stemmer'],
  // `node:test` has no name without its prefix: tsup must not strip `node:` (Node 20 knows it everywhere).
  removeNodeProtocol: false,
});
