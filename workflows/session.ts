/**
 * The trading session as one state-holding object: one per strategy per trading day. The Temporal
 * workflow in session-workflow.ts wires it to activities, child workflows and handlers; tests
 * drive it with fakes. Market data never enters the history tick by tick: a heartbeating
 * activity watches it and returns only when the strategy signals or its period ends.
 *
 * Halts live in the breaker state (workflow state, so they survive worker crashes) and in the
 * records (so they outlive the session): a fresh session loads them before trading, and applies
 * operator requests that arrived meanwhile only after it has.
 *
 * One working order per market: the session reserves the market for the order it starts
 * (market → client order ID, in its own state) and starts no other there until that order has
 * ended: its workflow says so (orderFinished), the watch or the snapshot finds it final in the
 * records, or its workflow is no longer running. Halts and the kill switch are passed on to
 * every reserved order.
 */
import type { AlertLevel, AlertRequest, Carryover, ConnectionOutage, EndedOrder, MarketWarmth, OperatorAction, SessionActivities, WatchInput, WatchResult } from '../contracts/activities';
import type {
  AppliedControl,
  ConnectionLostPolicy,
  ControlOutcome,
  ControlRequest,
  DailyResetRequest,
  HaltRequest,
  KillSwitchRequest,
  OperatorRequest,
  OrderNotice,
  OrderWorkflowInput,
  PendingBreakerChange,
  SessionCarry,
  SessionHaltRequest,
  SessionKillRequest,
  SessionStatus,
  SessionWorkflowInput,
} from './api';
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
} from '../domain/breakers';
import { NO_CONTROL_COUNTS } from './api';
import { DomainError, InvalidInput } from '../domain/errors';
import { AlertKey, makeClientOrderId, orderWorkflowId, sessionWorkflowId, validateTradingDay } from '../domain/ids';
import { formatDecimal } from '../domain/money';
import { automationLevelChanged, automationOf, describeProposedOrder, formatDuration } from '../domain/automation';
import { failureText } from './failure-types';
import { validateOperatorRequest, validateOrderFinished } from './validation';

/**
 * patched() IDs of the session's changes of control flow; a history recorded before a change
 * replays the old way (no control-flow change without patched() and a replay test).
 */
export const SessionPatch = {
  /** A signal on a market with a working order starts nothing. */
  marketReservation: 'session-market-reservation',
  /** Halts and the kill switch are signalled to the session's orders in flight. */
  haltReachesOrders: 'session-halt-reaches-orders',
  /** Operator requests wait until the carried-over state is loaded. */
  requestsAfterLoad: 'session-requests-after-load',
  /** Alerts run beside the session and never fail it; record writes retry a bounded time, then wait for the next flush. */
  containFailures: 'session-contain-failures',
  /** The input is validated, and the watch's timeouts follow its periods. */
  watchPeriods: 'session-watch-periods',
  /** Venue fills are synced by a step of their own (`syncFills`) before each snapshot and the daily summary, which then only read. */
  fillSyncStep: 'session-fill-sync-step',
  /** The venue refusing our credentials (an order's submit, the watch) halts the whole session with a CRITICAL alert. */
  authHalts: 'session-auth-halts',
  /** Working orders are cancelled at the venue on request: a halt with cancelOrders, a connection outage under the cancel policy. */
  cancelWorking: 'session-cancel-working',
  /** A venue connection outage the watch reports is acted on by CONNECTION_LOST_POLICY. */
  connectionOutage: 'session-connection-outage',
  /** The strategy's state per market is recorded after every watch and a fresh session carries on from it (the warm-up survives the day). */
  strategyCarry: 'session-strategy-carry',
  /**
   * Levels of automation: a fresh session journals its level when it differs from the last one
   * journaled for the strategy; under alerts-only a signal raises ORDER_PROPOSED instead of starting
   * an order workflow.
   */
  automationLevel: 'session-automation-level',
  /** A halted session wakes for a control update applied with a journal key (it journals nothing itself then). */
  controlUpdates: 'session-control-updates',
} as const;

/**
 * What became of a record write that failed after its retries: the records could not be reached
 * (try again at the next flush, after the rest waits), the write was refused as it stands (keep it,
 * write the others), or a bug (the data itself is malformed: the session fails).
 */
export type RecordFailureKind = 'UNREACHABLE' | 'REFUSED' | 'BUG';

export interface SessionEnv {
  acts: SessionActivities;
  waitFor(until: () => boolean, ms: number): Promise<boolean>;
  /** Runs the watch activity; resolves null when `interrupt()` turned true first (the watch is cancelled). */
  watch(input: WatchInput, interrupt: () => boolean): Promise<WatchResult | null>;
  startOrder(workflowId: string, input: OrderWorkflowInput): Promise<'STARTED' | 'ALREADY_EXISTS'>;
  continueAsNewSuggested(): boolean;
  /** Hands over to a fresh run; `next` is read once every handler has finished, so nothing they queued is lost. */
  continueAsNew(next: () => SessionWorkflowInput): Promise<never>;
  /** Signals an order workflow the session started; false when it is no longer running. Absent: orders are not told. */
  signalOrder?(workflowId: string, signal: OrderNotice['signal'], request: OperatorRequest): Promise<boolean>;
  /** Temporal's patched(); absent: every change applies. */
  patched?(changeId: string): boolean;
  /** This run's ID (unique per run, the same on replay): names breaker changes in the records. */
  runId?: string;
  /** The failure type of an activity's failure ('AUTH', ...); null when it is none; absent: never known. */
  failureType?(error: unknown): string | null;
  /** Sorts a failed record write; absent: every failure is a bug (it fails the session). */
  classifyRecordFailure?(error: unknown): { kind: RecordFailureKind; message: string };
  log?(message: string): void;
}

