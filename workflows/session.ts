/**
 * The trading session as one state-holding object: one per strategy per trading day. The Temporal
 * workflow in session-workflow.ts wires it to activities, child workflows and handlers; tests
 * drive it with fakes. Market data never enters the history tick by tick: a heartbeating
 * activity watches it and returns only when the strategy signals or its period ends.
 *
 * Halts live in the breaker state (workflow state, so they survive worker crashes) and in the
 * records (so they outlive the session): a fresh session loads them before trading.
 */
import type { AlertLevel, OperatorAction, SessionActivities, WatchInput, WatchResult } from '../activities/types';
import type { DailyResetRequest, KillSwitchRequest, OperatorRequest, OrderWorkflowInput, SessionCarry, SessionStatus, SessionWorkflowInput } from './api';
import {
  breakerStatus,
  dailyReset,
  evaluateBreakers,
  haltReason,
  initialBreakerState,
  isTradingAllowed,
  manualHalt,
  resume,
  type BreakerState,
  type BreakerUpdate,
} from './domain/breakers';
import { DomainError, InvalidInput } from './domain/errors';
import { makeClientOrderId, orderWorkflowId, validateTradingDay } from './domain/ids';
import { formatDecimal } from './domain/money';
import { validateOperatorRequest } from './validation';

export interface SessionEnv {
  acts: SessionActivities;
  waitFor(until: () => boolean, ms: number): Promise<boolean>;
  /** Runs the watch activity; resolves null when `interrupt()` turned true first (the watch is cancelled). */
  watch(input: WatchInput, interrupt: () => boolean): Promise<WatchResult | null>;
  startOrder(workflowId: string, input: OrderWorkflowInput): Promise<'STARTED' | 'ALREADY_EXISTS'>;
  continueAsNewSuggested(): boolean;
  continueAsNew(input: SessionWorkflowInput): Promise<never>;
}

const RECENT_ORDERS_KEPT = 100;
const MINUTE = 60_000;
/** How long a halted session sleeps between checks when nothing happens. */
const HALTED_CHECK_MS = 5 * MINUTE;

export class TradingSession {
  private breakers: BreakerState;
  private strategyState: Record<string, unknown>;
  private sequence: number;
  private actionSequence: number;
  private recentOrderTimes: number[];
  private lastAt: number;
  private alertedHalfLoss: boolean;
  private pending: OperatorAction[] = [];
  private pendingBreakerChanges: { change: 'TRIPPED' | 'LIFTED'; update: BreakerUpdate }[] = [];
  private kill: KillSwitchRequest | null = null;
  private mode: SessionStatus['mode'];
  private preflight: SessionStatus['preflight'] = null;
  private snapshot: SessionStatus['snapshot'] = null;
  private ordersStarted = 0;
  private lastSignalAt: number | null = null;
  private quoteTimes: Record<string, number> = {};
  readonly refusedSignals: string[] = [];

  constructor(
    readonly input: SessionWorkflowInput,
    private readonly env: SessionEnv,
  ) {
    const c = input.carry;
    this.breakers = c?.breakers ?? initialBreakerState();
    this.strategyState = c?.strategyState ?? {};
    this.sequence = c?.sequence ?? 0;
    this.actionSequence = c?.actionSequence ?? 0;
    this.recentOrderTimes = c?.recentOrderTimes ?? [];
    this.lastAt = c?.lastAt ?? 0;
    this.alertedHalfLoss = c?.alertedHalfLoss ?? false;
    this.mode = c ? 'TRADING' : 'PREFLIGHT';
  }

  // ---- signal handlers: validate, change state, queue the journal entry ----

