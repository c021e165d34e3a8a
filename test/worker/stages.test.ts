/**
 * The stage wiring: the LIVE guard and its go/no-go table, the stage-report CLI on the case
 * study's figures, and the shadow comparison on live orders recorded by the real activities.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { PreflightCheck } from '../../contracts/activities';
import { CASE_STUDY_FILL_MODEL } from '../../domain/fill-model';
import type { Price } from '../../domain/money';
import { buildConfig, type Env } from '../../runtime/config';
import { CapturedLines } from '../../runtime/logging';
import { decideRamp } from '../../domain/stages';
import type { Money } from '../../domain/money';
import { kalshiKeyPair, KALSHI_KEY_ID } from '../../testkit/venue-harness';
import { guardStart, type LiveStartChecks, loadShadowExecutions, main, runShadow, StageRefused, stageReport } from '../../worker/stages';
import { startObservability } from '../../worker/observability';
import { contracts, inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const PASSING: PreflightCheck[] = [
  { name: 'VENUE_REACHABLE', ok: true, detail: 'paper answered' },
  { name: 'MARKET_DATA_FRESH', ok: true, detail: 'quote ages 120 ms' },
  { name: 'RISK_CONFIG_VALID', ok: true, detail: 'valid' },
  { name: 'RECONCILIATION_CLEAN', ok: true, detail: 'agree' },
  { name: 'ALERTING_REACHABLE', ok: true, detail: 'SMTP server answered' },
];
const SMTP: Env = { SMTP_HOST: 'smtp.example.com', ALERT_EMAIL_FROM: 'bot@example.com', ALERT_EMAIL_TO: 'ops@example.com' };
const KALSHI_DEMO: Env = { VENUE: 'kalshi', KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: kalshiKeyPair().privateKeyPem };
const LIVE_OK: Env = { ...SMTP, ...KALSHI_DEMO, TRADING_STAGE: 'LIVE', LIVE_CONFIRM: 'true', LIVE_CAPITAL_CAP: '2000.00' };
/** A first LIVE start on an account holding $1,000: the ramp's first step (25% of $2,000 = $500) is covered. */
const FIRST_STEP: LiveStartChecks = {
  plan: async () => ({ ramp: decideRamp({ steps: [25, 50, 100], recorded: null, report: null, now: Date.UTC(2026, 0, 5) }), balance: 1_000_000_000 as Money, problems: [], report: null }),
  commit: async () => undefined,
};

async function refusal(env: Env, checks: PreflightCheck[] | Error = PASSING): Promise<{ error: StageRefused; printed: string }> {
  let printed = '';
  const run = async () => {
    if (checks instanceof Error) throw checks;
    return checks;
  };
  const e = await guardStart(buildConfig(env), run, (t) => (printed += t), FIRST_STEP).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(StageRefused);
  return { error: e as StageRefused, printed };
}