const RECENT_ORDERS_KEPT = 100;
const NOTES_KEPT = 20;
const MINUTE = 60_000;
/** How long a halted session sleeps between checks when nothing happens. */
const HALTED_CHECK_MS = 5 * MINUTE;
/** How long a control update waits for the session to pass it on (orders told, venue cancels sent) before it answers. */
const CONTROL_ANSWER_WAIT_MS = 20_000;

/**
 * Timeouts of one watch. It lasts its period plus at most one poll (the last sleep is cut to the
 * period's end), and a poll's venue and record reads get five minutes more. It heartbeats once per
 * poll, so the heartbeat timeout spans three polls (at least a minute): one slow poll is not a
 * dead worker.
 */
export function watchActivityTimeouts(input: Pick<SessionWorkflowInput, 'watchPeriodMs' | 'pollIntervalMs'>): { startToCloseMs: number; heartbeatMs: number } {
  return { startToCloseMs: input.watchPeriodMs + input.pollIntervalMs + 5 * MINUTE, heartbeatMs: Math.max(MINUTE, 3 * input.pollIntervalMs) };
}

const DEFAULT_CONNECTION_LOST_POLICY: ConnectionLostPolicy = 'cancel';

type QueuedRequest = { handler: 'halt' | 'resume' | 'killSwitch' | 'dailyReset' | 'orderFinished'; payload: unknown };

const keepLast = (list: string[], note: string): void => {
  list.push(note);
  if (list.length > NOTES_KEPT) list.shift();
};

/** Notes a failure; one that repeats (a write retried at every flush) moves to the end instead of crowding out the others. */
const noteFailure = (list: string[], note: string): void => {
  const seen = list.indexOf(note);
  if (seen >= 0) list.splice(seen, 1);
  keepLast(list, note);
};

export class TradingSession {
  private breakers: BreakerState;
  private strategyState: Record<string, unknown>;
  private warmth: Record<string, MarketWarmth>;
  private sequence: number;
  private actionSequence: number;
  private recentOrderTimes: number[];
  private lastAt: number;
  private alertedHalfLoss: boolean;
  private pending: OperatorAction[];
  private pendingBreakerChanges: PendingBreakerChange[];
  /** Breaker changes noted by this run (with the run ID, the key of each in the records). */
  private breakerChangesNoted = 0;
  private kill: KillSwitchRequest | null;
  private mode: SessionStatus['mode'];
  private preflight: SessionStatus['preflight'];
  private snapshot: SessionStatus['snapshot'] = null;
  private ordersStarted: number;
  private lastSignalAt: number | null;
  private quoteTimes: Record<string, number>;
  readonly refusedSignals: string[];
  /** Market → client order ID of the order the session started there and has not seen end. */
  private reservations: Record<string, string>;
  private orderNotices: OrderNotice[];
  private readonly unsentAlerts: string[];
  private readonly recordFailures: string[];
  private readonly alertsInFlight = new Set<Promise<void>>();
  /** False until the carried-over state is merged; requests that arrive before wait in `early`. */
  private loaded: boolean;
  private readonly early: QueuedRequest[] = [];
  /** Working orders still to cancel at the venue, and why. */
  private cancelWorking: OperatorRequest | null;
  /** `since` of the last connection outage acted on. */
  private outageHandled: number | null;
  /** AUTH refusals seen by this run (names their alerts). */
  private authRefusals = 0;
  /** Control updates applied with a journal key (links to the surfaces' journal rows), newest last. */
  private readonly appliedControls: AppliedControl[];
  /** Control updates applied by this run: a halted session wakes for them (they journal nothing to wake it). */
  private controlsApplied = 0;
  /** Open orders the last venue-wide cancel (kill switch, halt with cancelOrders) cancelled, and for which request. */
  private lastVenueCancel: { request: OperatorRequest; canceled: number } | null = null;

  constructor(
    readonly input: SessionWorkflowInput,
    private readonly env: SessionEnv,
  ) {
    const c = input.carry;
    this.breakers = c?.breakers ?? initialBreakerState();
    this.strategyState = c?.strategyState ?? {};
    this.warmth = c?.warmth ?? {};
    this.sequence = c?.sequence ?? 0;
    this.actionSequence = c?.actionSequence ?? 0;
    this.recentOrderTimes = c?.recentOrderTimes ?? [];
    this.lastAt = c?.lastAt ?? 0;
    this.alertedHalfLoss = c?.alertedHalfLoss ?? false;
    this.ordersStarted = c?.ordersStarted ?? 0;
    this.lastSignalAt = c?.lastSignalAt ?? null;
    this.quoteTimes = c?.quoteTimes ?? {};
    this.preflight = c?.preflight ?? null;
    this.refusedSignals = c?.refusedSignals ?? [];
    this.reservations = c?.reservations ?? {};
    this.pending = c?.pendingJournal ?? [];
    this.pendingBreakerChanges = c?.pendingBreakerChanges ?? [];
    this.kill = c?.kill ?? null;
    this.orderNotices = c?.orderNotices ?? [];
    this.unsentAlerts = c?.unsentAlerts ?? [];
    this.recordFailures = c?.recordFailures ?? [];
    this.cancelWorking = c?.cancelWorking ?? null;
    this.outageHandled = c?.outageHandled ?? null;
    this.appliedControls = c?.appliedControls ?? [];
    this.mode = c ? 'TRADING' : 'PREFLIGHT';
    this.loaded = c !== undefined;
  }

