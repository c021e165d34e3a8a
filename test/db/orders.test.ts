import { expect, it } from 'vitest';
import { RecordConflict, RecordError, RecordNotFound } from '../../db/errors';
import { insertOrder, getOrder, saveOrderSnapshot, listOpenOrders, listOrderEvents, listOrders, recordOrderEvent, type NewOrderRecord } from '../../db/repositories/orders';
import { orderAuditTrail } from '../../db/repositories/audit';
import { recordRiskDecision } from '../../db/repositories/risk';
import { recordFill } from '../../db/repositories/fills';
import { InvalidInput } from '../../domain/errors';
import { applyOrderEvent, createOrder } from '../../domain/order';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14, 0, 0);

function order(n: number, over: Partial<NewOrderRecord> = {}): NewOrderRecord {
  return {
    clientOrderId: `mr-20260115-${String(n).padStart(6, '0')}`,
    marketId: 'FED-RATE-CUT',
    side: 'BUY',
    quantity: 25 as Quantity,
    limitPrice: 410_000 as Price,
    strategy: 'mr',
    tradingDay: '2026-01-15',
    sessionId: 'session-mr-2026-01-15',
    signal: { price: 400_000 as Price, confidence: 0.8, at: T0 - 500, metadata: { z: -2.1 } },
    createdAt: T0 + n,
    ...over,
  };
}