describe('LIVE guard', () => {
  it('starts live with the flag, a cap covering the exposure limit, alert email and a clean pre-flight; prints the table', async () => {
    let printed = '';
    const g = await guardStart(buildConfig(LIVE_OK), async () => PASSING, (t) => (printed += t), FIRST_STEP);
    expect(g.go).toBe(true);
    expect(printed).toMatch(/^Go\/no-go for LIVE/);
    expect(printed).toMatch(/LIVE_CONFIRMED\s+PASS/);
    expect(printed).toMatch(/CAPITAL_CAP_SET\s+PASS\s+capital cap 2000.00/);
    expect(printed).toMatch(/PREFLIGHT RECONCILIATION_CLEAN\s+PASS/);
    expect(printed).toMatch(/CAPITAL_RAMP_STEP\s+PASS\s+step 1 of 3: 25% of the cap \$2000.00 = \$500.00/);
    expect(printed).toMatch(/VENUE_BALANCE\s+PASS\s+balance \$1000.00 covers the session's capital \$500.00/);
    expect(printed).toMatch(/GO: LIVE may start/);
  });

  it('refuses without the confirmation flag', async () => {
    const { error, printed } = await refusal({ ...LIVE_OK, LIVE_CONFIRM: 'false' });
    expect(error.message).toBe('LIVE refused to start: LIVE_CONFIRMED: LIVE_CONFIRM is not true: a live start must be confirmed explicitly');
    expect(printed).toMatch(/LIVE_CONFIRMED\s+FAIL/);
    expect(printed).toMatch(/NO-GO: LIVE refused \(1 failed check\)/);
  });

  it('refuses without a capital cap', async () => {
    const { error } = await refusal({ ...LIVE_OK, LIVE_CAPITAL_CAP: undefined });
    expect(error.goNoGo.refusals).toEqual([
      expect.stringMatching(/^CAPITAL_CAP_SET: LIVE_CAPITAL_CAP is not set/),
      expect.stringMatching(/^EXPOSURE_WITHIN_CAP: no capital cap/),
      expect.stringMatching(/^CAPITAL_RAMP_STEP: no ramp step decided/),
      expect.stringMatching(/^VENUE_BALANCE: balance \$1000.00; no step capital/),
    ]);
  });

  it('refuses when a pre-flight check fails, or pre-flight cannot run', async () => {
    const stale = PASSING.map((c) => (c.name === 'MARKET_DATA_FRESH' ? { ...c, ok: false, detail: 'quotes older than 90000 ms: PRES-2028 240000 ms' } : c));
    const { error, printed } = await refusal(LIVE_OK, stale);
    expect(error.message).toMatch(/PREFLIGHT MARKET_DATA_FRESH: quotes older than 90000 ms: PRES-2028 240000 ms/);
    expect(printed).toMatch(/PREFLIGHT MARKET_DATA_FRESH\s+FAIL/);
    expect(printed).toMatch(/PREFLIGHT VENUE_REACHABLE\s+PASS/);
    const down = await refusal(LIVE_OK, new Error('connect ECONNREFUSED'));
    expect(down.error.message).toMatch(/pre-flight could not run: connect ECONNREFUSED/);
  });

  it('names every failure at once: no flag, no cap, no SMTP, failed check', async () => {
    const { error } = await refusal({ TRADING_STAGE: 'LIVE', ...KALSHI_DEMO }, [{ name: 'VENUE_REACHABLE', ok: false, detail: 'NETWORK: connection failed' }]);
    expect(error.goNoGo.refusals.map((r) => r.split(':')[0])).toEqual(['LIVE_CONFIRMED', 'CAPITAL_CAP_SET', 'EXPOSURE_WITHIN_CAP', 'ALERTS_DELIVERED', 'CAPITAL_RAMP_STEP', 'VENUE_BALANCE', 'PREFLIGHT VENUE_REACHABLE']);
  });

  it('paper needs no flag or cap but a clean pre-flight; a backtest runs no pre-flight', async () => {
    expect((await guardStart(buildConfig({ TRADING_STAGE: 'PAPER' }), async () => PASSING, () => {})).go).toBe(true);
    await refusal({ TRADING_STAGE: 'PAPER' }, [{ name: 'VENUE_REACHABLE', ok: false, detail: 'down' }]);
    let ran = false;
    const g = await guardStart(buildConfig({ TRADING_STAGE: 'BACKTEST' }), async () => ((ran = true), []), () => {});
    expect(g.go).toBe(true);
    expect(ran).toBe(false);
  });
});

describe('stage report CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stage-report-'));
  const file = (name: string, body: unknown): string => {
    const p = join(dir, name);
    writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
    return p;
  };
  // Reference 001, "Paper Trading Results".
  const backtest = file('backtest.json', { stage: 'backtest', days: 21, totalTrades: 68, winRate: 0.603, totalPnl: '187.00', maxDrawdown: '145.00', fillRate: 1, averageSlippage: '0', systemErrors: 0 });
  const paper = file('paper.json', { stage: 'paper', days: 21, totalTrades: 54, winRate: 0.574, totalPnl: '98.00', maxDrawdown: '178.00', fillRate: 0.78, averageSlippage: '0.003', systemErrors: 0 });

  it('case study: paper +$98 against backtest +$187 is 47.6% off, so shadow is not justified (exit 3)', async () => {
    let out = '';
    expect(await main(['report', paper, backtest], {}, (t) => (out += t))).toBe(3);
    expect(out).toMatch(/Stage report: PAPER compared with BACKTEST/);
    expect(out).toMatch(/PNL_WITHIN_TOLERANCE\s+FAIL\s+\+\$98.00/);
    expect(out).toMatch(/PAPER P&L is 47.6% below BACKTEST \(allowed 10.0%\)/);
    expect(out).toMatch(/FILL_RATE\s+FAIL\s+78.0%/);
    expect(out).toMatch(/Verdict: SHADOW is NOT justified/);
    const { report } = stageReport(
      { stage: 'PAPER', days: 21, totalTrades: 54, winRate: 0.574, totalPnl: 98_000_000, maxDrawdown: 178_000_000, fillRate: 0.78, averageSlippage: 3_000, systemErrors: 0 } as never,
      { stage: 'BACKTEST', days: 21, totalTrades: 68, winRate: 0.603, totalPnl: 187_000_000, maxDrawdown: 145_000_000, fillRate: 1, averageSlippage: 0, systemErrors: 0 } as never,
    );
    expect(report.justified).toBe(false);
    expect(report.reasons.map((r) => r.split(' ')[0])).toEqual(['PNL_WITHIN_TOLERANCE', 'MAX_DRAWDOWN', 'FILL_RATE']);
  });

  it('exits 0 when the next stage is justified, and 2 naming the bad fields of a bad file', async () => {
    const good = file('good.json', { stage: 'PAPER', days: 21, totalTrades: 60, winRate: 0.6, totalPnl: '180.00', maxDrawdown: '150.00', fillRate: 0.85, averageSlippage: '0.003', systemErrors: 0 });
    expect(await main(['report', good, backtest], {}, () => {})).toBe(0);
    let err = '';
    const bad = file('bad.json', { stage: 'PAPER', days: -1, totalTrades: 1, winRate: 2, totalPnl: '1.2345678', maxDrawdown: '0', fillRate: null, averageSlippage: null, systemErrors: 0 });
    expect(await main(['report', bad, backtest], {}, () => {}, (t) => (err += t))).toBe(2);
    expect(err).toMatch(/current.days/);
    expect(err).toMatch(/current.winRate/);
    expect(err).toMatch(/current.totalPnl/);
    expect(await main(['report', file('broken.json', '{nope'), backtest], {}, () => {}, () => {})).toBe(2);
    expect(await main(['nonsense'], {}, () => {}, () => {})).toBe(2);
  });
});

