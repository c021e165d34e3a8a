import { describe, expect, it } from 'vitest';
import { InvalidInput, UnknownMarket } from '../../domain/errors';
import type { Fill } from '../../domain/fill';
import {
  accountEquity,
  applyFill,
  applyFillInPlace,
  applyFillToPosition,
  averageEntryPrice,
  emptyLedger,
  emptyPosition,
  hasApplied,
  marksFromSnapshots,
  netCashFlow,
  portfolioSummary,
  positionsNetCashFlow,
  positionExposure,
  positionOf,
  positionTotalPnl,
  pruneTradeIds,
  quantityOf,
  rememberedTradeIdCount,
  settleMarket,
  settlePosition,
  startTradingDay,
  unrealizedPnl,
  type Ledger,
  type Position,
  type PositionFill,
} from '../../domain/ledger';
import type { Side } from '../../domain/market';
import { px, usd, type Money, type Price, type Quantity } from '../../domain/money';

const pf = (side: Side, quantity: number, price: number, fee = 0): PositionFill => ({
  side,
  quantity: quantity as Quantity,
  price: px(price),
  fee: usd(fee),
});

function run(fills: PositionFill[], marketId = 'M1'): Position {
  return fills.reduce((p, f) => applyFillToPosition(p, f), emptyPosition(marketId));
}

let seq = 0;
function fill(marketId: string, side: Side, quantity: number, price: number, fee = 0, tradeId = `T${++seq}`): Fill {
  return { tradeId, clientOrderId: 'mr-20260101-000001', marketId, side, quantity: quantity as Quantity, price: px(price), fee: usd(fee), ts: 1_700_000_000_000 };
}

function applyAll(ledger: Ledger, fills: Fill[]): Ledger {
  return fills.reduce((l, f) => applyFill(l, f).ledger, ledger);
}

function expectInvalid(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as InvalidInput).problems.map((p) => p.field)).toContain(field);
    return;
  }
  throw new Error(`expected InvalidInput on ${field}`);
}

describe('case-study figures (Day 1 and Day 2)', () => {
  it('bought 15 at 0.43, marked at 0.44: unrealized +0.15', () => {
    const p = run([pf('BUY', 15, 0.43)]);
    expect(p.quantity).toBe(15);
    expect(p.costBasis).toBe(usd(6.45));
    expect(averageEntryPrice(p)).toBe(px(0.43));
    expect(unrealizedPnl(p, px(0.44))).toBe(usd(0.15));
  });

  it('sold the 15 at 0.455: realized +0.375 and flat', () => {
    const p = run([pf('BUY', 15, 0.43), pf('SELL', 15, 0.455)]);
    expect(p.realizedPnl).toBe(usd(0.375));
    expect(p.quantity).toBe(0);
    expect(p.costBasis).toBe(0);
    expect(averageEntryPrice(p)).toBeNull();
    expect(unrealizedPnl(p, px(0.5))).toBe(0);
  });

  it('the same figures through the ledger, with daily counters', () => {
    let ledger = applyAll(emptyLedger(), [fill('FED-RATE', 'BUY', 15, 0.43)]);
    expect(portfolioSummary(ledger, { 'FED-RATE': px(0.44) }, { 'FED-RATE': { category: 'economics' } }).unrealizedPnl).toBe(usd(0.15));
    ledger = startTradingDay(ledger);
    ledger = applyAll(ledger, [fill('FED-RATE', 'SELL', 15, 0.455)]);
    expect(ledger.dailyRealizedPnl).toBe(usd(0.375));
    expect(positionOf(ledger, 'FED-RATE')?.realizedPnl).toBe(usd(0.375));
  });
});

