/**
 * Session activities against the records (PGlite, and PostgreSQL when configured), the paper
 * exchange in-process, and for the strategy watch a scripted venue whose quotes the test chooses.
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { flattenOrderId } from '../../activities/kill-switch';
import type { WatchProgress } from '../../activities/market-watch';
import type { OrderContext, WatchInput, WatchResult } from '../../contracts/activities';
import type { FillPage, Venue, VenueMarketSnapshot } from '../../contracts/venue';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import {
  getOrder,
  getPosition,
  insertOrder,
  listFills,
  listOperatorActions,
  listSessions,
  recordOrderEvent,
  recordRiskDecision,
  type Db,
} from '../../db';
import type { BreakerTrip } from '../../domain/breakers';
import type { Market } from '../../domain/market';
import type { Price, Quantity } from '../../domain/money';
import { applyOrderEvent, createOrder } from '../../domain/order';
import { CapturingMailer, contracts, inActivity, makeDeps, PAPER_KEY_ID, quietLogger, startTestExchange, TEST_LIMITS, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const today = (): string => new Date().toISOString().slice(0, 10);
const compact = (day: string): string => day.replaceAll('-', '');

describe('flatten order IDs', () => {
  it('are stable per reason and market, distinct otherwise, and at most 64 characters', () => {
    const a = flattenOrderId('mr', '2026-11-21', 'kill switch by ann: runaway', 'PX-POL-1');
    expect(a).toMatch(/^mr-flat-20261121-[0-9a-f]{8}$/);
    expect(flattenOrderId('mr', '2026-11-21', 'kill switch by ann: runaway', 'PX-POL-1')).toBe(a);
    expect(flattenOrderId('mr', '2026-11-21', 'kill switch by bob: again', 'PX-POL-1')).not.toBe(a);
    expect(flattenOrderId('mr', '2026-11-21', 'kill switch by ann: runaway', 'PX-ECO-2')).not.toBe(a);
    expect(flattenOrderId('s'.repeat(48), '2026-11-21', 'r', 'M').length).toBeLessThanOrEqual(64);
  });
});

/** Quotes from a script (one per poll, the last repeated), one market, nothing else. */
class ScriptedVenue implements Partial<Venue> {
  readonly name = 'scripted';
  polls = 0;
  constructor(
    readonly market: Market,
    private readonly mids: number[],
  ) {}
  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    const mid = this.mids[Math.min(this.polls, this.mids.length - 1)]!;
    this.polls += 1;
    const ts = Date.now();
    return { marketId, ts, bid: (mid - 10_000) as Price, ask: (mid + 10_000) as Price, last: mid as Price, averageDailyVolume: 100_000 as Quantity, intervalVolume: 0 as Quantity, bids: [], asks: [], volume24h: 0 as Quantity };
  }
  async listMarkets(): Promise<Market[]> {
    return [this.market];
  }
  async getFillsSince(cursor: string | null): Promise<FillPage> {
    return { fills: [], cursor: cursor ?? 'c-0', hasMore: false };
  }
}

const FAST = { fastSpanHours: 0.0001, slowSpanHours: 0.01, minObservations: 2, minHistoryHours: 0 };
const WATCH_MARKET: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };

function watchInput(over: Partial<WatchInput> = {}): WatchInput {
  return {
    strategy: 'mc',
    strategyName: 'ma-crossover',
    // Spans of a fraction of a second, so a jump in the scripted mid opens a gap at once.
    strategyParams: { ...FAST, bandMicros: 1_000, confidenceScaleMicros: 10_000 },
    strategyState: {},
    marketIds: [WATCH_MARKET.marketId],
    untilMs: Date.now() + 2_000,
    pollIntervalMs: 20,
    ...over,
  };
}

