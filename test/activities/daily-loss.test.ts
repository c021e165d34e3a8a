/**
 * Issue 14, "Today's loss counts old losses again each day": the day's P&L is measured from the
 * day's opening marks (realized today + change in unrealized since the open), the opening is
 * recorded once in the records (by the daily reset, else the day's first snapshot) so a restart
 * keeps it, and the days' nets add up to the true total.
 *
 * The figures: 90 contracts bought at 0.50 on Jan 5 and marked at 0.39 are $9.90 down. Before,
 * Jan 6 counted those $9.90 again (the daily-loss breaker tripped right after the reset, and the
 * two-day total read −19.80); measured from the opening marks Jan 6 is 0.00 and the total −9.90.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { ResilientVenue } from '../../activities/venue/resilient-venue';
import type { FillPage, Venue, VenueMarketSnapshot } from '../../contracts/venue';
import { listDailyPnl, markDailyPnl, recordFill } from '../../db';
import { CASE_STUDY_BREAKERS, evaluateBreakers, initialBreakerState } from '../../domain/breakers';
import type { Market } from '../../domain/market';
import { usd, type Money, type Price, type Quantity } from '../../domain/money';
import { inActivity, makeDeps } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

const MARKET: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };
const JAN5 = '2026-01-05';
const JAN6 = '2026-01-06';
const JAN5_NOON = Date.UTC(2026, 0, 5, 12);
const JAN6_START = Date.UTC(2026, 0, 6);

/** One market at a mid the test sets, $1,000 of cash, no fills. */
class MarkVenue implements Partial<Venue> {
  readonly name = 'marks';
  mid = 500_000;
  async getMarketSnapshot(marketId: string): Promise<VenueMarketSnapshot> {
    return { marketId, ts: Date.now(), bid: (this.mid - 10_000) as Price, ask: (this.mid + 10_000) as Price, last: this.mid as Price, averageDailyVolume: 100_000 as Quantity, intervalVolume: 0 as Quantity, bids: [], asks: [], volume24h: 0 as Quantity };
  }
  async listMarkets(): Promise<Market[]> {
    return [MARKET];
  }
  async getFillsSince(cursor: string | null): Promise<FillPage> {
    return { fills: [], cursor: cursor ?? 'c-0', hasMore: false };
  }
  async getBalance() {
    return { cash: usd(1_000), ts: Date.now() };
  }
}

