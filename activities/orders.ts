/**
 * The activities the order lifecycle workflow calls (OrderActivities, except raiseAlert, which
 * alerts.ts provides, and syncFills, which fill-sync.ts provides). Every time returned comes from `deps.clock`; every failure leaves as a
 * typed ApplicationFailure (errors.ts).
 */
import {
  listOrderFills,
  listRiskDecisions,
  recordExecution as recordExecutionRow,
  recordRiskDecision,
  saveOrderSnapshot,
} from '../db';
import { InvalidInput } from '../domain/errors';
import type { ExecutionRecord } from '../domain/execution-quality';
import { validateClientOrderId } from '../domain/ids';
import { ORDER_STATES, type Order } from '../domain/order';
import { checkOrder, type RiskViolation } from '../domain/risk';
import { buildRiskContext } from '../domain/trading-context';
import { logEvent, type ActivityDeps } from './deps';
import { formatDecimal } from '../domain/money';
import { runActivity, submitFailure } from './errors';
import { coreSnapshot, loadAccount, marksOf } from './portfolio';
import type { ActivityServices } from './services';
import type { AssessOrderInput, AssessOrderResult, LookupResult, OrderActivities, OrderContext, OrderFillOptions, OrderIntent, OrderProgress, SubmitResult } from '../contracts/activities';
import { isVenueError } from './venue/errors';
import type { VenueOrder } from '../contracts/venue';

export type OrderActivitiesWithoutAlerts = Omit<OrderActivities, 'raiseAlert' | 'syncFills'>;

/** Slots per count of progress steps in a snapshot sequence: one per order state (see `snapshotSeq`). */
const STATE_SLOTS = 16;

/**
 * The record sequence of a workflow's order: rises with every state first reached and every fill
 * applied, so a newer order always has a larger number and a retried or replayed call with the
 * same order repeats the same number and content (a no-op). Within one count the state's index
 * breaks the tie: when the order goes back to a state it was in before (PENDING_SUBMIT after an
 * ambiguous submit the venue never saw) the count does not rise, and the snapshot is stored as an
 * older event under a sequence of its own instead of colliding with the one already stored.
 */
export function snapshotSeq(order: Pick<Order, 'state' | 'timestamps' | 'fills'>): number {
  if (order.state === 'CREATED' && order.fills.length === 0) return 0;
  const progress = Object.keys(order.timestamps).length + order.fills.length;
  return progress * STATE_SLOTS + ORDER_STATES.indexOf(order.state);
}

function checkIntent(o: OrderIntent): void {
  validateClientOrderId(o?.clientOrderId, 'order.clientOrderId');
}

const isNotFound = (e: unknown): boolean => isVenueError(e) && e.status === 404;

