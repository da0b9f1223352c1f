import { describe, expect, it } from 'vitest';
import { hashEmbedder } from '../../bench/hash-embedder.js';
import { markdownTable } from '../../bench/markdown-table.js';
import { formatOverheadResult, runOverheadBench } from '../../bench/overhead.js';
import { percentile } from '../../bench/percentiles.js';

describe('bench overhead (smoke)', () => {
  it('reports latency per mode, the ratios and the CPU cost per store', async () => {
    const result = await runOverheadBench({
      calls: 3,
      modelMs: 2,
      searchMs: 1,
      addMs: 5,
      cpuCalls: 10,
      wrappers: 20,
      scalingCalls: 10,
      scalingRounds: 1,
    });
    expect(result.benchmark).toBe('overhead');
    for (const row of [result.raw, result.background, result.await]) {
      expect(row.p50).toBeGreaterThan(0);
      expect(row.p95).toBeGreaterThanOrEqual(row.p50);
    }
    expect(result.ratioBackground).toBeGreaterThan(0);
    expect(result.ratioAwait).toBeGreaterThan(0);
    expect(Object.keys(result.cpuMicrosPerCall).sort()).toEqual(['local', 'memory']);
    expect(Object.keys(result.cpuMicrosPerCallReadOnly).sort()).toEqual(['local', 'memory']);
    expect(result.search.p50).toBeGreaterThan(0);
    for (const micros of Object.values(result.cpuMicrosPerCall)) expect(micros).toBeGreaterThanOrEqual(0);
    expect(result.errors).toBeUndefined();
    expect(formatOverheadResult(result)).toContain("write: 'await'");
    // H1: the row comparing a fresh process with one that created many wrappers.
    expect(result.wrapperScaling.wrappers).toBe(20);
    expect(result.wrapperScaling.freshMicrosPerCall).toBeGreaterThan(0);
    expect(result.wrapperScaling.afterWrappersMicrosPerCall).toBeGreaterThan(0);
    expect(formatOverheadResult(result)).toContain('after 20 wrappers created');
  });
});

describe('bench helpers', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([], 50)).toBe(0);
  });

  it('renders a Markdown table with numbers right-aligned', () => {
    expect(markdownTable(['store', 'n'], [['local', 12]])).toBe('| store |   n |\n| ----- | --: |\n| local |  12 |');
  });

  it('embeds deterministically into unit vectors that favour shared words', async () => {
    const embed = hashEmbedder({ dimensions: 64 });
    const [a, b, c] = await embed(['rowing on the river', 'rowing on the river', 'tax return forms']);
    expect(a).toHaveLength(64);
    expect(a).toEqual(b);
    const dot = (x: number[] = [], y: number[] = []) =>
      x.reduce((sum, value, index) => sum + value * (y[index] ?? 0), 0);
    expect(dot(a, a)).toBeCloseTo(1, 6);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });
});
