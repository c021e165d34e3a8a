/**
 * Reconciliation: what the trading core believes against what the venue reports (the reference's real-time position tracking,
 * and the reconciliation policies of the engine docs). `reconcile` lists every difference with
 * a severity; `decideReconciliation` turns the list and a policy into actions. Neither guesses:
 * nothing is adopted unless the policy is TRUST_VENUE, and then only what the venue reported.
 *
 * Severity rules:
 * - Positions: any difference is CRITICAL (alert table: "position reconciliation mismatch,
 *   resolve before continuing"). A zero quantity counts as no position.
 * - Cash: |local - venue| <= tolerance.cash is no discrepancy; up to tolerance.cashCritical
 *   (default 10 x tolerance.cash) WARNING; beyond that CRITICAL.
 * - Orders present on one side only:
 *   venue-only and live at the venue (OPEN, PARTIALLY_FILLED): CRITICAL, nobody manages its risk;
 *   venue-only, finished, with fills: WARNING; finished without fills: INFO;
 *   local-only and still being submitted: INFO (the venue may not have it yet);
 *   local-only and believed working: WARNING (the venue no longer lists it);
 *   local-only and finished locally: nothing (venues drop finished orders from open lists).
 * - Order status (local state mapped to a phase, see LOCAL_ORDER_PHASES):
 *   finished locally but live at the venue: CRITICAL; working locally but finished at the venue:
 *   WARNING; cancel requested locally and the venue says FILLED: WARNING, EXPIRED or REJECTED: INFO,
 *   still working or CANCELED: nothing (the cancel is on its way); finished on both sides differently: WARNING when either side says FILLED, else INFO;
 *   still being submitted locally: INFO whatever the venue says. OPEN and PARTIALLY_FILLED are the
 *   same phase here: the filled quantities are compared on their own.
 * - Filled quantity: venue ahead of local: WARNING (fills not yet applied; the position check
 *   reports the consequence); local ahead of venue: CRITICAL (fills the venue does not know).
 * - Same client order ID in different markets: CRITICAL.
 */
import type { VenueOrderStatus } from './order';
import { InvalidInput, describeValue, type FieldProblem } from './errors';
import { formatDecimal, isContractQuantity, type Money } from './money';

export type { VenueOrderStatus };

export const VENUE_ORDER_STATUSES: readonly VenueOrderStatus[] = ['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED'];

export interface LocalOrderView {
  marketId: string;
  /** Local order state name, classified by LOCAL_ORDER_PHASES. */
  state: string;
  filledQuantity: number;
}

export interface VenueOrderView {
  marketId: string;
  status: VenueOrderStatus;
  filledQuantity: number;
}

export interface LocalAccountView {
  /** Signed contracts per market. */
  positions: Record<string, number>;
  cash: Money;
  /** By client order ID. */
  openOrders: Record<string, LocalOrderView>;
}

export interface VenueAccountView {
  positions: Record<string, number>;
  cash: Money;
  openOrders: Record<string, VenueOrderView>;
}

export interface ReconciliationTolerance {
  /** Largest cash difference that is not a discrepancy. */
  cash: Money;
  /** Largest cash difference that is only a WARNING; default 10 x `cash`. */
  cashCritical?: Money;
}

/** Where an order is in its life, independent of how a state machine names its states. */
export type OrderPhase = 'SUBMITTING' | 'WORKING' | 'CANCELING' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';

/**
 * Local state names understood by default: every state of order.ts plus common synonyms. An unlisted name is an InvalidInput error rather than
 * a guess; pass a table of your own to `reconcile` to extend it.
 */
export const LOCAL_ORDER_PHASES: Readonly<Record<string, OrderPhase>> = {
  CREATED: 'SUBMITTING',
  PENDING: 'SUBMITTING',
  PENDING_SUBMIT: 'SUBMITTING',
  PENDING_NEW: 'SUBMITTING',
  SUBMITTING: 'SUBMITTING',
  // Outcome of the submission not known: exactly what the venue's answer settles.
  SUBMIT_UNKNOWN: 'SUBMITTING',
  UNKNOWN: 'SUBMITTING',
  SUBMITTED: 'WORKING',
  ACKNOWLEDGED: 'WORKING',
  ACCEPTED: 'WORKING',
  NEW: 'WORKING',
  OPEN: 'WORKING',
  WORKING: 'WORKING',
  PARTIALLY_FILLED: 'WORKING',
  PENDING_CANCEL: 'CANCELING',
  CANCEL_REQUESTED: 'CANCELING',
  CANCELING: 'CANCELING',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  CANCELLED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
};

