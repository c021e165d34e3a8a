/**
 * Operations activities against the records (PGlite, and PostgreSQL with TEST_DATABASE_URL) and
 * the paper exchange in-process, whose admin side changes positions and cash behind the
 * system's back and resolves markets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { bookAdoption } from '../../activities/adoption';
import { addDays, startOfDayIn, tradingDayIn } from '../../domain/calendar';
import { formatDailyReport } from '../../activities/daily-report';
import type { Mailer } from '../../activities/deps';
import {
  getPosition,
  insertOrder,
  listAudit,
  listBreakerEvents,
  listDailyPnl,
  listDiscrepancies,
  listFills,
  listOperatorActions,
  listReconciliationRuns,
  loadActiveTrips,
  positionHistoryOf,
  recordBreakerChange,
  recordFills,
  startSession,
  updateSession,
  type Db,
} from '../../db';
import type { BreakerTrip } from '../../domain/breakers';
import type { Money, Price } from '../../domain/money';
import { CapturingMailer, contracts, inActivity, makeDeps, PAPER_KEY_ID, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

forEachBackend('operations activities', (backend) => {
  let x: TestExchange;
  let seq = 0;

  beforeEach(async () => {
    x = await startTestExchange();
  });
  afterEach(async () => {
    await x.close();
  });

  function build(options: { mailer?: Mailer | null; clock?: () => number; timeZone?: string } = {}) {
    const deps = makeDeps({
      db: backend.db,
      venue: x.venue,
      mailer: options.mailer === undefined ? new CapturingMailer() : options.mailer,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.timeZone ? { config: { timeZone: options.timeZone } } : {}),
    });
    return createActivities(deps);
  }

  /** Buys at the venue until filled and records the venue's fills in the ledger (as the order activities do). */
  async function buyAndRecord(db: Db, quantity: number, marketId = x.market.marketId, withOrder = false): Promise<string> {
    const clientOrderId = `ops-test-${++seq}`;
    const limitPrice = await x.crossingBuy(marketId);
    if (withOrder) {
      const now = Date.now();
      await insertOrder(db, { clientOrderId, marketId, side: 'BUY', quantity: contracts(quantity), limitPrice, strategy: 'mr', tradingDay: new Date(now).toISOString().slice(0, 10), createdAt: now });
    }
    await x.venue.placeOrder({ clientOrderId, marketId, side: 'BUY', quantity: contracts(quantity), limitPrice });
    for (let i = 0; i < 100; i++) {
      const o = await x.venue.getOrderByClientId(clientOrderId);
      if (o?.status === 'FILLED') break;
      await new Promise((r) => setTimeout(r, 30));
    }
    const page = await x.venue.getFillsSince(null);
    expect(page.fills.some((f) => f.clientOrderId === clientOrderId)).toBe(true);
    await recordFills(db, page.fills);
    return clientOrderId;
  }

  describe('reconcileAccount', () => {
    it('finds nothing when the records match the venue, and carries the cash baseline from run to run', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 5);
      const first = await inActivity(() => ops.reconcileAccount({ runId: 'recon-1', policy: 'HALT_AND_ALERT' }));
      expect(first.discrepancies).toEqual([]);
      expect(first.decision).toMatchObject({ clean: true, halt: false, alertLevel: null });
      await buyAndRecord(backend.db, 3);
      const second = await inActivity(() => ops.reconcileAccount({ runId: 'recon-2', policy: 'HALT_AND_ALERT' }));
      expect(second.discrepancies).toEqual([]);
      const runs = await listReconciliationRuns(backend.db);
      expect(runs.map((r) => [r.runId, r.status])).toEqual(
        expect.arrayContaining([
          ['recon-1', 'CLEAN'],
          ['recon-2', 'CLEAN'],
        ]),
      );
      const summary = runs.find((r) => r.runId === 'recon-2')!.summary as { cash: { source: string; local: number; venue: number } };
      expect(summary.cash.source).toBe('CARRIED');
      expect(summary.cash.local).toBe((await x.venue.getBalance()).cash);
    });

    it('finds a position changed at the venue behind the system, records it once, and answers the same on a retry', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 5);
      await inActivity(() => ops.reconcileAccount({ runId: 'recon-a', policy: 'HALT_AND_ALERT' }));
      x.exchange.admin.adjustPosition(PAPER_KEY_ID, x.market.marketId, -3);

      const outcome = await inActivity(() => ops.reconcileAccount({ runId: 'recon-b', policy: 'HALT_AND_ALERT' }));
      expect(outcome.discrepancies).toEqual([
        expect.objectContaining({ kind: 'POSITION_QUANTITY_MISMATCH', severity: 'CRITICAL', marketId: x.market.marketId, local: 5, venue: 2 }),
      ]);
      expect(outcome.decision).toMatchObject({ clean: false, halt: true, alertLevel: 'CRITICAL' });
      const rows = await listDiscrepancies(backend.db, 'recon-b');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ discrepancyKey: `POSITION:${x.market.marketId}`, kind: 'POSITION_QUANTITY_MISMATCH', local: 5, venue: 2 });

      // A retried activity returns the recorded run, even after the venue changed again.
      x.exchange.admin.adjustPosition(PAPER_KEY_ID, x.market.marketId, 3);
      const again = await inActivity(() => ops.reconcileAccount({ runId: 'recon-b', policy: 'HALT_AND_ALERT' }));
      expect(again).toEqual(outcome);
      expect(await listDiscrepancies(backend.db, 'recon-b')).toHaveLength(1);
      expect((await listReconciliationRuns(backend.db)).find((r) => r.runId === 'recon-b')!.status).toBe('DISCREPANCIES');
    });

    it('records venue fills the ledger had not seen before comparing, so they are not differences', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 5);
      await inActivity(() => ops.reconcileAccount({ runId: 'sync-1', policy: 'HALT_AND_ALERT' }));
      const clientOrderId = 'ops-test-unsynced';
      await x.venue.placeOrder({ clientOrderId, marketId: x.market.marketId, side: 'BUY', quantity: contracts(3), limitPrice: await x.crossingBuy() });
      for (let i = 0; i < 100 && (await x.venue.getOrderByClientId(clientOrderId))?.status !== 'FILLED'; i++) await new Promise((r) => setTimeout(r, 30));
      const outcome = await inActivity(() => ops.reconcileAccount({ runId: 'sync-2', policy: 'HALT_AND_ALERT' }));
      expect(outcome.discrepancies).toEqual([]);
      expect((await getPosition(backend.db, 'paper', x.market.marketId))!.quantity).toBe(8);
      expect((await listFills(backend.db, {})).some((f) => f.clientOrderId === clientOrderId)).toBe(true);
    });

    it('finds cash the venue moved that the records do not explain', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 2);
      await inActivity(() => ops.reconcileAccount({ runId: 'cash-1', policy: 'WARN_ONLY' }));
      x.exchange.admin.adjustCash(PAPER_KEY_ID, 100_000_000);
      const outcome = await inActivity(() => ops.reconcileAccount({ runId: 'cash-2', policy: 'WARN_ONLY' }));
      expect(outcome.discrepancies).toEqual([expect.objectContaining({ kind: 'CASH_MISMATCH', severity: 'CRITICAL' })]);
      const d = outcome.discrepancies[0]!;
      expect((d.venue as number) - (d.local as number)).toBe(100_000_000);
      expect(outcome.decision.halt).toBe(false);
    });

    it('refuses a bad policy naming the field', async () => {
      const ops = build();
      await expect(inActivity(() => ops.reconcileAccount({ runId: 'r', policy: 'YOLO' as never }))).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: expect.stringMatching(/policy/) });
    });
  });

  describe('adoptVenueFigures', () => {
    it('TRUST_VENUE: takes the venue quantities at the entry price or the mark, journals it once, never touches fills', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 5);
      const [other] = (await x.venue.listMarkets()).filter((m) => m.marketId !== x.market.marketId && m.outcome === null);
      await inActivity(() => ops.reconcileAccount({ runId: 'trust-1', policy: 'TRUST_VENUE' }));
      const before = (await getPosition(backend.db, 'paper', x.market.marketId))!;
      const fillsBefore = await listFills(backend.db, {});

      x.exchange.admin.adjustPosition(PAPER_KEY_ID, x.market.marketId, -3);
      x.exchange.admin.adjustPosition(PAPER_KEY_ID, other!.marketId, 4);
      const outcome = await inActivity(() => ops.reconcileAccount({ runId: 'trust-2', policy: 'TRUST_VENUE' }));
      expect(outcome.decision).toMatchObject({ halt: false, alertLevel: 'HIGH', adoptPositions: { [x.market.marketId]: 2, [other!.marketId]: 4 } });

      await inActivity(() => ops.adoptVenueFigures({ runId: 'trust-2', operator: 'reconciliation', reason: 'policy TRUST_VENUE' }));
      const after = (await getPosition(backend.db, 'paper', x.market.marketId))!;
      expect(after.quantity).toBe(2);
      // Reduced at the position's own entry: the average entry is unchanged, nothing realized.
      expect(after.costBasis * 5).toBe(before.costBasis * 2);
      expect(after.realizedPnl).toBe(before.realizedPnl);
      const opened = (await getPosition(backend.db, 'paper', other!.marketId))!;
      expect(opened.quantity).toBe(4);
      expect(opened.costBasis).toBeGreaterThan(0);
      expect(opened.realizedPnl).toBe(0);
      expect(await listFills(backend.db, {})).toEqual(fillsBefore);

      // Idempotent by run: a second call changes nothing and journals nothing more.
      await inActivity(() => ops.adoptVenueFigures({ runId: 'trust-2', operator: 'reconciliation', reason: 'policy TRUST_VENUE' }));
      expect((await getPosition(backend.db, 'paper', x.market.marketId))!.quantity).toBe(2);
      const journal = (await listOperatorActions(backend.db)).filter((a) => a.workflowId === 'trust-2');
      expect(journal).toHaveLength(1);
      expect(journal[0]).toMatchObject({ action: 'OVERRIDE', operator: 'reconciliation', sequence: 0 });
      const audit = (await listAudit(backend.db, {})).filter((e) => e.eventKey.startsWith('ADOPT:trust-2:'));
      expect(audit.map((e) => e.marketId).sort()).toEqual([x.market.marketId, other!.marketId].sort());

      // The records now agree with the venue, cash included.
      const next = await inActivity(() => ops.reconcileAccount({ runId: 'trust-3', policy: 'TRUST_VENUE' }));
      expect(next.discrepancies).toEqual([]);
    });

    it('adopts the venue cash when the run found a cash difference', async () => {
      const ops = build();
      await buyAndRecord(backend.db, 1);
      await inActivity(() => ops.reconcileAccount({ runId: 'c-1', policy: 'TRUST_VENUE' }));
      x.exchange.admin.adjustCash(PAPER_KEY_ID, -2_000_000);
      const found = await inActivity(() => ops.reconcileAccount({ runId: 'c-2', policy: 'TRUST_VENUE' }));
      expect(found.decision.adoptCash).toBe((await x.venue.getBalance()).cash);
      await inActivity(() => ops.adoptVenueFigures({ runId: 'c-2', operator: 'ops@example.com', reason: 'deposit correction' }));
      expect((await inActivity(() => ops.reconcileAccount({ runId: 'c-3', policy: 'TRUST_VENUE' }))).discrepancies).toEqual([]);
    });

    it('refuses a run that does not exist', async () => {
      const ops = build();
      await expect(inActivity(() => ops.adoptVenueFigures({ runId: 'nope', operator: 'a', reason: 'b' }))).rejects.toMatchObject({ type: 'RecordNotFound', nonRetryable: true });
    });
  });

  it('lists the sessions still running (halted ones included, finished ones not)', async () => {
    const ops = build();
    const day = '2026-01-05';
    for (const [id, at] of [
      ['session-a-2026-01-05', 1],
      ['session-b-2026-01-05', 2],
      ['session-c-2026-01-05', 3],
    ] as const) {
      await startSession(backend.db, { sessionId: id, strategy: id.split('-')[1]!, tradingDay: day, mode: 'PAPER', startedAt: 1_767_600_000_000 + at });
    }
    await updateSession(backend.db, 'session-b-2026-01-05', { status: 'HALTED', at: 1_767_600_001_000 });
    await updateSession(backend.db, 'session-c-2026-01-05', { status: 'COMPLETED', at: 1_767_600_002_000 });
    expect(await inActivity(() => ops.listActiveSessions())).toEqual(['session-a-2026-01-05', 'session-b-2026-01-05']);
  });

  describe('resetDailyCounters', () => {
    const zone = 'America/New_York';
    const day = '2026-01-06';
    const dayStart = startOfDayIn(day, zone); // 05:00 UTC
    const trip = (kind: BreakerTrip['kind'], since: number): BreakerTrip => ({
      kind,
      reason: `${kind} tripped`,
      observed: kind === 'MANUAL' ? null : 1,
      limit: kind === 'MANUAL' ? null : 1,
      since,
      operator: kind === 'MANUAL' ? 'alice' : null,
    });

    it('lifts recorded daily-loss trips only, once per day', async () => {
      const yesterday = dayStart - 3_600_000;
      await recordBreakerChange(backend.db, { strategy: 'ema', tradingDay: '2026-01-05', change: 'TRIPPED', trips: [trip('DAILY_LOSS', yesterday), trip('DRAWDOWN', yesterday)], at: yesterday });
      await recordBreakerChange(backend.db, { strategy: 'ema', tradingDay: '2026-01-05', change: 'TRIPPED', trips: [trip('MANUAL', yesterday + 1)], at: yesterday + 1 });
      await recordBreakerChange(backend.db, { strategy: 'other', tradingDay: '2026-01-05', change: 'TRIPPED', trips: [trip('DAILY_LOSS', yesterday + 2)], at: yesterday + 2 });
      // Tripped after the new day began: today's loss, not lifted.
      await recordBreakerChange(backend.db, { strategy: 'late', tradingDay: day, change: 'TRIPPED', trips: [trip('DAILY_LOSS', dayStart + 60_000)], at: dayStart + 60_000 });

      let now = dayStart + 5 * 60_000;
      const ops = build({ timeZone: zone, clock: () => now });
      const reset = await inActivity(() => ops.resetDailyCounters({ tradingDay: null }));
      expect(reset).toEqual({ tradingDay: day, previousDay: '2026-01-05', liftedTrips: 2, dayStartAt: expect.any(Number) });
      expect((await loadActiveTrips(backend.db, 'ema')).map((t) => t.kind).sort()).toEqual(['DRAWDOWN', 'MANUAL']);
      expect(await loadActiveTrips(backend.db, 'other')).toEqual([]);
      expect((await loadActiveTrips(backend.db, 'late')).map((t) => t.kind)).toEqual(['DAILY_LOSS']);
      const events = await listBreakerEvents(backend.db);

      now += 60_000;
      await expect(inActivity(() => ops.resetDailyCounters({ tradingDay: day }))).resolves.toEqual(reset);
      expect(await listBreakerEvents(backend.db)).toHaveLength(events.length);
      expect((await listOperatorActions(backend.db, { action: 'DAILY_RESET' })).length).toBe(1);
      const days = (await listDailyPnl(backend.db, {})).map((d) => d.tradingDay);
      expect(days).toEqual(expect.arrayContaining([day, '2026-01-05']));
    });

    it('takes today in the configured zone when no day is given', async () => {
      const at = Date.UTC(2026, 0, 6, 3, 0, 0); // 22:00 on Jan 5 in New York
      const ops = build({ timeZone: zone, clock: () => at });
      await expect(inActivity(() => ops.resetDailyCounters({ tradingDay: null }))).resolves.toMatchObject({ tradingDay: '2026-01-05', previousDay: '2026-01-04', liftedTrips: 0 });
    });

    it("resets the day the schedule meant, not the activity's day (worker down across midnight)", async () => {
      // Meant for 00:00 on Jan 6 in New York; the worker picks it up at 01:30 on Jan 7.
      const scheduledAt = dayStart;
      const now = startOfDayIn('2026-01-07', zone) + 90 * 60_000;
      const yesterday = dayStart - 3_600_000;
      await recordBreakerChange(backend.db, { strategy: 'ema', tradingDay: '2026-01-05', change: 'TRIPPED', trips: [trip('DAILY_LOSS', yesterday), trip('MANUAL', yesterday)], at: yesterday });
      // Tripped during Jan 6, the day this reset opens: that day's loss stays until Jan 7's reset.
      await recordBreakerChange(backend.db, { strategy: 'late', tradingDay: day, change: 'TRIPPED', trips: [trip('DAILY_LOSS', dayStart + 3_600_000)], at: dayStart + 3_600_000 });
      const ops = build({ timeZone: zone, clock: () => now });
      await expect(inActivity(() => ops.resetDailyCounters({ tradingDay: null, scheduledAt }))).resolves.toEqual({ tradingDay: day, previousDay: '2026-01-05', liftedTrips: 1, dayStartAt: expect.any(Number) });
      expect((await loadActiveTrips(backend.db, 'ema')).map((t) => t.kind)).toEqual(['MANUAL']);
      expect((await loadActiveTrips(backend.db, 'late')).map((t) => t.kind)).toEqual(['DAILY_LOSS']);
      expect((await listOperatorActions(backend.db, { action: 'DAILY_RESET' })).map((a) => a.details.tradingDay)).toEqual([day]);
      // Jan 7's own reset, later, is a separate day and lifts the late trip.
      await expect(inActivity(() => ops.resetDailyCounters({ tradingDay: null, scheduledAt: startOfDayIn('2026-01-07', zone) }))).resolves.toMatchObject({ tradingDay: '2026-01-07', liftedTrips: 1 });
    });

    it('refuses a scheduled time that is not epoch milliseconds, naming it', async () => {
      const ops = build({ timeZone: zone });
      await expect(inActivity(() => ops.resetDailyCounters({ tradingDay: null, scheduledAt: 1.5 }))).rejects.toThrow(/scheduledAt.*1\.5/);
    });
  });

  it('settles a resolved market once, at 1 for YES', async () => {
    const ops = build();
    await buyAndRecord(backend.db, 5);
    const held = (await getPosition(backend.db, 'paper', x.market.marketId))!;
    x.exchange.admin.resolveMarket(x.market.marketId, 'YES');

    const first = await inActivity(() => ops.settleResolvedMarkets());
    expect(first.settled).toEqual([{ marketId: x.market.marketId, outcome: 'YES', realizedPnl: (5_000_000 - held.costBasis) as Money }]);
    await expect(inActivity(() => ops.settleResolvedMarkets())).resolves.toEqual({ settled: [] });
    const history = await positionHistoryOf(backend.db, 'paper', x.market.marketId);
    expect(history.filter((h) => h.cause === 'SETTLEMENT')).toHaveLength(1);
    expect((await getPosition(backend.db, 'paper', x.market.marketId))!.quantity).toBe(0);
    // The venue paid out; the records agree, cash included.
    await expect(inActivity(() => ops.reconcileAccount({ runId: 'after-resolution', policy: 'HALT_AND_ALERT' }))).resolves.toMatchObject({ discrepancies: [] });
  });

  it('emails the daily report once per day with P&L, orders and alerts', async () => {
    const mailer = new CapturingMailer();
    const ops = build({ mailer });
    await buyAndRecord(backend.db, 4, x.market.marketId, true);
    const recorded = await listFills(backend.db, {});
    const day = recorded[0]!.tradingDay;
    await inActivity(() => ops.raiseAlert({ level: 'HIGH', type: 'FILL_RATE_LOW', dedupeKey: 'fill-rate-1', title: 'Fill rate 40%', body: 'x' }));
    mailer.sent.length = 0;
    await inActivity(() => ops.sendDailyReport({ tradingDay: day }));
    await inActivity(() => ops.sendDailyReport({ tradingDay: day }));
    expect(mailer.sent).toHaveLength(1);
    const mail = mailer.sent[0]!;
    expect(mail.subject).toMatch(new RegExp(`^\\[Trading Alert - LOW\\] Daily report ${day} \\(paper\\): net -?\\d`));
    expect(mail.text).toContain(`Trading day ${day} (UTC)`);
    expect(mail.text).toContain(x.market.marketId);
    expect(mail.text).toContain(`fills ${recorded.length}, contracts 4`);
    expect(mail.text).toContain('placed 1, filled at least partly 1 (fill rate 100.0%)');
    expect(mail.text).toContain('contracts ordered 4, filled 4 (100.0%)');
    expect(mail.text).toMatch(/CRITICAL 0, HIGH 1/);
    expect(mail.text).toContain('Fill rate 40%');
  });
});

