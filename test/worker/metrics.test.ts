/**
 * Metrics and structured logs with the real activities: PGlite (and PostgreSQL when configured),
 * the paper exchange in-process, activities in MockActivityEnvironment. After a day's worth of
 * events the /metrics exposition holds every required family and the log one line per event
 * kind with its IDs; no secret value appears in either.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import type { ActivityDeps } from '../../activities/deps';
import type { OrderContext, OrderIntent } from '../../contracts/activities';
import type { FillPage, Venue, VenueMarketSnapshot } from '../../contracts/venue';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { Market } from '../../domain/market';
import type { Price, Quantity } from '../../domain/money';
import { applyOrderEvent, createOrder, type Order } from '../../domain/order';
import { CapturedLines, createLogger, type Logger } from '../../runtime/logging';
import { instrumentActivities, METRIC_NAMES, startMetricsServer, TradingMetrics } from '../../runtime/metrics';
import { PAPER_SECRET } from '../../testkit/venue-harness';
import { contracts, inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const DAY = new Date().toISOString().slice(0, 10);
const COMPACT = DAY.replaceAll('-', '');
const SESSION = `session-mr-${DAY}`;
const SMTP_SECRET = 'smtp-pass-Zq9!"quoted"';

const ctx: OrderContext = { strategy: 'mr', sessionWorkflowId: SESSION, tradingDay: DAY, signal: { price: 430_000 as Price, confidence: 0.8, at: 1_000, metadata: { z: -1.7 } } };
const info = (workflowId: string, activityType: string) => ({ workflowExecution: { workflowId, runId: 'run-1' }, activityType });

/** Quotes rising on each poll, so the moving-average crossover signals at once. */
class ScriptedVenue implements Partial<Venue> {
  readonly name = 'scripted';
  polls = 0;
  constructor(private readonly market: Market) {}
  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    const mid = [400_000, 400_000, 400_000, 430_000][Math.min(this.polls++, 3)]!;
    return { marketId, ts: Date.now(), bid: (mid - 10_000) as Price, ask: (mid + 10_000) as Price, last: mid as Price, averageDailyVolume: 100_000 as Quantity, intervalVolume: 0 as Quantity, bids: [], asks: [], volume24h: 0 as Quantity };
  }
  async listMarkets(): Promise<Market[]> {
    return [this.market];
  }
  async getFillsSince(cursor: string | null): Promise<FillPage> {
    return { fills: [], cursor: cursor ?? 'c-0', hasMore: false };
  }
}