const VENUE_PHASE: Record<VenueOrderStatus, OrderPhase> = {
  OPEN: 'WORKING',
  PARTIALLY_FILLED: 'WORKING',
  FILLED: 'FILLED',
  CANCELED: 'CANCELED',
  REJECTED: 'REJECTED',
  EXPIRED: 'EXPIRED',
};

const isFinished = (phase: OrderPhase): boolean => phase === 'FILLED' || phase === 'CANCELED' || phase === 'REJECTED' || phase === 'EXPIRED';

export type DiscrepancyKind =
  | 'POSITION_LOCAL_ONLY'
  | 'POSITION_VENUE_ONLY'
  | 'POSITION_QUANTITY_MISMATCH'
  | 'CASH_MISMATCH'
  | 'ORDER_LOCAL_ONLY'
  | 'ORDER_VENUE_ONLY'
  | 'ORDER_STATUS_MISMATCH'
  | 'ORDER_FILL_MISMATCH'
  | 'ORDER_MARKET_MISMATCH';

export type Severity = 'INFO' | 'WARNING' | 'CRITICAL';

export interface PositionDiscrepancy {
  kind: 'POSITION_LOCAL_ONLY' | 'POSITION_VENUE_ONLY' | 'POSITION_QUANTITY_MISMATCH';
  severity: Severity;
  marketId: string;
  clientOrderId: null;
  /** Signed contracts; 0 where that side has none. */
  local: number;
  venue: number;
  message: string;
}

export interface CashDiscrepancy {
  kind: 'CASH_MISMATCH';
  severity: Severity;
  marketId: null;
  clientOrderId: null;
  local: Money;
  venue: Money;
  message: string;
}

export interface OrderDiscrepancy {
  kind: 'ORDER_LOCAL_ONLY' | 'ORDER_VENUE_ONLY' | 'ORDER_STATUS_MISMATCH' | 'ORDER_FILL_MISMATCH' | 'ORDER_MARKET_MISMATCH';
  severity: Severity;
  marketId: string;
  clientOrderId: string;
  /** State, filled quantity or market on each side, as the kind says; null where the side has no order. */
  local: string | number | null;
  venue: string | number | null;
  message: string;
}

export type Discrepancy = PositionDiscrepancy | CashDiscrepancy | OrderDiscrepancy;

const hasOwn = Object.prototype.hasOwnProperty;

