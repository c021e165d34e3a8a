/**
 * Operations activities: reconciliation against the venue, adopting the venue's figures, the
 * daily reset and report, and settling resolved markets. Each is idempotent on a business key
 * (the run ID, the trading day, the market), so Temporal may retry any of them freely.
 *
 * Before comparing, reconcileAccount records the venue fills the ledger has not seen yet (the
 * shared fill sync) and settles markets the venue reports resolved: both are lag, not
 * differences, and would otherwise halt trading until the next order poll or resolution run.
 *
 * Local cash. The records keep fills, positions and settlements, not a cash balance. By the
 * ledger's identity (ledger.ts) the cash that trading moved is, summed over every position,
 *   net cash flow = realizedPnl - costBasis - fees
 * so local cash = baseline + net cash flow, where the baseline is the venue's cash minus the
 * net cash flow at the account's FIRST reconciliation run (recorded in that run's summary and
 * carried into each later one). The first run therefore cannot find a cash difference; every
 * later one finds any cash the venue moved that the records do not explain (deposits, fees not
 * recorded, a fill never synced). Adopting the venue's figures moves the baseline (see below).
 *
 * Adoption (adoptVenueFigures): for each position difference the run recorded, the venue's
 * current quantity is written into the records if it still equals what the run saw (else the
 * market is skipped: the next run decides). The difference is booked without realizing P&L:
 * at the position's own average entry while it keeps its side (reducing keeps the exact entry
 * ratio), at the venue's mark (mid, else last) when a position opens or changes side. Fills
 * are never touched; the change is in the audit log (RECONCILIATION, "ADOPT:<run>:<market>")
 * and the journal (OVERRIDE under the run ID, sequence 0). Booking moves the cost basis, so the
 * cash baseline moves by the same amount (cash unchanged), unless the run found a cash
 * difference: then local cash is set to the venue's.
 */
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import {
  appendAudit,
  finishReconciliationRun,
  getOrder,
  listAlerts,
  listBreakerEvents,
  listDailyPnl,
  listDiscrepancies,
  listOpenOrders,
  listOperatorActions,
  listOrders,
  listPositions,
  loadActiveTrips,
  markDailyPnl,
  recordBreakerChange,
  recordDiscrepancies,
  recordOperatorAction,
  settleMarketPosition,
  startReconciliationRun,
  RecordNotFound,
  type Executor,
} from '../db';
import { mapErrors, transaction } from '../db/repositories/common';
import { breakerEvents, operatorActions, positionHistory, positions, reconciliationRuns, tradingSessions } from '../db/schema';
import { BreakerKind } from '../domain/breakers';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { addDays, startOfDayIn, tradingDayIn } from '../domain/calendar';
import { validateTradingDay } from '../domain/ids';
import { averageEntryPrice, type Position } from '../domain/ledger';
import { markPrice, type Outcome } from '../domain/market';
import { MICROS, mulDiv, parseMicros, type Money, type Price } from '../domain/money';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../domain/operator-request';
import { decideReconciliation, reconcile, RECONCILIATION_POLICIES, type Discrepancy, type LocalOrderView, type VenueOrderView } from '../domain/reconciliation';
import type { AlertActivities } from './alerts';
import { formatDailyReport, type MarketDayLine } from './daily-report';
import { reportOperatorAction, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import { servicesFor } from './services';
import type { OperationsActivities, OperatorAction, ReconciliationOutcome } from '../contracts/activities';
import type { VenueOrder } from '../contracts/venue';

// ---- trading days in a time zone (Intl) ----

export { addDays, startOfDayIn, tradingDayIn };


// ---- reconciliation ----

interface CashAnchor {
  /** Local cash = baseline + net cash flow of the records. */
  baseline: Money;
  at: number;
  source: 'FIRST_RUN' | 'CARRIED' | 'ADOPTED';
}

interface Adoption {
  at: number;
  operator: string;
  reason: string;
  adopted: { marketId: string; before: number; after: number; bookedAt: Price | null; costBasisChange: Money }[];
  skipped: { marketId: string; reason: string }[];
  cashAdopted: boolean;
  cash: CashAnchor;
}

interface RunSummary {
  outcome?: ReconciliationOutcome;
  cash?: CashAnchor & { local: Money; venue: Money; netCashFlow: Money; derivation: string };
  adoption?: Adoption;
  /** Venue fills recorded by the sync that preceded the comparison. */
  fillsSynced?: number;
}

const CASH_DERIVATION = 'local cash = baseline + sum over positions of (realized P&L - cost basis - fees); baseline fixed at the first run, moved by adoptions';

/** Cash that fills and settlements moved, by the ledger identity realized - costBasis = sells - buys + payouts. */
const netCashFlow = (ps: readonly Pick<Position, 'realizedPnl' | 'costBasis' | 'fees'>[]): Money => ps.reduce((s, p) => s + p.realizedPnl - p.costBasis - p.fees, 0) as Money;

const POSITION_KINDS = new Set(['POSITION_LOCAL_ONLY', 'POSITION_VENUE_ONLY', 'POSITION_QUANTITY_MISMATCH']);

function discrepancyKey(d: Discrepancy): string {
  if (d.kind === 'CASH_MISMATCH') return 'CASH';
  if (POSITION_KINDS.has(d.kind)) return `POSITION:${d.marketId}`;
  return `${d.kind}:${d.clientOrderId}`;
}

const ORDER_LOOKUP_CAP = 50;

/** How a recorded position changes to hold `target` contracts, without realizing P&L. */
export function bookAdoption(before: Position, target: number, mark: Price | null): { after: Position; bookedAt: Price | null } | null {
  const q = before.quantity;
  if (target === q) return { after: before, bookedAt: null };
  if (target === 0) return { after: { ...before, quantity: 0, costBasis: 0 as Money }, bookedAt: averageEntryPrice(before) };
  const sameSide = q !== 0 && q > 0 === target > 0;
  if (sameSide && Math.abs(target) < Math.abs(q)) {
    return { after: { ...before, quantity: target, costBasis: mulDiv(before.costBasis, target, q) as Money }, bookedAt: averageEntryPrice(before) };
  }
  if (sameSide) {
    const entry = averageEntryPrice(before) as Price;
    return { after: { ...before, quantity: target, costBasis: (before.costBasis + (target - q) * entry) as Money }, bookedAt: entry };
  }
  if (mark === null) return null;
  return { after: { ...before, quantity: target, costBasis: (target * mark) as Money }, bookedAt: mark };
}

const nonEmpty = (v: unknown, max: number): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

export function createOperationsActivities(deps: ActivityDeps, alerts: AlertActivities): OperationsActivities {
  const { db, venue, config, clock } = deps;
  const account = config.account;

  async function getRun(ex: Executor, runId: string, lock = false) {
    const q = ex.select().from(reconciliationRuns).where(eq(reconciliationRuns.runId, runId));
    const [row] = await mapErrors(lock ? q.for('update') : q);
    return row ?? null;
  }

  /** The newest cash anchor recorded for the account (a run's own or an adoption's). */
  async function latestAnchor(ex: Executor, excludeRunId: string | null): Promise<CashAnchor | null> {
    const rows = await mapErrors(
      ex
        .select({ runId: reconciliationRuns.runId, summary: reconciliationRuns.summary })
        .from(reconciliationRuns)
        .where(and(eq(reconciliationRuns.account, account), sql`${reconciliationRuns.summary} is not null`))
        .orderBy(desc(reconciliationRuns.startedAt))
        .limit(200),
    );
    let best: CashAnchor | null = null;
    for (const r of rows) {
      if (r.runId === excludeRunId) continue;
      const s = r.summary as RunSummary;
      for (const a of [s.cash, s.adoption?.cash]) {
        if (a && Number.isSafeInteger(a.baseline) && (best === null || a.at > best.at)) best = { baseline: a.baseline, at: a.at, source: a.source };
      }
    }
    return best;
  }

  async function settleResolved(): Promise<{ marketId: string; outcome: Outcome; realizedPnl: Money }[]> {
    const resolved = new Map<string, Outcome>();
    for (const m of await venue.listMarkets()) if (m.outcome === 'YES' || m.outcome === 'NO') resolved.set(m.marketId, m.outcome);
    if (resolved.size === 0) return [];
    const open = await listPositions(db, { account, openOnly: true });
    const settled: { marketId: string; outcome: Outcome; realizedPnl: Money }[] = [];
    for (const p of open) {
      const outcome = resolved.get(p.marketId);
      if (outcome === undefined) continue;
      const at = clock();
      const r = await settleMarketPosition(db, { account, marketId: p.marketId, outcome, at, tradingDay: tradingDayIn(at, config.timeZone) });
      if (!r.settled || r.position === null) continue;
      const realizedPnl = (r.position.realizedPnl - p.realizedPnl) as Money;
      settled.push({ marketId: p.marketId, outcome, realizedPnl });
      await alerts.raiseAlert({
        level: 'LOW',
        type: 'MARKET_SETTLED',
        dedupeKey: `MARKET_SETTLED:${account}:${p.marketId}`,
        title: `${p.marketId} resolved ${outcome}`,
        body: `${p.quantity} contracts settled at ${outcome === 'YES' ? '1' : '0'}; realized ${realizedPnl / MICROS}`,
      });
    }
    return settled;
  }

  async function reconcileAccount(input: { runId: string; policy: (typeof RECONCILIATION_POLICIES)[number] }): Promise<ReconciliationOutcome> {
    const problems: FieldProblem[] = [];
    if (!nonEmpty(input?.runId, 200)) problems.push({ field: 'runId', value: input?.runId, problem: 'must be a workflow ID of 1-200 characters' });
    if (!RECONCILIATION_POLICIES.includes(input?.policy)) problems.push({ field: 'policy', value: input?.policy, problem: `must be one of ${RECONCILIATION_POLICIES.join(', ')}` });
    if (problems.length > 0) throw new InvalidInput(problems);
    const { runId, policy } = input;

    const prior = await getRun(db, runId);
    if (prior && prior.account !== account) throw InvalidInput.of('runId', runId, `is a run of account ${prior.account}, not ${account}`);
    const recorded = (prior?.summary as RunSummary | null)?.outcome;
    if (prior && prior.status !== 'RUNNING' && recorded) return recorded;

    await startReconciliationRun(db, { runId, account, policy, startedAt: clock() });
    // Fills the venue reported and resolutions it paid out are lag, not differences: bring the
    // records up to date with both first (each idempotent), then compare.
    const synced = await servicesFor(deps).fills.sync();
    await settleResolved();

    const venuePositions = await venue.getPositions();
    const { cash: venueCash } = await venue.getBalance();
    const venueOpen = await venue.listOpenOrders();

    const recordedPositions = await listPositions(db, { account });
    const localOpen = await listOpenOrders(db, { account, limit: 100_000 });

    const venueOrders: Record<string, VenueOrderView> = {};
    const view = (o: VenueOrder): VenueOrderView => ({ marketId: o.marketId, status: o.status, filledQuantity: o.filledQuantity });
    for (const o of venueOpen) venueOrders[o.clientOrderId] = view(o);
    // Orders open here but no longer open there: ask the venue what became of them.
    let lookups = 0;
    for (const o of localOpen) {
      if (venueOrders[o.clientOrderId] || lookups >= ORDER_LOOKUP_CAP) continue;
      lookups++;
      const found = await venue.getOrderByClientId(o.clientOrderId);
      if (found) venueOrders[o.clientOrderId] = view(found);
    }
    const localOrders: Record<string, LocalOrderView> = {};
    for (const o of localOpen) localOrders[o.clientOrderId] = { marketId: o.marketId, state: o.state, filledQuantity: o.filledQuantity };
    // Orders live there and finished (or unknown) here.
    for (const o of venueOpen) {
      if (localOrders[o.clientOrderId]) continue;
      const mine = await getOrder(db, o.clientOrderId);
      if (mine && mine.account === account) localOrders[o.clientOrderId] = { marketId: mine.marketId, state: mine.state, filledQuantity: mine.filledQuantity };
    }

    const flow = netCashFlow(recordedPositions);
    const anchor = await latestAnchor(db, runId);
    const baseline = anchor ? anchor.baseline : ((venueCash - flow) as Money);
    const now = clock();
    const cash = {
      baseline,
      at: anchor ? anchor.at : now,
      source: anchor ? ('CARRIED' as const) : ('FIRST_RUN' as const),
      local: (baseline + flow) as Money,
      venue: venueCash,
      netCashFlow: flow,
      derivation: CASH_DERIVATION,
    };

    const discrepancies = reconcile(
      {
        positions: Object.fromEntries(recordedPositions.filter((p) => p.quantity !== 0).map((p) => [p.marketId, p.quantity])),
        cash: cash.local,
        openOrders: localOrders,
      },
      { positions: Object.fromEntries(venuePositions.filter((p) => p.quantity !== 0).map((p) => [p.marketId, p.quantity])), cash: venueCash, openOrders: venueOrders },
      { cash: config.reconciliation.cashTolerance as Money },
    );
    const decision = decideReconciliation(discrepancies, policy);
    const outcome: ReconciliationOutcome = { runId, discrepancies, decision, at: now };
    await recordDiscrepancies(
      db,
      runId,
      discrepancies.map((d) => ({
        key: discrepancyKey(d),
        kind: d.kind,
        marketId: d.marketId,
        clientOrderId: d.clientOrderId,
        local: d.local,
        venue: d.venue,
        resolution: `${d.severity}: ${d.message}`,
      })),
      now,
    );
    const summary: RunSummary = { outcome, cash, fillsSynced: synced.fillsInserted };
    await finishReconciliationRun(db, runId, { status: decision.clean ? 'CLEAN' : 'DISCREPANCIES', finishedAt: now, summary: summary as Record<string, unknown> });
    return outcome;
  }

  async function adoptVenueFigures(input: { runId: string; operator: string; reason: string }): Promise<void> {
    const problems: FieldProblem[] = [];
    if (!nonEmpty(input?.runId, 200)) problems.push({ field: 'runId', value: input?.runId, problem: 'must be a workflow ID of 1-200 characters' });
    for (const [field, max] of [['operator', MAX_OPERATOR_LENGTH], ['reason', MAX_REASON_LENGTH]] as const) {
      const problem = operatorTextProblem(input?.[field], max);
      if (problem !== null) problems.push({ field, value: input?.[field], problem });
    }
    if (problems.length > 0) throw new InvalidInput(problems);
    const { runId, operator, reason } = input;

    const run = await getRun(db, runId);
    if (!run) throw new RecordNotFound('reconciliation_runs', 'run_id', runId);
    if (run.account !== account) throw InvalidInput.of('runId', runId, `is a run of account ${run.account}, not ${account}`);
    if (run.status === 'RUNNING') throw InvalidInput.of('runId', runId, 'has not finished: reconcile before adopting');
    if ((run.summary as RunSummary | null)?.adoption) return;

    const found = await listDiscrepancies(db, runId);
    const seen = new Map<string, number>();
    for (const d of found) if (POSITION_KINDS.has(d.kind) && d.marketId) seen.set(d.marketId, Number(d.venue ?? 0));
    const cashSeen = found.some((d) => d.kind === 'CASH_MISMATCH');

    const venueNow = new Map((await venue.getPositions()).map((p) => [p.marketId, p.quantity]));
    const venueCash = cashSeen ? (await venue.getBalance()).cash : null;
    const recordedNow = new Map((await listPositions(db, { account })).map((p) => [p.marketId, p]));
    // A mark only where a position opens or changes side (no entry price to book at).
    const marks = new Map<string, Price | null>();
    for (const [marketId] of seen) {
      const target = venueNow.get(marketId) ?? 0;
      const q = recordedNow.get(marketId)?.quantity ?? 0;
      if (target === 0 || (q !== 0 && q > 0 === target > 0)) continue;
      let mark: Price | null = null;
      try {
        mark = markPrice(await venue.getMarketSnapshot(marketId));
      } catch {
        mark = null;
      }
      marks.set(marketId, mark ?? recordedNow.get(marketId)?.mark ?? null);
    }

    const at = clock();
    let journaled: Record<string, unknown> | null = null;
    await transaction(db, async (tx) => {
      journaled = null;
      const locked = await getRun(tx, runId, true);
      if (!locked || (locked.summary as RunSummary | null)?.adoption) return;
      const adoption: Adoption = { at, operator, reason, adopted: [], skipped: [], cashAdopted: false, cash: { baseline: 0 as Money, at, source: 'ADOPTED' } };
      let costBasisChange = 0;
      for (const marketId of [...seen.keys()].sort()) {
        const target = venueNow.get(marketId) ?? 0;
        if (target !== seen.get(marketId)) {
          adoption.skipped.push({ marketId, reason: `the venue now holds ${target}, not the ${seen.get(marketId)} the run saw` });
          continue;
        }
        const [row] = await tx
          .select()
          .from(positions)
          .where(and(eq(positions.account, account), eq(positions.marketId, marketId)))
          .for('update');
        const before: Position = row
          ? { marketId, quantity: row.quantity, costBasis: row.costBasis, realizedPnl: row.realizedPnl, fees: row.fees }
          : { marketId, quantity: 0, costBasis: 0 as Money, realizedPnl: 0 as Money, fees: 0 as Money };
        if (before.quantity === target) {
          adoption.skipped.push({ marketId, reason: 'the records already agree' });
          continue;
        }
        const booked = bookAdoption(before, target, marks.get(marketId) ?? null);
        if (booked === null) {
          adoption.skipped.push({ marketId, reason: 'no venue price to book the new position at' });
          continue;
        }
        const { after, bookedAt } = booked;
        if (row) {
          await tx
            .update(positions)
            .set({ quantity: after.quantity, costBasis: after.costBasis, updatedAt: sql`now()` })
            .where(and(eq(positions.account, account), eq(positions.marketId, marketId)));
        } else {
          await tx.insert(positions).values({ account, marketId, quantity: after.quantity, costBasis: after.costBasis });
        }
        const change = (after.costBasis - before.costBasis) as Money;
        costBasisChange += change;
        adoption.adopted.push({ marketId, before: before.quantity, after: after.quantity, bookedAt, costBasisChange: change });
        await appendAudit(tx, [
          {
            eventKey: `ADOPT:${runId}:${marketId}`,
            kind: 'RECONCILIATION',
            marketId,
            occurredAt: at,
            payload: { runId, operator, reason, account, before, after, bookedAt },
          },
        ]);
      }
      const anchor = (await latestAnchor(tx, null)) ?? { baseline: 0 as Money, at, source: 'FIRST_RUN' as const };
      if (venueCash !== null) {
        const flow = netCashFlow(await listPositions(tx, { account }));
        adoption.cash.baseline = (venueCash - flow) as Money;
        adoption.cashAdopted = true;
      } else {
        adoption.cash.baseline = (anchor.baseline + costBasisChange) as Money;
      }
      await recordOperatorAction(tx, {
        action: 'OVERRIDE',
        operator,
        reason,
        workflowId: runId,
        sequence: 0,
        details: {
          kind: 'ADOPT_VENUE_FIGURES',
          runId,
          adoptedMarkets: adoption.adopted.map((a) => `${a.marketId}:${a.before}->${a.after}`).join(',') || null,
          skippedMarkets: adoption.skipped.map((s) => s.marketId).join(',') || null,
          cashAdopted: adoption.cashAdopted,
        },
        at,
      });
      journaled = {
        kind: 'ADOPT_VENUE_FIGURES',
        runId,
        adoptedMarkets: adoption.adopted.map((a) => `${a.marketId}:${a.before}->${a.after}`).join(',') || null,
        cashAdopted: adoption.cashAdopted,
      };
      const summary: RunSummary = { ...((locked.summary as RunSummary | null) ?? {}), adoption };
      await tx
        .update(reconciliationRuns)
        .set({ summary: summary as Record<string, unknown> })
        .where(eq(reconciliationRuns.runId, runId));
    });
    const details = journaled as Record<string, unknown> | null;
    if (details) reportOperatorAction(deps, { action: 'OVERRIDE', operator, reason, workflowId: runId, sequence: 0, details });
  }

  async function listActiveSessions(): Promise<string[]> {
    const rows = await mapErrors(
      db
        .select({ id: tradingSessions.sessionId })
        .from(tradingSessions)
        .where(and(eq(tradingSessions.account, account), inArray(tradingSessions.status, ['RUNNING', 'HALTED'])))
        .orderBy(asc(tradingSessions.startedAt), asc(tradingSessions.sessionId)),
    );
    return rows.map((r) => r.id);
  }

  async function resetDailyCounters(input: { tradingDay: string | null; scheduledAt?: number | null }): Promise<{ tradingDay: string; previousDay: string; liftedTrips: number; dayStartAt: number }> {
    const now = clock();
    const scheduledAt = input?.scheduledAt ?? null;
    if (scheduledAt !== null && (!Number.isSafeInteger(scheduledAt) || scheduledAt <= 0)) {
      throw InvalidInput.of('scheduledAt', scheduledAt, 'must be epoch milliseconds (the time the schedule meant) or null');
    }
    // The schedule's time, not this activity's clock: a run picked up after midnight (worker down) still resets the day it was meant for.
    const day = input?.tradingDay == null ? tradingDayIn(scheduledAt ?? now, config.timeZone) : validateTradingDay(input.tradingDay);
    const previousDay = addDays(day, -1);
    const journalKey = `daily-reset:${account}:${day}`;
    const dayStart = startOfDayIn(day, config.timeZone);
    let performed: { liftedTrips: number; strategies: string | null } | null = null;
    const result = await transaction(db, async (tx) => {
      performed = null;
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${journalKey}))`);
      const [done] = await tx
        .select()
        .from(operatorActions)
        .where(and(eq(operatorActions.workflowId, journalKey), eq(operatorActions.sequence, 0)));
      if (done) return { tradingDay: day, previousDay, liftedTrips: Number(done.details.liftedTrips ?? 0), dayStartAt: dayStart };
      const strategies = (await tx.selectDistinct({ strategy: breakerEvents.strategy }).from(breakerEvents).orderBy(asc(breakerEvents.strategy))).map((r) => r.strategy);
      let lifted = 0;
      const liftedFor: string[] = [];
      for (const strategy of strategies) {
        // DAILY_LOSS only, and only trips from before the new day: manual halts and drawdown wait for a person.
        const trips = (await loadActiveTrips(tx, strategy)).filter((t) => t.kind === BreakerKind.DAILY_LOSS && t.since < dayStart);
        if (trips.length === 0) continue;
        await recordBreakerChange(tx, { strategy, tradingDay: day, change: 'LIFTED', trips, at: now });
        lifted += trips.length;
        liftedFor.push(strategy);
      }
      // Close the old day's mark and open the new one (realized P&L per day comes from position history).
      await markDailyPnl(tx, { account, tradingDay: previousDay, at: now });
      await markDailyPnl(tx, { account, tradingDay: day, at: now });
      await recordOperatorAction(tx, {
        action: 'DAILY_RESET',
        operator: 'daily-reset',
        reason: `trading day ${day} starts in ${config.timeZone}`,
        workflowId: journalKey,
        sequence: 0,
        details: { account, tradingDay: day, previousDay, liftedTrips: lifted, strategies: liftedFor.join(',') || null },
        at: now,
      });
      performed = { liftedTrips: lifted, strategies: liftedFor.join(',') || null };
      return { tradingDay: day, previousDay, liftedTrips: lifted, dayStartAt: dayStart };
    });
    const done = performed as { liftedTrips: number; strategies: string | null } | null;
    if (done) {
      reportOperatorAction(deps, { action: 'DAILY_RESET', operator: 'daily-reset', reason: `trading day ${day} starts in ${config.timeZone}`, workflowId: journalKey, sequence: 0, details: { account, tradingDay: day, previousDay, ...done } });
    }
    return result;
  }

  async function sendDailyReport(input: { tradingDay: string }): Promise<void> {
    const day = validateTradingDay(input?.tradingDay);
    const from = startOfDayIn(day, config.timeZone);
    const to = startOfDayIn(addDays(day, 1), config.timeZone);
    const iso = (ms: number) => new Date(ms).toISOString();

    const [pnl] = await listDailyPnl(db, { account, from: day, to: day });
    const byMarket = await mapErrors(
      db
        .select({
          marketId: positionHistory.marketId,
          realized: sql<string>`sum(${positionHistory.realizedDelta})::text`,
          fees: sql<string>`sum(${positionHistory.fee})::text`,
          fills: sql<string>`count(*) filter (where ${positionHistory.cause} = 'FILL')::text`,
          contracts: sql<string>`sum(${positionHistory.contractsTraded})::text`,
        })
        .from(positionHistory)
        .where(and(eq(positionHistory.account, account), eq(positionHistory.tradingDay, day)))
        .groupBy(positionHistory.marketId),
    );
    const markets: MarketDayLine[] = byMarket.map((r) => ({
      marketId: r.marketId,
      realizedPnl: parseMicros(r.realized, 'realized') as Money,
      fees: parseMicros(r.fees, 'fees') as Money,
      fills: Number(r.fills),
      contracts: Number(r.contracts),
    }));

    const orders = await listOrders(db, { account, tradingDay: day, limit: 100_000 });
    const ordersByState: Record<string, number> = {};
    let ordersPlaced = 0;
    let ordersFilled = 0;
    let contractsOrdered = 0;
    let contractsFilled = 0;
    for (const o of orders) {
      ordersByState[o.state] = (ordersByState[o.state] ?? 0) + 1;
      const reachedVenue = o.venueOrderId !== null || o.filledQuantity > 0 || (o.state !== 'CREATED' && o.state !== 'REJECTED');
      if (!reachedVenue) continue;
      ordersPlaced++;
      contractsOrdered += o.quantity;
      contractsFilled += o.filledQuantity;
      if (o.filledQuantity > 0) ordersFilled++;
    }

    const dayAlerts = (await listAlerts(db, { since: from, limit: 10_000 })).filter((a) => a.raisedAt < to && a.type !== 'DAILY_REPORT');
    const alertsByLevel: Record<string, number> = {};
    for (const a of dayAlerts) alertsByLevel[a.level] = (alertsByLevel[a.level] ?? 0) + 1;
    const notableAlerts = dayAlerts
      .filter((a) => a.level === 'CRITICAL' || a.level === 'HIGH')
      .sort((a, b) => a.raisedAt - b.raisedAt)
      .map((a) => ({ at: iso(a.raisedAt), level: a.level, title: a.title }));

    const breakers = (await listBreakerEvents(db, { since: from, limit: 10_000 })).filter((e) => e.occurredAt < to);
    const actions = (await listOperatorActions(db, { from, to, limit: 10_000 })).filter((a) => a.action === 'HALT' || a.action === 'RESUME' || a.action === 'KILL_SWITCH');
    const halts = [
      ...breakers.map((e) => ({ t: e.occurredAt, what: `${e.strategy} ${e.change} ${e.kind}: ${e.reason}` })),
      ...actions.map((a) => ({ t: a.occurredAt, what: `${a.action} by ${a.operator}: ${a.reason}` })),
    ]
      .sort((a, b) => a.t - b.t)
      .map((h) => ({ at: iso(h.t), what: h.what }));

    const report = formatDailyReport({
      account,
      tradingDay: day,
      timeZone: config.timeZone,
      realizedPnl: pnl?.realizedPnl ?? (0 as Money),
      unrealizedPnl: pnl?.unrealizedPnl ?? null,
      fees: pnl?.fees ?? (0 as Money),
      netPnl: pnl?.netPnl ?? (0 as Money),
      fillCount: pnl?.fillCount ?? 0,
      contractsTraded: pnl?.contractsTraded ?? 0,
      notionalTraded: pnl?.notionalTraded ?? (0 as Money),
      markets,
      ordersByState,
      ordersPlaced,
      ordersFilled,
      contractsOrdered,
      contractsFilled,
      alertsByLevel,
      notableAlerts,
      halts,
    });
    await alerts.raiseAlert({ level: 'LOW', type: 'DAILY_REPORT', dedupeKey: `DAILY_REPORT:${account}:${day}`, title: report.title, body: report.body });
  }

  async function recordAction(action: OperatorAction): Promise<void> {
    await recordOperatorAction(db, { ...action, at: clock() });
    reportOperatorAction(deps, action);
  }

  return {
    reconcileAccount: (input) => runActivity(() => reconcileAccount(input)),
    adoptVenueFigures: (input) => runActivity(() => adoptVenueFigures(input)),
    listActiveSessions: () => runActivity(() => listActiveSessions()),
    resetDailyCounters: (input) => runActivity(() => resetDailyCounters(input)),
    sendDailyReport: (input) => runActivity(() => sendDailyReport(input)),
    settleResolvedMarkets: () => runActivity(async () => ({ settled: await settleResolved() })),
    recordOperatorAction: (action) => runActivity(() => recordAction(action)),
    raiseAlert: (alert) => alerts.raiseAlert(alert),
  };
}