describe('long positions', () => {
  it('adding averages the entry', () => {
    const p = run([pf('BUY', 10, 0.4), pf('BUY', 30, 0.5)]);
    expect(p.quantity).toBe(40);
    expect(p.costBasis).toBe(usd(19));
    expect(averageEntryPrice(p)).toBe(px(0.475));
    expect(unrealizedPnl(p, px(0.5))).toBe(usd(1));
  });

  it('reducing realizes (exit - entry) * q and keeps the rest at the same average', () => {
    const p = run([pf('BUY', 10, 0.4), pf('BUY', 30, 0.5), pf('SELL', 10, 0.6)]);
    expect(p.realizedPnl).toBe(usd(1.25));
    expect(p.quantity).toBe(30);
    expect(p.costBasis).toBe(usd(14.25));
    expect(averageEntryPrice(p)).toBe(px(0.475));
  });

  it('rounds each partial close but closes exactly on the last contract', () => {
    // Cost 0.32 for 3 contracts: the average 0.10666... is not a whole micro.
    const p1 = run([pf('BUY', 1, 0.1), pf('BUY', 2, 0.11)]);
    expect(averageEntryPrice(p1)).toBe(px(0.106667));
    const p2 = applyFillToPosition(p1, pf('SELL', 1, 0.2));
    expect(p2.realizedPnl).toBe(usd(0.093333));
    expect(p2.costBasis).toBe(usd(0.213333));
    const p3 = applyFillToPosition(p2, pf('SELL', 2, 0.2));
    expect(p3.costBasis).toBe(0);
    expect(p3.realizedPnl).toBe(usd(0.28)); // 0.60 received - 0.32 paid, to the micro
  });

  it('selling through zero realizes on the long and opens a short at the fill price', () => {
    const p = run([pf('BUY', 100, 0.4), pf('SELL', 150, 0.5)]);
    expect(p.realizedPnl).toBe(usd(10));
    expect(p.quantity).toBe(-50);
    expect(p.costBasis).toBe(usd(-25));
    expect(averageEntryPrice(p)).toBe(px(0.5));
    expect(unrealizedPnl(p, px(0.45))).toBe(usd(2.5));
  });

  it('a losing long has negative unrealized P&L', () => {
    expect(unrealizedPnl(run([pf('BUY', 20, 0.6)]), px(0.55))).toBe(usd(-1));
  });
});

describe('short positions', () => {
  it('opening a short keeps a negative cost basis and a positive average', () => {
    const p = run([pf('SELL', 20, 0.6)]);
    expect(p.quantity).toBe(-20);
    expect(p.costBasis).toBe(usd(-12));
    expect(averageEntryPrice(p)).toBe(px(0.6));
    expect(unrealizedPnl(p, px(0.5))).toBe(usd(2)); // (entry - current) * |q|
    expect(unrealizedPnl(p, px(0.7))).toBe(usd(-2));
  });

  it('adding to a short averages the entry', () => {
    const p = run([pf('SELL', 20, 0.6), pf('SELL', 20, 0.4)]);
    expect(p.quantity).toBe(-40);
    expect(averageEntryPrice(p)).toBe(px(0.5));
  });

  it('buying to cover realizes (entry - exit) * q', () => {
    const p = run([pf('SELL', 20, 0.6), pf('BUY', 5, 0.5)]);
    expect(p.realizedPnl).toBe(usd(0.5));
    expect(p.quantity).toBe(-15);
    expect(p.costBasis).toBe(usd(-9));
  });

  it('buying through zero closes the short and opens a long at the fill price', () => {
    const p = run([pf('SELL', 20, 0.6), pf('BUY', 5, 0.5), pf('BUY', 25, 0.7)]);
    expect(p.realizedPnl).toBe(usd(-1)); // +0.50 on 5, -1.50 on 15
    expect(p.quantity).toBe(10);
    expect(p.costBasis).toBe(usd(7));
  });

  it('covering exactly leaves it flat with no cost basis', () => {
    const p = run([pf('SELL', 7, 0.33), pf('BUY', 7, 0.21)]);
    expect(p).toEqual({ marketId: 'M1', quantity: 0, costBasis: 0, realizedPnl: usd(0.84), fees: 0 });
  });
});

describe('fees', () => {
  it('accumulate beside the gross realized P&L and come off the total', () => {
    const p = run([pf('BUY', 15, 0.43, 0.07), pf('SELL', 10, 0.455, 0.05)]);
    expect(p.fees).toBe(usd(0.12));
    expect(p.realizedPnl).toBe(usd(0.25));
    expect(unrealizedPnl(p, px(0.44))).toBe(usd(0.05));
    expect(positionTotalPnl(p, px(0.44))).toBe(usd(0.18));
  });

  it('daily fees and realized P&L are counted on the ledger and reset by startTradingDay only', () => {
    let ledger = applyAll(emptyLedger(), [fill('A', 'BUY', 10, 0.3, 0.02), fill('A', 'SELL', 4, 0.4, 0.01)]);
    expect(ledger.dailyFees).toBe(usd(0.03));
    expect(ledger.dailyRealizedPnl).toBe(usd(0.4));
    const next = startTradingDay(ledger);
    expect(next.dailyFees).toBe(0);
    expect(next.dailyRealizedPnl).toBe(0);
    expect(next.positions).toBe(ledger.positions);
    expect(next.appliedTradeIds).toBe(ledger.appliedTradeIds);
    ledger = applyAll(next, [fill('A', 'SELL', 6, 0.2, 0.01)]);
    expect(ledger.dailyRealizedPnl).toBe(usd(-0.6));
    expect(ledger.dailyFees).toBe(usd(0.01));
    expect(positionOf(ledger, 'A')?.realizedPnl).toBe(usd(-0.2));
  });
});