  private patched(changeId: string): boolean {
    return this.env.patched?.(changeId) ?? true;
  }

  // ---- signal handlers: validate, change state, queue the journal entry ----

  onHalt(payload: unknown): void {
    if (this.waitForLoad('halt', payload)) return;
    const req = this.accept(payload, 'halt');
    if (!req) return;
    const cancelOrders = (payload as HaltRequest).cancelOrders;
    if (cancelOrders !== undefined && typeof cancelOrders !== 'boolean') {
      this.refuse(InvalidInput.of('halt.cancelOrders', cancelOrders, 'must be true or false'));
      return;
    }
    this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, req.operator, req.reason, this.lastAt), req);
    if (cancelOrders === true) this.cancelWorkingOrders({ operator: req.operator, reason: `halt: ${req.reason}` });
    this.journal('HALT', req, cancelOrders === true ? { cancelOrders: true } : {});
  }

  /** Every working order is cancelled: the session's own orders by signal, and whatever the records still hold open at the venue. */
  private cancelWorkingOrders(request: OperatorRequest): void {
    this.noticeOrders({ signal: 'cancel', request });
    this.cancelWorking = request;
  }

  /**
   * The venue refused our credentials (401/403): every further call will be refused too, so the
   * whole session halts, not only the order (the reference's API error table: stop trading, alert
   * the operator). A MANUAL trip: an operator resumes once the credentials are fixed.
   */
  private haltForAuth(reason: string): Promise<void> {
    this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, 'venue-auth', reason, this.lastAt), { operator: 'venue-auth', reason });
    return this.alert(
      'CRITICAL',
      'SESSION_HALTED_AUTH',
      `${this.env.runId ?? 'local'}:${++this.authRefusals}`,
      'Session halted: the venue refused our credentials',
      `${reason}\nNo order is started until an operator resumes the session, after the API key is fixed.`,
    );
  }

  onResume(payload: unknown): void {
    if (this.waitForLoad('resume', payload)) return;
    const req = this.accept(payload, 'resume');
    if (!req) return;
    this.noteBreakerChange('LIFTED', resume(this.breakers, req.operator, this.lastAt));
    this.journal('RESUME', req, { stillHalted: haltReason(this.breakers) });
  }

  onKillSwitch(payload: unknown): void {
    if (this.waitForLoad('killSwitch', payload)) return;
    const req = this.accept(payload, 'killSwitch');
    if (!req) return;
    const flatten = (payload as KillSwitchRequest).flatten;
    if (flatten !== undefined && typeof flatten !== 'boolean') {
      this.refuse(InvalidInput.of('killSwitch.flatten', flatten, 'must be true or false'));
      return;
    }
    this.kill = { ...req, flatten: flatten ?? false };
    const reason = `kill switch: ${req.reason}`;
    this.noteBreakerChange('TRIPPED', manualHalt(this.breakers, req.operator, reason, this.lastAt), { operator: req.operator, reason });
    this.noticeOrders({ signal: 'cancel', request: { operator: req.operator, reason } });
    this.journal('KILL_SWITCH', req, { flatten: flatten ?? false });
  }

  // ---- control updates (haltSession, resumeSession, killSwitchSession): apply, pass on, answer ----
  // The payload was checked by the update's validator (validateControlRequest). With a journal key
  // the surface's row is the journal entry: the session links its breaker change and its status to
  // it and journals nothing itself; without one it journals the request as for a signal.

  async haltUpdate(req: SessionHaltRequest): Promise<ControlOutcome> {
    await this.untilLoaded();
    const before = haltReason(this.breakers);
    const update = manualHalt(this.breakers, req.operator, req.reason, this.lastAt);
    const told = this.ordersToTell(update.tripped.length > 0 || req.cancelOrders === true);
    this.noteBreakerChange('TRIPPED', update, { operator: req.operator, reason: req.reason }, req.journalKey);
    const cancelRequest = { operator: req.operator, reason: `halt: ${req.reason}` };
    if (req.cancelOrders === true) this.cancelWorkingOrders(cancelRequest);
    this.journalControl('HALT', req, req.cancelOrders === true ? { cancelOrders: true } : {});
    const passedOn = await this.passedOn(told > 0 || req.cancelOrders === true, () => req.cancelOrders !== true || this.cancelWorking !== cancelRequest);
    const cancelled = req.cancelOrders === true && this.lastVenueCancel?.request === cancelRequest ? this.lastVenueCancel.canceled : 0;
    const what =
      before === null ? 'halted: no new orders until resumed' : update.tripped.length > 0 ? `was already halted (${before}); the manual halt is added` : `was already halted by an operator (${before}): nothing changed`;
    return this.answer('HALT', req, {
      reason: `${what}${this.passOnText(told, passedOn, req.cancelOrders === true ? cancelled : null)}`,
      sessionsHalted: before === null ? 1 : 0,
      ordersTold: told,
      ordersCancelled: cancelled,
    });
  }

  async resumeUpdate(req: ControlRequest): Promise<ControlOutcome> {
    await this.untilLoaded();
    const before = haltReason(this.breakers);
    const update = resume(this.breakers, req.operator, this.lastAt);
    this.noteBreakerChange('LIFTED', update, undefined, req.journalKey);
    const after = haltReason(this.breakers);
    this.journalControl('RESUME', req, { stillHalted: after });
    await this.passedOn(false, () => true);
    const what =
      update.lifted.length === 0
        ? before === null
          ? 'nothing to lift: the session was trading'
          : `nothing lifted: ${before} (a daily-loss trip waits for the daily reset)`
        : after === null
          ? `resumed: lifted ${update.lifted.map((t) => t.kind).join(', ')}; trading`
          : `lifted ${update.lifted.map((t) => t.kind).join(', ')}; still halted: ${after}`;
    return this.answer('RESUME', req, { reason: what, sessionsResumed: before !== null && after === null ? 1 : 0 });
  }

  async killSwitchUpdate(req: SessionKillRequest): Promise<ControlOutcome> {
    await this.untilLoaded();
    const before = haltReason(this.breakers);
    const kill: KillSwitchRequest = { operator: req.operator, reason: req.reason, flatten: req.flatten ?? false };
    this.kill = kill;
    const reason = `kill switch: ${req.reason}`;
    const update = manualHalt(this.breakers, req.operator, reason, this.lastAt);
    const told = this.ordersToTell(true);
    this.noteBreakerChange('TRIPPED', update, { operator: req.operator, reason }, req.journalKey);
    this.noticeOrders({ signal: 'cancel', request: { operator: req.operator, reason } });
    this.journalControl('KILL_SWITCH', req, { flatten: req.flatten ?? false });
    const passedOn = await this.passedOn(true, () => this.kill !== kill);
    const cancelled = this.lastVenueCancel?.request === kill ? this.lastVenueCancel.canceled : 0;
    return this.answer('KILL_SWITCH', req, {
      reason: `${before === null ? 'halted' : `was already halted (${before})`}; every open order of the strategy cancelled at the venue${req.flatten === true ? ' and positions flattened' : ''}${this.passOnText(told, passedOn, cancelled)}`,
      sessionsHalted: before === null ? 1 : 0,
      ordersTold: told,
      ordersCancelled: cancelled,
    });
  }

  /** Resolves once the carried-over state is loaded (a request before it would be undone by the load). */
  private async untilLoaded(): Promise<void> {
    while (!this.loaded && this.patched(SessionPatch.requestsAfterLoad)) await this.env.waitFor(() => this.loaded, CONTROL_ANSWER_WAIT_MS);
  }

  /** Orders in flight a notice queued now will reach. */
  private ordersToTell(noticed: boolean): number {
    return noticed && this.env.signalOrder !== undefined ? Object.keys(this.reservations).length : 0;
  }

  /**
   * Wakes the session and, when there is something to pass on (`needed`), waits (bounded) until it
   * has told its orders and `done()` holds; false when the wait ran out.
   */
  private async passedOn(needed: boolean, done: () => boolean): Promise<boolean> {
    this.controlsApplied++;
    if (!needed) return true;
    return this.env.waitFor(() => this.mode === 'ENDED' || (this.orderNotices.length === 0 && done()), CONTROL_ANSWER_WAIT_MS);
  }

  private passOnText(told: number, passedOn: boolean, cancelled: number | null): string {
    const parts: string[] = [];
    if (told > 0) parts.push(`${passedOn ? 'passed on to' : 'being passed on to'} ${told} order${told === 1 ? '' : 's'} in flight`);
    if (cancelled !== null) parts.push(passedOn ? `${cancelled} open order${cancelled === 1 ? '' : 's'} cancelled at the venue` : 'venue cancels not yet confirmed');
    return parts.length > 0 ? `; ${parts.join('; ')}` : '';
  }

  private journalControl(action: 'HALT' | 'RESUME' | 'KILL_SWITCH', req: ControlRequest, details: OperatorAction['details']): void {
    if (req.journalKey === undefined) this.journal(action, req, details);
  }

  private answer(
    action: 'HALT' | 'RESUME' | 'KILL_SWITCH',
    req: ControlRequest,
    done: Pick<ControlOutcome, 'reason'> & Partial<Pick<ControlOutcome, 'sessionsHalted' | 'sessionsResumed' | 'ordersTold' | 'ordersCancelled'>>,
  ): ControlOutcome {
    const outcome: ControlOutcome = {
      outcome: 'APPLIED',
      action,
      workflowId: sessionWorkflowId(this.input.strategy, this.input.tradingDay),
      journalKey: req.journalKey ?? null,
      ...NO_CONTROL_COUNTS,
      stateAfter: haltReason(this.breakers),
      ...done,
    };
    if (req.journalKey !== undefined) {
      this.appliedControls.push({ journalKey: req.journalKey, action, operator: req.operator, outcome: outcome.outcome, reason: outcome.reason });
      if (this.appliedControls.length > NOTES_KEPT) this.appliedControls.shift();
    }
    return outcome;
  }

  onDailyReset(payload: unknown): void {
    if (this.waitForLoad('dailyReset', payload)) return;
    try {
      const day = validateTradingDay((payload as DailyResetRequest | null)?.tradingDay, 'dailyReset.tradingDay');
      const dayStartAt = (payload as DailyResetRequest).dayStartAt;
      if (dayStartAt !== undefined && (!Number.isSafeInteger(dayStartAt) || dayStartAt <= 0)) throw InvalidInput.of('dailyReset.dayStartAt', dayStartAt, 'must be epoch milliseconds when given');
      this.noteBreakerChange('LIFTED', dailyReset(this.breakers, this.lastAt, dayStartAt));
      this.alertedHalfLoss = false;
      this.journal('DAILY_RESET', { operator: 'schedule', reason: `daily reset for ${day}` }, { tradingDay: day });
    } catch (e) {
      this.refuse(e);
    }
  }

  /** An order workflow the session started has ended: its market is free again. */
  onOrderFinished(payload: unknown): void {
    if (this.waitForLoad('orderFinished', payload)) return;
    try {
      const { clientOrderId, marketId, venueFailure } = validateOrderFinished(payload);
      if (this.reservations[marketId] === clientOrderId) this.release([{ clientOrderId, state: null }]);
      if (venueFailure === 'AUTH' && this.patched(SessionPatch.authHalts)) void this.haltForAuth(`order ${clientOrderId} was refused by the venue: AUTH`);
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
      reservations: this.reservations,
      unsentAlerts: this.unsentAlerts,
      recordFailures: this.recordFailures,
      unrecorded: this.pending.length + this.pendingBreakerChanges.length,
      warmth: this.warmth,
      appliedControls: this.appliedControls,
    };
  }

  /**
   * Before the carried-over state is loaded a request would be applied to a state about to be
   * overwritten (a resume lifting nothing, then the loaded halt back in force), and its journal
   * sequence could collide with a failed run's: it waits, and is applied in arrival order after.
   */
  private waitForLoad(handler: QueuedRequest['handler'], payload: unknown): boolean {
    if (this.loaded || !this.patched(SessionPatch.requestsAfterLoad)) return false;
    this.early.push({ handler, payload });
    return true;
  }

  private applyEarlyRequests(): void {
    this.loaded = true;
    const apply: Record<QueuedRequest['handler'], (payload: unknown) => void> = {
      halt: (p) => this.onHalt(p),
      resume: (p) => this.onResume(p),
      killSwitch: (p) => this.onKillSwitch(p),
      dailyReset: (p) => this.onDailyReset(p),
      orderFinished: (p) => this.onOrderFinished(p),
    };
    for (const { handler, payload } of this.early.splice(0)) apply[handler](payload);
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
    keepLast(this.refusedSignals, e.message);
    this.journal('SIGNAL_REJECTED', { operator: 'unknown', reason: e.message }, {});
  }

  private journal(action: OperatorAction['action'], req: OperatorRequest, details: OperatorAction['details']): void {
    this.pending.push({
      action,
      operator: req.operator,
      reason: req.reason,
      workflowId: sessionWorkflowId(this.input.strategy, this.input.tradingDay),
      sequence: ++this.actionSequence,
      details,
    });
  }

  /** `haltedBy`: who to name to the orders when this trips something (default: the session, with the trips' reasons). */
  private noteBreakerChange(change: 'TRIPPED' | 'LIFTED', update: BreakerUpdate, haltedBy?: OperatorRequest, journalKey?: string): void {
    this.breakers = update.state;
    if (update.tripped.length === 0 && update.lifted.length === 0) return;
    // With the journal key of the surface's row in front, the breaker_events row names the action that caused it.
    const key = `${journalKey !== undefined ? `${journalKey}:` : ''}${this.env.runId ?? 'local'}:${++this.breakerChangesNoted}`;
    this.pendingBreakerChanges.push({ tripped: update.tripped, lifted: update.lifted, at: this.lastAt, key, trippedRecorded: false, alerted: false });
    if (change === 'TRIPPED' && update.tripped.length > 0) {
      this.noticeOrders({ signal: 'halt', request: haltedBy ?? { operator: 'session', reason: update.tripped.map((t) => t.reason).join('; ') } });
    }
  }

  private noticeOrders(notice: OrderNotice): void {
    if (!this.orderNotices.some((n) => n.signal === notice.signal)) this.orderNotices.push(notice);
  }

  private alert(level: AlertLevel, type: string, key: string, title: string, body: string): Promise<void> {
    const request: AlertRequest = { level, type, dedupeKey: AlertKey.session(type, this.input.strategy, this.input.tradingDay, key), title, body };
    if (!this.patched(SessionPatch.containFailures)) return this.env.acts.raiseAlert(request).then(() => undefined);
    // Beside the session: an SMTP outage retried for minutes must not hold up a kill switch.
    const sending: Promise<void> = this.env.acts.raiseAlert(request).then(
      () => undefined,
      (e: unknown) => {
        const note = `${request.type} (${request.dedupeKey}) not sent: ${failureText(e)}`;
        noteFailure(this.unsentAlerts, note);
        this.env.log?.(`alert ${note}`);
      },
    );
    this.alertsInFlight.add(sending);
    void sending.then(() => this.alertsInFlight.delete(sending));
    return Promise.resolve();
  }

  private async alertsSettled(): Promise<void> {
    while (this.alertsInFlight.size > 0) await Promise.all([...this.alertsInFlight]);
  }

  /** Decides what a failed write means for the session; throws for a bug (and in histories from before containment). */
  private recordFailure(e: unknown, what: string): Exclude<RecordFailureKind, 'BUG'> {
    if (!this.env.classifyRecordFailure || !this.patched(SessionPatch.containFailures)) throw e;
    const { kind, message } = this.env.classifyRecordFailure(e);
    if (kind === 'BUG') throw e;
    const note = `${what}: ${message}${kind === 'UNREACHABLE' ? ' (records unreachable; retried at the next flush)' : ' (refused; kept and retried later)'}`;
    noteFailure(this.recordFailures, note);
    this.env.log?.(`record write failed: ${note}`);
    return kind;
  }

  /** Writes queued journal entries and breaker changes; alerts on new trips. Idempotent by sequence and time. */
  private async flush(): Promise<void> {
    const { acts } = this.env;
    for (let i = 0; i < this.pending.length; ) {
      const entry = this.pending[i]!;
      try {
        await acts.recordOperatorAction(entry);
        this.pending.splice(i, 1);
      } catch (e) {
        if (this.recordFailure(e, `journal entry ${entry.action} #${entry.sequence}`) === 'UNREACHABLE') break;
        i++;
      }
    }
    const base = { strategy: this.input.strategy, tradingDay: this.input.tradingDay };
    for (let i = 0; i < this.pendingBreakerChanges.length; ) {
      const change = this.pendingBreakerChanges[i]!;
      let failed: RecordFailureKind | null = null;
      try {
        if (change.tripped.length > 0 && !change.trippedRecorded) {
          await acts.recordBreakerChange({ ...base, at: change.at, change: 'TRIPPED', trips: change.tripped, ...(change.key ? { changeKey: change.key } : {}) });
          change.trippedRecorded = true;
        }
        if (change.lifted.length > 0) await acts.recordBreakerChange({ ...base, at: change.at, change: 'LIFTED', trips: change.lifted, ...(change.key ? { changeKey: change.key } : {}) });
      } catch (e) {
        failed = this.recordFailure(e, `breaker change at ${change.at}`);
      }
      if (!change.alerted) {
        change.alerted = true;
        for (const trip of change.tripped) {
          if (trip.kind === 'MANUAL') continue;
          await this.alert('CRITICAL', 'TRADING_HALTED', `${trip.kind}:${trip.since}`, `Trading halted: ${trip.kind}`, trip.reason);
        }
      }
      if (failed === null) this.pendingBreakerChanges.splice(i, 1);
      else if (failed === 'UNREACHABLE') break;
      else i++;
    }
  }

  /** Passes halts and the kill switch on to every order the session holds a market for. */
  private async tellOrders(): Promise<void> {
    if (this.orderNotices.length === 0) return;
    const signalOrder = this.env.signalOrder;
    if (Object.keys(this.reservations).length === 0 || !signalOrder || !this.patched(SessionPatch.haltReachesOrders)) {
      this.orderNotices = [];
      return;
    }
    while (this.orderNotices.length > 0) {
      const { signal, request } = this.orderNotices[0]!;
      const targets = Object.values(this.reservations);
      const running = await Promise.all(targets.map((coid) => signalOrder(orderWorkflowId(coid), signal, request)));
      this.release(targets.filter((_, i) => !running[i]).map((clientOrderId) => ({ clientOrderId, state: null })));
      this.orderNotices.shift();
    }
  }

  private release(ended: readonly EndedOrder[] | undefined): void {
    for (const { clientOrderId } of ended ?? []) {
      for (const [marketId, reserved] of Object.entries(this.reservations)) {
        if (reserved === clientOrderId) delete this.reservations[marketId];
      }
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
      ordersStarted: this.ordersStarted,
      lastSignalAt: this.lastSignalAt,
      quoteTimes: this.quoteTimes,
      preflight: this.preflight,
      refusedSignals: this.refusedSignals,
      reservations: this.reservations,
      pendingJournal: this.pending,
      pendingBreakerChanges: this.pendingBreakerChanges,
      kill: this.kill,
      orderNotices: this.orderNotices,
      unsentAlerts: this.unsentAlerts,
      recordFailures: this.recordFailures,
      ...(this.cancelWorking !== null ? { cancelWorking: this.cancelWorking } : {}),
      ...(this.outageHandled !== null ? { outageHandled: this.outageHandled } : {}),
      warmth: this.warmth,
      ...(this.appliedControls.length > 0 ? { appliedControls: this.appliedControls } : {}),
    };
  }

  /** Acts once on each connection outage the watch reports, by the configured policy. */
  private onConnectionOutage(outage: ConnectionOutage | null | undefined): void {
    if (!outage || (this.outageHandled !== null && outage.since <= this.outageHandled)) return;
    if (!this.patched(SessionPatch.connectionOutage)) return;
    this.outageHandled = outage.since;
    const policy = this.input.connectionLostPolicy ?? DEFAULT_CONNECTION_LOST_POLICY;
    const lost = `the venue connection was lost for ${Math.round((outage.restoredAt - outage.since) / 1000)} s`;
    if (policy === 'cancel') this.cancelWorkingOrders({ operator: 'session', reason: `${lost}; working orders cancelled when it came back (CONNECTION_LOST_POLICY=cancel)` });
    else this.env.log?.(`${lost}; working orders kept (CONNECTION_LOST_POLICY=keep)`);
  }

  async run(): Promise<SessionStatus> {
    const { acts } = this.env;
    const { input } = this;

    if (!input.carry) {
      const carryStrategy = this.patched(SessionPatch.strategyCarry);
      const carryover = await acts.loadCarryover({
        strategy: input.strategy,
        tradingDay: input.tradingDay,
        ...(carryStrategy ? { strategyName: input.strategyName, strategyParams: input.strategyParams, marketIds: input.marketIds } : {}),
      });
      if (carryStrategy) {
        this.strategyState = { ...(carryover.strategyState ?? {}), ...this.strategyState };
        this.warmth = { ...(carryover.warmth ?? {}), ...this.warmth };
      }
      this.sequence = Math.max(this.sequence, carryover.lastSequence);
      this.actionSequence = Math.max(this.actionSequence, carryover.lastActionSequence ?? 0);
      this.journalAutomationLevel(carryover.lastAutomationLevel);
      for (const trip of carryover.trips) {
        if (!this.breakers.trips.some((t) => t.kind === trip.kind)) this.breakers = { ...this.breakers, trips: [...this.breakers.trips, trip] };
      }
      this.applyEarlyRequests();
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
      await this.tellOrders();
      if (this.kill) {
        const kill = this.kill;
        const killed = await acts.cancelAllOpenOrders({ strategy: input.strategy, flatten: kill.flatten ?? false, reason: `kill switch by ${kill.operator}: ${kill.reason}` });
        this.lastVenueCancel = { request: kill, canceled: killed?.canceled?.length ?? 0 };
        if (this.kill === kill) this.kill = null;
        continue;
      }
      if (this.cancelWorking !== null && this.patched(SessionPatch.cancelWorking)) {
        const request = this.cancelWorking;
        const cancelled = await acts.cancelAllOpenOrders({ strategy: input.strategy, flatten: false, reason: `${request.reason} (by ${request.operator})` });
        this.lastVenueCancel = { request, canceled: cancelled?.canceled?.length ?? 0 };
        if (this.cancelWorking === request) this.cancelWorking = null;
        continue;
      }
      if (this.lastAt >= input.endOfDayAt) break;
      // Entries the records refused stay pending; they are carried over, so they do not hold the hand-over back.
      if (this.env.continueAsNewSuggested()) {
        await this.alertsSettled();
        await this.env.continueAsNew(() => ({ ...input, carry: this.carry() }));
      }

      if (!isTradingAllowed(this.breakers)) {
        const journaled = this.actionSequence;
        const controls = this.controlsApplied;
        const wakeOnControl = this.patched(SessionPatch.controlUpdates);
        const changed = () =>
          this.actionSequence !== journaled || this.kill !== null || this.cancelWorking !== null || isTradingAllowed(this.breakers) || (wakeOnControl && this.controlsApplied !== controls);
        await this.env.waitFor(changed, Math.max(1_000, Math.min(HALTED_CHECK_MS, input.endOfDayAt - this.lastAt)));
        await this.refreshSnapshot();
        continue;
      }

      const interrupt = () => this.kill !== null || !isTradingAllowed(this.breakers);
      let watched: WatchResult | null;
      try {
        watched = await this.env.watch(
          {
            strategy: input.strategy,
            strategyName: input.strategyName,
            strategyParams: input.strategyParams,
            strategyState: this.strategyState,
            marketIds: input.marketIds,
            untilMs: Math.min(input.endOfDayAt, (this.lastAt || 0) + input.watchPeriodMs),
            pollIntervalMs: input.pollIntervalMs,
            reservedMarkets: { ...this.reservations },
          },
          interrupt,
        );
      } catch (e) {
        if (this.env.failureType?.(e) !== 'AUTH' || !this.patched(SessionPatch.authHalts)) throw e;
        await this.haltForAuth(`the market watch was refused by the venue: ${failureText(e)}`);
        continue;
      }
      if (watched === null) continue;
      this.onConnectionOutage(watched.connectionOutage);
      this.strategyState = watched.strategyState;
      this.lastAt = Math.max(this.lastAt, watched.at);
      this.quoteTimes = watched.quoteTimes;
      this.release(watched.endedOrders);
      await this.saveStrategyState();

      await this.refreshSnapshot();
      if (watched.signal && watched.signal.quantity > 0 && isTradingAllowed(this.breakers)) {
        this.lastSignalAt = watched.at;
        const working = this.reservations[watched.signal.marketId] !== undefined;
        if (!working || !this.patched(SessionPatch.marketReservation)) await this.startOrder(watched);
      }
    }

    await acts.cancelAllOpenOrders({ strategy: input.strategy, flatten: false, reason: 'end of trading day' });
    const synced = await this.syncFills();
    await acts.writeDailySummary({ strategy: input.strategy, tradingDay: input.tradingDay, ...(synced ? { syncFills: false } : {}) });
    await this.refreshSnapshot();
    this.mode = 'ENDED';
    await this.flush();
    await this.alertsSettled();
    return this.status();
  }

  /**
   * Brings the ledger up to date with the venue's fills, as a step of its own; false for a history
   * recorded before the step (the snapshot and the summary sync themselves there). A venue that
   * does not answer must not stop the breakers being evaluated on the records: the failure is
   * logged and the session reads the records as they are.
   */
  private async syncFills(): Promise<boolean> {
    if (!this.patched(SessionPatch.fillSyncStep)) return false;
    try {
      await this.env.acts.syncFills();
    } catch (e) {
      this.env.log?.(`fill sync failed, the records are used as they are: ${failureText(e)}`);
    }
    return true;
  }

  /**
   * Records the strategy state the watch left (durable beyond this workflow: the next day's session
   * loads it) and takes the warmth of each market from the answer. A write that fails is noted and
   * made again after the next watch, which carries a newer state anyway.
   */
  private async saveStrategyState(): Promise<void> {
    if (!this.patched(SessionPatch.strategyCarry)) return;
    const { input } = this;
    try {
      const saved = await this.env.acts.saveStrategyState({
        strategy: input.strategy,
        tradingDay: input.tradingDay,
        strategyName: input.strategyName,
        strategyParams: input.strategyParams,
        strategyState: this.strategyState,
        quoteTimes: this.quoteTimes,
      });
      const warmth: Record<string, MarketWarmth> = {};
      for (const [marketId, w] of Object.entries(saved.warmth)) warmth[marketId] = { ...w, carriedFrom: this.warmth[marketId]?.carriedFrom ?? null };
      this.warmth = warmth;
    } catch (e) {
      this.recordFailure(e, 'strategy state');
    }
  }

  /** Reads P&L and counts from the records, evaluates the breakers, alerts on what crossed, frees markets whose orders ended. */
  private async refreshSnapshot(): Promise<void> {
    const reservedOrders = Object.values(this.reservations);
    const synced = await this.syncFills();
    const snap = await this.env.acts.sessionSnapshot({
      strategy: this.input.strategy,
      tradingDay: this.input.tradingDay,
      ...(reservedOrders.length > 0 ? { reservedOrders } : {}),
      ...(synced ? { syncFills: false } : {}),
    });
    this.snapshot = snap;
    this.lastAt = Math.max(this.lastAt, snap.at);
    this.release(snap.endedOrders);
    const ordersInWindow = this.recentOrderTimes.filter((t) => t > snap.at - this.input.breakers.orderWindowMs).length;
    this.noteBreakerChange('TRIPPED', evaluateBreakers(this.breakers, { ...snap.metrics, ordersInWindow }, this.input.breakers, snap.at));
    const loss = -snap.metrics.dailyPnl;
    if (!this.alertedHalfLoss && loss * 2 > this.input.maxDailyLoss) {
      this.alertedHalfLoss = true;
      await this.alert('HIGH', 'DAILY_LOSS_HALF', 'half', 'Daily loss past half its limit', `Loss today ${formatDecimal(loss)} of a ${formatDecimal(this.input.maxDailyLoss)} limit.`);
    }
    await this.flush();
  }

  // ---- levels of automation ----

  /** On a fresh start: journals the session's level when it differs from the last one journaled for the strategy. */
  private journalAutomationLevel(lastJournaled: Carryover['lastAutomationLevel']): void {
    const { level, approvalTimeoutMs } = automationOf(this.input.automation);
    if (!this.patched(SessionPatch.automationLevel) || !automationLevelChanged(level, lastJournaled)) return;
    const timeout = level === 'semi-auto' ? `, APPROVAL_TIMEOUT=${formatDuration(approvalTimeoutMs)}` : '';
    this.journal(
      'AUTOMATION_LEVEL',
      { operator: 'config', reason: `AUTOMATION_LEVEL=${level}${timeout} (was ${lastJournaled ?? 'full, by default'})` },
      { strategy: this.input.strategy, level, previous: lastJournaled ?? null, approvalTimeoutMs: level === 'semi-auto' ? approvalTimeoutMs : null },
    );
  }

  /**
   * Under alerts-only a signal starts no order workflow and sends nothing to the venue: it raises
   * ORDER_PROPOSED carrying the order it would place (the client order ID is taken, so each
   * proposal is told apart). False when the session places orders.
   */
  private async proposeOnly(watched: WatchResult): Promise<boolean> {
    if (automationOf(this.input.automation).level !== 'alerts-only' || !this.patched(SessionPatch.automationLevel)) return false;
    const signal = watched.signal!;
    const clientOrderId = makeClientOrderId(this.input.strategy, this.input.tradingDay, ++this.sequence);
    const body = describeProposedOrder({
      clientOrderId,
      marketId: signal.marketId,
      side: signal.side,
      quantity: signal.quantity,
      limitPrice: signal.price,
      intent: signal.intent,
      confidence: signal.confidence,
      metadata: signal.metadata,
    });
    await this.alert('MEDIUM', 'ORDER_PROPOSED', clientOrderId, `Order proposed (alerts only): ${signal.side} ${signal.quantity} ${signal.marketId}`, body);
    return true;
  }

  private async startOrder(watched: WatchResult): Promise<void> {
    if (await this.proposeOnly(watched)) return;
    const signal = watched.signal!;
    const automation = this.input.automation;
    for (let attempt = 0; attempt < 5; attempt++) {
      const clientOrderId = makeClientOrderId(this.input.strategy, this.input.tradingDay, ++this.sequence);
      this.recentOrderTimes.push(watched.at);
      if (this.recentOrderTimes.length > RECENT_ORDERS_KEPT) this.recentOrderTimes.shift();
      // Reserved before the start: a halt that arrives while the child starts reaches it too.
      this.reservations[signal.marketId] = clientOrderId;
      const outcome = await this.env.startOrder(orderWorkflowId(clientOrderId), {
        order: { clientOrderId, marketId: signal.marketId, side: signal.side, quantity: signal.quantity, limitPrice: signal.price },
        context: {
          strategy: this.input.strategy,
          sessionWorkflowId: sessionWorkflowId(this.input.strategy, this.input.tradingDay),
          tradingDay: this.input.tradingDay,
          signal: { price: signal.price, confidence: signal.confidence, at: watched.at, metadata: { ...signal.metadata, intent: signal.intent } },
        },
        ttlMs: this.input.orderTtlMs,
        halted: haltReason(this.breakers),
        ordersInLastMinute: this.recentOrderTimes.filter((t) => t > watched.at - MINUTE).length - 1,
        searchAttributes: this.input.searchAttributes,
        ...(automation !== undefined && automation.level !== 'full' ? { automation } : {}),
      });
      if (outcome === 'STARTED') {
        this.ordersStarted++;
        return;
      }
    }
    delete this.reservations[signal.marketId];
    await this.alert('HIGH', 'ORDER_ID_EXHAUSTED', String(this.sequence), 'Could not start an order workflow', 'Five consecutive client order IDs were already taken.');
  }
}