function validateInputs(
  local: LocalAccountView,
  venue: VenueAccountView,
  tolerance: ReconciliationTolerance,
  phases: Readonly<Record<string, OrderPhase>>,
): void {
  const problems: FieldProblem[] = [];
  const checkPositions = (side: string, positions: Record<string, number>) => {
    for (const [marketId, q] of Object.entries(positions)) {
      if (!isContractQuantity(q)) problems.push({ field: `${side}.positions.${marketId}`, value: q, problem: 'must be a signed number of contracts with at most 2 decimal places' });
    }
  };
  const checkCash = (field: string, cash: number) => {
    if (!Number.isSafeInteger(cash)) problems.push({ field, value: cash, problem: 'must be integer micros' });
  };
  const checkOrder = (field: string, o: { marketId: string; filledQuantity: number }) => {
    if (typeof o.marketId !== 'string' || o.marketId.length === 0) problems.push({ field: `${field}.marketId`, value: o.marketId, problem: 'must be a market ID' });
    if (!isContractQuantity(o.filledQuantity) || o.filledQuantity < 0) {
      problems.push({ field: `${field}.filledQuantity`, value: o.filledQuantity, problem: 'must be a non-negative number of contracts with at most 2 decimal places' });
    }
  };
  checkPositions('local', local.positions);
  checkPositions('venue', venue.positions);
  checkCash('local.cash', local.cash);
  checkCash('venue.cash', venue.cash);
  for (const [id, o] of Object.entries(local.openOrders)) {
    checkOrder(`local.openOrders.${id}`, o);
    if (typeof o.state !== 'string' || !hasOwn.call(phases, o.state)) {
      problems.push({ field: `local.openOrders.${id}.state`, value: o.state, problem: 'is not a known local order state' });
    }
  }
  for (const [id, o] of Object.entries(venue.openOrders)) {
    checkOrder(`venue.openOrders.${id}`, o);
    if (!hasOwn.call(VENUE_PHASE, o.status)) problems.push({ field: `venue.openOrders.${id}.status`, value: o.status, problem: `must be one of ${VENUE_ORDER_STATUSES.join(', ')}` });
  }
  if (!Number.isSafeInteger(tolerance.cash) || tolerance.cash < 0) problems.push({ field: 'tolerance.cash', value: tolerance.cash, problem: 'must be non-negative integer micros' });
  if (tolerance.cashCritical !== undefined && (!Number.isSafeInteger(tolerance.cashCritical) || tolerance.cashCritical < tolerance.cash)) {
    problems.push({ field: 'tolerance.cashCritical', value: tolerance.cashCritical, problem: 'must be integer micros not below tolerance.cash' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
}

const sortedKeys = (...records: Record<string, unknown>[]): string[] => [...new Set(records.flatMap((r) => Object.keys(r)))].sort();

const quantityIn = (positions: Record<string, number>, marketId: string): number => (hasOwn.call(positions, marketId) ? (positions[marketId] as number) : 0);

function comparePositions(local: Record<string, number>, venue: Record<string, number>, out: Discrepancy[]): void {
  for (const marketId of sortedKeys(local, venue)) {
    const l = quantityIn(local, marketId);
    const v = quantityIn(venue, marketId);
    if (l === v) continue;
    const kind = v === 0 ? 'POSITION_LOCAL_ONLY' : l === 0 ? 'POSITION_VENUE_ONLY' : 'POSITION_QUANTITY_MISMATCH';
    const message =
      kind === 'POSITION_LOCAL_ONLY'
        ? `local holds ${l} contracts of ${marketId}; the venue holds none`
        : kind === 'POSITION_VENUE_ONLY'
          ? `the venue holds ${v} contracts of ${marketId}; local holds none`
          : `local holds ${l} contracts of ${marketId}; the venue holds ${v}`;
    out.push({ kind, severity: 'CRITICAL', marketId, clientOrderId: null, local: l, venue: v, message });
  }
}

function compareCash(local: Money, venue: Money, tolerance: ReconciliationTolerance, out: Discrepancy[]): void {
  const diff = Math.abs(local - venue);
  if (diff <= tolerance.cash) return;
  const critical = tolerance.cashCritical ?? tolerance.cash * 10;
  out.push({
    kind: 'CASH_MISMATCH',
    severity: diff > critical ? 'CRITICAL' : 'WARNING',
    marketId: null,
    clientOrderId: null,
    local,
    venue,
    message: `local cash ${formatDecimal(local)} differs from the venue's ${formatDecimal(venue)} by ${formatDecimal(diff)} (tolerance ${formatDecimal(tolerance.cash)})`,
  });
}

function statusSeverity(localPhase: OrderPhase, venuePhase: OrderPhase): Severity | null {
  if (localPhase === 'SUBMITTING') return 'INFO';
  if (localPhase === venuePhase) return null;
  if (localPhase === 'CANCELING') {
    if (venuePhase === 'WORKING' || venuePhase === 'CANCELED') return null;
    return venuePhase === 'FILLED' ? 'WARNING' : 'INFO';
  }
  if (isFinished(localPhase)) {
    if (venuePhase === 'WORKING') return 'CRITICAL';
    return localPhase === 'FILLED' || venuePhase === 'FILLED' ? 'WARNING' : 'INFO';
  }
  // Working locally, finished at the venue.
  return 'WARNING';
}

function compareOrders(
  local: Record<string, LocalOrderView>,
  venue: Record<string, VenueOrderView>,
  phases: Readonly<Record<string, OrderPhase>>,
  out: Discrepancy[],
): void {
  for (const clientOrderId of sortedKeys(local, venue)) {
    const l = hasOwn.call(local, clientOrderId) ? (local[clientOrderId] as LocalOrderView) : null;
    const v = hasOwn.call(venue, clientOrderId) ? (venue[clientOrderId] as VenueOrderView) : null;
    if (l !== null && v === null) {
      const phase = phases[l.state] as OrderPhase;
      if (isFinished(phase)) continue;
      out.push({
        kind: 'ORDER_LOCAL_ONLY',
        severity: phase === 'SUBMITTING' ? 'INFO' : 'WARNING',
        marketId: l.marketId,
        clientOrderId,
        local: l.state,
        venue: null,
        message:
          phase === 'SUBMITTING'
            ? `order ${clientOrderId} is still being submitted and the venue does not list it yet`
            : `order ${clientOrderId} is ${l.state} locally but the venue does not list it`,
      });
      continue;
    }
    if (l === null && v !== null) {
      const live = VENUE_PHASE[v.status] === 'WORKING';
      out.push({
        kind: 'ORDER_VENUE_ONLY',
        severity: live ? 'CRITICAL' : v.filledQuantity > 0 ? 'WARNING' : 'INFO',
        marketId: v.marketId,
        clientOrderId,
        local: null,
        venue: v.status,
        message: live
          ? `order ${clientOrderId} is ${v.status} at the venue and unknown locally: its risk is unmanaged`
          : `order ${clientOrderId} is ${v.status} at the venue with ${v.filledQuantity} filled and unknown locally`,
      });
      continue;
    }
    if (l === null || v === null) continue;
    if (l.marketId !== v.marketId) {
      out.push({
        kind: 'ORDER_MARKET_MISMATCH',
        severity: 'CRITICAL',
        marketId: l.marketId,
        clientOrderId,
        local: l.marketId,
        venue: v.marketId,
        message: `order ${clientOrderId} is in market ${l.marketId} locally but in ${v.marketId} at the venue`,
      });
      continue;
    }
    const severity = statusSeverity(phases[l.state] as OrderPhase, VENUE_PHASE[v.status]);
    if (severity !== null) {
      out.push({
        kind: 'ORDER_STATUS_MISMATCH',
        severity,
        marketId: l.marketId,
        clientOrderId,
        local: l.state,
        venue: v.status,
        message: `order ${clientOrderId} is ${l.state} locally and ${v.status} at the venue`,
      });
    }
    if (l.filledQuantity !== v.filledQuantity) {
      const venueAhead = v.filledQuantity > l.filledQuantity;
      out.push({
        kind: 'ORDER_FILL_MISMATCH',
        severity: venueAhead ? 'WARNING' : 'CRITICAL',
        marketId: l.marketId,
        clientOrderId,
        local: l.filledQuantity,
        venue: v.filledQuantity,
        message: venueAhead
          ? `order ${clientOrderId}: the venue reports ${v.filledQuantity} filled, local has applied ${l.filledQuantity}`
          : `order ${clientOrderId}: local has applied ${l.filledQuantity} filled, more than the ${v.filledQuantity} the venue reports`,
      });
    }
  }
}

/**
 * Every difference between the local view and the venue's, positions first, then cash, then
 * orders, each group sorted by market or client order ID. Bad input (non-integer quantities or
 * cash, unknown states) is an InvalidInput listing every bad field.
 */
export function reconcile(
  local: LocalAccountView,
  venue: VenueAccountView,
  tolerance: ReconciliationTolerance,
  localOrderPhases: Readonly<Record<string, OrderPhase>> = LOCAL_ORDER_PHASES,
): Discrepancy[] {
  validateInputs(local, venue, tolerance, localOrderPhases);
  const out: Discrepancy[] = [];
  comparePositions(local.positions, venue.positions, out);
  compareCash(local.cash, venue.cash, tolerance, out);
  compareOrders(local.openOrders, venue.openOrders, localOrderPhases, out);
  return out;
}

export type ReconciliationPolicy = 'WARN_ONLY' | 'TRUST_VENUE' | 'HALT_AND_ALERT';
export const RECONCILIATION_POLICIES: readonly ReconciliationPolicy[] = ['WARN_ONLY', 'TRUST_VENUE', 'HALT_AND_ALERT'];

export type AlertLevel = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW';

export interface ReconciliationDecision {
  /** No discrepancy at all, not even INFO. */
  clean: boolean;
  /** Stop opening new risk until a person has looked. */
  halt: boolean;
  alertLevel: AlertLevel | null;
  maxSeverity: Severity | null;
  counts: Record<Severity, number>;
  /** Venue quantity per differing market; filled only under TRUST_VENUE. */
  adoptPositions: Record<string, number>;
  /** Venue cash when it differs beyond tolerance; only under TRUST_VENUE. */
  adoptCash: Money | null;
  summary: string;
}

const SEVERITY_RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, CRITICAL: 2 };
const isPositionKind = (d: Discrepancy): d is PositionDiscrepancy =>
  d.kind === 'POSITION_LOCAL_ONLY' || d.kind === 'POSITION_VENUE_ONLY' || d.kind === 'POSITION_QUANTITY_MISMATCH';

/**
 * What to do about a reconciliation (policies: WARN_ONLY logs and continues, TRUST_VENUE takes
 * the venue's positions and cash, HALT_AND_ALERT stops trading).
 *
 * - WARN_ONLY: never halts; alert CRITICAL / MEDIUM / LOW for the worst CRITICAL / WARNING / INFO.
 * - HALT_AND_ALERT: halts on any WARNING or CRITICAL, with a CRITICAL alert ("trading halted");
 *   INFO alone neither halts nor alerts above LOW.
 * - TRUST_VENUE: adopts the venue's quantity for every position discrepancy and the venue's cash
 *   for a cash discrepancy. Order discrepancies cannot be adopted: a CRITICAL one (an order live
 *   at the venue that nobody manages, fills the venue does not know) still halts with a CRITICAL
 *   alert. Otherwise an adoption raises a HIGH alert (local state was wrong and has been
 *   overwritten: review it), and the rest map as under WARN_ONLY.
 */
export function decideReconciliation(discrepancies: readonly Discrepancy[], policy: ReconciliationPolicy): ReconciliationDecision {
  if (!RECONCILIATION_POLICIES.includes(policy)) {
    throw InvalidInput.of('policy', policy, `must be one of ${RECONCILIATION_POLICIES.join(', ')}`);
  }
  const counts: Record<Severity, number> = { INFO: 0, WARNING: 0, CRITICAL: 0 };
  let maxSeverity: Severity | null = null;
  for (const d of discrepancies) {
    counts[d.severity] += 1;
    if (maxSeverity === null || SEVERITY_RANK[d.severity] > SEVERITY_RANK[maxSeverity]) maxSeverity = d.severity;
  }

  const adoptPositions = new Map<string, number>();
  let adoptCash: Money | null = null;
  let halt = false;
  let alertLevel: AlertLevel | null = maxSeverity === 'CRITICAL' ? 'CRITICAL' : maxSeverity === 'WARNING' ? 'MEDIUM' : maxSeverity === 'INFO' ? 'LOW' : null;

  if (policy === 'HALT_AND_ALERT' && (counts.CRITICAL > 0 || counts.WARNING > 0)) {
    halt = true;
    alertLevel = 'CRITICAL';
  } else if (policy === 'TRUST_VENUE') {
    let unresolvedCritical = false;
    for (const d of discrepancies) {
      if (isPositionKind(d)) adoptPositions.set(d.marketId, d.venue);
      else if (d.kind === 'CASH_MISMATCH') adoptCash = d.venue;
      else if (d.severity === 'CRITICAL') unresolvedCritical = true;
    }
    if (unresolvedCritical) {
      halt = true;
      alertLevel = 'CRITICAL';
    } else if (adoptPositions.size > 0 || adoptCash !== null) {
      alertLevel = 'HIGH';
    }
  }

  const clean = discrepancies.length === 0;
  const parts = (['CRITICAL', 'WARNING', 'INFO'] as const).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  let summary = clean ? 'reconciliation clean' : `${discrepancies.length} discrepancies (${parts.join(', ')}); policy ${policy}`;
  if (!clean) {
    if (halt) summary += ': trading halted';
    if (adoptPositions.size > 0) summary += `; adopting venue positions in ${[...adoptPositions.keys()].map((m) => describeValue(m)).join(', ')}`;
    if (adoptCash !== null) summary += `; adopting venue cash ${formatDecimal(adoptCash)}`;
  }
  return { clean, halt, alertLevel, maxSeverity, counts, adoptPositions: Object.fromEntries(adoptPositions), adoptCash, summary };
}
