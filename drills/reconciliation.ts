/**
 * Drill 4: a position changed at the venue behind the system's back (the exchange's admin
 * position adjustment: no order, no fill). A reconciliation run (workflows/reconciliation.ts
 * ReconciliationRun on the real operations activities) must find it and apply the policy:
 * - WARN_ONLY: alert, records unchanged, no halt;
 * - TRUST_VENUE: alert, the venue's figures adopted into the records, no halt;
 * - HALT_AND_ALERT: alert, the running session halted, wait for the operator; on ADOPT_VENUE
 *   the venue's figures are adopted, on STAY_HALTED the records stay and the session stays halted.
 * The running session is testkit/paper-session.ts; its halt is what the workflow's
 * haltSession signal delivers. After a trial that leaves the difference in place the drill
 * reverses the venue change (the operator fixes the venue side) and resumes the session.
 */
import type { ReconciliationPolicy } from '../domain/reconciliation';
import { startPaperSession } from '../testkit/paper-session';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { seededRandom } from '../domain/random';
import { ReconciliationRun } from '../workflows/reconciliation';
import { listDiscrepancies } from '../db';
import { allVenueFills, audit, rows } from './audit';
import { cappedWaitFor, OPERATIONS_RETRY_RULE, sleep, withRetryPolicies } from './controllers';
import { addCounts, zeroCounts, type Drill, type DrillResult } from './types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from './world';

type Case = { policy: ReconciliationPolicy; decision: 'ADOPT_VENUE' | 'STAY_HALTED' | null };
const CASES: readonly Case[] = [
  { policy: 'WARN_ONLY', decision: null },
  { policy: 'TRUST_VENUE', decision: null },
  { policy: 'HALT_AND_ALERT', decision: 'ADOPT_VENUE' },
  { policy: 'HALT_AND_ALERT', decision: 'STAY_HALTED' },
];

const OPERATOR = { operator: 'drill-operator', reason: 'drill 4' };

