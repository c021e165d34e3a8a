/**
 * The deploy drill (drills/deploy/drill.ts) in its quick form on a Temporal server of its own:
 * orders and a session opened on version 1 finish on version 2 (patched()), new orders take the
 * v2 path, the records match the venue; and the same change without patched() fails the open
 * orders' replay and their workflow tasks with a nondeterminism error. The helpers that read the
 * histories are checked against hand-made events first, so the drill's checks can fail.
 */
import { describe, expect, it } from 'vitest';
import { serverGate } from '../../drills/temporal/gate';
import { DrillTemporal } from '../../drills/temporal/server';
import { DEPLOY_DRILL_PATCH, V2_SETTLE_MS } from '../../drills/deploy/version';
import { QUICK_SIZES, historyFacts, installQuietRuntime, isPatchMarker, runDeployDrill } from '../../drills/deploy/drill';
import { formatReport } from '../../drills/table';
import { targetsMet } from '../../drills/types';
import { describeWhere } from '../support/requirements';

installQuietRuntime();
const gate = serverGate(process.env);
const payload = (text: string) => ({ payloads: [{ data: new TextEncoder().encode(text) }] });
const patchMarker = (id: string) => ({ eventType: 25, markerRecordedEventAttributes: { markerName: 'core_patch', details: { patch_data: payload(JSON.stringify({ id, deprecated: false })) } } });
const timer = (ms: number) => ({ eventType: 17, timerStartedEventAttributes: { startToFireTimeout: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } } });
const activity = { eventType: 10 };

describe('reading the deploy drill histories', () => {
  it('finds the v2 patch marker only under its own ID', () => {
    expect(isPatchMarker(patchMarker(DEPLOY_DRILL_PATCH), DEPLOY_DRILL_PATCH)).toBe(true);
    expect(isPatchMarker(patchMarker('order-fill-sync-step'), DEPLOY_DRILL_PATCH)).toBe(false);
    expect(isPatchMarker({ eventType: 25, markerRecordedEventAttributes: { markerName: 'core_local_activity', details: { data: payload(DEPLOY_DRILL_PATCH) } } }, DEPLOY_DRILL_PATCH)).toBe(false);
  });

  it('tells the v2 path (marker, settle timer before the first activity) from the v1 path, and counts task failures', () => {
    expect(historyFacts([patchMarker(DEPLOY_DRILL_PATCH), timer(V2_SETTLE_MS), activity])).toEqual({ taskFailures: [], unhandledCommands: 0, v2Marker: true, v2TimerFirst: true });
    expect(historyFacts([activity, timer(V2_SETTLE_MS)])).toMatchObject({ v2Marker: false, v2TimerFirst: false });
    expect(historyFacts([timer(1_000), activity])).toMatchObject({ v2TimerFirst: false });
    const failed = historyFacts([{ eventType: 9, workflowTaskFailedEventAttributes: { cause: 24, failure: { message: '[TMPRL1100] Nondeterminism error' } } }]);
    expect(failed.taskFailures).toEqual(['24: [TMPRL1100] Nondeterminism error']);
    const refused = historyFacts([{ eventType: 9, workflowTaskFailedEventAttributes: { cause: 1, failure: { message: 'UnhandledCommand' } } }]);
    expect(refused).toMatchObject({ taskFailures: [], unhandledCommands: 1 });
  });
});

describeWhere(gate.configured ? null : gate.reason, 'deploy drill (quick, Temporal server)', () => {
  it('open workflows finish on v2, new ones take the v2 path, the unpatched change fails nondeterministically', { timeout: 240_000 }, async () => {
    if (!gate.configured) throw new Error(gate.reason);
    const temporal = await DrillTemporal.open(gate, process.env);
    try {
      const report = await runDeployDrill(temporal, QUICK_SIZES, () => {});
      console.log(formatReport([report.result]));
      expect(report.result.checksFailed).toEqual([]);
      expect(report.result.counts).toMatchObject({ duplicates: 0, lostFills: 0, doubleCountedFills: 0, unresolved: 0 });
      expect(targetsMet(report.result)).toBe(true);
      // Orders of every kind and the session were open across the deploy (past their first
      // workflow task: the drill fails otherwise); each open order fails to replay unpatched.
      expect(report.openOrdersAtDeploy).toBeGreaterThanOrEqual(3);
      expect(report.openAtDeploy).toBe(report.openOrdersAtDeploy + QUICK_SIZES.sessions);
      expect(report.replayV2Failures).toBe(0);
      expect(report.replayUnpatchedFailures).toBe(report.openOrdersAtDeploy);
      expect(report.unsafeOpenAtDeploy).toBeGreaterThan(0);
      expect(report.unsafeNondeterministic).toBe(report.unsafeOpenAtDeploy);
      const states = Object.values(report.finalStates);
      expect(states.filter((s) => s === 'FILLED')).toHaveLength(QUICK_SIZES.filling + QUICK_SIZES.queued + QUICK_SIZES.fresh);
      expect(states.filter((s) => s === 'CANCELED').length).toBeGreaterThanOrEqual(QUICK_SIZES.resting + QUICK_SIZES.unsafe + QUICK_SIZES.sessions);
    } finally {
      await temporal.close();
    }
  });
});
