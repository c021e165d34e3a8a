/**
 * The three-worker drill (drills/temporal/multi-worker.ts) in its quick form: three worker
 * processes on one task queue, one dev server and one PostgreSQL database; one SIGKILLed while a
 * session's activity runs on it, one while an order's submission is in flight on it, a halt; the
 * survivor finishes everything, and the venue and the records agree: no duplicate venue order, no
 * lost or double-counted fill, the halt in every session, the records and no order sent after it.
 * Needs TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH and a PostgreSQL server (TEST_DATABASE_URL or
 * DATABASE_URL); with CI=true it fails without them rather than skip.
 */
import { describe, expect, it } from 'vitest';
import { SERVER_URL } from '../../drills/backend';
import { formatReport } from '../../drills/table';
import { runServerDrills, serverDrillsFor, serverGate, SERVER_DRILLS } from '../../drills/temporal/index';
import { MULTI_WORKER_DRILL_ID, multiWorkerDrill, pidOfIdentity } from '../../drills/temporal/multi-worker';
import { targetsMet } from '../../drills/types';
import { describeWhere } from '../support/requirements';

const gate = serverGate(process.env);
const missing = !gate.configured ? gate.reason : SERVER_URL ? null : 'no PostgreSQL server: set TEST_DATABASE_URL or DATABASE_URL (three worker processes cannot share PGlite)';

describe('three-worker drill: how it finds a worker', () => {
  it("reads the process ID from the SDK's default worker identity", () => {
    expect(pidOfIdentity('12345@trader-host')).toBe(12345);
    expect(pidOfIdentity('worker-a')).toBeNull();
    expect(pidOfIdentity(undefined)).toBeNull();
  });

  it('runs only when named, never in the run of every server drill', () => {
    expect(SERVER_DRILLS.map((d) => d.id)).not.toContain(MULTI_WORKER_DRILL_ID);
    expect(serverDrillsFor().map((d) => d.id)).toEqual(SERVER_DRILLS.map((d) => d.id));
    expect(serverDrillsFor([MULTI_WORKER_DRILL_ID])).toEqual([multiWorkerDrill]);
    expect(serverDrillsFor(['1']).map((d) => d.id)).toEqual(['1-server-sigkill']);
  });
});

describeWhere(missing, 'three-worker drill (quick)', () => {
  it('two SIGKILLs and a halt: no duplicate order, no lost or double-counted fill, the halt everywhere', { timeout: 10 * 60_000 }, async () => {
    const lines: string[] = [];
    const run = await runServerDrills({ only: [MULTI_WORKER_DRILL_ID], quick: true, env: process.env, log: (l) => lines.push(l) });
    console.log(`${lines.join('\n')}\n${formatReport(run.results)}`);
    expect(run.error).toBeNull();
    expect(run.results.map((r) => r.id)).toEqual([MULTI_WORKER_DRILL_ID]);
    const [result] = run.results;
    expect(result!.checksFailed).toEqual([]);
    expect(result!.counts).toMatchObject({ duplicates: 0, lostFills: 0, doubleCountedFills: 0, unresolved: 0 });
    expect(result!.counts.trials).toBeGreaterThanOrEqual(multiWorkerDrill.quickTrials);
    expect(result!.notes.some((n) => n.includes('(mid-session)'))).toBe(true);
    expect(result!.notes.some((n) => n.includes('(mid-submit)'))).toBe(true);
    expect(targetsMet(result!)).toBe(true);
  });
});
