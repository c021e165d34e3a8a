/**
 * In-memory activities for the server suite: a scripted venue, records and market, satisfying
 * OrderActivities, SessionActivities and OperationsActivities. Times are the wall clock (a real
 * server runs real timers). Market signals are never consumed destructively: the session's
 * strategy state remembers the last signal it saw, so a watch that was cancelled (and whose result
 * the workflow dropped) cannot swallow a signal.
 */
import { ApplicationFailure, Context, heartbeat, sleep } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type {
  AlertRequest,
  EndedOrder,
  OperationsActivities,
  OperatorAction,
  OrderActivities,
  OrderIntent,
  SessionActivities,
  SessionSnapshot,
  WatchSignal,
} from '../../contracts/activities';
import type { VenueOrderStatus } from '../../contracts/venue';
import type { BreakerTrip } from '../../domain/breakers';
import type { AutomationLevel } from '../../domain/automation';
import type { Fill } from '../../domain/fill';
import { MICROS, type Money, type Price, type Quantity } from '../../domain/money';
import { clientOrderIdFromWorkflowId } from '../../domain/ids';
import { TERMINAL_STATES, type Order } from '../../domain/order';
import { decideReconciliation, type Discrepancy } from '../../domain/reconciliation';

export type SubmitBehaviour = 'ACCEPT' | 'AMBIGUOUS';

interface VenueOrderRecord {
  venueOrderId: string;
  intent: OrderIntent;
  status: VenueOrderStatus;
  fills: Fill[];
}

export interface MarketSignal {
  id: number;
  strategy: string;
  signal: WatchSignal;
}

export type AllActivities = OrderActivities & SessionActivities & OperationsActivities;

export class FakeWorld {
  readonly venue = new Map<string, VenueOrderRecord>();
  /** Orders the venue created per client order ID: more than one would be a duplicate. */
  readonly placements = new Map<string, number>();
  readonly submitBehaviour = new Map<string, SubmitBehaviour>();
  /** Contracts to fill on each successive poll, per client order ID; absent: fill all at once. */
  readonly fillPlan = new Map<string, number[]>();
  readonly recordedOrders = new Map<string, Order>();
  readonly alerts: AlertRequest[] = [];
  readonly journal: OperatorAction[] = [];
  readonly trips = new Map<string, BreakerTrip[]>();
  readonly signals: MarketSignal[] = [];
  readonly cancelAllCalls: { strategy: string; reason: string; canceled: string[] }[] = [];
  readonly dailyResets: { tradingDay: string | null; liftedTrips: number; scheduledAt?: number | null }[] = [];
  readonly adoptions: string[] = [];
  /** Daily reports emailed, by trading day (the report is mail: it fails while SMTP is down). */
  readonly reports: string[] = [];
  /** Alert attempts refused while SMTP was down. */
  readonly failedAlerts: AlertRequest[] = [];
  dailyPnl = new Map<string, number>();
  discrepancies: Discrepancy[] = [];
  // ---- order-workflow faults (test/workflows/server-orders.test.ts) ----
  /** Order activities in the order they ran, per client order ID ('submitOrder', 'cancelOrder', ...). */
  readonly orderCalls = new Map<string, string[]>();
  /** The risk check takes this long, per client order ID (a halt or cancel can arrive meanwhile). */
  readonly riskDelayMs = new Map<string, number>();
  /** Client order ID → why the risk check refuses it from now on (the world moved: levels of automation). */
  readonly riskRefusals = new Map<string, string>();
  /** Submissions of these orders fail retryably (a 5xx) before the venue takes them, this many times. */
  readonly submitFailures = new Map<string, number>();
  /** The submit request is in flight this long before the venue takes it, per client order ID. */
  readonly submitDelayMs = new Map<string, number>();
  /** Every raiseAlert call, duplicates and failures included. */
  readonly alertCalls: AlertRequest[] = [];
  /** A fill the venue reports on every poll that does not fit the order (quantity beyond it). */
  readonly strayFills = new Set<string>();
  /** recordOrder refuses, permanently, any snapshot of these orders that carries a fill. */
  readonly recordConflictOnFill = new Set<string>();
  /** The venue ignores cancels of these orders and never reports them final. */
  readonly neverFinal = new Set<string>();
  activeSessions: string[] = [];
  /** Times a workflow ran the fill-sync step (syncFills): the session's, and each order's (also in orderCalls). */
  fillSyncs = 0;
  /**
   * The venue's fills the records hold, per client order ID: a fill sync (the step, or a poll not
   * told that the step ran) brings in every fill the venue has made. The venue makes fills when
   * an order's status is read (pollOrder), so a poll after the step can report a status ahead of
   * the records, as a real venue can.
   */
  readonly ledgerFills = new Map<string, Fill[]>();
  /** SMTP down: raiseAlert and sendDailyReport fail with the retryable ALERT_DELIVERY_FAILED. */
  smtpDown = false;
  /** While true, reconcileAccount keeps comparing (heartbeating) and does not answer. */
  holdReconcile = false;
  /** Client order IDs in the order their pre-trade risk check began: one per order workflow that ran. */
  readonly assessed: string[] = [];
  /** A slow pre-trade risk check: the window in which an order has started but has no record yet. */
  riskCheckDelayMs = 0;
  /** A slow loadCarryover: the window in which the session has not loaded its carried-over state. */
  loadCarryoverDelayMs = 0;
  /** SMTP down: 'RETRYABLE' fails every attempt (Temporal retries), 'FINAL' fails as if the retries were spent. */
  alertOutage: 'NONE' | 'RETRYABLE' | 'FINAL' = 'NONE';
  /** Failure type with which the records refuse every journal entry (a bug in what is written), or null. */
  journalRefusal: string | null = null;
  private nextVenueId = 1;
  private nextSignalId = 1;