describe('resolution', () => {
  const long = run([pf('BUY', 10, 0.3)]);
  const short = run([pf('SELL', 10, 0.3)]);

  it('a long resolving YES earns (1 - entry) * q; NO loses entry * q', () => {
    expect(settlePosition(long, 'YES')).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: usd(7) });
    expect(settlePosition(long, 'NO')).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: usd(-3) });
  });

  it('a short resolving YES loses (1 - entry) * q; NO earns entry * q', () => {
    expect(settlePosition(short, 'YES')).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: usd(-7) });
    expect(settlePosition(short, 'NO')).toMatchObject({ quantity: 0, costBasis: 0, realizedPnl: usd(3) });
  });

  it('keeps realized P&L and fees from before', () => {
    const p = run([pf('BUY', 20, 0.3, 0.04), pf('SELL', 10, 0.5)]);
    expect(settlePosition(p, 'YES')).toEqual({ marketId: 'M1', quantity: 0, costBasis: 0, realizedPnl: usd(9), fees: usd(0.04) });
  });

  it('settleMarket counts resolution P&L in the daily figure', () => {
    const ledger = startTradingDay(applyAll(emptyLedger(), [fill('ELECTION', 'BUY', 10, 0.3), fill('OTHER', 'BUY', 1, 0.5)]));
    const settled = settleMarket(ledger, 'ELECTION', 'NO');
    expect(settled.dailyRealizedPnl).toBe(usd(-3));
    expect(quantityOf(settled, 'ELECTION')).toBe(0);
    expect(settled.positions.OTHER).toBe(ledger.positions.OTHER);
    expect(quantityOf(ledger, 'ELECTION')).toBe(10);
  });

  it('settling a flat market changes nothing; an unknown market is an UnknownMarket error', () => {
    const ledger = applyAll(emptyLedger(), [fill('X', 'BUY', 1, 0.5), fill('X', 'SELL', 1, 0.5)]);
    expect(settleMarket(ledger, 'X', 'YES')).toBe(ledger);
    expect(() => settleMarket(ledger, 'NOPE', 'YES')).toThrow(UnknownMarket);
    expect(() => settleMarket(ledger, 'constructor', 'YES')).toThrow(UnknownMarket);
    expectInvalid(() => settleMarket(ledger, 'X', 'MAYBE' as 'YES'), 'outcome');
  });
});

describe('bad input', () => {
  const p = emptyPosition('M1');
  const good = pf('BUY', 1, 0.5);

  it('names the field and the value', () => {
    expectInvalid(() => applyFillToPosition(p, { ...good, quantity: NaN as Quantity }), 'quantity');
    expectInvalid(() => applyFillToPosition(p, { ...good, quantity: -3 as Quantity }), 'quantity');
    expectInvalid(() => applyFillToPosition(p, { ...good, quantity: 0 as Quantity }), 'quantity');
    expectInvalid(() => applyFillToPosition(p, { ...good, quantity: 1.505 as Quantity }), 'quantity');
    expectInvalid(() => applyFillToPosition(p, { ...good, price: 0 as Price }), 'price');
    expectInvalid(() => applyFillToPosition(p, { ...good, price: 1_000_000 as Price }), 'price');
    expectInvalid(() => applyFillToPosition(p, { ...good, price: 0.5 as Price }), 'price');
    expectInvalid(() => applyFillToPosition(p, { ...good, fee: -1 as Money }), 'fee');
    expectInvalid(() => applyFillToPosition(p, { ...good, side: 'HOLD' as Side }), 'side');
    expectInvalid(() => unrealizedPnl(run([good]), NaN as Price), 'mark');
    expectInvalid(() => emptyPosition(''), 'marketId');
  });

  it('reports every bad field at once', () => {
    try {
      applyFillToPosition(p, { side: 'X' as Side, quantity: -1 as Quantity, price: 2_000_000 as Price, fee: 0.1 as Money });
      throw new Error('no error');
    } catch (e) {
      expect((e as InvalidInput).problems.map((x) => x.field)).toEqual(['side', 'quantity', 'price', 'fee']);
      expect((e as InvalidInput).message).toContain('got -1');
    }
  });

  it('a bad fill leaves the ledger untouched and is not remembered', () => {
    const ledger = emptyLedger();
    expectInvalid(() => applyFill(ledger, { ...fill('A', 'BUY', 1, 0.5), quantity: -1 as Quantity }), 'quantity');
    expect(ledger).toEqual(emptyLedger());
  });
});

