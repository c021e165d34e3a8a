/**
 * The session's view of the account (`sessionSnapshot`): equity, the day's P&L, exposure, venue
 * traffic for the error-rate breaker, open orders, and which reserved orders have ended. It reads;
 * the only writes are the fresh marks of the positions, the day's opening marks when the daily
 * reset has not recorded them (`openTradingDay`, once per day), and, for sessions that predate
 * the `syncFills` step, the fill sync it asked for. The day's P&L is measured from the opening
 * (ledger.ts `dailyPnlSinceOpen`), so a position carried over midnight brings no old loss.
 */
import { listDailyPnl, listOpenOrders, listPositions, markPositions, openTradingDay } from '../db';
import { InvalidInput } from '../domain/errors';
import { validateClientOrderId, validateKey, validateTradingDay } from '../domain/ids';
import { accountEquity, dailyPnlSinceOpen, positionExposure, unrealizedPnl } from '../domain/ledger';
import type { Money } from '../domain/money';
import type { SessionActivities, SessionSnapshot, SessionSnapshotInput } from '../contracts/activities';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import { endedOrders } from './reserved-orders';
import type { ActivityServices } from './services';
import { isVenueError } from './venue/errors';
import { describeError, freshMarks, tryVenue, warn } from './venue-reads';

export function createSessionSnapshotActivities(deps: ActivityDeps, services: ActivityServices): Pick<SessionActivities, 'sessionSnapshot'> {
  const { db, config, clock } = deps;
  const account = config.account;

  /** The venue's cash, else the last it reported: without any cash figure equity cannot be measured, so that fails (and is retried). */
  async function cash(): Promise<Money> {
    try {
      return await services.cash.read();
    } catch (e) {
      const last = services.cash.lastKnown();
      if (!isVenueError(e) || last === null) throw e;
      warn(`balance: using the last known cash, the venue did not answer: ${describeError(e)}`);
      return last;
    }
  }

  return {
    sessionSnapshot: (input: SessionSnapshotInput): Promise<SessionSnapshot> =>
      runActivity(async () => {
        validateKey(input?.strategy, 'strategy');
        const day = validateTradingDay(input.tradingDay);
        const reservedOrders = input.reservedOrders ?? [];
        if (!Array.isArray(reservedOrders)) throw InvalidInput.of('reservedOrders', reservedOrders, 'must list client order IDs');
        reservedOrders.forEach((c, i) => validateClientOrderId(c, `reservedOrders[${i}]`));
        if (input.syncFills !== false) await tryVenue('fill sync', () => services.fills.sync());
        const balance = await cash();
        const positions = await listPositions(db, { account });
        const { marks, fresh } = await freshMarks(deps.venue, positions);
        const now = clock();
        if (Object.keys(fresh).length > 0) await markPositions(db, account, fresh, now);
        const [daily] = await listDailyPnl(db, { account, from: day, to: day });
        // The day's loss is measured from its opening marks: the reset records them, else the day's first snapshot does.
        const opening = daily !== undefined && daily.openedAt !== null ? daily.openingUnrealizedPnl : (await openTradingDay(db, { account, tradingDay: day, at: now })).openingUnrealizedPnl;
        const equity = accountEquity(balance, positions, marks);
        let unrealized = 0;
        let exposure = 0;
        let openPositions = 0;
        for (const p of positions) {
          if (p.quantity === 0) continue;
          openPositions += 1;
          const mark = marks[p.marketId] ?? null;
          unrealized += unrealizedPnl(p, mark);
          exposure += positionExposure(p, mark);
        }
        const realized = daily?.realizedPnl ?? 0;
        const fees = daily?.fees ?? 0;
        const dailyPnl = dailyPnlSinceOpen({ realizedPnl: realized, fees, unrealizedPnl: unrealized, openingUnrealizedPnl: opening });
        const window = services.requests.count(now, config.breakers.errorWindowMs);
        const open = await listOpenOrders(db, { strategy: input.strategy, account });
        deps.metrics?.session({
          account,
          strategy: input.strategy,
          realizedPnl: realized as Money,
          unrealizedPnl: unrealized as Money,
          fees: fees as Money,
          dailyPnl,
          equity,
          exposure: exposure as Money,
          openPositions,
          limits: config.limits,
        });
        return {
          at: now,
          metrics: {
            equity,
            dailyPnl,
            ordersInWindow: 0,
            errorsInWindow: window.errors,
            requestsInWindow: window.requests,
          },
          realizedPnl: realized as Money,
          unrealizedPnl: unrealized as Money,
          fees: fees as Money,
          exposure: exposure as Money,
          openPositions,
          openOrders: open.map((o) => ({ clientOrderId: o.clientOrderId, marketId: o.marketId, side: o.side, state: o.state })),
          endedOrders: await endedOrders(db, reservedOrders, true),
        };
      }),
  };
}
