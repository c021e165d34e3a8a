/**
 * Order activities against the records (PGlite, and PostgreSQL when configured) and the paper
 * exchange in-process: risk decisions recorded with their reasons, monotone order records,
 * submit -> poll -> ledger exactly once, ambiguous and retried submissions.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { snapshotSeq } from '../../activities/orders';
import type { OrderContext, OrderIntent, OrderProgress } from '../../contracts/activities';
import type { Venue, VenueOrder } from '../../contracts/venue';
import { VenueError } from '../../activities/venue/errors';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import { getOrder, getPosition, listFills, listOrderEvents, listRiskDecisions, orderAuditTrail, positionHistoryOf } from '../../db';
import { applyOrderEvent, createOrder, type Order, type OrderEvent } from '../../domain/order';
import type { Money, Price } from '../../domain/money';
import { contracts, inActivity, makeDeps, PAPER_KEY_ID, startTestExchange, TEST_LIMITS, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const DAY = '2026-11-21';

function context(strategy = 'mr'): OrderContext {
  return { strategy, sessionWorkflowId: `session-${strategy}-${DAY}`, tradingDay: DAY, signal: { price: 430_000 as Price, confidence: 0.8, at: 1_000, metadata: { z: -1.7 } } };
}

const intent = (clientOrderId: string, marketId: string, limitPrice: Price, quantity = 5): OrderIntent => ({
  clientOrderId,
  marketId,
  side: 'BUY',
  quantity: contracts(quantity),
  limitPrice,
});

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApplicationFailure);
  return e as ApplicationFailure;
}

forEachBackend('order activities', (backend) => {
  let x: TestExchange;

  beforeEach(async () => {
    x = await startTestExchange();
  });
  afterEach(async () => {
    await x.close();
  });

  const acts = () => createActivities(makeDeps({ db: backend.db, venue: x.venue }));

  async function pollUntil(a: ReturnType<typeof acts>, coid: string, done: (p: OrderProgress) => boolean): Promise<OrderProgress> {
    for (let i = 0; i < 100; i++) {
      const p = await inActivity(() => a.pollOrder(coid));
      if (done(p)) return p;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`order ${coid} did not reach the expected state`);
  }

  it('assessOrder approves a sound order, records it, and answers a retry with the recorded decision', async () => {
    const a = acts();
    const order = intent('mr-20261121-000001', x.market.marketId, await x.crossingBuy());
    const first = await inActivity(() => a.assessOrder({ order, context: context(), halted: null, ordersInLastMinute: 0 }));
    expect(first).toMatchObject({ approved: true, violations: [] });
    const again = await inActivity(() => a.assessOrder({ order, context: context(), halted: 'later halt', ordersInLastMinute: 99 }), { attempt: 2 });
    expect(again).toEqual(first);
    const recorded = await listRiskDecisions(backend.db, { clientOrderId: order.clientOrderId });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ approved: true, violations: [], strategy: 'mr', marketId: x.market.marketId });
  });

  it('assessOrder rejects with every failing rule and records the reasons', async () => {
    const a = acts();
    const order = intent('mr-20261121-000002', x.market.marketId, await x.crossingBuy(), 500);
    const r = await inActivity(() => a.assessOrder({ order, context: context(), halted: 'DAILY_LOSS: limit spent', ordersInLastMinute: 10 }));
    expect(r.approved).toBe(false);
    const rules = r.violations.map((v) => v.rule);
    expect(rules).toEqual(expect.arrayContaining(['TRADING_HALTED', 'ORDER_QUANTITY', 'POSITION_SIZE', 'FAT_FINGER', 'ORDER_RATE']));
    const [stored] = await listRiskDecisions(backend.db, { clientOrderId: order.clientOrderId });
    expect(stored!.approved).toBe(false);
    expect(stored!.violations.map((v) => v.rule)).toEqual(rules);
    expect(stored!.violations.find((v) => v.rule === 'TRADING_HALTED')!.message).toContain('DAILY_LOSS: limit spent');
  });

  it('assessOrder judges against the recorded position, bringing in fills no poll has recorded yet', async () => {
    const a = createActivities(makeDeps({ db: backend.db, venue: x.venue, config: { limits: { ...TEST_LIMITS, maxOrderSize: 5, maxPositionSize: 10 } } }));
    const first = await x.venue.placeOrder(intent('mr-20261121-000004', x.market.marketId, await x.crossingBuy(), 8));
    for (let i = 0; i < 200 && (await x.venue.getOrderByClientId(first.clientOrderId))!.status !== 'FILLED'; i++) await new Promise((r) => setTimeout(r, 25));
    const order = intent('mr-20261121-000005', x.market.marketId, await x.crossingBuy(), 5);
    const r = await inActivity(() => a.assessOrder({ order, context: context(), halted: null, ordersInLastMinute: 0 }));
    expect(r.violations.map((v) => v.rule)).toEqual(['POSITION_SIZE']);
    expect(r.violations[0]).toMatchObject({ limit: 10, observed: 13 });
    expect((await getPosition(backend.db, 'paper', x.market.marketId))?.quantity).toBe(8);
  });

  it('assessOrder told the workflow synced ({ syncFills: false }) judges on the records as they are; after the syncFills step it sees the fills', async () => {
    const a = createActivities(makeDeps({ db: backend.db, venue: x.venue, config: { limits: { ...TEST_LIMITS, maxOrderSize: 5, maxPositionSize: 10 } } }));
    const first = await x.venue.placeOrder(intent('mr-20261121-000006', x.market.marketId, await x.crossingBuy(), 8));
    for (let i = 0; i < 200 && (await x.venue.getOrderByClientId(first.clientOrderId))!.status !== 'FILLED'; i++) await new Promise((r) => setTimeout(r, 25));
    const price = await x.crossingBuy();
    const unsynced = await inActivity(() => a.assessOrder({ order: intent('mr-20261121-000007', x.market.marketId, price, 5), context: context(), halted: null, ordersInLastMinute: 0 }, { syncFills: false }));
    expect(unsynced).toMatchObject({ approved: true, violations: [] });
    expect(await listFills(backend.db)).toEqual([]);
    expect(await inActivity(() => a.syncFills())).toMatchObject({ fillsInserted: expect.any(Number) as number });
    expect((await getPosition(backend.db, 'paper', x.market.marketId))?.quantity).toBe(8);
    const synced = await inActivity(() => a.assessOrder({ order: intent('mr-20261121-000008', x.market.marketId, price, 5), context: context(), halted: null, ordersInLastMinute: 0 }, { syncFills: false }));
    expect(synced.violations.map((v) => [v.rule, v.observed])).toEqual([['POSITION_SIZE', 13]]);
  });

  it('assessOrder on a market the venue does not list fails BAD_REQUEST, not retried', async () => {
    const a = acts();
    const f = await failureOf(inActivity(() => a.assessOrder({ order: intent('mr-20261121-000003', 'NO-SUCH-MKT', 500_000 as Price), context: context(), halted: null, ordersInLastMinute: 0 })));
    expect(f.type).toBe('BAD_REQUEST');
    expect(f.nonRetryable).toBe(true);
  });

  it('recordOrder inserts once with its signal, advances, and never moves the record back', async () => {
    const a = acts();
    const ctx = context();
    const steps: Order[] = [];
    let o = createOrder({ clientOrderId: 'mr-20261121-000010', marketId: x.market.marketId, side: 'BUY', quantity: 5, limitPrice: 400_000, ts: 1_000 });
    steps.push(o);
    const events: OrderEvent[] = [
      { type: 'OrderSubmitRequested', ts: 1_010 },
      { type: 'OrderSubmitAmbiguous', reason: 'TIMEOUT', ts: 1_010 },
      { type: 'OrderNotFoundAtVenue', ts: 1_020 },
      { type: 'OrderSubmitAmbiguous', reason: 'TIMEOUT', ts: 1_030 },
      { type: 'OrderAccepted', venueOrderId: 'ord-1', ts: 1_040 },
      { type: 'OrderFilled', fill: { tradeId: 'T-1', clientOrderId: 'mr-20261121-000010', marketId: x.market.marketId, side: 'BUY', quantity: contracts(2), price: 400_000 as Price, fee: 0 as Money, ts: 1_050 }, ts: 1_050 },
    ];
    for (const e of events) steps.push((o = applyOrderEvent(o, e)));
    const seqs = steps.map(snapshotSeq);
    // Progress only rises; a revisited state (PENDING_SUBMIT again) gets a number of its own.
    expect(new Set(seqs).size).toBe(seqs.length - 1); // the second SUBMIT_UNKNOWN repeats the first
    expect(seqs[4]).toBe(seqs[2]);

    for (const s of steps) await inActivity(() => a.recordOrder(s, ctx));
    let row = await getOrder(backend.db, o.clientOrderId);
    expect(row).toMatchObject({ state: 'PARTIALLY_FILLED', venueOrderId: 'ord-1', lastEventSeq: snapshotSeq(o) });
    const eventsBefore = (await listOrderEvents(backend.db, o.clientOrderId)).length;

    // A late, retried call with an older order changes nothing; repeating the newest is a no-op.
    await inActivity(() => a.recordOrder(steps[2]!, ctx), { attempt: 3 });
    await inActivity(() => a.recordOrder(o, ctx), { attempt: 2 });
    row = await getOrder(backend.db, o.clientOrderId);
    expect(row).toMatchObject({ state: 'PARTIALLY_FILLED', lastEventSeq: snapshotSeq(o) });
    expect((await listOrderEvents(backend.db, o.clientOrderId)).length).toBe(eventsBefore);

    const trail = await orderAuditTrail(backend.db, o.clientOrderId);
    expect(trail.filter((t) => t.kind === 'SIGNAL')).toHaveLength(1);
    expect(trail.find((t) => t.kind === 'SIGNAL')!.payload).toMatchObject({ confidence: 0.8, metadata: { z: -1.7 } });
  });

  it('submit -> poll to FILLED puts each fill in the ledger once, however often it is polled', async () => {
    const a = acts();
    const order = intent('mr-20261121-000020', x.market.marketId, await x.crossingBuy(), 6);
    const submitted = await inActivity(() => a.submitOrder(order));
    expect(submitted.outcome).toBe('ACCEPTED');
    const filled = await pollUntil(a, order.clientOrderId, (p) => p.status === 'FILLED' && p.fills.reduce((s, f) => s + f.quantity, 0) === 6);
    for (let i = 0; i < 4; i++) {
      const again = await inActivity(() => a.pollOrder(order.clientOrderId), { attempt: i + 2 });
      expect(again.fills).toEqual(filled.fills);
    }
    const position = await getPosition(backend.db, 'paper', order.marketId);
    expect(position?.quantity).toBe(6);
    expect(await positionHistoryOf(backend.db, 'paper', order.marketId)).toHaveLength(filled.fills.length);
    const venueFills = x.exchange.engine.toState().accounts.find((acc) => acc.keyId === PAPER_KEY_ID)!.fills;
    expect((await listFills(backend.db)).map((f) => f.tradeId).sort()).toEqual(venueFills.map((f) => f.tradeId).sort());
  });

  it('pollOrder told the workflow synced ({ syncFills: false }) records no fills; without the flag it still syncs them', async () => {
    const a = acts();
    const order = intent('mr-20261121-000021', x.market.marketId, await x.crossingBuy(), 6);
    await inActivity(() => a.submitOrder(order));
    for (let i = 0; i < 200 && (await x.venue.getOrderByClientId(order.clientOrderId))!.status !== 'FILLED'; i++) await new Promise((r) => setTimeout(r, 25));
    const readOnly = await inActivity(() => a.pollOrder(order.clientOrderId, { syncFills: false }));
    expect(readOnly).toMatchObject({ status: 'FILLED', fills: [] });
    expect(await listFills(backend.db)).toEqual([]);
    expect(await getPosition(backend.db, 'paper', order.marketId)).toBeFalsy();

    const syncing = await inActivity(() => a.pollOrder(order.clientOrderId));
    expect(syncing.status).toBe('FILLED');
    expect(syncing.fills.reduce((n, f) => n + f.quantity, 0)).toBe(6);
    expect((await getPosition(backend.db, 'paper', order.marketId))?.quantity).toBe(6);
    // The step finds nothing left, and a read-only poll now reports what the sync recorded.
    expect(await inActivity(() => a.syncFills())).toMatchObject({ fillsInserted: 0 });
    expect((await inActivity(() => a.pollOrder(order.clientOrderId, { syncFills: false }))).fills).toEqual(syncing.fills);
  });

  it('two orders polled concurrently: every fill recorded exactly once, positions add up', async () => {
    const a = acts();
    const [m1, m2] = [x.market.marketId, (await x.venue.listMarkets()).find((m) => m.marketId !== x.market.marketId)!.marketId];
    const o1 = intent('mr-20261121-000031', m1, await x.crossingBuy(m1), 4);
    const o2 = intent('mr-20261121-000032', m2, await x.crossingBuy(m2), 3);
    await Promise.all([inActivity(() => a.submitOrder(o1)), inActivity(() => a.submitOrder(o2))]);
    // Two activities per order at once, the way two workflows and a retry can overlap.
    let done = false;
    for (let round = 0; round < 100 && !done; round++) {
      const polls = await Promise.all([o1, o2, o1, o2].map((o) => inActivity(() => a.pollOrder(o.clientOrderId))));
      done = polls.every((p) => p.status === 'FILLED' && p.fills.reduce((s, f) => s + f.quantity, 0) === (p.fills[0]?.clientOrderId === o1.clientOrderId ? 4 : 3));
      if (!done) await new Promise((r) => setTimeout(r, 50));
    }
    expect(done).toBe(true);
    expect((await getPosition(backend.db, 'paper', m1))?.quantity).toBe(4);
    expect((await getPosition(backend.db, 'paper', m2))?.quantity).toBe(3);
    const recorded = await listFills(backend.db);
    expect(new Set(recorded.map((f) => f.tradeId)).size).toBe(recorded.length);
    const venueFills = x.exchange.engine.toState().accounts.find((acc) => acc.keyId === PAPER_KEY_ID)!.fills;
    expect(recorded).toHaveLength(venueFills.length);
  });

  it('an accepted order whose answer was dropped fails AMBIGUOUS_SUBMIT, sent once; the lookup finds it', async () => {
    const a = acts();
    const order = intent('mr-20261121-000040', x.market.marketId, x.restingBuy(), 2);
    x.exchange.admin.setFaults({ dropAfterAcceptProbability: 1 });
    const f = await failureOf(inActivity(() => a.submitOrder(order)));
    x.exchange.admin.resetFaults();
    expect(f).toMatchObject({ type: 'AMBIGUOUS_SUBMIT', nonRetryable: true });
    const orders = x.exchange.engine.toState().accounts.find((acc) => acc.keyId === PAPER_KEY_ID)!.orders;
    expect(orders.filter((o) => o.clientOrderId === order.clientOrderId)).toHaveLength(1);
    expect(x.venue.submissionStats()).toMatchObject({ submissions: 1, ambiguousOutcomes: 1 });
    expect(await inActivity(() => a.lookupOrder(order.clientOrderId))).toMatchObject({ found: true, venueOrderId: orders[0]!.venueOrderId });
  });

  it("a submit attempt sends once whatever its attempt number: looking up first is the workflow's decision", async () => {
    const a = acts();
    const order = intent('mr-20261121-000050', x.market.marketId, x.restingBuy(), 2);
    const sent = await x.venue.placeOrder({ ...order });
    const before = x.venue.submissionStats().submissions;
    // The venue dedupes on the client order ID: a resubmission answers with the order it holds.
    const r = await inActivity(() => a.submitOrder(order), { attempt: 2 });
    expect(r).toMatchObject({ outcome: 'ACCEPTED', venueOrderId: sent.venueOrderId, status: 'OPEN' });
    expect(x.venue.submissionStats().submissions).toBe(before + 1);
    const orders = x.exchange.engine.toState().accounts.find((acc) => acc.keyId === PAPER_KEY_ID)!.orders;
    expect(orders.filter((o) => o.clientOrderId === order.clientOrderId)).toHaveLength(1);
  });

  it('a venue rejection is an outcome; a malformed order is BAD_REQUEST, not retried', async () => {
    const a = acts();
    const tooBig = intent('mr-20261121-000060', x.market.marketId, 900_000 as Price, 1_000_000);
    const r = await inActivity(() => a.submitOrder(tooBig));
    expect(r).toMatchObject({ outcome: 'REJECTED', reason: 'INSUFFICIENT_BALANCE' });
    const bad = await failureOf(inActivity(() => a.submitOrder({ ...intent('mr-20261121-000061', x.market.marketId, 400_000 as Price), quantity: contracts(0) })));
    expect(bad).toMatchObject({ type: 'BAD_REQUEST', nonRetryable: true });
  });

  it('lookup, cancel and poll of orders the venue has and has not', async () => {
    const a = acts();
    const order = intent('mr-20261121-000070', x.market.marketId, x.restingBuy(), 1);
    expect(await inActivity(() => a.lookupOrder(order.clientOrderId))).toMatchObject({ found: false });
    expect(await inActivity(() => a.pollOrder(order.clientOrderId))).toMatchObject({ venueOrderId: null, status: null, fills: [] });
    expect(await inActivity(() => a.cancelOrder(order.clientOrderId))).toMatchObject({ status: null });
    await inActivity(() => a.submitOrder(order));
    expect(await inActivity(() => a.lookupOrder(order.clientOrderId))).toMatchObject({ found: true, status: 'OPEN' });
    expect(await inActivity(() => a.cancelOrder(order.clientOrderId))).toMatchObject({ status: 'CANCELED' });
    expect(await inActivity(() => a.cancelOrder(order.clientOrderId))).toMatchObject({ status: 'CANCELED' });
    expect(await inActivity(() => a.pollOrder(order.clientOrderId))).toMatchObject({ status: 'CANCELED', fills: [] });
    const f = await failureOf(inActivity(() => a.lookupOrder('not a valid id!')));
    expect(f).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });
});

/** A venue whose answers never arrive: the submission cannot be settled either way. */
class SilentVenue implements Partial<Venue> {
  readonly name = 'silent';
  placements = 0;
  lookups = 0;
  placeOrder(): Promise<VenueOrder> {
    this.placements += 1;
    return Promise.reject(new VenueError('TIMEOUT', 'no response', { venue: 'silent', operation: 'placeOrder' }));
  }
  getOrderByClientId(): Promise<VenueOrder | null> {
    this.lookups += 1;
    return Promise.reject(new VenueError('TIMEOUT', 'no response', { venue: 'silent', operation: 'getOrder' }));
  }
}

forEachBackend('order activities with an unanswering venue', (backend) => {
  it('an unanswered submission surfaces as AMBIGUOUS_SUBMIT after one send and no lookup, so the workflow looks it up', async () => {
    const silent = new SilentVenue();
    const venue = new ResilientVenue(silent as unknown as Venue, null);
    const a = createActivities(makeDeps({ db: backend.db, venue }));
    const f = await failureOf(inActivity(() => a.submitOrder(intent('mr-20261121-000080', 'PX-POL-1', 400_000 as Price))));
    expect(f).toMatchObject({ type: 'AMBIGUOUS_SUBMIT', nonRetryable: true });
    expect({ placements: silent.placements, lookups: silent.lookups }).toEqual({ placements: 1, lookups: 0 });
  });
});