  pushSignal(strategy: string, marketId = 'PRES-2028', quantity = 10): void {
    const signal: WatchSignal = {
      marketId,
      side: 'BUY',
      price: (430_000) as Price,
      confidence: 0.6,
      intent: 'ENTER',
      quantity: quantity as Quantity,
      metadata: { z: -1.6 },
    };
    this.signals.push({ id: this.nextSignalId++, strategy, signal });
  }

  /** Places a working order at the venue directly (orders the kill switch must cancel). */
  seedOpenOrder(clientOrderId: string, marketId = 'PRES-2028'): void {
    this.place({ clientOrderId, marketId, side: 'BUY', quantity: 5 as Quantity, limitPrice: (400_000) as Price });
  }

  openOrdersOf(strategy: string): string[] {
    return [...this.venue.entries()].filter(([coid, o]) => coid.startsWith(`${strategy}-`) && (o.status === 'OPEN' || o.status === 'PARTIALLY_FILLED')).map(([coid]) => coid);
  }

  private place(intent: OrderIntent): VenueOrderRecord {
    const existing = this.venue.get(intent.clientOrderId);
    if (existing) return existing;
    const record: VenueOrderRecord = { venueOrderId: `V${this.nextVenueId++}`, intent, status: 'OPEN', fills: [] };
    this.venue.set(intent.clientOrderId, record);
    this.placements.set(intent.clientOrderId, (this.placements.get(intent.clientOrderId) ?? 0) + 1);
    return record;
  }

  private fillSome(coid: string, record: VenueOrderRecord): void {
    if (record.status !== 'OPEN' && record.status !== 'PARTIALLY_FILLED') return;
    const filled = record.fills.reduce((s, f) => s + f.quantity, 0);
    const plan = this.fillPlan.get(coid);
    const next = plan === undefined ? record.intent.quantity - filled : (plan.shift() ?? 0);
    const qty = Math.min(next, record.intent.quantity - filled);
    if (qty <= 0) return;
    record.fills.push({
      tradeId: `T-${record.venueOrderId}-${record.fills.length + 1}`,
      clientOrderId: coid,
      marketId: record.intent.marketId,
      side: record.intent.side,
      quantity: qty as Quantity,
      price: (record.intent.limitPrice ?? (430_000 as Price)) as Price,
      fee: 0 as Money,
      ts: Date.now(),
    });
    record.status = filled + qty === record.intent.quantity ? 'FILLED' : 'PARTIALLY_FILLED';
  }

  private activeTrips(strategy: string): BreakerTrip[] {
    return this.trips.get(strategy) ?? [];
  }

  private called(coid: string, name: string): void {
    const calls = this.orderCalls.get(coid) ?? [];
    calls.push(name);
    this.orderCalls.set(coid, calls);
  }

  private async orderFault(coid: string, name: 'assessOrder' | 'submitOrder'): Promise<void> {
    const ms = (name === 'assessOrder' ? this.riskDelayMs : this.submitDelayMs).get(coid);
    if (ms !== undefined) await new Promise((r) => setTimeout(r, ms));
  }