  onHalt(payload: unknown): void {
    const req = this.accept(payload, 'halt');
    if (!req) return;
    this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, req.operator, req.reason, this.lastAt));
    this.journal('HALT', req, {});
  }

  onResume(payload: unknown): void {
    const req = this.accept(payload, 'resume');
    if (!req) return;
    this.noteBreakerChange('LIFTED', resume(this.breakers, req.operator, this.lastAt));
    this.journal('RESUME', req, { stillHalted: haltReason(this.breakers) });
  }

  onKillSwitch(payload: unknown): void {
    const req = this.accept(payload, 'killSwitch');
    if (!req) return;
    const flatten = (payload as KillSwitchRequest).flatten;
    if (flatten !== undefined && typeof flatten !== 'boolean') {
      this.refuse(InvalidInput.of('killSwitch.flatten', flatten, 'must be true or false'));
      return;
    }
    this.kill = { ...req, flatten: flatten ?? false };
    this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, req.operator, `kill switch: ${req.reason}`, this.lastAt));
    this.journal('KILL_SWITCH', req, { flatten: flatten ?? false });
  }

  onDailyReset(payload: unknown): void {
    try {
      const day = validateTradingDay((payload as DailyResetRequest | null)?.tradingDay, 'dailyReset.tradingDay');
      this.noteBreakerChange('LIFTED', dailyReset(this.breakers, this.lastAt));
      this.alertedHalfLoss = false;
      this.journal('DAILY_RESET', { operator: 'schedule', reason: `daily reset for ${day}` }, { tradingDay: day });
    } catch (e) {
      this.refuse(e);
    }
  }

  status(): SessionStatus {
    return {
      strategy: this.input.strategy,
      tradingDay: this.input.tradingDay,
      mode: this.mode === 'ENDED' || this.mode === 'PREFLIGHT' ? this.mode : isTradingAllowed(this.breakers) ? 'TRADING' : 'HALTED',
      breakerStatus: breakerStatus(this.breakers),
      haltReason: haltReason(this.breakers),
      trips: this.breakers.trips,
      preflight: this.preflight,
      snapshot: this.snapshot,
      ordersStarted: this.ordersStarted,
      lastSignalAt: this.lastSignalAt,
      quoteTimes: this.quoteTimes,
      refusedSignals: this.refusedSignals,
    };
  }

  private accept(payload: unknown, signal: string): OperatorRequest | null {
    try {
      return validateOperatorRequest(payload, signal);
    } catch (e) {
      this.refuse(e);
      return null;
    }
  }

  private refuse(e: unknown): void {
    if (!(e instanceof DomainError)) throw e;
    this.refusedSignals.push(e.message);
    if (this.refusedSignals.length > 20) this.refusedSignals.shift();
    this.journal('SIGNAL_REJECTED', { operator: 'unknown', reason: e.message }, {});
  }

  private journal(action: OperatorAction['action'], req: OperatorRequest, details: OperatorAction['details']): void {
    this.pending.push({
      action,
      operator: req.operator,
      reason: req.reason,
      workflowId: `session-${this.input.strategy}-${this.input.tradingDay}`,
      sequence: ++this.actionSequence,
      details,
    });
  }

  private noteBreakerChange(change: 'TRIPPED' | 'LIFTED', update: BreakerUpdate): void {
    this.breakers = update.state;
    if (update.tripped.length > 0 || update.lifted.length > 0) this.pendingBreakerChanges.push({ change, update });
  }

  private alert(level: AlertLevel, type: string, key: string, title: string, body: string) {
    return this.env.acts.raiseAlert({ level, type, dedupeKey: `${type}:${this.input.strategy}:${this.input.tradingDay}:${key}`, title, body });
  }

  /** Writes queued journal entries and breaker changes; alerts on new trips. Idempotent by sequence. */
  private async flush(): Promise<void> {
    const { acts } = this.env;
    while (this.pending.length > 0) {
      await acts.recordOperatorAction(this.pending[0]!);
      this.pending.shift();
    }
    while (this.pendingBreakerChanges.length > 0) {
      const { update } = this.pendingBreakerChanges[0]!;
      const base = { strategy: this.input.strategy, tradingDay: this.input.tradingDay, at: this.lastAt };
      if (update.tripped.length > 0) await acts.recordBreakerChange({ ...base, change: 'TRIPPED', trips: update.tripped });
      if (update.lifted.length > 0) await acts.recordBreakerChange({ ...base, change: 'LIFTED', trips: update.lifted });
      for (const trip of update.tripped) {
        if (trip.kind === 'MANUAL') continue;
        await this.alert('CRITICAL', 'TRADING_HALTED', `${trip.kind}:${trip.since}`, `Trading halted: ${trip.kind}`, trip.reason);
      }
      this.pendingBreakerChanges.shift();
    }
  }

  private carry(): SessionCarry {
    return {
      breakers: this.breakers,
      strategyState: this.strategyState,
      sequence: this.sequence,
      actionSequence: this.actionSequence,
      recentOrderTimes: this.recentOrderTimes,
      lastAt: this.lastAt,
      alertedHalfLoss: this.alertedHalfLoss,
    };
  }

  async run(): Promise<SessionStatus> {
    const { acts } = this.env;
    const { input } = this;

    if (!input.carry) {
      const carryover = await acts.loadCarryover({ strategy: input.strategy, tradingDay: input.tradingDay });
      this.sequence = Math.max(this.sequence, carryover.lastSequence);
      for (const trip of carryover.trips) {
        if (!this.breakers.trips.some((t) => t.kind === trip.kind)) this.breakers = { ...this.breakers, trips: [...this.breakers.trips, trip] };
      }
      this.preflight = await acts.preflight({ strategy: input.strategy, marketIds: input.marketIds });
      const failed = this.preflight.filter((c) => !c.ok);
      if (failed.length > 0) {
        const reason = `pre-flight failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`;
        this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, 'preflight', reason, this.lastAt));
        await this.alert('CRITICAL', 'PREFLIGHT_FAILED', 'start', 'Session halted: pre-flight checks failed', reason);
      }
      this.mode = 'TRADING';
    }
    await this.refreshSnapshot();

    for (;;) {
      await this.flush();
      if (this.kill) {
        const kill = this.kill;
        await acts.cancelAllOpenOrders({ strategy: input.strategy, flatten: kill.flatten ?? false, reason: `kill switch by ${kill.operator}: ${kill.reason}` });
        if (this.kill === kill) this.kill = null;
        continue;
      }
      if (this.lastAt >= input.endOfDayAt) break;
      if (this.env.continueAsNewSuggested() && this.pending.length === 0) {
        await this.env.continueAsNew({ ...input, carry: this.carry() });
      }

      if (!isTradingAllowed(this.breakers)) {
        const changed = () => this.pending.length > 0 || this.kill !== null || isTradingAllowed(this.breakers);
        await this.env.waitFor(changed, Math.max(1_000, Math.min(HALTED_CHECK_MS, input.endOfDayAt - this.lastAt)));
        await this.refreshSnapshot();
        continue;
      }

      const interrupt = () => this.kill !== null || !isTradingAllowed(this.breakers);
      const watched = await this.env.watch(
        {
          strategy: input.strategy,
          strategyName: input.strategyName,
          strategyParams: input.strategyParams,
          strategyState: this.strategyState,
          marketIds: input.marketIds,
          untilMs: Math.min(input.endOfDayAt, (this.lastAt || 0) + input.watchPeriodMs),
          pollIntervalMs: input.pollIntervalMs,
        },
        interrupt,
      );
      if (watched === null) continue;
      this.strategyState = watched.strategyState;
      this.lastAt = Math.max(this.lastAt, watched.at);
      this.quoteTimes = watched.quoteTimes;

      await this.refreshSnapshot();
      if (watched.signal && watched.signal.quantity > 0 && isTradingAllowed(this.breakers)) {
        this.lastSignalAt = watched.at;
        await this.startOrder(watched);
      }
    }

    await acts.cancelAllOpenOrders({ strategy: input.strategy, flatten: false, reason: 'end of trading day' });
    await acts.writeDailySummary({ strategy: input.strategy, tradingDay: input.tradingDay });
    await this.refreshSnapshot();
    this.mode = 'ENDED';
    await this.flush();
    return this.status();
  }

  /** Reads P&L and counts from the records, evaluates the breakers, alerts on what crossed. */
  private async refreshSnapshot(): Promise<void> {
    const snap = await this.env.acts.sessionSnapshot({ strategy: this.input.strategy, tradingDay: this.input.tradingDay });
    this.snapshot = snap;
    this.lastAt = Math.max(this.lastAt, snap.at);
    const ordersInWindow = this.recentOrderTimes.filter((t) => t > snap.at - this.input.breakers.orderWindowMs).length;
    this.noteBreakerChange('TRIPPED', evaluateBreakers(this.breakers, { ...snap.metrics, ordersInWindow }, this.input.breakers, snap.at));
    const loss = -snap.metrics.dailyPnl;
    if (!this.alertedHalfLoss && loss * 2 > this.input.maxDailyLoss) {
      this.alertedHalfLoss = true;
      await this.alert('HIGH', 'DAILY_LOSS_HALF', 'half', 'Daily loss past half its limit', `Loss today ${formatDecimal(loss)} of a ${formatDecimal(this.input.maxDailyLoss)} limit.`);
    }
    await this.flush();
  }

  private async startOrder(watched: WatchResult): Promise<void> {
    const signal = watched.signal!;
    for (let attempt = 0; attempt < 5; attempt++) {
      const clientOrderId = makeClientOrderId(this.input.strategy, this.input.tradingDay, ++this.sequence);
      this.recentOrderTimes.push(watched.at);
      if (this.recentOrderTimes.length > RECENT_ORDERS_KEPT) this.recentOrderTimes.shift();
      const outcome = await this.env.startOrder(orderWorkflowId(clientOrderId), {
        order: { clientOrderId, marketId: signal.marketId, side: signal.side, quantity: signal.quantity, limitPrice: signal.price },
        context: {
          strategy: this.input.strategy,
          sessionWorkflowId: `session-${this.input.strategy}-${this.input.tradingDay}`,
          tradingDay: this.input.tradingDay,
          signal: { price: signal.price, confidence: signal.confidence, at: watched.at, metadata: { ...signal.metadata, intent: signal.intent } },
        },
        ttlMs: this.input.orderTtlMs,
        halted: haltReason(this.breakers),
        ordersInLastMinute: this.recentOrderTimes.filter((t) => t > watched.at - MINUTE).length - 1,
        searchAttributes: this.input.searchAttributes,
      });
      if (outcome === 'STARTED') {
        this.ordersStarted++;
        return;
      }
    }
    await this.alert('HIGH', 'ORDER_ID_EXHAUSTED', String(this.sequence), 'Could not start an order workflow', 'Five consecutive client order IDs were already taken.');
  }
}
