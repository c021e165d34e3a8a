/**
 * The account as the records see it, in the core's types: the ledger rebuilt from recorded
 * positions and the day's realized figures, the markets (category, tick size) those positions
 * and orders need, and the trading day of an instant in the configured time zone. Shared by the
 * order and session activities so risk, sizing and breakers all judge from the same figures.
 */
import { getMarket, listDailyPnl, listMarkets, listPositions, openTradingDay, upsertMarket, type Db, type PositionView } from '../db';
import { UnknownMarket } from '../domain/errors';
import type { Ledger } from '../domain/ledger';
import { markPrice, type Market, type MarketSnapshot } from '../domain/market';
import type { Money, Price } from '../domain/money';
import type { ResilientVenue } from './venue/resilient-venue';
import type { VenueMarketSnapshot } from '../contracts/venue';

export { tradingDayIn } from '../domain/calendar';

/** The quote fields the core reads; depth and 24 h volume stay in the activity. */
export function coreSnapshot(s: VenueMarketSnapshot): MarketSnapshot {
  return { marketId: s.marketId, ts: s.ts, bid: s.bid, ask: s.ask, last: s.last, averageDailyVolume: s.averageDailyVolume, intervalVolume: s.intervalVolume };
}

/**
 * Market reference data from the records, filled from the venue's market list the first time a
 * market is missing (and recorded, so the dashboard and other workers see it). Cached in memory:
 * categories and tick sizes do not change while a worker runs; outcomes are not read from here.
 */
export class MarketBook {
  private readonly cache = new Map<string, Market>();
  private refreshed: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly venue: ResilientVenue,
    private readonly venueId: string,
  ) {}

  /** Every market asked for, or UnknownMarket naming the first the venue does not list either. */
  async require(marketIds: Iterable<string>): Promise<Record<string, Market>> {
    const ids = [...new Set(marketIds)];
    let missing = ids.filter((id) => !this.cache.has(id));
    if (missing.length > 0) {
      await Promise.all(
        missing.map(async (id) => {
          const m = await getMarket(this.db, id);
          if (m) this.cache.set(id, { marketId: m.marketId, category: m.category, tickSize: m.tickSize, resolvesAt: m.resolvesAt, outcome: m.outcome });
        }),
      );
      missing = ids.filter((id) => !this.cache.has(id));
    }
    if (missing.length > 0) {
      await this.refreshFromVenue();
      const unknown = ids.find((id) => !this.cache.has(id));
      if (unknown !== undefined) throw new UnknownMarket(unknown);
    }
    return Object.fromEntries(ids.map((id) => [id, this.cache.get(id)!]));
  }

  async one(marketId: string): Promise<Market> {
    return (await this.require([marketId]))[marketId]!;
  }

  /** Loads everything already recorded (one query) so later lookups hit the cache. */
  async warm(): Promise<void> {
    for (const m of await listMarkets(this.db)) {
      this.cache.set(m.marketId, { marketId: m.marketId, category: m.category, tickSize: m.tickSize, resolvesAt: m.resolvesAt, outcome: m.outcome });
    }
  }

  /** Concurrent callers that all miss share one venue listing. */
  private refreshFromVenue(): Promise<void> {
    this.refreshed ??= (async () => {
      try {
        const listed = await this.venue.listMarkets();
        for (const m of listed) {
          await upsertMarket(this.db, m, { venueId: this.venueId });
          this.cache.set(m.marketId, m);
        }
      } finally {
        this.refreshed = null;
      }
    })();
    return this.refreshed;
  }
}

export interface RecordedAccount {
  positions: PositionView[];
  ledger: Ledger;
  /** The trading day's realized P&L (gross of fees) and fees, from position history. */
  dayRealized: Money;
  dayFees: Money;
  /** Unrealized P&L the trading day opened with (recorded once, `openTradingDay`): the daily loss is measured from it. */
  openingUnrealizedPnl: Money;
}

/**
 * Positions and the day's realized figures of an account, as a core Ledger, with the day's opening
 * unrealized P&L (recorded now if neither the daily reset nor a snapshot has recorded it yet).
 */
export async function loadAccount(db: Db, account: string, tradingDay: string, now: number): Promise<RecordedAccount> {
  const [positions, days] = await Promise.all([listPositions(db, { account }), listDailyPnl(db, { account, from: tradingDay, to: tradingDay })]);
  const day = days[0];
  const openingUnrealizedPnl =
    day !== undefined && day.openedAt !== null ? day.openingUnrealizedPnl : (await openTradingDay(db, { account, tradingDay, at: now })).openingUnrealizedPnl;
  const dayRealized = (day?.realizedPnl ?? 0) as Money;
  const dayFees = (day?.fees ?? 0) as Money;
  const ledger: Ledger = {
    positions: Object.fromEntries(
      positions.map((p) => [p.marketId, { marketId: p.marketId, quantity: p.quantity, costBasis: p.costBasis, realizedPnl: p.realizedPnl, fees: p.fees }]),
    ),
    appliedTradeIds: {},
    previousTradeIds: {},
    dailyRealizedPnl: dayRealized,
    dailyFees: dayFees,
  };
  return { positions, ledger, dayRealized, dayFees, openingUnrealizedPnl };
}

/** Stored marks of the recorded positions, overridden by fresh quotes where given. */
export function marksOf(positions: readonly PositionView[], fresh: readonly Pick<MarketSnapshot, 'marketId' | 'bid' | 'ask' | 'last'>[] = []): Record<string, Price | null> {
  const marks: Record<string, Price | null> = {};
  for (const p of positions) marks[p.marketId] = p.mark;
  for (const s of fresh) marks[s.marketId] = markPrice(s);
  return marks;
}
