/**
 * The failure drills in their quick form (drills/: few trials each), asserting the issue's
 * targets: no duplicate venue order, no lost or double-counted fill, every unresolved order
 * alerted, and each drill's own checks. Runs on PostgreSQL when TEST_DATABASE_URL or
 * DATABASE_URL names a server, else on PGlite; always without a Temporal server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DRILLS } from '../../drills/index';
import { formatReport } from '../../drills/table';
import type { DrillResult } from '../../drills/types';

const results: DrillResult[] = [];

describe('failure drills (quick, no Temporal server)', () => {
  afterAll(() => {
    if (results.length > 0) console.log(`\n${formatReport(results)}`);
  });

  for (const drill of DRILLS) {
    it(`${drill.id}: ${drill.title}`, { timeout: 120_000 }, async () => {
      const result = await drill.run({ trials: drill.quickTrials, seed: 7, log: () => {} });
      results.push(result);
      expect(result.counts.trials).toBe(drill.quickTrials);
      expect(result.checksFailed).toEqual([]);
      expect(result.counts).toMatchObject({ duplicates: 0, lostFills: 0, doubleCountedFills: 0 });
      expect(result.counts.unresolvedAlerted).toBe(result.counts.unresolved);
    });
  }
});