describe('idempotence by trade ID', () => {
  it('a second application of the same trade changes nothing', () => {
    const f = fill('A', 'BUY', 5, 0.4, 0.01, 'trade-1');
    const first = applyFill(emptyLedger(), f);
    expect(first.applied).toBe(true);
    const second = applyFill(first.ledger, f);
    expect(second.applied).toBe(false);
    expect(second.ledger).toBe(first.ledger);
    expect(quantityOf(second.ledger, 'A')).toBe(5);
  });

  it('does not mutate the ledger it was given', () => {
    const base = applyAll(emptyLedger(), [fill('A', 'BUY', 5, 0.4)]);
    const snapshot = structuredClone(base);
    applyFill(base, fill('A', 'SELL', 2, 0.5));
    applyFill(base, fill('B', 'BUY', 2, 0.5));
    expect(base).toEqual(snapshot);
  });

  it('trade IDs that are Object.prototype names are ordinary IDs', () => {
    const a = applyFill(emptyLedger(), fill('constructor', 'BUY', 1, 0.5, 0, 'constructor'));
    expect(a.applied).toBe(true);
    expect(quantityOf(a.ledger, 'constructor')).toBe(1);
    expect(applyFill(a.ledger, fill('toString', 'BUY', 1, 0.5, 0, 'toString')).applied).toBe(true);
    expect(quantityOf(emptyLedger(), 'toString')).toBe(0);
  });

  it('pruning keeps one previous window of trade IDs, then forgets them', () => {
    const f = fill('A', 'BUY', 1, 0.5, 0, 'old-trade');
    const once = applyFill(emptyLedger(), f).ledger;
    const pruned = pruneTradeIds(once);
    expect(hasApplied(pruned, 'old-trade')).toBe(true);
    expect(applyFill(pruned, f).applied).toBe(false);
    expect(rememberedTradeIdCount(pruned)).toBe(1);
    const twice = pruneTradeIds(pruned);
    expect(hasApplied(twice, 'old-trade')).toBe(false);
    expect(rememberedTradeIdCount(twice)).toBe(0);
    expect(twice.positions).toBe(once.positions);
  });

  it('applyFillInPlace gives the same ledger as applyFill', () => {
    const fills = [fill('A', 'BUY', 5, 0.4, 0.01), fill('B', 'SELL', 3, 0.7), fill('A', 'SELL', 8, 0.45, 0.02)];
    const pure = applyAll(emptyLedger(), [...fills, fills[0]!]);
    const owned = emptyLedger();
    expect([...fills, fills[0]!].map((f) => applyFillInPlace(owned, f))).toEqual([true, true, true, false]);
    expect(owned).toEqual(pure);
  });

  it('survives a JSON round trip', () => {
    const ledger = applyAll(emptyLedger(), [fill('A', 'BUY', 5, 0.4, 0.01), fill('B', 'SELL', 3, 0.7)]);
    const copy = JSON.parse(JSON.stringify(ledger)) as Ledger;
    expect(copy).toEqual(ledger);
    expect(applyFill(copy, fill('A', 'SELL', 5, 0.5)).ledger.positions.A?.realizedPnl).toBe(usd(0.5));
  });
});