  private syncLedger(only?: string): void {
    for (const [coid, record] of this.venue) if (only === undefined || coid === only) this.ledgerFills.set(coid, [...record.fills]);
  }

  private strayFill(coid: string, record: VenueOrderRecord): Fill[] {
    if (!this.strayFills.has(coid)) return [];
    return [{ tradeId: `T-${record.venueOrderId}-stray`, clientOrderId: coid, marketId: record.intent.marketId, side: record.intent.side, quantity: (record.intent.quantity + 1) as Quantity, price: (430_000) as Price, fee: 0 as Money, ts: Date.now() }];
  }

  private isTerminalRecord(clientOrderId: string): boolean {
    const o = this.recordedOrders.get(clientOrderId);
    return o !== undefined && TERMINAL_STATES.includes(o.state);
  }

  /** Markets of the strategy with a recorded order still working, as the real watch reads them from the records. */
  private workingMarkets(strategy: string): Set<string> {
    return new Set([...this.recordedOrders.values()].filter((o) => o.clientOrderId.startsWith(`${strategy}-`) && !TERMINAL_STATES.includes(o.state)).map((o) => o.marketId));
  }

  /** Which of these orders have ended: a final state in the records, or a workflow no longer running. */
  private async endedOrders(clientOrderIds: readonly string[]): Promise<EndedOrder[]> {
    const ended: EndedOrder[] = [];
    for (const clientOrderId of clientOrderIds) {
      const recorded = this.recordedOrders.get(clientOrderId);
      if (recorded && TERMINAL_STATES.includes(recorded.state)) {
        ended.push({ clientOrderId, state: recorded.state });
        continue;
      }
      try {
        const d = await Context.current().client.workflow.getHandle(`order-${clientOrderId}`).describe();
        if (d.status.name !== 'RUNNING') ended.push({ clientOrderId, state: recorded?.state ?? null });
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) ended.push({ clientOrderId, state: recorded?.state ?? null });
        else throw e;
      }
    }
    return ended;
  }

  activities(): AllActivities {
    const smtpRefuses = (what: string) => ApplicationFailure.retryable(`SMTP server unreachable: ${what} not delivered`, 'ALERT_DELIVERY_FAILED');
    const alert = async (a: AlertRequest) => {
      this.alertCalls.push(a);
      if (this.alertOutage !== 'NONE') {
        this.failedAlerts.push(a);
        const failure = { message: 'SMTP server unreachable', type: 'ALERT_DELIVERY_FAILED' };
        throw this.alertOutage === 'FINAL' ? ApplicationFailure.nonRetryable(failure.message, failure.type) : ApplicationFailure.retryable(failure.message, failure.type);
      }
      if (this.smtpDown) {
        this.failedAlerts.push(a);
        throw smtpRefuses(a.dedupeKey);
      }
      if (this.alerts.some((x) => x.dedupeKey === a.dedupeKey)) return { sent: false, reason: 'DUPLICATE' as const };
      this.alerts.push(a);
      return { sent: true, reason: 'SENT' as const };
    };
    const journal = async (a: OperatorAction) => {
      if (this.journalRefusal !== null) throw ApplicationFailure.nonRetryable(`journal entry ${a.workflowId}#${a.sequence} refused`, this.journalRefusal);
      const stored = this.journal.find((j) => j.workflowId === a.workflowId && j.sequence === a.sequence);
      // As the records do: the same key with other content is a conflict, not a retry.
      if (stored && (stored.action !== a.action || stored.reason !== a.reason)) {
        throw ApplicationFailure.nonRetryable(`operator_actions ${a.workflowId}#${a.sequence} holds ${stored.action}, not ${a.action}`, 'RecordConflict');
      }
      if (!stored) this.journal.push(a);
    };
    return {
      // ---- orders ----
      assessOrder: async (input) => {
        this.called(input.order.clientOrderId, 'assessOrder');
        await this.orderFault(input.order.clientOrderId, 'assessOrder');
        this.assessed.push(input.order.clientOrderId);
        if (this.riskCheckDelayMs > 0) await sleep(this.riskCheckDelayMs);
        const refusal = this.riskRefusals.get(input.order.clientOrderId);
        if (refusal !== undefined) return { approved: false, violations: [{ rule: 'POSITION_SIZE' as const, limit: null, observed: null, message: refusal }], at: Date.now() };
        return {
          approved: input.halted === null,
          violations: input.halted === null ? [] : [{ rule: 'TRADING_HALTED', limit: null, observed: null, message: `trading halted: ${input.halted}` }],
          at: Date.now(),
        };
      },
      recordOrder: async (order) => {
        this.called(order.clientOrderId, `recordOrder:${order.state}`);
        if (this.recordConflictOnFill.has(order.clientOrderId) && order.fills.length > 0) {
          throw ApplicationFailure.nonRetryable(`order ${order.clientOrderId}: a fill conflicts with the recorded one`, 'RecordConflict');
        }
        this.recordedOrders.set(order.clientOrderId, order);
      },
      submitOrder: async (intent) => {
        this.called(intent.clientOrderId, 'submitOrder');
        await this.orderFault(intent.clientOrderId, 'submitOrder');
        const failures = this.submitFailures.get(intent.clientOrderId) ?? 0;
        if (failures > 0) {
          this.submitFailures.set(intent.clientOrderId, failures - 1);
          throw ApplicationFailure.retryable('HTTP 503 before the venue took the order', 'UNAVAILABLE');
        }
        const record = this.place(intent);
        if (this.submitBehaviour.get(intent.clientOrderId) === 'AMBIGUOUS') {
          // The venue took the order but the answer was lost: only a lookup can tell.
          this.submitBehaviour.delete(intent.clientOrderId);
          throw ApplicationFailure.nonRetryable('no answer after the request was sent', 'AMBIGUOUS_SUBMIT');
        }
        return { outcome: 'ACCEPTED', venueOrderId: record.venueOrderId, status: record.status, at: Date.now() };
      },
      lookupOrder: async (coid) => {
        this.called(coid, 'lookupOrder');
        const record = this.venue.get(coid);
        return record ? { found: true, venueOrderId: record.venueOrderId, status: record.status, at: Date.now() } : { found: false, at: Date.now() };
      },
      pollOrder: async (coid, options) => {
        this.called(coid, 'pollOrder');
        const record = this.venue.get(coid);
        if (!record) return { venueOrderId: null, status: null, rejectReason: null, fills: [], at: Date.now() };
        this.fillSome(coid, record);
        if (options?.syncFills !== false) this.syncLedger(coid);
        return { venueOrderId: record.venueOrderId, status: record.status, rejectReason: null, fills: [...(this.ledgerFills.get(coid) ?? []), ...this.strayFill(coid, record)], at: Date.now() };
      },
      cancelOrder: async (coid) => {
        this.called(coid, 'cancelOrder');
        const record = this.venue.get(coid);
        if (record && !this.neverFinal.has(coid) && (record.status === 'OPEN' || record.status === 'PARTIALLY_FILLED')) record.status = 'CANCELED';
        return { status: record?.status ?? null, at: Date.now() };
      },
      recordExecution: async () => undefined,
      raiseAlert: alert,

      // ---- sessions and orders ----
      syncFills: async () => {
        this.fillSyncs++;
        const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
        if (workflowId.startsWith('order-')) this.called(clientOrderIdFromWorkflowId(workflowId), 'syncFills');
        const before = [...this.ledgerFills.values()].flat().length;
        this.syncLedger();
        const after = [...this.ledgerFills.values()].flat().length;
        return { pages: 1, fillsSeen: after, fillsInserted: after - before };
      },
      preflight: async () => [
        { name: 'VENUE_REACHABLE', ok: true, detail: 'ok' },
        { name: 'MARKET_DATA_FRESH', ok: true, detail: 'ok' },
      ],
      watchForSignal: async (input) => {
        let lastSeen = typeof input.strategyState.lastSignalId === 'number' ? input.strategyState.lastSignalId : 0;
        const reserved = input.reservedMarkets ?? {};
        for (;;) {
          heartbeat();
          // As the real watch: no signal where an order works (in the records, or reserved by the session and not yet ended).
          const working = this.workingMarkets(input.strategy);
          const endedOrders = Object.values(reserved).filter((coid) => this.isTerminalRecord(coid)).map((coid) => ({ clientOrderId: coid, state: this.recordedOrders.get(coid)!.state }));
          const ended = new Set(endedOrders.map((e) => e.clientOrderId));
          const suppressed = (marketId: string) => working.has(marketId) || (reserved[marketId] !== undefined && !ended.has(reserved[marketId]));
          let next = this.signals.find((s) => s.strategy === input.strategy && s.id > lastSeen);
          while (next && suppressed(next.signal.marketId)) {
            lastSeen = next.id;
            next = this.signals.find((s) => s.strategy === input.strategy && s.id > lastSeen);
          }
          const now = Date.now();
          if (next || now >= input.untilMs) {
            return {
              strategyState: { lastSignalId: next ? next.id : lastSeen },
              signal: next ? next.signal : null,
              at: now,
              quoteTimes: Object.fromEntries(input.marketIds.map((m) => [m, now])),
              endedOrders,
            };
          }
          await sleep(100);
        }
      },
      sessionSnapshot: async ({ strategy, reservedOrders }): Promise<SessionSnapshot> => {
        const pnl = this.dailyPnl.get(strategy) ?? 0;
        return {
          at: Date.now(),
          metrics: { equity: (1_000 * MICROS + pnl) as Money, dailyPnl: pnl as Money, ordersInWindow: 0, errorsInWindow: 0, requestsInWindow: 0 },
          realizedPnl: pnl as Money,
          unrealizedPnl: 0 as Money,
          fees: 0 as Money,
          exposure: 0 as Money,
          openPositions: 0,
          openOrders: this.openOrdersOf(strategy).map((coid) => ({ clientOrderId: coid, marketId: 'PRES-2028', side: 'BUY' as const, state: 'SUBMITTED' })),
          endedOrders: await this.endedOrders(reservedOrders ?? []),
        };
      },
      loadCarryover: async ({ strategy, tradingDay }) => {
        if (this.loadCarryoverDelayMs > 0) await sleep(this.loadCarryoverDelayMs);
        const workflowId = `session-${strategy}-${tradingDay}`;
        const lastActionSequence = Math.max(0, ...this.journal.filter((j) => j.workflowId === workflowId).map((j) => j.sequence));
        const levels = this.journal.filter((j) => j.action === 'AUTOMATION_LEVEL' && j.details.strategy === strategy);
        const lastAutomationLevel = (levels.at(-1)?.details.level ?? null) as AutomationLevel | null;
        return { trips: this.activeTrips(strategy), lastSequence: 0, lastActionSequence, lastAutomationLevel };
      },
      recordBreakerChange: async ({ strategy, change, trips }) => {
        const kinds = new Set(trips.map((t) => t.kind));
        const kept = this.activeTrips(strategy).filter((t) => !kinds.has(t.kind));
        this.trips.set(strategy, change === 'TRIPPED' ? [...kept, ...trips] : kept);
      },
      recordOperatorAction: journal,
      cancelAllOpenOrders: async ({ strategy, reason }) => {
        const canceled = this.openOrdersOf(strategy);
        for (const coid of canceled) this.venue.get(coid)!.status = 'CANCELED';
        this.cancelAllCalls.push({ strategy, reason, canceled });
        return { canceled, flattenOrders: [] };
      },
      writeDailySummary: async () => undefined,
      saveStrategyState: async () => ({ warmth: {} }),

      // ---- operations ----
      reconcileAccount: async ({ runId, policy }) => {
        while (this.holdReconcile) {
          heartbeat();
          await sleep(100);
        }
        return { runId, discrepancies: this.discrepancies, decision: decideReconciliation(this.discrepancies, policy), at: Date.now() };
      },
      adoptVenueFigures: async ({ runId }) => void this.adoptions.push(runId),
      listActiveSessions: async () => [...this.activeSessions],
      resetDailyCounters: async ({ tradingDay, scheduledAt }) => {
        let lifted = 0;
        for (const [strategy, trips] of this.trips) {
          const kept = trips.filter((t) => t.kind !== 'DAILY_LOSS');
          lifted += trips.length - kept.length;
          this.trips.set(strategy, kept);
        }
        this.dailyPnl.clear();
        this.dailyResets.push({ tradingDay, liftedTrips: lifted, scheduledAt });
        const today = tradingDay ?? new Date(scheduledAt ?? Date.now()).toISOString().slice(0, 10);
        return { tradingDay: today, previousDay: today, liftedTrips: lifted };
      },
      sendDailyReport: async ({ tradingDay }) => {
        if (this.smtpDown) throw smtpRefuses(`DAILY_REPORT:${tradingDay}`);
        if (!this.reports.includes(tradingDay)) this.reports.push(tradingDay);
      },
      settleResolvedMarkets: async () => ({ settled: [] }),
      syncSettlements: async () => ({ supported: false, pages: 0, settlementsSeen: 0, settlementsBooked: 0 }),
    };
  }
}