export const reconciliationDrill: Drill = {
  id: '4-venue-position-changed',
  title: 'A position changed at the venue behind the system: reconciliation finds it and applies the policy',
  defaultTrials: 12,
  quickTrials: 4,
  async run({ trials, seed, log }): Promise<DrillResult> {
    const started = Date.now();
    const rng = seededRandom(seed + 4);
    const world = await DrillWorld.open('recon');
    const notes = [`records: ${world.backend.describe}`, 'ReconciliationRun and the paper session driven without a Temporal server (operator decisions delivered as the signal handlers receive them)'];
    const checksFailed: string[] = [];
    const fail = (trial: number, what: string) => checksFailed.push(`trial ${trial}: ${what}`);
    const ops = withRetryPolicies(world.activities(), () => OPERATIONS_RETRY_RULE, { deadline: Date.now() + 10 * 60_000 });
    const market = world.markets[0]!;
    // A running session for the halt to reach; its strategy may trade too (fills are synced before every comparison).
    const session = startPaperSession({
      db: world.db,
      venue: world.venue,
      marketIds: [market.marketId],
      strategy: 'recon',
      durationMs: 10 * 60_000,
      maxWaitMs: 100,
      activityAttempts: 40,
      config: { limits: DRILL_LIMITS, breakers: { ...CASE_STUDY_BREAKERS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 }, reconciliation: { policy: 'HALT_AND_ALERT', cashTolerance: 10_000 } },
    });
    const adopted = new Map<string, number>();
    const applied: Record<string, number> = {};
    try {
      await session.until('the session trades', () => session.session.status().mode !== 'PREFLIGHT', 20_000);
      // Something to hold, bought through the real lifecycle.
      await session.placeOrder({ marketId: market.marketId, side: 'BUY', quantity: 20, limitPrice: await world.crossingBuy(market.marketId) }).done;
      const recorded = async () => Number((await rows(world.db, `select quantity::bigint as q from positions where market_id = '${market.marketId}'`))[0]?.q ?? 0);
      const atVenue = async () => (await world.freshVenue().getPositions()).find((p) => p.marketId === market.marketId)?.quantity ?? 0;
      const baseline = await ops.reconcileAccount({ runId: 'recon-baseline', policy: 'HALT_AND_ALERT' });
      const serious = (o: { discrepancies: { severity: string }[] }) => o.discrepancies.filter((d) => d.severity !== 'INFO').length;
      if (serious(baseline) > 0) fail(0, `the baseline run found differences: ${baseline.decision.summary}`);

      for (let i = 0; i < trials; i++) {
        const c = CASES[i % CASES.length]!;
        const trial = i + 1;
        const delta = (rng.next() < 0.5 ? -1 : 1) * (1 + Math.floor(rng.next() * 5));
        const before = await recorded();
        world.exchange.admin.adjustPosition(PAPER_KEY_ID, market.marketId, delta);
        const venueQty = await atVenue();
        const runId = `recon-drill-${trial}`;
        const run = new ReconciliationRun(runId, { policy: c.policy, reminderMs: 60_000 }, {
          acts: ops,
          waitFor: cappedWaitFor(150),
          haltSession: async (id, request) => {
            if (id !== session.sessionWorkflowId) return false;
            session.halt(request);
            return true;
          },
        });
        const done = run.run();
        let haltedWhileWaiting = false;
        if (c.decision) {
          const deadline = Date.now() + 20_000;
          while (run.status().phase !== 'WAITING_FOR_OPERATOR' && Date.now() < deadline) await sleep(20);
          await sleep(200);
          haltedWhileWaiting = session.session.status().haltReason !== null;
          run.onDecision({ ...OPERATOR, decision: c.decision });
        }
        const status = await done;
        const after = await recorded();
        const alerts = await rows(world.db, `select 1 from alerts where dedupe_key = 'RECONCILIATION_MISMATCH:${runId}'`);
        const halted = session.session.status().haltReason !== null;
        const found = (await listDiscrepancies(world.db, runId)).filter((d) => d.kind === 'POSITION_QUANTITY_MISMATCH' && d.marketId === market.marketId);
        if (found.length !== 1) fail(trial, `${c.policy}: the venue change of ${delta} was found ${found.length} times`);
        if (alerts.length !== 1) fail(trial, `${c.policy}: ${alerts.length} mismatch alerts`);
        const adopts = c.policy === 'TRUST_VENUE' || c.decision === 'ADOPT_VENUE';
        if (adopts && after !== venueQty) fail(trial, `${c.policy}: records hold ${after}, the venue ${venueQty} after adoption`);
        if (!adopts && after !== before) fail(trial, `${c.policy}${c.decision ? `/${c.decision}` : ''}: records moved from ${before} to ${after}`);
        if (c.policy !== 'HALT_AND_ALERT' && (halted || status.haltedSessions.length > 0)) fail(trial, `${c.policy}: the session was halted`);
        if (c.policy === 'HALT_AND_ALERT' && (!haltedWhileWaiting || !status.haltedSessions.includes(session.sessionWorkflowId))) fail(trial, 'HALT_AND_ALERT: the session was not halted while the run waited');
        if (c.decision === 'STAY_HALTED' && !halted) fail(trial, 'STAY_HALTED: the session is trading again');
        if (c.decision && status.phase !== 'DECIDED') fail(trial, `the run ended in ${status.phase}, not DECIDED`);
        const key = `${c.policy}${c.decision ? `/${c.decision}` : ''}`;
        applied[key] = (applied[key] ?? 0) + 1;
        if (adopts) adopted.set(market.marketId, (adopted.get(market.marketId) ?? 0) + delta);
        else world.exchange.admin.adjustPosition(PAPER_KEY_ID, market.marketId, -delta);
        if (halted) session.resume(OPERATOR);
        // The next trial starts from a clean comparison.
        const clean = await ops.reconcileAccount({ runId: `recon-check-${trial}`, policy: 'WARN_ONLY' });
        if (serious(clean) > 0) fail(trial, `differences left after the trial: ${clean.decision.summary}`);
        log(`  trial ${trial}/${trials} ${key} delta ${delta}: ${status.phase}, ${status.discrepancies} discrepancies, records ${before} -> ${after}, venue ${venueQty}`);
      }
      await session.end();
      const fillSum = (await allVenueFills(world.freshVenue())).filter((f) => f.marketId === market.marketId).reduce((n, f) => n + (f.side === 'BUY' ? f.quantity : -f.quantity), 0);
      const expected = new Map([[market.marketId, fillSum + (adopted.get(market.marketId) ?? 0)]]);
      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, expectedPositions: expected });
      notes.push(`policies applied: ${Object.entries(applied).map(([k, n]) => `${k} x${n}`).join(', ')}`);
      notes.push(`positions checked against the venue's fills plus the adopted venue changes (${adopted.get(market.marketId) ?? 0} contracts adopted)`);
      for (const p of result.problems) notes.push(`finding: ${p}`);
      return { id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials, ...result.counts }), checksFailed, notes, elapsedMs: Date.now() - started };
    } finally {
      await session.end().catch(() => undefined);
      await world.close();
    }
  },
};
