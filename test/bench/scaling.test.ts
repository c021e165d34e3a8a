/**
 * bench/scaling.bench.ts without a server: every row skipped, naming both things it needs, when
 * either is missing; and its CPU reading from /proc counts this process's own work.
 */
import { describe, expect, it } from 'vitest';
import { ROWS, SKIP_REASON, cpuSeconds, runWith } from '../../bench/scaling.bench';

describe('scaling bench', () => {
  it('skips every row, naming the server and the database, when either is missing', async () => {
    for (const env of [{}, { TEMPORAL_CLI_PATH: '/opt/temporal' }, { TEST_DATABASE_URL: 'postgres://x@127.0.0.1/db' }]) {
      const rows = await runWith(env);
      expect(rows.map((r) => r.name)).toEqual(Object.values(ROWS).map((r) => r.name));
      for (const r of rows) expect(r.skipped).toBe(SKIP_REASON);
    }
    expect(SKIP_REASON).toContain('TEMPORAL_CLI_PATH');
    expect(SKIP_REASON).toContain('TEST_DATABASE_URL');
  });

  it('reads a process CPU time from /proc, and 0 for a process that is gone', () => {
    const before = cpuSeconds(process.pid);
    const until = performance.now() + 300;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(cpuSeconds(process.pid)).toBeGreaterThan(before);
    expect(cpuSeconds(2 ** 22 + 1)).toBe(0);
  });
});