forEachBackend('watchForSignal', (backend) => {
  const session = (mids: number[], db: Db = backend.db) => {
    const scripted = new ScriptedVenue(WATCH_MARKET, mids);
    const venue = new ResilientVenue(scripted as unknown as Venue, null);
    return { scripted, acts: createActivities(makeDeps({ db, venue })) };
  };

  it('returns the first signal, sized against the recorded position', async () => {
    const { acts, scripted } = session([400_000, 400_000, 400_000, 430_000]);
    const r = await inActivity(() => acts.watchForSignal(watchInput()));
    expect(r.signal).toMatchObject({ marketId: 'PRES-2028', side: 'BUY', intent: 'ENTER' });
    // Confidence sizing: floor(confidence x maxOrderSize), confidence from the fast-slow gap.
    expect(r.signal!.quantity).toBe(Math.floor(r.signal!.confidence * TEST_LIMITS.maxOrderSize + 1e-9));
    expect(r.signal!.quantity).toBeGreaterThan(0);
    expect(scripted.polls).toBe(4);
    expect((r.strategyState['PRES-2028'] as { n: number }).n).toBe(4);
    expect(r.quoteTimes['PRES-2028']).toBeGreaterThan(0);
  });

  it('no new signal for a market where the strategy already has an order working', async () => {
    const { acts } = session([400_000, 400_000, 400_000, 430_000]);
    await insertOrder(backend.db, {
      clientOrderId: `mc-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-000001`,
      marketId: WATCH_MARKET.marketId,
      side: 'BUY',
      quantity: 1 as Quantity,
      limitPrice: 400_000 as Price,
      strategy: 'mc',
      tradingDay: new Date().toISOString().slice(0, 10),
      createdAt: Date.now(),
    });
    const r = await inActivity(() => acts.watchForSignal(watchInput({ untilMs: Date.now() + 300 })));
    expect(r.signal).toBeNull();
    expect((r.strategyState['PRES-2028'] as { n: number }).n).toBeGreaterThanOrEqual(4);
  });

  it('no signal for a market the session reserved for an order not yet recorded; one once that order is final, reported as ended', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const coid = `mc-${compact(day)}-000002`;
    const reservedMarkets = { [WATCH_MARKET.marketId]: coid };
    const first = session([400_000, 400_000, 400_000, 430_000]);
    const held = await inActivity(() => first.acts.watchForSignal(watchInput({ untilMs: Date.now() + 300, reservedMarkets })));
    expect(held.signal).toBeNull();
    expect(held.endedOrders).toEqual([]);

    await insertOrder(backend.db, { clientOrderId: coid, marketId: WATCH_MARKET.marketId, side: 'BUY', quantity: 1 as Quantity, limitPrice: 400_000 as Price, strategy: 'mc', tradingDay: day, createdAt: Date.now() });
    await recordOrderEvent(backend.db, { clientOrderId: coid, seq: 1, eventType: 'OrderSnapshot', state: 'CANCELED', at: Date.now() });
    const second = session([400_000, 400_000, 400_000, 430_000]);
    const freed = await inActivity(() => second.acts.watchForSignal(watchInput({ reservedMarkets })));
    expect(freed.signal).toMatchObject({ marketId: WATCH_MARKET.marketId });
    expect(freed.endedOrders).toEqual([{ clientOrderId: coid, state: 'CANCELED' }]);
  });

  it('refuses malformed reserved markets, naming the field', async () => {
    const { acts } = session([400_000]);
    await expect(inActivity(() => acts.watchForSignal(watchInput({ reservedMarkets: { 'PRES-2028': 'not an id' } })))).rejects.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
      message: expect.stringMatching(/reservedMarkets\.PRES-2028/),
    });
  });

  it('a signal that sizes to nothing is no signal; the watch ends at untilMs', async () => {
    // The strategy signals (gap above a 1-micro band) with a confidence that floors to 0 contracts.
    const { acts, scripted } = session([400_000, 400_000, 401_000]);
    const r = await inActivity(() => acts.watchForSignal(watchInput({ strategyParams: { ...FAST, bandMicros: 1, confidenceScaleMicros: 1_000_000 }, untilMs: Date.now() + 200 })));
    expect(scripted.polls).toBeGreaterThan(3);
    expect(r.signal).toBeNull();
    expect(r.at).toBeGreaterThanOrEqual(Date.now() - 1_000);
  });

  it('heartbeats the strategy state every poll and a retry resumes from the last heartbeat', async () => {
    const { acts } = session([400_000]);
    const quiet = { minObservations: 1_000_000, minHistoryHours: 0 };
    const env = new MockActivityEnvironment({}, { logger: quietLogger });
    const beats: WatchProgress[] = [];
    env.on('heartbeat', (d: WatchProgress) => beats.push(structuredClone(d)));
    const first: WatchResult = await env.run(() => acts.watchForSignal(watchInput({ strategyParams: quiet, untilMs: Date.now() + 150 })));
    expect(first.signal).toBeNull();
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.map((b) => b.polls)).toEqual(beats.map((_, i) => i + 1));
    const last = beats.at(-1)!;
    expect((last.strategyState['PRES-2028'] as { n: number }).n).toBe(beats.length);

    // Attempt 2 is handed the last heartbeat; the input's (older, empty) state must be ignored.
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: last }, { logger: quietLogger });
    const retryBeats: WatchProgress[] = [];
    retry.on('heartbeat', (d: WatchProgress) => retryBeats.push(structuredClone(d)));
    const second: WatchResult = await retry.run(() => acts.watchForSignal(watchInput({ strategyParams: quiet, strategyState: {}, untilMs: Date.now() + 100 })));
    expect(retryBeats[0]!.polls).toBe(last.polls + 1);
    expect((second.strategyState['PRES-2028'] as { n: number }).n).toBe(last.polls + retryBeats.length);
  });

  it('cancellation stops the watch at once with a CancelledFailure', async () => {
    const { acts, scripted } = session([400_000]);
    const env = new MockActivityEnvironment({}, { logger: quietLogger });
    const started = Date.now();
    const watching = env.run(() => acts.watchForSignal(watchInput({ strategyParams: { minObservations: 1_000_000 }, untilMs: Date.now() + 60_000, pollIntervalMs: 30 })));
    await new Promise((r) => setTimeout(r, 120));
    env.cancel();
    await expect(watching).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(2_000);
    const polls = scripted.polls;
    await new Promise((r) => setTimeout(r, 100));
    expect(scripted.polls).toBe(polls);
  });

  it('refuses an unknown strategy and bad params without retrying', async () => {
    const { acts } = session([400_000]);
    await expect(inActivity(() => acts.watchForSignal(watchInput({ strategyName: 'nope' })))).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    await expect(inActivity(() => acts.watchForSignal(watchInput({ strategyParams: { fastSpanHours: 48, slowSpanHours: 4 } })))).rejects.toMatchObject({ type: 'InvalidConfig', nonRetryable: true });
  });
});

