/**
 * Returns the one value of `name` in this process, creating it on first use. Each package entry
 * (`with-memory`, `with-memory/ai-sdk`, ...) and each build (ESM, CommonJS) bundles its own copy
 * of the core, so state that must be shared across them (write trackers, the default store, the
 * warnings already given) lives on `globalThis` under a registered symbol.
 */
export function processShared<T>(name: string, create: () => T): T {
  const key = Symbol.for(`with-memory.${name}`);
  const registry = globalThis as { [key: symbol]: T | undefined };
  registry[key] ??= create();
  return registry[key] as T;
}