export function createOrderActivities(deps: ActivityDeps, services: ActivityServices): OrderActivitiesWithoutAlerts {
  const { db, venue, config, clock } = deps;

  function submitted(order: VenueOrder, at: number): SubmitResult {
    const result: SubmitResult =
      order.status === 'REJECTED'
        ? { outcome: 'REJECTED', reason: order.rejectReason ?? 'rejected by the venue', at }
        : { outcome: 'ACCEPTED', venueOrderId: order.venueOrderId, status: order.status, at };
    logEvent(
      deps,
      'order',
      { clientOrderId: order.clientOrderId },
      { action: 'submit', outcome: result.outcome, venueOrderId: order.venueOrderId, venueStatus: order.status, reason: order.rejectReason, marketId: order.marketId, limitPrice: order.limitPrice === null ? null : formatDecimal(order.limitPrice) },
      `order ${result.outcome === 'REJECTED' ? `rejected by ${venue.name}` : `accepted by ${venue.name}`}`,
      result.outcome === 'REJECTED' ? 'warn' : 'info',
    );
    return result;
  }

  return {
    /**
     * Pre-trade risk (a local activity: a few indexed reads and one quote). The decision is
     * recorded under the client order ID; a retry returns the recorded decision instead of
     * judging again on a newer quote. `syncFills: false`: the workflow synced the fills itself.
     */
    assessOrder: (input: AssessOrderInput, options?: OrderFillOptions): Promise<AssessOrderResult> =>
      runActivity(async () => {
        const { order, context } = input;
        checkIntent(order);
        const [earlier] = await listRiskDecisions(db, { clientOrderId: order.clientOrderId, limit: 1 });
        if (earlier) return { approved: earlier.approved, violations: earlier.violations as RiskViolation[], at: earlier.decidedAt };

        // Fills the venue reported since the last poll count against the limits: sync them first.
        const [quote] = await Promise.all([venue.getMarketSnapshot(order.marketId), options?.syncFills === false ? null : services.fills.sync()]);
        const account = await loadAccount(db, config.account, context.tradingDay, clock());
        const snapshot = coreSnapshot(quote);
        const open = account.positions.filter((p) => p.quantity !== 0).map((p) => p.marketId);
        const markets = await services.markets.require([order.marketId, ...open]);
        const now = clock();
        // Equity for the %-of-portfolio rules: the venue's last cash, asked for once if this worker
        // has none yet; a venue that cannot say leaves equity unknown, which refuses any growth.
        const cash = services.cash.lastKnown() ?? (await services.cash.read().catch(() => null));
        const ctx = {
          ...buildRiskContext({
            ledger: account.ledger,
            markets,
            marks: marksOf(account.positions, [snapshot]),
            market: markets[order.marketId]!,
            snapshot,
            now,
            halted: input.halted === null ? null : { reason: input.halted },
            recentOrderTimes: [],
            openingUnrealizedPnl: account.openingUnrealizedPnl,
            cash,
          }),
          ordersInLastMinute: input.ordersInLastMinute,
        };
        const decision = checkOrder(order, ctx, config.limits);
        const violations = decision.approved ? [] : decision.violations;
        await recordRiskDecision(db, {
          decisionId: order.clientOrderId,
          clientOrderId: order.clientOrderId,
          account: config.account,
          strategy: context.strategy,
          marketId: order.marketId,
          approved: decision.approved,
          violations,
          request: {
            order: { ...order },
            halted: input.halted,
            ordersInLastMinute: input.ordersInLastMinute,
            snapshot: { ...snapshot },
            position: ctx.currentPosition,
            openPositions: ctx.openPositionCount,
            portfolioExposure: ctx.portfolioExposure,
            categoryExposure: ctx.categoryExposure,
            dailyRealizedPnl: ctx.dailyRealizedPnl,
            unrealizedPnl: ctx.unrealizedPnl,
            openingUnrealizedPnl: ctx.openingUnrealizedPnl,
          },
          decidedAt: now,
        });
        deps.metrics?.riskDecision(decision.approved, violations.map((v) => v.rule));
        logEvent(
          deps,
          'risk_decision',
          { clientOrderId: order.clientOrderId, sessionId: context.sessionWorkflowId },
          { strategy: context.strategy, marketId: order.marketId, side: order.side, quantity: order.quantity, approved: decision.approved, violations: violations.map((v) => ({ rule: v.rule, message: v.message })) },
          decision.approved ? 'order approved by risk' : `order rejected by risk: ${violations.map((v) => v.rule).join(', ')}`,
          decision.approved ? 'info' : 'warn',
        );
        return { approved: decision.approved, violations, at: now };
      }),

    /** Inserts the order on first sight (with its signal in the audit log) and advances it; never moves it back. */
    recordOrder: (order: Order, context: OrderContext): Promise<void> =>
      runActivity(async () => {
        await saveOrderSnapshot(
          db,
          order,
          { strategy: context.strategy, tradingDay: context.tradingDay, sessionWorkflowId: context.sessionWorkflowId, signal: context.signal, account: config.account },
          snapshotSeq(order),
        );
        deps.metrics?.orderState(order.clientOrderId, order.state);
        logEvent(
          deps,
          'order',
          { clientOrderId: order.clientOrderId, sessionId: context.sessionWorkflowId },
          { action: 'snapshot', state: order.state, seq: snapshotSeq(order), strategy: context.strategy, marketId: order.marketId, side: order.side, quantity: order.quantity, fills: order.fills.length },
          `order ${order.state}`,
        );
      }),

    /**
     * Sends the order, once: the venue's order (accepted or rejected), or a typed failure, of which
     * AMBIGUOUS_SUBMIT says the venue may hold it. Whether to look it up and resubmit is the order
     * lifecycle's decision (workflows/order-lifecycle.ts), which runs this with one attempt.
     */
    submitOrder: (order: OrderIntent): Promise<SubmitResult> =>
      runActivity(async () => {
        checkIntent(order);
        const placed = await venue.placeOrder({
          clientOrderId: order.clientOrderId,
          marketId: order.marketId,
          side: order.side,
          quantity: order.quantity,
          limitPrice: order.limitPrice,
        });
        return submitted(placed, clock());
      }, submitFailure),

    lookupOrder: (clientOrderId: string): Promise<LookupResult> =>
      runActivity(async () => {
        validateClientOrderId(clientOrderId);
        const found = await venue.getOrderByClientId(clientOrderId);
        const at = clock();
        return found ? { found: true, venueOrderId: found.venueOrderId, status: found.status, at } : { found: false, at };
      }),

    /**
     * The order's status at the venue, then the account's new fills into the ledger (status first,
     * so a FILLED status is never reported without the fills that preceded it), then every fill
     * of this order from the records: a retried poll returns the same fills again.
     * `syncFills: false`: the workflow ran the sync as a step of its own just before, and this
     * only reads (the lifecycle confirms a final status with one more sync, order-lifecycle.ts).
     */
    pollOrder: (clientOrderId: string, options?: OrderFillOptions): Promise<OrderProgress> =>
      runActivity(async () => {
        validateClientOrderId(clientOrderId);
        const order = await venue.getOrderByClientId(clientOrderId);
        if (options?.syncFills !== false) await services.fills.sync();
        const fills = await listOrderFills(db, clientOrderId);
        return {
          venueOrderId: order?.venueOrderId ?? null,
          status: order?.status ?? null,
          rejectReason: order?.rejectReason ?? null,
          fills,
          at: clock(),
        };
      }),

    /** Cancels at the venue; an order the venue does not know answers status null. */
    cancelOrder: (clientOrderId: string) =>
      runActivity(async () => {
        validateClientOrderId(clientOrderId);
        try {
          const order = await venue.cancelOrder({ clientOrderId });
          logEvent(deps, 'order', { clientOrderId }, { action: 'cancel', venueStatus: order.status }, `cancel answered ${order.status}`);
          return { status: order.status, at: clock() };
        } catch (e) {
          if (isNotFound(e)) {
            logEvent(deps, 'order', { clientOrderId }, { action: 'cancel', venueStatus: null }, `cancel: ${venue.name} does not know the order`);
            return { status: null, at: clock() };
          }
          throw e;
        }
      }),

    recordExecution: (record: ExecutionRecord): Promise<void> =>
      runActivity(async () => {
        if (typeof record !== 'object' || record === null) throw InvalidInput.of('record', record, 'must be an execution record');
        await recordExecutionRow(db, record);
      }),
  };
}
