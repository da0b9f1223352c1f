// Resolve hooks for running the examples from this repository without a build: the package's
// own name and sub-paths resolve to its sources instead of `dist/` (where its `exports` map points).
const sources = {
  'with-memory': '../../../src/index.ts',
  'with-memory/mem0': '../../../src/stores/mem0/index.ts',
  'with-memory/ai-sdk': '../../../src/ai-sdk/index.ts',
  'with-memory/testing': '../../../src/testing/index.ts',
  'with-memory/postgres': '../../../src/stores/postgres/index.ts',
};

export async function resolve(specifier, context, nextResolve) {
  const source = sources[specifier];
  if (source === undefined) return nextResolve(specifier, context);
  return { url: new URL(source, import.meta.url).href, format: 'module', shortCircuit: true };
}
