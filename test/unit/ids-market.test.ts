import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInput, UnknownMarket } from '../../domain/errors';
import {
  AlertKey,
  adoptionAuditKey,
  cliReconciliationRunId,
  clientOrderIdFromWorkflowId,
  dailyResetJournalKey,
  flattenClientOrderId,
  isSessionWorkflowId,
  isStrategyClientOrderId,
  makeClientOrderId,
  orderSequencesOf,
  orderWorkflowId,
  parseCliReconciliationRunId,
  parseDailyResetJournalKey,
  parseSessionWorkflowId,
  sessionWorkflowId,
  tradingDayOf,
  validateClientOrderId,
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

  it('client order sequences round-trip for their strategy and day only, whatever the strategy holds', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/), fc.integer({ min: 1, max: 9_999_999 }), (strategy, seq) => {
        const id = makeClientOrderId(strategy, '2026-11-21', seq);
        expect(orderSequencesOf(strategy, '2026-11-21', [id])).toEqual([seq]);
        expect(orderSequencesOf(strategy, '2026-11-22', [id])).toEqual([]);
        expect(orderSequencesOf(`${strategy}x`, '2026-11-21', [id])).toEqual([]);
        expect(isStrategyClientOrderId(strategy, id)).toBe(true);
      }),
    );
    const ids = ['mr-20261121-000003', 'mr-20261121-000017', 'mr-20261120-000099', 'mrx-20261121-000050', 'mr-flat-20261121-0badc0de', 'mr-20261121-x'];
    expect(orderSequencesOf('mr', '2026-11-21', ids).sort((a, b) => a - b)).toEqual([3, 17]);
    expect(orderSequencesOf('a.b', '2026-11-21', ['a.b-20261121-000002', 'axb-20261121-000009'])).toEqual([2]);
  });

  it('flatten IDs belong to their strategy, are not order sequences, and stay valid client order IDs of at most 64 characters', () => {
    const id = flattenClientOrderId('mr', '2026-11-21', '0badc0de');
    expect(id).toBe('mr-flat-20261121-0badc0de');
    expect(isStrategyClientOrderId('mr', id)).toBe(true);
    expect(isStrategyClientOrderId('m', id)).toBe(false);
    expect(orderSequencesOf('mr', '2026-11-21', [id])).toEqual([]);
    const long = flattenClientOrderId('s'.repeat(48), '2026-11-21', '0badc0de');
    expect(long.length).toBeLessThanOrEqual(64);
    expect(validateClientOrderId(long)).toBe(long);
    expect(() => flattenClientOrderId('mr', '2026-11-21', 'Not-Hex')).toThrow(/tag/);
  });

  it('tells session workflow IDs from others', () => {
    expect(isSessionWorkflowId(sessionWorkflowId('ema-mr', '2026-11-21'))).toBe(true);
    expect(isSessionWorkflowId('session-start')).toBe(false);
    expect(isSessionWorkflowId(orderWorkflowId('ema-mr-20261121-000001'))).toBe(false);
    expect(isSessionWorkflowId(dailyResetJournalKey('paper', '2026-11-21'))).toBe(false);
  });

  it('CLI reconciliation run IDs and daily reset journal keys round-trip', () => {
    const at = Date.UTC(2026, 10, 21, 9, 30, 15, 250);
    const runId = cliReconciliationRunId(at, '0badc0de');
    expect(runId).toBe('reconciliation-cli-20261121T093015Z-0badc0de');
    expect(parseCliReconciliationRunId(runId)).toEqual({ at: at - 250, nonce: '0badc0de' });
    expect(parseCliReconciliationRunId('reconciliation-2026-11-21T09:30:00Z')).toBeNull();
    expect(() => cliReconciliationRunId(at, 'xyz')).toThrow(/nonce/);
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9:_-]{0,20}$/), fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (account, d) => {
        const day = d.toISOString().slice(0, 10);
        expect(parseDailyResetJournalKey(dailyResetJournalKey(account, day))).toEqual({ account, tradingDay: day });
      }),
    );
    expect(parseDailyResetJournalKey('cli:1234')).toBeNull();
  });

  it('dedupe and audit keys keep the formats the records already hold', () => {
    expect(AlertKey.marketSettled('paper', 'PX-1')).toBe('MARKET_SETTLED:paper:PX-1');
    expect(AlertKey.dailyReport('paper', '2026-11-21')).toBe('DAILY_REPORT:paper:2026-11-21');
    expect(AlertKey.session('TRADING_HALTED', 'ema', '2026-11-21', '3')).toBe('TRADING_HALTED:ema:2026-11-21:3');
    expect(AlertKey.reconciliationMismatch('reconciliation-1')).toBe('RECONCILIATION_MISMATCH:reconciliation-1');
    expect(AlertKey.reconciliationUnanswered('reconciliation-1', 2)).toBe('RECONCILIATION_UNANSWERED:reconciliation-1:2');
    expect(AlertKey.order('ORDER_UNRESOLVED', 'ema-20261121-000001')).toBe('ORDER_UNRESOLVED:ema-20261121-000001');
    expect(AlertKey.order('ORDER_UNRESOLVED', 'ema-20261121-000001', 'cancel')).toBe('ORDER_UNRESOLVED:ema-20261121-000001:cancel');
    expect(AlertKey.order('ORDER_WORKFLOW_FAILED', 'ema-20261121-000001')).toBe('ORDER_WORKFLOW_FAILED:ema-20261121-000001');
    expect(adoptionAuditKey('trust-2', 'PX-1')).toBe('ADOPT:trust-2:PX-1');
  });

  it("an order's alert key names its type, its order and its occasion, and no two of them share a key", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/),
        fc.integer({ min: 1, max: 9_999_999 }),
        fc.constantFrom('ORDER_UNRESOLVED', 'ORDER_WORKFLOW_FAILED', 'PARTIAL_FILL'),
        fc.constantFrom(undefined, 'cancel'),
        (strategy, seq, type, occasion) => {
          const coid = makeClientOrderId(strategy, '2026-11-21', seq);
          const [keyType, keyOrder, ...rest] = AlertKey.order(type, coid, occasion).split(':');
          expect([keyType, validateClientOrderId(keyOrder), rest]).toEqual([type, coid, occasion === undefined ? [] : [occasion]]);
        },
      ),
    );
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