forEachBackend('orders', (ctx) => {
  it('inserts an order once: a repeat with the same client order ID changes nothing', async () => {
    const first = await insertOrder(ctx.db, order(1));
    expect(first.inserted).toBe(true);
    expect(first.order).toMatchObject({ state: 'CREATED', quantity: 25, limitPrice: 410_000, stateTimes: { CREATED: T0 + 1 }, filledQuantity: 0 });
    const again = await insertOrder(ctx.db, order(1));
    expect(again.inserted).toBe(false);
    expect(again.order).toEqual(first.order);
    expect(await listOrders(ctx.db)).toHaveLength(1);
  });

  it('refuses the same client order ID with different terms', async () => {
    await insertOrder(ctx.db, order(1));
    const err = await insertOrder(ctx.db, order(1, { quantity: 26 as Quantity })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordConflict);
    expect((err as RecordConflict).field).toBe('quantity');
  });

  it('validates before writing and reports every bad field', async () => {
    const err = await insertOrder(ctx.db, order(1, { side: 'HOLD' as never, limitPrice: 0 as Price, tradingDay: '2026-02-30' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as InvalidInput).problems.map((p) => p.field).sort()).toEqual(['limitPrice', 'side', 'tradingDay']);
    expect(await listOrders(ctx.db)).toHaveLength(0);
  });

  it('advances state by event sequence, idempotently and never backwards', async () => {
    const id = order(1).clientOrderId;
    await insertOrder(ctx.db, order(1));
    const e1 = { clientOrderId: id, seq: 1, eventType: 'OrderSubmitRequested' as const, state: 'PENDING_SUBMIT' as const, at: T0 + 10 };
    const e2 = { clientOrderId: id, seq: 2, eventType: 'OrderAccepted' as const, state: 'SUBMITTED' as const, at: T0 + 20, venueOrderId: 'V-77' };
    const e3 = { clientOrderId: id, seq: 3, eventType: 'OrderCanceled' as const, state: 'CANCELED' as const, at: T0 + 30 };
    expect((await recordOrderEvent(ctx.db, e1)).applied).toBe(true);
    // Seq 3 arrives before seq 2: the order goes to CANCELED, and the late seq 2 does not undo it.
    expect((await recordOrderEvent(ctx.db, e3)).order.state).toBe('CANCELED');
    const late = await recordOrderEvent(ctx.db, e2);
    expect(late.applied).toBe(true);
    expect(late.order.state).toBe('CANCELED');
    expect(late.order.venueOrderId).toBe('V-77');
    expect(late.order.stateTimes).toEqual({ CREATED: T0 + 1, PENDING_SUBMIT: T0 + 10, SUBMITTED: T0 + 20, CANCELED: T0 + 30 });
    const repeat = await recordOrderEvent(ctx.db, e2);
    expect(repeat.applied).toBe(false);
    expect((await listOrderEvents(ctx.db, id)).map((e) => e.seq)).toEqual([1, 2, 3]);
    const conflicting = await recordOrderEvent(ctx.db, { ...e2, state: 'REJECTED', eventType: 'OrderRejected' }).catch((e: unknown) => e);
    expect(conflicting).toBeInstanceOf(RecordConflict);
    expect((await getOrder(ctx.db, id))!.lastEventSeq).toBe(3);
  });

  it('refuses an event for an unknown order or an unknown state', async () => {
    const missing = await recordOrderEvent(ctx.db, { clientOrderId: 'nope-1', seq: 1, eventType: 'OrderExpired', state: 'EXPIRED', at: T0 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RecordNotFound);
    expect((missing as RecordError).field).toBe('client_order_id');
    await insertOrder(ctx.db, order(1));
    const bad = await recordOrderEvent(ctx.db, { clientOrderId: order(1).clientOrderId, seq: 0, eventType: 'OrderExpired', state: 'GONE' as never, at: T0 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidInput);
    expect((bad as InvalidInput).problems.map((p) => p.field)).toEqual(['seq', 'state']);
  });

  it('answers the operators: open orders, and orders by state, market, strategy and day', async () => {
    await insertOrder(ctx.db, order(1));
    await insertOrder(ctx.db, order(2, { marketId: 'CPI-ABOVE-3', strategy: 'momo' }));
    await insertOrder(ctx.db, order(3, { tradingDay: '2026-01-16' }));
    await recordOrderEvent(ctx.db, { clientOrderId: order(1).clientOrderId, seq: 1, eventType: 'OrderRejected', state: 'REJECTED', at: T0 + 5, reason: 'fat finger' });
    expect((await listOpenOrders(ctx.db)).map((o) => o.clientOrderId)).toEqual([order(2).clientOrderId, order(3).clientOrderId]);
    expect((await listOrders(ctx.db, { state: 'REJECTED' }))[0]).toMatchObject({ clientOrderId: order(1).clientOrderId, rejectReason: 'fat finger' });
    expect((await listOrders(ctx.db, { marketId: 'CPI-ABOVE-3' })).map((o) => o.strategy)).toEqual(['momo']);
    expect(await listOrders(ctx.db, { strategy: 'mr', tradingDay: '2026-01-15' })).toHaveLength(1);
    expect(await listOrders(ctx.db, { state: ['CREATED', 'REJECTED'] })).toHaveLength(3);
    await expect(listOrders(ctx.db, { state: 'LOST' as never })).rejects.toBeInstanceOf(InvalidInput);
  });

  it('keeps the audit trail of one order from signal to final state', async () => {
    const o = order(1);
    await recordRiskDecision(ctx.db, {
      decisionId: o.clientOrderId,
      clientOrderId: o.clientOrderId,
      strategy: 'mr',
      marketId: o.marketId,
      approved: true,
      violations: [],
      request: { quantity: 25 },
      decidedAt: T0 - 100,
    });
    await insertOrder(ctx.db, o);
    await recordOrderEvent(ctx.db, { clientOrderId: o.clientOrderId, seq: 1, eventType: 'OrderSubmitRequested', state: 'PENDING_SUBMIT', at: T0 + 10 });
    await recordOrderEvent(ctx.db, { clientOrderId: o.clientOrderId, seq: 2, eventType: 'OrderAccepted', state: 'SUBMITTED', at: T0 + 20, venueOrderId: 'V-1' });
    await recordFill(ctx.db, { tradeId: 'T-1', clientOrderId: o.clientOrderId, marketId: o.marketId, side: 'BUY', quantity: 25 as Quantity, price: 405_000 as Price, fee: 0 as Money, ts: T0 + 30 });
    await recordOrderEvent(ctx.db, { clientOrderId: o.clientOrderId, seq: 3, eventType: 'OrderFilled', state: 'FILLED', at: T0 + 31 });
    const trail = await orderAuditTrail(ctx.db, o.clientOrderId);
    expect(trail.map((e) => e.kind)).toEqual(['SIGNAL', 'RISK_DECISION', 'ORDER_CREATED', 'ORDER_EVENT', 'ORDER_EVENT', 'FILL', 'ORDER_EVENT']);
    expect(trail.at(-1)!.payload).toMatchObject({ state: 'FILLED' });
    expect(await getOrder(ctx.db, o.clientOrderId)).toMatchObject({ state: 'FILLED', filledQuantity: 25, venueOrderId: 'V-1' });
  });

  it('saves the core Order as the workflow holds it, never moving backwards', async () => {
    const context = { strategy: 'mr', tradingDay: '2026-01-15', sessionWorkflowId: 'session-mr-2026-01-15', signal: null };
    const created = createOrder({ clientOrderId: 'mr-20260115-000009', marketId: 'M1', side: 'SELL', quantity: 5, limitPrice: 600_000, ts: T0 });
    const pending = applyOrderEvent(created, { type: 'OrderSubmitRequested', ts: T0 + 1 });
    const accepted = applyOrderEvent(pending, { type: 'OrderAccepted', ts: T0 + 2, venueOrderId: 'V-9' });
    expect((await saveOrderSnapshot(ctx.db, created, context, 0)).inserted).toBe(true);
    await saveOrderSnapshot(ctx.db, pending, context, 1);
    const latest = await saveOrderSnapshot(ctx.db, accepted, context, 2);
    expect(latest.order).toMatchObject({ state: 'SUBMITTED', venueOrderId: 'V-9', stateTimes: { CREATED: T0, PENDING_SUBMIT: T0 + 1, SUBMITTED: T0 + 2 } });
    const retried = await saveOrderSnapshot(ctx.db, pending, context, 1);
    expect(retried).toMatchObject({ inserted: false, applied: false });
    expect((await getOrder(ctx.db, created.clientOrderId))!.state).toBe('SUBMITTED');
  });

  it('keeps the audit log append-only', async () => {
    await insertOrder(ctx.db, order(1));
    const err = await ctx.db.execute(`update audit_log set kind = 'FILL'`).catch((e: unknown) => e);
    const { toRecordError } = await import('../../db/errors');
    expect((toRecordError(err) as RecordError).type).toBe('AppendOnly');
    const del = await ctx.db.execute(`delete from audit_log`).catch((e: unknown) => e);
    expect((toRecordError(del) as RecordError).type).toBe('AppendOnly');
  });
});
