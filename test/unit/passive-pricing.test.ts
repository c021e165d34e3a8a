/**
 * Passive pricing as the case study means it (reference 001): paper trading placed limits
 * "1 tick inside the best bid/ask", and before going live the trader moved "to placing at the
 * best bid/ask. This should improve fill rate". So 'inside' is the less aggressive place, one
 * tick behind the touch, and 'touch' must fill more often under the paper fill model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMarketsCsv, parseQuotesCsv } from '../../cli/quotes-csv';
import { ORDER_TTL_MS, runBacktest } from '../../domain/backtest';
import { CASE_STUDY_FILL_MODEL } from '../../domain/fill-model';
import type { MarketSnapshot } from '../../domain/market';
import type { Price } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { passivePrice, type Strategy } from '../../domain/strategy';
import { EMA_CASE_STUDY_PARAMS, emaMeanReversion } from '../../domain/strategies/ema-mean-reversion';

const TICK = 10_000;
const quote = (bidCents: number, askCents: number): MarketSnapshot => ({
  marketId: 'M',
  ts: 0,
  bid: (bidCents * TICK) as Price,
  ask: (askCents * TICK) as Price,
  last: null,
  intervalVolume: 100,
  averageDailyVolume: 10_000,
}) as MarketSnapshot;

describe("passive pricing, the case study's meaning", () => {
  it("'inside' rests one tick behind the touch: a buy under the bid, a sell over the ask", () => {
    expect(passivePrice('BUY', quote(42, 44), TICK, 'inside')).toBe(410_000);
    expect(passivePrice('SELL', quote(42, 44), TICK, 'inside')).toBe(450_000);
    expect(passivePrice('BUY', quote(42, 43), TICK, 'inside')).toBe(410_000);
    expect(passivePrice('SELL', quote(42, 43), TICK, 'inside')).toBe(440_000);
  });

  it("'touch' rests at the best bid / ask, one tick more aggressive", () => {
    expect(passivePrice('BUY', quote(42, 44), TICK, 'touch')).toBe(420_000);
    expect(passivePrice('SELL', quote(42, 44), TICK, 'touch')).toBe(440_000);
  });

  it('stays inside (0, 1) at the edges', () => {
    expect(passivePrice('BUY', quote(1, 2), TICK, 'inside')).toBe(10_000);
    expect(passivePrice('SELL', quote(98, 99), TICK, 'inside')).toBe(990_000);
  });

  it('moving from inside to the touch raises the modelled fill rate on the sample (same thresholds, same seed)', () => {
    const dir = join(import.meta.dirname, '..', '..', 'samples');
    const markets = parseMarketsCsv(readFileSync(join(dir, 'markets.csv'), 'utf8'), { file: 'markets.csv' });
    const snapshots = parseQuotesCsv(readFileSync(join(dir, 'quotes.csv'), 'utf8'), { file: 'quotes.csv' });
    const run = (pricing: 'inside' | 'touch') =>
      runBacktest(snapshots, {
        strategy: emaMeanReversion.create({ ...EMA_CASE_STUDY_PARAMS, pricing }) as Strategy<unknown>,
        markets,
        limits: CASE_STUDY_LIMITS,
        sizing: { kind: 'confidence', maxOrderSize: CASE_STUDY_LIMITS.maxOrderSize },
        fillModel: CASE_STUDY_FILL_MODEL,
        seed: 1,
        orderTtlMs: ORDER_TTL_MS,
      });
    const inside = run('inside');
    const touch = run('touch');
    const rate = (r: typeof inside) => r.ordersFilled / r.ordersPlaced;
    expect(inside.ordersPlaced).toBeGreaterThan(20);
    expect(touch.ordersPlaced).toBeGreaterThan(20);
    expect(rate(touch)).toBeGreaterThan(rate(inside));
  });
});
