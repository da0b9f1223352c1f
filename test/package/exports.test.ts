import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { entries } from '../../tsup.config.js';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports: Record<string, Record<'import' | 'require', { types: string; default: string }> | string>;
  bin?: Record<string, string>;
};

it('the package exports map and the tsup entries agree', () => {
  const fromExports = Object.entries(manifest.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => {
      expect(typeof target).toBe('object');
      const { import: esm, require: cjs } = target as Record<'import' | 'require', { types: string; default: string }>;
      const entry = esm.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '');
      expect(esm.types).toBe(`./dist/${entry}.d.ts`);
      expect(cjs).toEqual({ types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` });
      expect(subpath === '.' ? 'index' : `${subpath.slice(2)}/index`).toBe(entry);
      return entry;
    });
  const binEntries = Object.values(manifest.bin ?? {}).map((path) =>
    path.replace(/^\.\/dist\//, '').replace(/\.c?js$/, ''),
  );
  expect([...fromExports, ...binEntries].sort()).toEqual(Object.keys(entries).sort());
  for (const source of Object.values(entries)) expect(() => readFileSync(source)).not.toThrow();
});
