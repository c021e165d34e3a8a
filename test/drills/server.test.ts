/**
 * The server form of the drills (drills/temporal/): its gate always, the drills themselves only
 * when TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH names a server (never downloaded).
 */
import { describe, expect, it } from 'vitest';
import { runAllDrills } from '../../drills/index';
import { runServerDrills, serverGate, SERVER_DRILLS, SKIPPED_REASON } from '../../drills/temporal/index';
import { targetsMet } from '../../drills/types';
import { describeWhere } from '../support/requirements';

const gate = serverGate(process.env);

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
  it('every server-form drill meets its targets (quick)', { timeout: 15 * 60_000 }, async () => {
    const run = await runServerDrills({ quick: true, env: process.env });
    expect(run.error).toBeNull();
    expect(run.results.map((r) => r.id)).toEqual(SERVER_DRILLS.map((d) => d.id));
    for (const r of run.results) {
      expect(r.checksFailed).toEqual([]);
      expect(r.counts).toMatchObject({ duplicates: 0, lostFills: 0, doubleCountedFills: 0 });
      expect(r.counts.unresolvedAlerted).toBe(r.counts.unresolved);
      expect(targetsMet(r)).toBe(true);
    }
  });
});