describe('operations helpers', () => {
  it('finds the trading day and its start in a zone, across a DST change', () => {
    expect(tradingDayIn(Date.UTC(2026, 0, 6, 4, 59), 'America/New_York')).toBe('2026-01-05');
    expect(tradingDayIn(Date.UTC(2026, 0, 6, 5, 0), 'America/New_York')).toBe('2026-01-06');
    expect(startOfDayIn('2026-01-06', 'America/New_York')).toBe(Date.UTC(2026, 0, 6, 5));
    expect(startOfDayIn('2026-03-09', 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 4)); // EDT from Mar 8
    expect(startOfDayIn('2026-03-08', 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5));
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('books an adoption without realizing P&L', () => {
    const long = { marketId: 'M', quantity: 5, costBasis: 2_150_000 as Money, realizedPnl: 10 as Money, fees: 7 as Money };
    expect(bookAdoption(long, 2, null)!.after).toEqual({ ...long, quantity: 2, costBasis: 860_000 });
    expect(bookAdoption(long, 8, null)!.after).toEqual({ ...long, quantity: 8, costBasis: 2_150_000 + 3 * 430_000 });
    expect(bookAdoption(long, 0, null)!.after).toEqual({ ...long, quantity: 0, costBasis: 0 });
    expect(bookAdoption(long, -3, null)).toBeNull();
    expect(bookAdoption(long, -3, 400_000 as Price)!.after).toEqual({ ...long, quantity: -3, costBasis: -1_200_000 });
    const short = { marketId: 'M', quantity: -4, costBasis: -2_000_000 as Money, realizedPnl: 0 as Money, fees: 0 as Money };
    expect(bookAdoption(short, -6, null)!.after.costBasis).toBe(-3_000_000);
  });

  it('keeps a report with many markets under the alert body limit', () => {
    const markets = Array.from({ length: 500 }, (_, i) => ({ marketId: `MARKET-${i}`, realizedPnl: (i * 1_000) as Money, fees: 10 as Money, fills: 1, contracts: 1 }));
    const { body } = formatDailyReport({
      account: 'paper',
      tradingDay: '2026-01-05',
      timeZone: 'UTC',
      realizedPnl: 0 as Money,
      unrealizedPnl: null,
      fees: 0 as Money,
      netPnl: 0 as Money,
      fillCount: 0,
      contractsTraded: 0,
      notionalTraded: 0 as Money,
      markets,
      ordersByState: {},
      ordersPlaced: 0,
      ordersFilled: 0,
      contractsOrdered: 0,
      contractsFilled: 0,
      alertsByLevel: {},
      notableAlerts: [],
      halts: [],
    });
    expect(body.length).toBeLessThanOrEqual(10_000);
    expect(body).toContain('MARKET-499'); // largest first
    expect(body).toMatch(/\.\.\. and \d+ more markets/);
  });
});
