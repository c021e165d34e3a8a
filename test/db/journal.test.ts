import { expect, it } from 'vitest';
import { RecordConflict, RecordNotFound } from '../../db/errors';
import { lastSentAlert, listAlerts, markAlertDelivery, recordAlert } from '../../db/repositories/alerts';
import { listExecutions, recordExecution } from '../../db/repositories/execution';
import { listBreakerEvents, listOperatorActions, listSessions, loadActiveTrips, recordBreakerChange, recordOperatorAction, startSession, updateSession } from '../../db/repositories/journal';
import { getMarket, listMarkets, upsertMarket, upsertVenue } from '../../db/repositories/markets';
import { finishReconciliationRun, listDiscrepancies, listReconciliationRuns, recordDiscrepancies, startReconciliationRun } from '../../db/repositories/reconciliation';
import { listRiskDecisions, recordRiskDecision } from '../../db/repositories/risk';
import { listAudit } from '../../db/repositories/audit';
import { InvalidInput } from '../../domain/errors';
import type { ExecutionRecord } from '../../domain/execution-quality';
import type { Money, Price, Quantity } from '../../domain/money';
import { forEachBackend, rawRows } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);

forEachBackend('journal, alerts, risk, reconciliation, execution quality, markets', (ctx) => {
  it('records a risk rejection with every failing rule, once', async () => {
    const d = {
      decisionId: 'mr-20260115-000001',
      clientOrderId: 'mr-20260115-000001',
      strategy: 'mr',
      marketId: 'M1',
      approved: false,
      violations: [
        { rule: 'MAX_POSITION', limit: 100, observed: 130, message: 'position would be 130 > 100' },
        { rule: 'STALE_QUOTE', limit: 5000, observed: 9000, message: 'quote is 9000 ms old' },
      ],
      request: { quantity: 30 },
      decidedAt: T0,
    };
    expect(await recordRiskDecision(ctx.db, d)).toEqual({ inserted: true });
    expect(await recordRiskDecision(ctx.db, d)).toEqual({ inserted: false });
    await expect(recordRiskDecision(ctx.db, { ...d, approved: true, violations: [] })).rejects.toBeInstanceOf(RecordConflict);
    const [stored] = await listRiskDecisions(ctx.db, { approved: false });
    expect(stored!.violations.map((v) => v.rule)).toEqual(['MAX_POSITION', 'STALE_QUOTE']);
    const bad = await recordRiskDecision(ctx.db, { ...d, decisionId: 'x', approved: false, violations: [] }).catch((e: unknown) => e);
    expect((bad as InvalidInput).problems[0]!.field).toBe('violations');
  });

  it('journals operator actions with who, when and why, idempotently', async () => {
    const a = { action: 'HALT' as const, operator: 'alice', reason: 'venue incident', workflowId: 'session-mr-2026-01-15', sequence: 1, details: { scope: 'all' }, at: T0 };
    expect(await recordOperatorAction(ctx.db, a)).toEqual({ inserted: true });
    expect(await recordOperatorAction(ctx.db, a)).toEqual({ inserted: false });
    await expect(recordOperatorAction(ctx.db, { ...a, reason: 'other' })).rejects.toBeInstanceOf(RecordConflict);
    const err = await recordOperatorAction(ctx.db, { ...a, sequence: 2, operator: '', reason: ' ' }).catch((e: unknown) => e);
    expect((err as InvalidInput).problems.map((p) => p.field)).toEqual(['operator', 'reason']);
    expect((await listOperatorActions(ctx.db))[0]).toMatchObject({ action: 'HALT', operator: 'alice', reason: 'venue incident', occurredAt: T0 });
    expect(await listAudit(ctx.db, { kind: 'OPERATOR_ACTION' })).toHaveLength(1);
  });

  it('keeps breaker trips active until lifted, across sessions', async () => {
    const trip = { kind: 'DAILY_LOSS' as const, reason: 'loss 210 > 200', observed: 210_000_000, limit: 200_000_000, since: T0, operator: null };
    const manual = { kind: 'MANUAL' as const, reason: 'operator halt', observed: null, limit: null, since: T0 + 5, operator: 'bob' };
    await recordBreakerChange(ctx.db, { strategy: 'mr', tradingDay: '2026-01-15', change: 'TRIPPED', trips: [trip, manual], at: T0 + 5 });
    expect(await recordBreakerChange(ctx.db, { strategy: 'mr', tradingDay: '2026-01-15', change: 'TRIPPED', trips: [trip, manual], at: T0 + 5 })).toEqual({ inserted: 0 });
    expect(await loadActiveTrips(ctx.db, 'mr')).toEqual([trip, manual]);
    await recordBreakerChange(ctx.db, { strategy: 'mr', tradingDay: '2026-01-16', change: 'LIFTED', trips: [trip], at: T0 + 86_400_000 });
    expect(await loadActiveTrips(ctx.db, 'mr')).toEqual([manual]);
    expect(await loadActiveTrips(ctx.db, 'other')).toEqual([]);
    expect(await listBreakerEvents(ctx.db, { strategy: 'mr' })).toHaveLength(3);
  });

  it('keeps a halt, a resume and a halt at the same instant as three changes, so the last halt stays in force', async () => {
    // A session notes breaker changes at its last activity time: quick operator actions share it.
    const halt = { kind: 'MANUAL' as const, reason: 'news', observed: null, limit: null, since: T0, operator: 'ann' };
    const change = (c: 'TRIPPED' | 'LIFTED', key: string) => recordBreakerChange(ctx.db, { strategy: 'q', tradingDay: '2026-01-15', change: c, trips: [halt], at: T0, changeKey: key });
    expect(await change('TRIPPED', 'run-1:1')).toEqual({ inserted: 1 });
    expect(await change('LIFTED', 'run-1:2')).toEqual({ inserted: 1 });
    expect(await change('TRIPPED', 'run-1:3')).toEqual({ inserted: 1 });
    expect(await change('TRIPPED', 'run-1:3')).toEqual({ inserted: 0 }); // a retried write adds nothing
    expect((await listBreakerEvents(ctx.db, { strategy: 'q' })).map((e) => e.change)).toEqual(['TRIPPED', 'LIFTED', 'TRIPPED']);
    expect((await loadActiveTrips(ctx.db, 'q')).map((t) => t.kind)).toEqual(['MANUAL']);
    // Without a change key (the old form) the second halt collapses into the first, and the lift wins.
    const old = (c: 'TRIPPED' | 'LIFTED') => recordBreakerChange(ctx.db, { strategy: 'o', tradingDay: '2026-01-15', change: c, trips: [halt], at: T0 });
    await old('TRIPPED');
    await old('LIFTED');
    expect(await old('TRIPPED')).toEqual({ inserted: 0 });
    expect(await loadActiveTrips(ctx.db, 'o')).toEqual([]);
    await expect(recordBreakerChange(ctx.db, { strategy: 'q', tradingDay: '2026-01-15', change: 'TRIPPED', trips: [halt], at: T0, changeKey: 'bad key!' })).rejects.toThrow(/changeKey/);
  });

  it('records an alert before sending it, so a retry sends nothing', async () => {
    const alert = { level: 'CRITICAL' as const, type: 'TRADING_HALTED', dedupeKey: 'halt:mr:2026-01-15', title: 'Halted', body: 'daily loss', raisedAt: T0 };
    expect((await recordAlert(ctx.db, alert)).inserted).toBe(true);
    expect((await recordAlert(ctx.db, alert)).inserted).toBe(false);
    expect(await markAlertDelivery(ctx.db, alert.dedupeKey, { delivery: 'SENT', at: T0 + 10 })).toEqual({ changed: true });
    expect(await markAlertDelivery(ctx.db, alert.dedupeKey, { delivery: 'FAILED', at: T0 + 20, error: 'smtp' })).toEqual({ changed: false });
    expect(await lastSentAlert(ctx.db, 'CRITICAL', 'TRADING_HALTED')).toMatchObject({ sentAt: T0 + 10, delivery: 'SENT' });
    expect(await listAlerts(ctx.db, { level: 'CRITICAL' })).toHaveLength(1);
    await expect(markAlertDelivery(ctx.db, 'missing', { delivery: 'SENT', at: T0 })).rejects.toBeInstanceOf(RecordNotFound);
    const bad = await recordAlert(ctx.db, { ...alert, level: 'URGENT' as never, dedupeKey: '' }).catch((e: unknown) => e);
    expect((bad as InvalidInput).problems.map((p) => p.field)).toEqual(['level', 'dedupeKey']);
  });

  it('records trading sessions', async () => {
    const s = { sessionId: 'session-mr-2026-01-15', strategy: 'mr', tradingDay: '2026-01-15', mode: 'PAPER' as const, startedAt: T0 };
    expect(await startSession(ctx.db, s)).toEqual({ inserted: true });
    expect(await startSession(ctx.db, s)).toEqual({ inserted: false });
    await expect(startSession(ctx.db, { ...s, mode: 'LIVE' })).rejects.toBeInstanceOf(RecordConflict);
    await updateSession(ctx.db, s.sessionId, { status: 'COMPLETED', at: T0 + 1000, summary: { fills: 3 } });
    expect((await listSessions(ctx.db, { tradingDay: '2026-01-15' }))[0]).toMatchObject({ status: 'COMPLETED', endedAt: T0 + 1000, summary: { fills: 3 } });
    await expect(updateSession(ctx.db, 'nope', { status: 'HALTED', at: T0 })).rejects.toBeInstanceOf(RecordNotFound);
  });

  it('records reconciliation runs and their discrepancies once each', async () => {
    await startReconciliationRun(ctx.db, { runId: 'rec-1', policy: 'HALT', startedAt: T0 });
    const items = [{ key: 'POSITION:M1', kind: 'POSITION_MISMATCH', marketId: 'M1', local: { quantity: 10 }, venue: { quantity: 8 } }];
    expect(await recordDiscrepancies(ctx.db, 'rec-1', items, T0 + 1)).toEqual({ inserted: 1 });
    expect(await recordDiscrepancies(ctx.db, 'rec-1', items, T0 + 1)).toEqual({ inserted: 0 });
    await finishReconciliationRun(ctx.db, 'rec-1', { status: 'DISCREPANCIES', finishedAt: T0 + 2 });
    expect((await listReconciliationRuns(ctx.db))[0]).toMatchObject({ status: 'DISCREPANCIES', finishedAt: T0 + 2 });
    expect((await listDiscrepancies(ctx.db, 'rec-1'))[0]).toMatchObject({ kind: 'POSITION_MISMATCH', local: { quantity: 10 } });
    await expect(recordDiscrepancies(ctx.db, 'rec-x', items, T0)).rejects.toBeInstanceOf(RecordNotFound);
  });

  it('stores execution-quality records and returns them as the core type', async () => {
    const r: ExecutionRecord = {
      clientOrderId: 'mr-20260115-000001',
      marketId: 'M1',
      side: 'BUY',
      intendedPrice: 400_000 as Price,
      orderQuantity: 10 as Quantity,
      fills: [
        { quantity: 4 as Quantity, price: 401_000 as Price, fee: 1 as Money, ts: T0 + 20 },
        { quantity: 6 as Quantity, price: 403_000 as Price, fee: 2 as Money, ts: T0 + 30 },
      ],
      signalAt: T0,
      submittedAt: T0 + 10,
      firstFillAt: T0 + 20,
      completedAt: T0 + 30,
      finalState: 'FILLED',
    };
    await recordExecution(ctx.db, r);
    await recordExecution(ctx.db, r);
    expect(await listExecutions(ctx.db)).toEqual([r]);
    const [row] = await rawRows(ctx.db, `select average_fill_price::text as avg, slippage::text as slip from execution_quality`);
    expect(row).toEqual({ avg: '0.402200', slip: '0.002200' });
  });

  it('keeps venues and markets', async () => {
    await upsertVenue(ctx.db, { venueId: 'kalshi', name: 'Kalshi' });
    const m = { marketId: 'FED-RATE-CUT', category: 'economics', tickSize: 10_000, resolvesAt: T0 + 86_400_000, outcome: null };
    await upsertMarket(ctx.db, m, { venueId: 'kalshi', title: 'Fed cuts in March?' });
    await upsertMarket(ctx.db, { ...m, outcome: 'NO' }, { venueId: 'kalshi' });
    expect(await getMarket(ctx.db, 'FED-RATE-CUT')).toMatchObject({ ...m, outcome: 'NO', venueId: 'kalshi' });
    expect(await listMarkets(ctx.db, { venueId: 'kalshi' })).toHaveLength(1);
    await expect(upsertMarket(ctx.db, { ...m, tickSize: 3 })).rejects.toBeInstanceOf(InvalidInput);
  });
});