forEachBackend("today's loss from the day's opening marks", (backend) => {
  let now = JAN5_NOON;
  const venue = new MarkVenue();
  const activities = () => createActivities(makeDeps({ db: backend.db, venue: new ResilientVenue(venue as unknown as Venue, null), clock: () => now }));
  const breakers = { ...CASE_STUDY_BREAKERS, maxDailyLoss: usd(5) };
  const trips = (dailyPnl: Money) => evaluateBreakers(initialBreakerState(), { equity: usd(1_000), dailyPnl, ordersInWindow: 0, errorsInWindow: 0, requestsInWindow: 0 }, breakers, now).tripped.map((t) => t.kind);

  afterEach(() => {
    now = JAN5_NOON;
    venue.mid = 500_000;
  });

  async function boughtOnJan5(): Promise<void> {
    await recordFill(backend.db, { tradeId: 't-1', clientOrderId: 'mr-20260105-000001', marketId: MARKET.marketId, side: 'BUY', quantity: 90 as Quantity, price: 500_000 as Price, fee: 0 as Money, ts: JAN5_NOON - 60_000 });
  }

  it('a position carried across midnight does not trip the daily-loss breaker by itself after the reset, nor after a restart', async () => {
    await boughtOnJan5();
    venue.mid = 390_000;
    const jan5 = await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN5, syncFills: false }));
    // Bought today: all of the fall is today's loss, and it trips the $5 limit.
    expect(jan5.metrics.dailyPnl).toBe(usd(-9.9));
    expect(trips(jan5.metrics.dailyPnl)).toEqual(['DAILY_LOSS']);

    now = JAN6_START + 5_000;
    await inActivity(() => activities().resetDailyCounters({ tradingDay: null }));
    const jan6 = await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN6, syncFills: false }));
    expect(jan6.unrealizedPnl).toBe(usd(-9.9));
    expect(jan6.metrics.dailyPnl).toBe(usd(0));
    expect(trips(jan6.metrics.dailyPnl)).toEqual([]);

    // A restarted worker reads the opening the reset recorded, and a later mark does not move it.
    now += 3_600_000;
    const again = await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN6, syncFills: false }));
    expect(again.metrics.dailyPnl).toBe(usd(0));
    const [day] = await listDailyPnl(backend.db, { from: JAN6, to: JAN6 });
    expect(day).toMatchObject({ openingUnrealizedPnl: usd(-9.9), openedAt: JAN6_START + 5_000 });

    // Today's own fall still counts, and trips.
    venue.mid = 320_000;
    const fell = await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN6, syncFills: false }));
    expect(fell.metrics.dailyPnl).toBe(usd(-6.3));
    expect(trips(fell.metrics.dailyPnl)).toEqual(['DAILY_LOSS']);
  });

  it('without a reset, the first snapshot of the day records the opening from the positions held when the day began', async () => {
    await boughtOnJan5();
    venue.mid = 390_000;
    await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN5, syncFills: false }));
    now = JAN6_START + 3_600_000;
    // A fill of Jan 6 before the first snapshot is not part of the opening: its loss is today's.
    await recordFill(backend.db, { tradeId: 't-2', clientOrderId: 'mr-20260106-000001', marketId: MARKET.marketId, side: 'BUY', quantity: 10 as Quantity, price: 400_000 as Price, fee: 0 as Money, ts: now - 60_000 });
    const snap = await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN6, syncFills: false }));
    expect(snap.metrics.dailyPnl).toBe(usd(-0.1));
  });

  it('the days add up: per-day change in unrealized, a two-day total of −9.90, not −19.80', async () => {
    await boughtOnJan5();
    venue.mid = 390_000;
    await inActivity(() => activities().sessionSnapshot({ strategy: 'mr', tradingDay: JAN5, syncFills: false }));
    await markDailyPnl(backend.db, { tradingDay: JAN5, at: JAN6_START - 1 });
    now = JAN6_START + 5_000;
    await inActivity(() => activities().resetDailyCounters({ tradingDay: null }));
    await markDailyPnl(backend.db, { tradingDay: JAN6, at: JAN6_START + 86_000_000 });
    const days = await listDailyPnl(backend.db, { from: JAN5, to: JAN6 });
    expect(days.map((d) => [d.tradingDay, d.unrealizedPnl, d.unrealizedChange, d.netPnl])).toEqual([
      [JAN6, usd(-9.9), usd(0), usd(0)],
      [JAN5, usd(-9.9), usd(-9.9), usd(-9.9)],
    ]);
    expect(days.reduce((s, d) => s + d.netPnl, 0)).toBe(usd(-9.9));
    // A range that starts on Jan 6 still measures it from Jan 5's close.
    const [jan6] = await listDailyPnl(backend.db, { from: JAN6, to: JAN6 });
    expect(jan6!.netPnl).toBe(usd(0));
  });
});

describe('days recorded before the opening was', () => {
  it('fall back on the close of the day before', async () => {
    const { dailyUnrealizedChanges } = await import('../../domain/ledger');
    expect(dailyUnrealizedChanges([
      { unrealizedPnl: -9_900_000, openingUnrealizedPnl: null },
      { unrealizedPnl: -9_900_000, openingUnrealizedPnl: null },
      { unrealizedPnl: null, openingUnrealizedPnl: null },
      { unrealizedPnl: -4_000_000, openingUnrealizedPnl: null },
    ])).toEqual([
      { openingUnrealizedPnl: 0, unrealizedChange: -9_900_000 },
      { openingUnrealizedPnl: -9_900_000, unrealizedChange: 0 },
      { openingUnrealizedPnl: -9_900_000, unrealizedChange: null },
      { openingUnrealizedPnl: -9_900_000, unrealizedChange: 5_900_000 },
    ]);
  });
});
