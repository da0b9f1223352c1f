/**
 * Renders benchmark rows as a Markdown table, readable in a terminal and pasteable into
 * BENCHMARKS.md as it is.
 *
 * @module
 */

/**
 * A Markdown table with the header row and columns padded to equal width; numbers right-aligned.
 *
 * @example
 * markdownTable(['store', 'adds/s'], [['local', 1200]]);
 */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const numeric = header.map((_, column) => rows.every((row) => typeof row[column] === 'number'));
  const widths = header.map((title, column) =>
    Math.max(title.length, 3, ...cells.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    `| ${row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (numeric[column] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}
