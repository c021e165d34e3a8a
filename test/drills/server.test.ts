/**
 * The server form of the drills (drills/temporal/): its gate always, the drills themselves only
 * when TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH names a server (never downloaded): the quick form,
 * and drill 1 run twice against one server (every workflow ID of a run is its own, so a second
 * run the same day against a server that keeps the first one's workflows passes too).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { runAllDrills } from '../../drills/index';
import { SERVER_KILL_POINTS } from '../../drills/temporal/crash';
import { runServerDrills, serverGate, SERVER_DRILLS, SKIPPED_REASON } from '../../drills/temporal/index';
import { DRILL_DEV_SERVER_ARGS } from '../../drills/temporal/server';
import { targetsMet, type DrillResult } from '../../drills/types';
import { describeWhere } from '../support/requirements';

const gate = serverGate(process.env);

function expectTargetsMet(results: readonly DrillResult[]): void {
  for (const r of results) {
    expect(r.checksFailed, r.id).toEqual([]);
    expect(r.counts, r.id).toMatchObject({ duplicates: 0, lostFills: 0, doubleCountedFills: 0 });
    expect(r.counts.unresolvedAlerted, r.id).toBe(r.counts.unresolved);
    expect(targetsMet(r), r.id).toBe(true);
  }
}

describe('server-form gate', () => {
  it('skips without TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH, naming both', async () => {
    const g = serverGate({ TEMPORAL_ADDRESS: '', TEMPORAL_CLI_PATH: '  ' });
    expect(g).toEqual({ configured: false, reason: SKIPPED_REASON });
    expect(SKIPPED_REASON).toContain('TEMPORAL_ADDRESS');
    expect(SKIPPED_REASON).toContain('TEMPORAL_CLI_PATH');
    const run = await runServerDrills({ env: {} });
    expect(run).toMatchObject({ results: [], skipped: true, error: null });
    expect(run.summary).toContain(SKIPPED_REASON);
  });

  it('runs with either variable, the address first', () => {
    expect(serverGate({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_CLI_PATH: '/opt/temporal' })).toMatchObject({ configured: true, via: 'TEMPORAL_ADDRESS', value: '127.0.0.1:7233' });
    expect(serverGate({ TEMPORAL_CLI_PATH: '/opt/temporal' })).toMatchObject({ configured: true, via: 'TEMPORAL_CLI_PATH', value: '/opt/temporal' });
  });

  it('runAllDrills reports the skip after the no-server drills it was asked for', async () => {
    const all = await runAllDrills({ only: ['none'], env: {} });
    expect(all.results).toEqual([]);
    expect(all.server.skipped).toBe(true);
    expect(all.server.summary).toContain('server form skipped');
  });
});

describeWhere(gate.configured ? null : SKIPPED_REASON, gate.configured ? `server-form drills (${gate.describe})` : 'server-form drills', () => {
  it('every server-form drill meets its targets (quick), drill 1 at every kill point', { timeout: 15 * 60_000 }, async () => {
    const run = await runServerDrills({ quick: true, env: process.env });
    expect(run.error).toBeNull();
    const ids = run.results.map((r) => r.id.trim());
    expect(ids).toEqual(expect.arrayContaining(SERVER_DRILLS.map((d) => d.id)));
    expect(ids).toEqual(expect.arrayContaining([...SERVER_KILL_POINTS]));
    for (const point of SERVER_KILL_POINTS) expect(run.results.find((r) => r.id.trim() === point)?.counts.trials, point).toBeGreaterThan(0);
    expectTargetsMet(run.results);
  });

  it('drill 1 passes twice in a row against the same server', { timeout: 15 * 60_000 }, async () => {
    // The server the first run leaves its workflows on: TEMPORAL_ADDRESS's, or one dev server started here for both runs.
    const own = gate.configured && gate.via === 'TEMPORAL_CLI_PATH'
      ? await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: gate.value }, ip: '127.0.0.1', extraArgs: [...DRILL_DEV_SERVER_ARGS], log: { format: 'pretty', level: 'error' } } })
      : null;
    try {
      const env = own ? { TEMPORAL_ADDRESS: own.address } : process.env;
      for (const attempt of [1, 2]) {
        const run = await runServerDrills({ only: ['1-server'], trials: 7, seed: attempt, env });
        expect(run.error, `run ${attempt}`).toBeNull();
        expect(run.results[0]?.counts.trials, `run ${attempt}`).toBe(7);
        expectTargetsMet(run.results);
      }
    } finally {
      await own?.teardown();
    }
  });
});