describe('portfolio', () => {
  const markets = { A: { category: 'politics' }, B: { category: 'politics' }, C: { category: 'economics' }, D: { category: 'sports' } };
  const ledger = applyAll(emptyLedger(), [
    fill('A', 'BUY', 100, 0.4, 0.1), // long 100, marked 0.5
    fill('B', 'SELL', 50, 0.6, 0.05), // short 50, marked 0.7
    fill('C', 'BUY', 20, 0.25), // long 20, no mark: exposure at cost
    fill('D', 'BUY', 10, 0.3), // closed for +0.20
    fill('D', 'SELL', 10, 0.32, 0.01),
  ]);
  const marks = { A: px(0.5), B: px(0.7), C: null, D: px(0.9) };

  it('sums exposure, P&L and fees', () => {
    const s = portfolioSummary(ledger, marks, markets);
    expect(s).toEqual({
      openPositions: 3,
      // B, short 50 at 0.70, can lose 50 × (1 − 0.70) = 15 (issue 14: a short's worst case).
      exposure: usd(50 + 15 + 5),
      exposureByCategory: { politics: usd(65), economics: usd(5) },
      realizedPnl: usd(0.2),
      unrealizedPnl: usd(10 - 5),
      fees: usd(0.16),
      totalPnl: usd(0.2 + 5 - 0.16),
      largestPosition: { marketId: 'A', exposure: usd(50) },
      dailyRealizedPnl: usd(0.2),
      dailyFees: usd(0.16),
    });
    expect(s.totalPnl).toBe(s.realizedPnl + s.unrealizedPnl - s.fees);
  });

  it('equity is cash plus each open position at its mark (a short negative), at cost without a mark', () => {
    const cash = usd(1000);
    const positions = Object.values(ledger.positions);
    // A long 100 at 0.50, B short 50 at 0.70, C long 20 at its cost 0.25 (no mark), D flat.
    expect(accountEquity(cash, positions, marks)).toBe(usd(1000 + 50 - 35 + 5));
    // The same figure as cash + cost of what is held + the portfolio's unrealized P&L.
    const heldCost = positions.reduce((sum, p) => sum + p.costBasis, 0);
    expect(accountEquity(cash, positions, marks)).toBe(cash + heldCost + portfolioSummary(ledger, marks, markets).unrealizedPnl);
    // From a start of zero cash, equity is the total P&L (the backtester's equity): the cash trading moved plus the positions at their marks.
    expect(accountEquity(netCashFlow(ledger), positions, marks)).toBe(portfolioSummary(ledger, marks, markets).totalPnl);
    expect(positionsNetCashFlow(positions)).toBe(netCashFlow(ledger));
    expect(accountEquity(cash, [], {})).toBe(cash);
  });

  it('a market missing from marks has no mark; missing from markets is UnknownMarket', () => {
    const s = portfolioSummary(ledger, { A: px(0.5) }, markets);
    expect(s.unrealizedPnl).toBe(usd(10));
    // B without a mark, at entry: sold 50 at 0.60, can lose 50 × 0.40 = 20.
    expect(s.exposure).toBe(usd(50 + 20 + 5));
    expect(() => portfolioSummary(ledger, marks, { A: markets.A, B: markets.B })).toThrow(UnknownMarket);
    expectInvalid(() => portfolioSummary(ledger, { A: 5_000_000 as Price }, markets), 'marks.A');
  });

  it('an empty ledger sums to zero with no largest position', () => {
    expect(portfolioSummary(emptyLedger(), {}, {})).toEqual({
      openPositions: 0,
      exposure: 0,
      exposureByCategory: {},
      realizedPnl: 0,
      unrealizedPnl: 0,
      fees: 0,
      totalPnl: 0,
      largestPosition: null,
      dailyRealizedPnl: 0,
      dailyFees: 0,
    });
  });

  it('exposure of a flat position is zero', () => {
    expect(positionExposure(positionOf(ledger, 'D')!, px(0.9))).toBe(0);
  });

  it('net cash flow is sells - buys - fees', () => {
    expect(netCashFlow(ledger)).toBe(usd(-40 - 0.1 + 30 - 0.05 - 5 - 3 + 3.2 - 0.01));
  });

  it('marks come from snapshots: mid, else last, else none', () => {
    expect(
      marksFromSnapshots([
        { marketId: 'A', bid: px(0.42), ask: px(0.44), last: px(0.5) },
        { marketId: 'B', bid: null, ask: px(0.44), last: px(0.41) },
        { marketId: 'C', bid: null, ask: null, last: null },
      ]),
    ).toEqual({ A: px(0.43), B: px(0.41), C: null });
  });
});
