/**
 * The kill switch and the end of the day (`cancelAllOpenOrders`): cancels every open order of a
 * strategy and, when asked, flattens the account's positions with one opposing order each.
 */
import { createHash } from 'node:crypto';
import { getOrder, insertOrder, listOpenOrders, listPositions, recordOrderEvent } from '../db';
import { InvalidInput } from '../domain/errors';
import { flattenClientOrderId, isStrategyClientOrderId, validateKey } from '../domain/ids';
import type { Side } from '../domain/market';
import type { Quantity } from '../domain/money';
import { ORDER_STATES, TERMINAL_STATES, type OrderState } from '../domain/order';
import type { SessionActivities } from '../contracts/activities';
import type { VenueOrder } from '../contracts/venue';
import { logEvent, type ActivityDeps } from './deps';
import { runActivity } from './errors';
import { tradingDayIn } from './portfolio';
import type { ActivityServices } from './services';
import { isVenueError } from './venue/errors';

/**
 * Order events written by these activities rather than by the order's workflow (a cancel-all
 * that the venue confirmed, a flatten order) use sequences from here up, above anything a
 * workflow's snapshot sequence reaches: the venue's final word is never moved back, and never
 * collides with a sequence the workflow writes later.
 */
export const EXTERNAL_EVENT_SEQ = 1_000_000_000;
const externalSeq = (state: OrderState): number => EXTERNAL_EVENT_SEQ + ORDER_STATES.indexOf(state);

/**
 * The flatten order of `marketId` for a kill switch with this reason: its tag is the first 8 hex
 * digits of SHA-256 over the reason and the market. A retried cancel-all with the same reason
 * makes the same IDs, so the venue (and the records) see each flatten order once; a later kill
 * switch with another reason flattens afresh.
 */
export function flattenOrderId(strategy: string, tradingDay: string, reason: string, marketId: string): string {
  const tag = createHash('sha256').update(`${reason}\n${marketId}`).digest('hex').slice(0, 8);
  return flattenClientOrderId(strategy, tradingDay, tag);
}

export function createKillSwitchActivities(deps: ActivityDeps, services: ActivityServices): Pick<SessionActivities, 'cancelAllOpenOrders'> {
  const { db, venue, config, clock } = deps;
  const account = config.account;

  /** Writes the venue's final word on an order the workflow may no longer follow. */
  async function recordVenueOutcome(order: VenueOrder, reason: string): Promise<void> {
    const state: OrderState = order.status === 'OPEN' ? 'SUBMITTED' : order.status;
    await recordOrderEvent(db, {
      clientOrderId: order.clientOrderId,
      seq: externalSeq(state),
      eventType: 'OrderSnapshot',
      state,
      at: order.updatedAt,
      venueOrderId: order.venueOrderId,
      reason: order.status === 'REJECTED' ? (order.rejectReason ?? reason) : null,
      detail: { reason, venueStatus: order.status },
    });
    deps.metrics?.orderState(order.clientOrderId, state);
    logEvent(deps, 'order', { clientOrderId: order.clientOrderId }, { action: 'venue_outcome', state, venueStatus: order.status, marketId: order.marketId, reason }, `order ${state} at the venue (${reason})`);
  }

  async function flattenPositions(strategy: string, reason: string, day: string): Promise<string[]> {
    // Positions must include every fill the venue reported, or the flatten order would be the wrong size.
    await services.fills.sync();
    const open = await listPositions(db, { account, openOnly: true });
    const placed: string[] = [];
    for (const p of open) {
      const clientOrderId = flattenOrderId(strategy, day, reason, p.marketId);
      let terms = await getOrder(db, clientOrderId);
      if (!terms) {
        const side: Side = p.quantity > 0 ? 'SELL' : 'BUY';
        const quote = await venue.getMarketSnapshot(p.marketId);
        // Marketable at the touch; with that side of the book empty, a market order.
        const limitPrice = side === 'SELL' ? quote.bid : quote.ask;
        ({ order: terms } = await insertOrder(db, {
          clientOrderId,
          marketId: p.marketId,
          side,
          quantity: Math.abs(p.quantity) as Quantity,
          limitPrice,
          strategy,
          tradingDay: day,
          createdAt: clock(),
          account,
          signal: null,
        }));
      }
      const order = await venue.placeOrder({ clientOrderId, marketId: terms.marketId, side: terms.side, quantity: terms.quantity, limitPrice: terms.limitPrice });
      await recordVenueOutcome(order, reason);
      placed.push(clientOrderId);
    }
    return placed;
  }

  return {
    /**
     * Cancels every open order of the strategy: those the records hold open and those the venue
     * lists under the strategy's client order IDs. A cancel the venue confirms is written to the
     * order record at once (above the workflow's sequences, see EXTERNAL_EVENT_SEQ); an order the
     * venue does not know is left to its workflow. With `flatten`, then places one opposing,
     * marketable order per open position of the account (positions are per account, not per
     * strategy) under `flattenOrderId`, recorded as orders of the strategy.
     */
    cancelAllOpenOrders: (input: { strategy: string; flatten: boolean; reason: string }) =>
      runActivity(async () => {
        const strategy = validateKey(input?.strategy, 'strategy');
        if (typeof input.reason !== 'string' || input.reason.trim() === '') throw InvalidInput.of('reason', input.reason, 'must say why');
        const day = tradingDayIn(clock(), config.timeZone);
        const [local, remote] = await Promise.all([listOpenOrders(db, { strategy, account }), venue.listOpenOrders()]);
        // A retried flatten must not cancel the flatten orders its earlier attempt placed.
        const ownFlatten = (o: { clientOrderId: string; marketId: string }) => input.flatten && o.clientOrderId === flattenOrderId(strategy, day, input.reason, o.marketId);
        const candidates = [...local, ...remote.filter((o) => isStrategyClientOrderId(strategy, o.clientOrderId))].filter((o) => !ownFlatten(o));
        const ids = [...new Set(candidates.map((o) => o.clientOrderId))].sort();
        const recorded = new Set(local.map((o) => o.clientOrderId));
        const canceled: string[] = [];
        for (const clientOrderId of ids) {
          let order: VenueOrder;
          try {
            order = await venue.cancelOrder({ clientOrderId });
          } catch (e) {
            if (isVenueError(e) && e.status === 404) continue;
            throw e;
          }
          if (order.status === 'CANCELED') canceled.push(clientOrderId);
          if (recorded.has(clientOrderId) && (TERMINAL_STATES as readonly string[]).includes(order.status)) await recordVenueOutcome(order, input.reason);
        }
        const flattenOrders = input.flatten ? await flattenPositions(strategy, input.reason, day) : [];
        return { canceled, flattenOrders };
      }),
  };
}
