import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInput, UnknownMarket } from '../../domain/errors';
import {
  clientOrderIdFromWorkflowId,
  makeClientOrderId,
  orderWorkflowId,
  parseSessionWorkflowId,
  sessionWorkflowId,
  tradingDayOf,
  validateTradingDay,
} from '../../domain/ids';
import { markPrice, parseSide, requireMarket, spread, validateMarket, type Market } from '../../domain/market';
import { px } from '../../domain/money';
import { validateFill, type Fill } from '../../domain/fill';

describe('identifiers', () => {
  it('client order IDs are deterministic and round-trip through workflow IDs', () => {
    const id = makeClientOrderId('ema-mr', '2026-11-21', 7);
    expect(id).toBe('ema-mr-20261121-000007');
    expect(makeClientOrderId('ema-mr', '2026-11-21', 7)).toBe(id);
    expect(clientOrderIdFromWorkflowId(orderWorkflowId(id))).toBe(id);
  });

  it('session workflow IDs have an inverse, even when the strategy holds dashes', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (strategy, d) => {
        const day = d.toISOString().slice(0, 10);
        expect(parseSessionWorkflowId(sessionWorkflowId(strategy, day))).toEqual({ strategy, tradingDay: day });
      }),
    );
  });

  it('rejects bad keys, days and workflow IDs with the field and value', () => {
    expect(() => makeClientOrderId('bad strategy', '2026-11-21', 1)).toThrow(/strategy.*"bad strategy"/);
    expect(() => validateTradingDay('2026-02-30')).toThrow(/not a calendar date/);
    expect(() => validateTradingDay('21/11/2026')).toThrow(InvalidInput);
    expect(() => makeClientOrderId('s', '2026-11-21', 0)).toThrow(/sequence/);
    expect(() => clientOrderIdFromWorkflowId('session-x-2026-11-21')).toThrow(/workflowId/);
    expect(() => orderWorkflowId('has space')).toThrow(/clientOrderId/);
  });

  it('trading day of an instant is its UTC date', () => {
    expect(tradingDayOf(Date.UTC(2026, 10, 21, 23, 59, 59))).toBe('2026-11-21');
  });
});

describe('markets', () => {
  const market: Market = { marketId: 'PRES-2028', category: 'politics', tickSize: 10_000, resolvesAt: null, outcome: null };

  it('marks at mid, else last, else nothing', () => {
    expect(markPrice({ bid: px(0.42), ask: px(0.44), last: px(0.5) })).toBe(430_000);
    expect(markPrice({ bid: px(0.42), ask: null, last: px(0.5) })).toBe(500_000);
    expect(markPrice({ bid: null, ask: null, last: null })).toBeNull();
    expect(spread({ bid: px(0.42), ask: px(0.44) })).toBe(20_000);
    expect(spread({ bid: null, ask: px(0.44) })).toBeNull();
  });

  it('validates every field of a market at once', () => {
    expect(validateMarket(market)).toBe(market);
    try {
      validateMarket({ marketId: '', category: '', tickSize: 3, resolvesAt: 1.5, outcome: 'MAYBE' as never });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['marketId', 'category', 'tickSize', 'resolvesAt', 'outcome']);
    }
  });

  it('an unknown market is a typed error, a bad side too', () => {
    expect(() => requireMarket(new Map([[market.marketId, market]]), 'NOPE')).toThrow(UnknownMarket);
    expect(parseSide('SELL')).toBe('SELL');
    expect(() => parseSide('sell')).toThrow(/side/);
  });
});

describe('fills from outside', () => {
  const good: Fill = { tradeId: 't-1', clientOrderId: 'ema-20261121-000001', marketId: 'M', side: 'BUY', quantity: 5 as never, price: px(0.43), fee: 0 as never, ts: 1 };

  it('accepts a good fill and lists every bad field of a bad one', () => {
    expect(validateFill(good)).toBe(good);
    try {
      validateFill({ ...good, tradeId: '', quantity: 0 as never, price: Number.NaN as never, fee: -1 as never, side: 'HOLD' as never });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['tradeId', 'side', 'quantity', 'price', 'fee']);
    }
  });
});