describe('observability from the config', () => {
  it('serves /metrics on the configured loopback port and logs at the configured level with the stage', async () => {
    const lines = new CapturedLines();
    const o = await startObservability(buildConfig({ METRICS_PORT: '0', LOG_LEVEL: 'warn', TRADING_STAGE: 'SHADOW' }), { destination: lines, processMetrics: false });
    expect(o.server).toBeNull();
    o.log.info('dropped at warn');
    o.log.warn({ event: 'stage' }, 'kept');
    expect(lines.lines).toEqual([expect.objectContaining({ msg: 'kept', stage: 'SHADOW' })]);
    expect(await o.metrics.exposition()).toContain('trader_stage_info{stage="SHADOW"} 1');
    await o.close();
  });
});

forEachBackend('shadow comparison on recorded live orders', (backend) => {
  let x: TestExchange;
  beforeEach(async () => {
    x = await startTestExchange();
  });
  afterEach(async () => {
    await x.close();
  });

  it('reads each live order with its decision quote and fills, and compares them with the paper fill model', async () => {
    const since = Date.now() - 1_000;
    const deps = makeDeps({ db: backend.db, venue: x.venue });
    const a = createActivities(deps);
    const day = new Date().toISOString().slice(0, 10);
    const id = `sh-${day.replaceAll('-', '')}-000001`;
    const order = { clientOrderId: id, marketId: x.market.marketId, side: 'BUY' as const, quantity: contracts(3), limitPrice: await x.crossingBuy() };
    const ctx = { strategy: 'sh', sessionWorkflowId: `session-sh-${day}`, tradingDay: day, signal: { price: order.limitPrice, confidence: 1, at: Date.now(), metadata: {} } };
    expect((await inActivity(() => a.assessOrder({ order, context: ctx, halted: null, ordersInLastMinute: 0 }))).approved).toBe(true);
    await inActivity(() => a.submitOrder(order));
    for (let i = 0; i < 100 && (await inActivity(() => a.pollOrder(id))).fills.reduce((n, f) => n + f.quantity, 0) < 3; i++) await new Promise((r) => setTimeout(r, 30));

    const { executions, signals } = await loadShadowExecutions(backend.db, { strategy: 'sh', since, markets: [x.market] });
    expect(executions).toHaveLength(1);
    const e = executions[0]!;
    expect(e).toMatchObject({ clientOrderId: id, side: 'BUY', quantity: 3, tickSize: x.market.tickSize });
    expect(e.ask).not.toBeNull();
    expect(e.observedFills.reduce((n, f) => n + f.quantity, 0)).toBe(3);
    expect(signals).toEqual([{ marketId: x.market.marketId, side: 'BUY', at: expect.any(Number) }]);

    const report = runShadow({
      strategyName: 'ma-crossover',
      strategyParams: {},
      markets: [x.market],
      snapshots: [],
      liveSignals: signals,
      executions,
      // The decision quote's interval volume is the order's own size at most: no participation cap.
      fillModel: { ...CASE_STUDY_FILL_MODEL, participationRate: 1 },
      sizing: { kind: 'confidence', maxOrderSize: 10 },
      seed: 1,
    });
    // No quotes replayed: the one live signal has no partner.
    expect(report.alignment).toMatchObject({ matched: 0, alignment: 0 });
    expect(report.slippage.orders).toBe(1);
    expect(report.slippage.observedFillRate).toBe(1);
    expect(report.slippage.modelledFillRate).toBeGreaterThan(0.6);
    // The paper exchange here fills at the touch without noise: observed slippage is 0 or better.
    expect(report.slippage.observedSlippage).toBeLessThanOrEqual(0);
    expect(report.slippage.modelledAccurately).toBe(true);
    expect(report.text).toMatch(/signal alignment 0.0%/);
    expect(report.text).toMatch(/modelled accurately/);
    expect(e.limitPrice).toBe(order.limitPrice as Price);
  });
});
