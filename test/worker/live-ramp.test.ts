/**
 * The LIVE capital ramp against the records (worker/stages.ts): the first start records the
 * first step only when it goes; a step stays while the LIVE criteria over its period fail and
 * moves up one step, durably, when they pass against the baseline (LIVE_RAMP_BASELINE); a
 * step's figures come from the fills, execution records and alerts since it began.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { listLiveCapitalSteps, recordAlert, recordExecution, recordFills, recordLiveCapitalStep } from '../../db';
import type { Money, Price, Quantity } from '../../domain/money';
import { buildConfig, type Env, type WorkerConfig } from '../../runtime/config';
import { guardStart, liveRunStats, liveStartChecks, StageRefused } from '../../worker/stages';
import { kalshiKeyPair, KALSHI_KEY_ID } from '../../testkit/venue-harness';
import { forEachBackend } from '../db/harness';

const DAY = 86_400_000;
const ACCOUNT = 'kalshi-demo';
const LIVE: Env = {
  TRADING_STAGE: 'LIVE',
  VENUE: 'kalshi',
  KALSHI_API_KEY_ID: KALSHI_KEY_ID,
  KALSHI_PRIVATE_KEY_PEM: kalshiKeyPair().privateKeyPem,
  LIVE_CONFIRM: 'true',
  LIVE_CAPITAL_CAP: '2000.00',
  SMTP_HOST: 'smtp.example.com',
  ALERT_EMAIL_FROM: 'bot@example.com',
  ALERT_EMAIL_TO: 'ops@example.com',
};
const PASSING = async () => [{ name: 'VENUE_REACHABLE' as const, ok: true, detail: 'kalshi answered' }];

forEachBackend('the LIVE capital ramp in the records', (backend) => {
  /** The deps the LIVE checks read: the records, the account, and a venue that reports `cash`. */
  const depsWith = (cash: number): ActivityDeps => ({ db: backend.db, venue: { getBalance: async () => ({ cash: cash as Money }) }, config: { account: ACCOUNT } }) as unknown as ActivityDeps;

  it('records the first step only when the start goes, then keeps it while the criteria are not met', async () => {
    const config = buildConfig(LIVE);
    const t0 = Date.now();
    // $400 does not cover 25% of $2,000: NO-GO, nothing recorded.
    await expect(guardStart(config, PASSING, () => {}, liveStartChecks(depsWith(400_000_000), config, () => t0))).rejects.toBeInstanceOf(StageRefused);
    expect(await listLiveCapitalSteps(backend.db, ACCOUNT)).toEqual([]);

    const first = await guardStart(config, PASSING, () => {}, liveStartChecks(depsWith(600_000_000), config, () => t0));
    expect(first.ramp).toMatchObject({ step: { percent: 25, since: t0 }, toRecord: { percent: 25 } });
    expect(await listLiveCapitalSteps(backend.db, ACCOUNT)).toEqual([{ account: ACCOUNT, percent: 25, capitalCap: 2_000_000_000, capital: 500_000_000, beganAt: t0, reason: 'first LIVE start: the ramp begins at 25% of the cap' }]);

    // A day later, with no trades and no baseline: the criteria fail, the step stays.
    let printed = '';
    const again = await guardStart(config, PASSING, (t) => (printed += t), liveStartChecks(depsWith(600_000_000), config, () => t0 + DAY));
    expect(again.ramp).toMatchObject({ step: { percent: 25, since: t0 }, toRecord: null, next: 50 });
    expect(printed).toMatch(/Stage report: LIVE/);
    expect(printed).toMatch(/DURATION\s+FAIL/);
    expect(again.rows.find((r) => r.check === 'CAPITAL_RAMP_STEP')?.detail).toMatch(/LIVE_RAMP_BASELINE is not set: the ramp needs the figures of the stage before LIVE/);
    expect(printed).toMatch(/Capital ramp: step 1 of 3: 25% of the cap \$2000.00 = \$500.00/);
    expect(await listLiveCapitalSteps(backend.db, ACCOUNT)).toHaveLength(1);
  });

  it('moves up one step when every LIVE criterion passes over the step against the baseline, and only once', async () => {
    const now = Date.now();
    const since = now - 30 * DAY;
    await recordLiveCapitalStep(backend.db, { account: ACCOUNT, percent: 25, capitalCap: 2_000_000_000 as Money, capital: 500_000_000 as Money, beganAt: since, reason: 'first LIVE start' });
    // One round trip two days ago: buy 10 at 0.40, sell 10 at 0.50, both at the signal's price.
    const at = now - 2 * DAY;
    const fill = (tradeId: string, clientOrderId: string, side: 'BUY' | 'SELL', price: number, ts: number) => ({ tradeId, clientOrderId, marketId: 'KXFED', side, quantity: 10 as Quantity, price: price as Price, fee: 0 as Money, ts });
    await recordFills(backend.db, [fill('K-1', 'live-20260101-000001', 'BUY', 400_000, at), fill('K-2', 'live-20260101-000002', 'SELL', 500_000, at + 60_000)], { account: ACCOUNT });
    for (const [id, side, price, ts] of [['live-20260101-000001', 'BUY', 400_000, at], ['live-20260101-000002', 'SELL', 500_000, at + 60_000]] as const) {
      await recordExecution(backend.db, {
        clientOrderId: id,
        marketId: 'KXFED',
        side,
        intendedPrice: price as Price,
        orderQuantity: 10 as Quantity,
        fills: [{ quantity: 10 as Quantity, price: price as Price, fee: 0 as Money, ts }],
        signalAt: ts - 1_000,
        submittedAt: ts - 500,
        firstFillAt: ts,
        completedAt: ts,
        finalState: 'FILLED',
      });
    }
    const stats = await liveRunStats(backend.db, { account: ACCOUNT, since, now, timeZone: 'UTC' });
    expect(stats).toMatchObject({ stage: 'LIVE', days: 30, totalTrades: 2, winRate: 1, totalPnl: 1_000_000, maxDrawdown: 0, fillRate: 1, averageSlippage: 0, systemErrors: 0 });

    // The baseline: the SHADOW run the LIVE figures are judged against.
    const dir = mkdtempSync(join(tmpdir(), 'ramp-'));
    const baselinePath = join(dir, 'shadow.json');
    writeFileSync(baselinePath, JSON.stringify({ ...stats, stage: 'SHADOW', days: 7, totalPnl: '1.05', maxDrawdown: '0.00', averageSlippage: '0.002' }));
    const config: WorkerConfig = buildConfig({ ...LIVE, LIVE_RAMP_BASELINE: baselinePath });

    const moved = await guardStart(config, PASSING, () => {}, liveStartChecks(depsWith(5_000_000_000), config, () => now));
    expect(moved.ramp).toMatchObject({ step: { percent: 50, since: now }, previous: { percent: 25 }, toRecord: { percent: 50 } });
    expect(moved.rows.find((r) => r.check === 'CAPITAL_RAMP_STEP')?.detail).toMatch(/^step 2 of 3: 50% of the cap \$2000.00 = \$1000.00 \(up from 25%\)/);
    expect((await listLiveCapitalSteps(backend.db, ACCOUNT)).map((s) => [s.percent, s.capital])).toEqual([[25, 500_000_000], [50, 1_000_000_000]]);

    // The new step's period starts empty: the next start stays at 50%.
    const next = await guardStart(config, PASSING, () => {}, liveStartChecks(depsWith(5_000_000_000), config, () => now + 1_000));
    expect(next.ramp).toMatchObject({ step: { percent: 50, since: now }, toRecord: null });

    // A CRITICAL alert inside a step counts as a system error (the NO_SYSTEM_ERRORS criterion).
    await recordAlert(backend.db, { level: 'CRITICAL', type: 'RECONCILIATION_MISMATCH', dedupeKey: 'RM:1', title: 'mismatch', body: 'records hold 10, venue 0', raisedAt: now + 500 });
    expect((await liveRunStats(backend.db, { account: ACCOUNT, since: now, now: now + 1_000, timeZone: 'UTC' })).systemErrors).toBe(1);
    expect(await listLiveCapitalSteps(backend.db, ACCOUNT)).toHaveLength(2);
  });
});
