import { describe, expect, it } from 'vitest';
import { formatServerResult, runServerBench, serverModes } from '../../bench/server.js';

describe('bench server (smoke)', () => {
  it('serves every mode over loopback HTTP and reports throughput, latency and the per-thousand slices', async () => {
    const result = await runServerBench({
      requests: 60,
      users: 7,
      concurrency: 5,
      modelMs: 1,
      rounds: 1,
      store: 'memory',
    });
    expect(result.benchmark).toBe('server');
    expect(result.modes.map((row) => row.mode)).toEqual([...serverModes]);
    for (const row of result.modes) {
      expect(row.failed).toBe(0);
      expect(row.failedWrites).toBe(0);
      expect(row.requestsPerSecond).toBeGreaterThan(0);
      expect(row.p95).toBeGreaterThanOrEqual(row.p50);
      expect(row.perThousand).toHaveLength(1);
    }
    expect(result.modes[0]?.throughputRatio).toBe(1);
    expect(formatServerResult(result)).toContain('wrap per request');
  });
});