forEachBackend('metrics and logs of the activities', (backend) => {
  let x: TestExchange;
  let metrics: TradingMetrics;
  let lines: CapturedLines;
  let log: Logger;

  beforeEach(async () => {
    metrics = new TradingMetrics({ stage: 'PAPER' });
    lines = new CapturedLines();
    log = createLogger({ level: 'debug', destination: lines, secrets: [PAPER_SECRET, SMTP_SECRET] });
    x = await startTestExchange({}, { logger: metrics.venueLogger(log) });
  });
  afterEach(async () => {
    await x.close();
  });

  async function trade(deps: ActivityDeps) {
    const acts = instrumentActivities(createActivities(deps), metrics, log);
    const id = `mr-${COMPACT}-000001`;
    const wf = `order-${id}`;
    const intent: OrderIntent = { clientOrderId: id, marketId: x.market.marketId, side: 'BUY', quantity: contracts(5), limitPrice: await x.crossingBuy() };
    const decision = await inActivity(() => acts.assessOrder({ order: intent, context: ctx, halted: null, ordersInLastMinute: 0 }), info(wf, 'assessOrder'));
    expect(decision.approved).toBe(true);
    let o: Order = createOrder({ clientOrderId: id, marketId: intent.marketId, side: 'BUY', quantity: 5, limitPrice: intent.limitPrice, ts: Date.now() });
    await inActivity(() => acts.recordOrder(o, ctx), info(wf, 'recordOrder'));
    o = applyOrderEvent(o, { type: 'OrderSubmitRequested', ts: Date.now() });
    await inActivity(() => acts.recordOrder(o, ctx), info(wf, 'recordOrder'));
    // A retried snapshot repeats its state: counted once.
    await inActivity(() => acts.recordOrder(o, ctx), info(wf, 'recordOrder'));
    const submitted = await inActivity(() => acts.submitOrder(intent), info(wf, 'submitOrder'));
    expect(submitted.outcome).toBe('ACCEPTED');
    o = applyOrderEvent(o, { type: 'OrderAccepted', venueOrderId: submitted.outcome === 'ACCEPTED' ? submitted.venueOrderId : '', ts: Date.now() });
    await inActivity(() => acts.recordOrder(o, ctx), info(wf, 'recordOrder'));
    for (let i = 0; i < 100 && o.state !== 'FILLED'; i++) {
      const p = await inActivity(() => acts.pollOrder(id), info(wf, 'pollOrder'));
      for (const fill of p.fills) if (!o.fills.some((f) => f.tradeId === fill.tradeId)) o = applyOrderEvent(o, { type: 'OrderFilled', fill, ts: fill.ts });
      if (o.state !== 'FILLED') await new Promise((r) => setTimeout(r, 30));
    }
    expect(o.state).toBe('FILLED');
    await inActivity(() => acts.recordOrder(o, ctx), info(wf, 'recordOrder'));

    // A rejected order: too large, and the session is halted.
    const big: OrderIntent = { ...intent, clientOrderId: `mr-${COMPACT}-000002`, quantity: contracts(500) };
    const rejected = await inActivity(() => acts.assessOrder({ order: big, context: ctx, halted: 'DAILY_LOSS: limit spent', ordersInLastMinute: 0 }), info(`order-${big.clientOrderId}`, 'assessOrder'));
    expect(rejected.approved).toBe(false);

    // A failing activity: the venue does not list the market.
    await expect(
      inActivity(() => acts.assessOrder({ order: { ...intent, clientOrderId: `mr-${COMPACT}-000003`, marketId: 'NO-SUCH-MKT' }, context: ctx, halted: null, ordersInLastMinute: 0 }), info(`order-mr-${COMPACT}-000003`, 'assessOrder')),
    ).rejects.toMatchObject({ type: 'BAD_REQUEST' });

    await inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: DAY }), info(SESSION, 'sessionSnapshot'));
    await inActivity(() => acts.recordOperatorAction({ action: 'HALT', operator: 'ann', reason: 'news pending', workflowId: SESSION, sequence: 1, details: {} }), info(SESSION, 'recordOperatorAction'));
    await inActivity(() => acts.raiseAlert({ level: 'HIGH', type: 'TRADING_HALTED', dedupeKey: `halt:${SESSION}:1`, title: 'Trading halted', body: 'by ann' }), info(SESSION, 'raiseAlert'));

    // The strategy watch on scripted quotes: a signal, and a quote time per market.
    const market: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };
    const watchDeps = { ...makeDeps({ db: backend.db, venue: new ResilientVenue(new ScriptedVenue(market) as unknown as Venue, null) }), log, metrics };
    const watched = await inActivity(
      () =>
        createActivities(watchDeps).watchForSignal({
          strategy: 'mc',
          strategyName: 'ma-crossover',
          strategyParams: { fastSpanHours: 0.0001, slowSpanHours: 0.01, minObservations: 2, minHistoryHours: 0, bandMicros: 1_000, confidenceScaleMicros: 10_000 },
          strategyState: {},
          marketIds: [market.marketId],
          untilMs: Date.now() + 2_000,
          pollIntervalMs: 10,
        }),
      info(SESSION, 'watchForSignal'),
    );
    expect(watched.signal).not.toBeNull();
    return { id, big };
  }

  it('exposes every required metric family with the figures of what happened', async () => {
    const deps: ActivityDeps = { ...makeDeps({ db: backend.db, venue: x.venue }), log, metrics };
    await trade(deps);
    const text = await metrics.exposition();
    for (const name of Object.values(METRIC_NAMES)) expect(text, name).toContain(`# TYPE ${name} `);
    // Orders by state: one order filled, counted once however often its snapshot was recorded.
    expect(text).toContain('trader_orders{state="FILLED"} 1');
    expect(text).toContain('trader_orders{state="PENDING_SUBMIT"} 0');
    expect(text).toContain('trader_order_events_total{state="PENDING_SUBMIT"} 1');
    expect(text).toMatch(new RegExp(`trader_fills_total\\{market="${x.market.marketId}",side="BUY"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`trader_filled_contracts_total\\{market="${x.market.marketId}",side="BUY"\\} 5`));
    expect(text).toContain('trader_risk_decisions_total{result="approved"} 1');
    expect(text).toContain('trader_risk_decisions_total{result="rejected"} 1');
    expect(text).toContain('trader_risk_rejections_total{rule="TRADING_HALTED"} 1');
    expect(text).toContain('trader_risk_rejections_total{rule="ORDER_QUANTITY"} 1');
    expect(text).toMatch(/trader_pnl_dollars\{account="paper",kind="fees"\} 0\.\d+/);
    expect(text).toMatch(/trader_exposure_dollars\{account="paper"\} [1-9]/);
    expect(text).toContain('trader_open_positions{account="paper"} 1');
    expect(text).toContain('trader_limit_utilization_ratio{account="paper",limit="open_positions"} 0.2');
    expect(text).toMatch(/trader_limit_utilization_ratio\{account="paper",limit="portfolio_exposure"\} 0\.00\d+/);
    expect(text).toMatch(/trader_market_data_age_seconds\{market="PRES-2028"\} \d/);
    expect(text).toMatch(/trader_venue_request_duration_seconds_count\{venue="paper",operation="placeOrder",outcome="ok"\} 1/);
    expect(text).toMatch(/trader_venue_request_duration_seconds_bucket\{le="\+Inf",venue="paper",operation="getSnapshot",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/trader_errors_total\{component="venue",kind="BAD_REQUEST"\} [1-9]/);
    expect(text).toContain('trader_errors_total{component="activity",kind="BAD_REQUEST"} 1');
    expect(text).toMatch(/trader_alerts_total\{level="HIGH",outcome="(SENT|RECORDED)"\} 1/);
    expect(text).toContain('trader_operator_actions_total{action="HALT"} 1');
    expect(text).toContain('trader_activity_failures_total{activity="assessOrder",type="BAD_REQUEST",retryable="false"} 1');
    expect(text).toContain('trader_signals_total{market="PRES-2028",side="BUY",intent="ENTER"} 1');
    expect(text).toContain('trader_stage_info{stage="PAPER"} 1');
    expect(text).not.toContain(PAPER_SECRET);

    // Served over HTTP on the loopback interface.
    const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      expect(await res.text()).toContain('trader_orders{state="FILLED"} 1');
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('writes one JSON line per event kind, carrying the order, session and workflow IDs, and no secret', async () => {
    const deps: ActivityDeps = { ...makeDeps({ db: backend.db, venue: x.venue }), log, metrics };
    const { id, big } = await trade(deps);
    // A careless line holding secrets by field and in its text is scrubbed all the same.
    log.info({ event: 'stage', paperSecret: PAPER_SECRET, smtp: { pass: SMTP_SECRET } }, `connected with ${PAPER_SECRET} and ${SMTP_SECRET}`);

    const risk = lines.ofEvent('risk_decision');
    expect(risk).toHaveLength(2);
    expect(risk[0]).toMatchObject({ clientOrderId: id, sessionId: SESSION, workflowId: `order-${id}`, approved: true, level: 'info' });
    expect(risk[1]).toMatchObject({ clientOrderId: big.clientOrderId, approved: false, level: 'warn' });
    expect((risk[1]!.violations as { rule: string }[]).map((v) => v.rule)).toEqual(expect.arrayContaining(['TRADING_HALTED', 'ORDER_QUANTITY']));

    const orders = lines.ofEvent('order').filter((l) => l.clientOrderId === id);
    const snapshots = orders.filter((l) => l.action === 'snapshot');
    expect(snapshots.map((l) => l.state)).toEqual(['CREATED', 'PENDING_SUBMIT', 'PENDING_SUBMIT', 'SUBMITTED', 'FILLED']);
    expect(snapshots.every((l) => l.sessionId === SESSION && l.workflowId === `order-${id}`)).toBe(true);
    expect(orders.filter((l) => l.action === 'submit')).toEqual([expect.objectContaining({ outcome: 'ACCEPTED', workflowId: `order-${id}` })]);

    const fills = lines.ofEvent('fill');
    expect(fills.length).toBeGreaterThan(0);
    expect(fills.every((f) => f.clientOrderId === id && typeof f.tradeId === 'string')).toBe(true);
    expect(fills.reduce((n, f) => n + (f.quantity as number), 0)).toBe(5);
    expect(new Set(fills.map((f) => f.tradeId)).size).toBe(fills.length);

    expect(lines.ofEvent('signal')).toEqual([expect.objectContaining({ sessionId: SESSION, workflowId: SESSION, marketId: 'PRES-2028', side: 'BUY', intent: 'ENTER' })]);
    expect(lines.ofEvent('operator_action')).toEqual([expect.objectContaining({ action: 'HALT', operator: 'ann', sessionId: SESSION, workflowId: SESSION })]);
    expect(lines.ofEvent('alert')).toEqual([expect.objectContaining({ level: 'warn', alertLevel: 'HIGH', type: 'TRADING_HALTED', dedupeKey: `halt:${SESSION}:1`, workflowId: SESSION })]);
    expect(lines.ofEvent('activity_failure')).toEqual([expect.objectContaining({ activityName: 'assessOrder', type: 'BAD_REQUEST', workflowId: `order-mr-${COMPACT}-000003`, level: 'error' })]);
    expect(lines.ofEvent('venue').some((l) => l.venueEvent === 'failure' && l.kind === 'BAD_REQUEST')).toBe(true);

    const all = lines.raw.join('\n');
    expect(all).not.toContain(PAPER_SECRET);
    expect(all).not.toContain(SMTP_SECRET);
    expect(all).not.toContain(JSON.stringify(SMTP_SECRET).slice(1, -1));
    const careless = lines.ofEvent('stage')[0]!;
    expect(careless.paperSecret).toBe('[redacted]');
    expect(careless.smtp).toEqual({ pass: '[redacted]' });
    expect(careless.msg).toBe('connected with [redacted] and [redacted]');
  });
});

describe('the live checks as gauges', () => {
  it('quote staleness, connection loss, rate-limit hits, rejection and fill rates, mean slippage', async () => {
    const m = new TradingMetrics({ clock: () => 0 });
    m.monitoring({ quoteAgesMs: { 'PRES-2028': 1_500 }, connectionLostMs: 75_000 });
    m.monitoring({ rateLimitHits: 2 });
    m.monitoring({ rateLimitHits: 1, rejectionRate: 1 / 12, fillRate: 0.5, meanSlippageMicros: 20_000 });
    // A ratio that cannot be measured yet leaves the last one in place.
    m.monitoring({ rejectionRate: null, fillRate: null, meanSlippageMicros: null });
    const text = await m.exposition();
    expect(text).toContain('trader_quote_staleness_seconds{market="PRES-2028"} 1.5');
    expect(text).toContain('trader_venue_connection_lost_seconds 75');
    expect(text).toContain('trader_rate_limit_hits_total 3');
    expect(text).toMatch(/trader_order_rejection_ratio 0\.0833/);
    expect(text).toContain('trader_fill_rate_ratio 0.5');
    expect(text).toContain('trader_mean_slippage_dollars 0.02');
  });
});