forEachBackend('session activities on the paper exchange', (backend) => {
  let x: TestExchange;
  beforeEach(async () => {
    x = await startTestExchange();
  });
  afterEach(async () => {
    await x.close();
  });

  const day = today();
  const ctx = (strategy = 'mr'): OrderContext => ({ strategy, sessionWorkflowId: `session-${strategy}-${day}`, tradingDay: day, signal: { price: 400_000 as Price, confidence: 0.5, at: Date.now(), metadata: {} } });

  /** Submits and records an order the way its workflow would (SUBMITTED in the records). */
  async function working(clientOrderId: string, limitPrice: Price, quantity = 2, strategy = 'mr') {
    const deps = makeDeps({ db: backend.db, venue: x.venue });
    const orders = createActivities(deps);
    let o = createOrder({ clientOrderId, marketId: x.market.marketId, side: 'BUY', quantity, limitPrice, ts: Date.now() });
    await orders.recordOrder(o, ctx(strategy));
    o = applyOrderEvent(o, { type: 'OrderSubmitRequested', ts: Date.now() });
    const r = await orders.submitOrder({ clientOrderId, marketId: o.marketId, side: 'BUY', quantity: contracts(quantity), limitPrice });
    if (r.outcome !== 'ACCEPTED') throw new Error(`not accepted: ${JSON.stringify(r)}`);
    o = applyOrderEvent(o, { type: 'OrderAccepted', venueOrderId: r.venueOrderId, ts: r.at });
    await orders.recordOrder(o, ctx(strategy));
    return { orders, order: o };
  }

  async function filledPosition(quantity: number): Promise<void> {
    const { orders, order } = await working(`mr-${compact(day)}-000900`, await x.crossingBuy(), quantity);
    for (let i = 0; i < 100; i++) {
      const p = await orders.pollOrder(order.clientOrderId);
      if (p.status === 'FILLED') {
        // As the workflow would: apply the fills and record the filled order.
        const filled = p.fills.reduce((o, fill) => applyOrderEvent(o, { type: 'OrderFilled', fill, ts: p.at }), order);
        await orders.recordOrder(filled, ctx());
        return;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error('position did not fill');
  }

  it('preflight on a healthy venue: every check passes and says what it saw', async () => {
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const checks = await inActivity(() => acts.preflight({ strategy: 'mr', marketIds: [x.market.marketId] }));
    expect(checks.map((c) => c.name)).toEqual(['VENUE_REACHABLE', 'MARKET_DATA_FRESH', 'RISK_CONFIG_VALID', 'RECONCILIATION_CLEAN', 'ALERTING_REACHABLE']);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name === 'MARKET_DATA_FRESH')!.detail).toContain(x.market.marketId);

    const noSmtp = createActivities(makeDeps({ db: backend.db, venue: x.venue, mailer: null }));
    const alerting = (await inActivity(() => noSmtp.preflight({ strategy: 'mr', marketIds: [] }))).find((c) => c.name === 'ALERTING_REACHABLE')!;
    expect(alerting).toMatchObject({ ok: true, detail: expect.stringContaining('SMTP not configured') });
  });

  it('preflight on an unhealthy setup: unreachable venue, stale quotes, bad limits, SMTP down, position mismatch', async () => {
    const mailer = new CapturingMailer();
    mailer.verifyError = new Error('connect ECONNREFUSED 127.0.0.1:25');
    const skewed = createActivities(
      makeDeps({ db: backend.db, venue: x.venue, mailer, clock: () => Date.now() + 600_000, config: { limits: { ...TEST_LIMITS, maxOrderSize: 500 } } }),
    );
    x.exchange.admin.adjustPosition(PAPER_KEY_ID, x.market.marketId, 3);
    const checks = Object.fromEntries((await inActivity(() => skewed.preflight({ strategy: 'mr', marketIds: [x.market.marketId] }))).map((c) => [c.name, c]));
    expect(checks.VENUE_REACHABLE!.ok).toBe(true);
    expect(checks.MARKET_DATA_FRESH).toMatchObject({ ok: false, detail: expect.stringContaining('older than 90000 ms') });
    expect(checks.RISK_CONFIG_VALID).toMatchObject({ ok: false, detail: expect.stringContaining('maxOrderSize') });
    expect(checks.ALERTING_REACHABLE).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
    expect(checks.RECONCILIATION_CLEAN).toMatchObject({ ok: false, detail: expect.stringContaining(x.market.marketId) });

    await x.close();
    const down = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const offline = Object.fromEntries((await inActivity(() => down.preflight({ strategy: 'mr', marketIds: [x.market.marketId] }))).map((c) => [c.name, c]));
    expect(offline.VENUE_REACHABLE).toMatchObject({ ok: false, detail: expect.stringMatching(/NETWORK|CIRCUIT_OPEN/) });
    expect(offline.MARKET_DATA_FRESH!.ok).toBe(false);
    expect(offline.RECONCILIATION_CLEAN!.ok).toBe(false);
    expect(offline.RISK_CONFIG_VALID!.ok).toBe(true);
  });

  it('preflight reconciliation asks the venue about orders the records hold open, and follows the configured policy', async () => {
    const { order } = await working(`mr-${compact(day)}-000005`, x.restingBuy());
    await x.venue.cancelOrder({ clientOrderId: order.clientOrderId }); // canceled at the venue behind the workflow's back
    const reconciliation = async (policy: 'HALT_AND_ALERT' | 'WARN_ONLY') => {
      const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue, config: { reconciliation: { policy, cashTolerance: 10_000 } } }));
      return (await inActivity(() => acts.preflight({ strategy: 'mr', marketIds: [] }))).find((c) => c.name === 'RECONCILIATION_CLEAN')!;
    };
    const strict = await reconciliation('HALT_AND_ALERT');
    expect(strict).toMatchObject({ ok: false, detail: expect.stringMatching(new RegExp(`WARNING .*${order.clientOrderId}`)) });
    expect(strict.detail).toContain('CANCELED');
    expect(await reconciliation('WARN_ONLY')).toMatchObject({ ok: true, detail: expect.stringContaining(order.clientOrderId) });
  });

  it('cancelAllOpenOrders cancels the strategy\'s orders at the venue and in the records, and nobody else\'s', async () => {
    const a = await working(`mr-${compact(day)}-000001`, x.restingBuy());
    await working(`mr-${compact(day)}-000002`, x.restingBuy());
    await x.venue.placeOrder({ clientOrderId: `mr-${compact(day)}-000003`, marketId: x.market.marketId, side: 'BUY', quantity: contracts(1), limitPrice: x.restingBuy() });
    await working(`other-${compact(day)}-000001`, x.restingBuy(), 1, 'other');
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));

    const r = await inActivity(() => acts.cancelAllOpenOrders({ strategy: 'mr', flatten: false, reason: 'kill switch by ann: test' }));
    expect(r.canceled).toEqual([1, 2, 3].map((n) => `mr-${compact(day)}-00000${n}`));
    expect(r.flattenOrders).toEqual([]);
    expect((await x.venue.getOrderByClientId(`other-${compact(day)}-000001`))!.status).toBe('OPEN');
    expect(await getOrder(backend.db, a.order.clientOrderId)).toMatchObject({ state: 'CANCELED' });

    // The order's workflow learns of it later and records its own (older) view: the record stays CANCELED.
    const late = applyOrderEvent(a.order, { type: 'OrderCancelRequested', ts: Date.now() });
    await a.orders.recordOrder(late, ctx());
    expect(await getOrder(backend.db, a.order.clientOrderId)).toMatchObject({ state: 'CANCELED' });
    // Retried: nothing left open, nothing changes.
    expect(await inActivity(() => acts.cancelAllOpenOrders({ strategy: 'mr', flatten: false, reason: 'kill switch by ann: test' }))).toEqual({ canceled: [], flattenOrders: [] });
  });

  it('flatten places one opposing order per position, the same one on a retry, and the position goes flat', async () => {
    await filledPosition(4);
    expect((await getPosition(backend.db, 'paper', x.market.marketId))?.quantity).toBe(4);
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const input = { strategy: 'mr', flatten: true, reason: 'kill switch by ann: flatten' };
    const r = await inActivity(() => acts.cancelAllOpenOrders(input));
    expect(r.flattenOrders).toEqual([flattenOrderId('mr', day, input.reason, x.market.marketId)]);
    const flat = r.flattenOrders[0]!;
    expect(await getOrder(backend.db, flat)).toMatchObject({ side: 'SELL', quantity: 4, strategy: 'mr' });
    const again = await inActivity(() => acts.cancelAllOpenOrders(input), { attempt: 2 });
    expect(again.flattenOrders.every((id) => id === flat)).toBe(true);
    const venueOrders = x.exchange.engine.toState().accounts.find((acc) => acc.keyId === PAPER_KEY_ID)!.orders;
    expect(venueOrders.filter((o) => o.clientOrderId === flat)).toHaveLength(1);
    for (let i = 0; i < 100 && (await getPosition(backend.db, 'paper', x.market.marketId))?.quantity !== 0; i++) {
      await createActivities(makeDeps({ db: backend.db, venue: x.venue })).pollOrder(flat);
      await new Promise((res) => setTimeout(res, 30));
    }
    expect((await getPosition(backend.db, 'paper', x.market.marketId))?.quantity).toBe(0);
  });

  it('sessionSnapshot: equity, daily P&L, venue traffic and open orders from the records', async () => {
    await filledPosition(5);
    await working(`mr-${compact(day)}-000010`, x.restingBuy(), 1);
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const snap = await inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: day }));
    const cash = (await x.venue.getBalance()).cash;
    const position = (await getPosition(backend.db, 'paper', x.market.marketId))!;
    expect(snap.openPositions).toBe(1);
    expect(snap.metrics.equity).toBe(cash + position.costBasis + snap.unrealizedPnl);
    expect(snap.metrics.dailyPnl).toBe(snap.realizedPnl - snap.fees + snap.unrealizedPnl);
    expect(snap.fees).toBeGreaterThan(0);
    expect(snap.metrics.requestsInWindow).toBeGreaterThan(0);
    expect(snap.metrics.errorsInWindow).toBe(0);
    expect(snap.openOrders).toEqual([{ clientOrderId: `mr-${compact(day)}-000010`, marketId: x.market.marketId, side: 'BUY', state: 'SUBMITTED' }]);
    expect(snap.endedOrders).toEqual([]);
  });

  /** An order placed at the venue behind the records' back, waited on until the venue has filled it: its fills are the venue's only. */
  async function filledAtVenue(clientOrderId: string, quantity: number): Promise<void> {
    await x.venue.placeOrder({ clientOrderId, marketId: x.market.marketId, side: 'BUY', quantity: contracts(quantity), limitPrice: await x.crossingBuy() });
    for (let i = 0; i < 100; i++) {
      if ((await x.venue.getOrderByClientId(clientOrderId))?.status === 'FILLED') return;
      await new Promise((r) => setTimeout(r, 30));
    }
    throw new Error(`${clientOrderId} did not fill`);
  }

  it('syncFills records the venue fills once; a snapshot told the sync ran records none; one of an old session still syncs', async () => {
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const held = async () => (await getPosition(backend.db, 'paper', x.market.marketId))?.quantity ?? 0;
    await filledAtVenue(`mr-${compact(day)}-000030`, 3);

    await inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: day, syncFills: false }));
    expect(await held()).toBe(0);
    expect(await listFills(backend.db, { clientOrderId: `mr-${compact(day)}-000030` })).toEqual([]);

    const first = await inActivity(() => acts.syncFills());
    expect(first.fillsInserted).toBeGreaterThan(0);
    expect(await held()).toBe(3);
    const fills = await listFills(backend.db, { clientOrderId: `mr-${compact(day)}-000030` });
    expect(fills.reduce((n, f) => n + f.quantity, 0)).toBe(3);
    // A retried step records nothing twice.
    expect(await inActivity(() => acts.syncFills(), { attempt: 2 })).toMatchObject({ fillsInserted: 0 });
    expect(await listFills(backend.db, { clientOrderId: `mr-${compact(day)}-000030` })).toHaveLength(fills.length);
    expect(await held()).toBe(3);

    // A session recorded before the step asks for a snapshot without the flag: it syncs first, as it did.
    await filledAtVenue(`mr-${compact(day)}-000031`, 2);
    const snap = await inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: day }));
    expect(await held()).toBe(5);
    expect(snap.openPositions).toBe(1);
  });

  it('sessionSnapshot says which reserved orders have ended in the records; without a Temporal client the others count as running', async () => {
    const ended = `mr-${compact(day)}-000011`;
    const open = `mr-${compact(day)}-000012`;
    const unrecorded = `mr-${compact(day)}-000013`;
    const base = { marketId: x.market.marketId, side: 'BUY' as const, quantity: contracts(1), limitPrice: 400_000 as Price, createdAt: Date.now(), strategy: 'mr', tradingDay: day };
    await insertOrder(backend.db, { ...base, clientOrderId: ended });
    await recordOrderEvent(backend.db, { clientOrderId: ended, seq: 1, eventType: 'OrderSnapshot', state: 'REJECTED', at: Date.now(), reason: 'risk' });
    await insertOrder(backend.db, { ...base, clientOrderId: open });
    const acts = createActivities(makeDeps({ db: backend.db, venue: x.venue }));
    const snap = await inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: day, reservedOrders: [ended, open, unrecorded] }));
    expect(snap.endedOrders).toEqual([{ clientOrderId: ended, state: 'REJECTED' }]);
    await expect(inActivity(() => acts.sessionSnapshot({ strategy: 'mr', tradingDay: day, reservedOrders: ['no good'] }))).rejects.toMatchObject({ type: 'InvalidInput' });
  });

  it('loadCarryover: active trips, today\'s highest sequence (orders and risk decisions), session RUNNING; writeDailySummary closes it', async () => {
    const db = backend.db;
    const base = { marketId: x.market.marketId, side: 'BUY' as const, quantity: contracts(1), limitPrice: 400_000 as Price, createdAt: Date.now() };
    await insertOrder(db, { ...base, clientOrderId: `mr-${compact(day)}-000003`, strategy: 'mr', tradingDay: day });
    await insertOrder(db, { ...base, clientOrderId: `mr-${compact(day)}-000007`, strategy: 'mr', tradingDay: day });
    await insertOrder(db, { ...base, clientOrderId: flattenOrderId('mr', day, 'r', base.marketId), strategy: 'mr', tradingDay: day });
    await insertOrder(db, { ...base, clientOrderId: 'mr-20000101-000012', strategy: 'mr', tradingDay: '2000-01-01' });
    await insertOrder(db, { ...base, clientOrderId: `mrx-${compact(day)}-000020`, strategy: 'mrx', tradingDay: day });
    await recordRiskDecision(db, { decisionId: `mr-${compact(day)}-000009`, clientOrderId: `mr-${compact(day)}-000009`, strategy: 'mr', marketId: base.marketId, approved: false, violations: [{ rule: 'SPREAD', limit: 1, observed: 2, message: 'wide' }], request: {}, decidedAt: Date.now() });
    const acts = createActivities(makeDeps({ db, venue: x.venue }));
    const trip: BreakerTrip = { kind: 'MANUAL', reason: 'operator halt', observed: null, limit: null, since: 1_000, operator: 'ann' };
    await inActivity(() => acts.recordBreakerChange({ strategy: 'mr', tradingDay: day, change: 'TRIPPED', trips: [trip], at: 1_000 }));

    const carry = await inActivity(() => acts.loadCarryover({ strategy: 'mr', tradingDay: day }));
    expect(carry).toEqual({ trips: [trip], lastSequence: 9, lastActionSequence: 0 });
    expect(await inActivity(() => acts.loadCarryover({ strategy: 'fresh', tradingDay: day }))).toEqual({ trips: [], lastSequence: 0, lastActionSequence: 0 });
    expect((await listSessions(db, { strategy: 'mr' }))[0]).toMatchObject({ sessionId: `session-mr-${day}`, status: 'RUNNING', mode: 'PAPER' });

    const action = { action: 'HALT' as const, operator: 'ann', reason: 'looks wrong', workflowId: `session-mr-${day}`, sequence: 1, details: {} };
    await inActivity(() => acts.recordOperatorAction(action));
    await inActivity(() => acts.recordOperatorAction(action), { attempt: 2 });
    expect(await listOperatorActions(db)).toHaveLength(1);
    // A restarted session continues the journal of its workflow ID, not another's.
    await inActivity(() => acts.recordOperatorAction({ ...action, workflowId: `session-mrx-${day}`, sequence: 5 }));
    expect((await inActivity(() => acts.loadCarryover({ strategy: 'mr', tradingDay: day }))).lastActionSequence).toBe(1);

    await inActivity(() => acts.writeDailySummary({ strategy: 'mr', tradingDay: day }));
    await inActivity(() => acts.writeDailySummary({ strategy: 'mr', tradingDay: day }), { attempt: 2 });
    const [closed] = await listSessions(db, { strategy: 'mr' });
    expect(closed).toMatchObject({ status: 'COMPLETED' });
    expect(closed!.summary).toMatchObject({ orders: 3, netPnl: 0, ordersByState: { CREATED: 3 } });
  });
});
