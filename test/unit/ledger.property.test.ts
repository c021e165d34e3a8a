import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fill } from '../../domain/fill';
import {
  applyFill,
  applyFillInPlace,
  applyFillToPosition,
  emptyLedger,
  emptyPosition,
  netCashFlow,
  settlePosition,
  unrealizedPnl,
  type Ledger,
  type PositionFill,
} from '../../domain/ledger';
import type { Side } from '../../domain/market';
import type { Money, Price, Quantity } from '../../domain/money';

const side = fc.constantFrom<Side>('BUY', 'SELL');
const priceArb = fc.integer({ min: 1, max: 999_999 }).map((p) => p as Price);
// Mostly small quantities so positions cross zero often, with some large ones.
const quantityArb = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1_000_000 })).map((q) => q as Quantity);
const feeArb = fc.integer({ min: 0, max: 50_000 }).map((f) => f as Money);
const positionFill = fc.record({ side, quantity: quantityArb, price: priceArb, fee: feeArb });

const signed = (f: PositionFill): number => (f.side === 'BUY' ? f.quantity : -f.quantity);
/** Gross cash: sells bring in price * q, buys pay it. */
const grossCash = (fills: PositionFill[]): number => fills.reduce((c, f) => c - signed(f) * f.price, 0);
const totalFees = (fills: PositionFill[]): number => fills.reduce((c, f) => c + f.fee, 0);

describe('position accounting over any fill sequence', () => {
  it('realized + unrealized - fees == cash flow + quantity * mark, exactly', () => {
    fc.assert(
      fc.property(fc.array(positionFill, { maxLength: 60 }), priceArb, (fills, mark) => {
        const p = fills.reduce((pos, f) => applyFillToPosition(pos, f), emptyPosition('M'));
        const lhs = p.realizedPnl + unrealizedPnl(p, mark) - p.fees;
        const rhs = grossCash(fills) - totalFees(fills) + p.quantity * mark;
        expect(lhs).toBe(rhs);
        expect(Number.isSafeInteger(p.costBasis)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('holds after every step, and quantity is the sum of signed fills', () => {
    fc.assert(
      fc.property(fc.array(positionFill, { maxLength: 40 }), (fills) => {
        let p = emptyPosition('M');
        for (let i = 0; i < fills.length; i++) {
          p = applyFillToPosition(p, fills[i]!);
          const done = fills.slice(0, i + 1);
          expect(p.quantity).toBe(done.reduce((q, f) => q + signed(f), 0));
          expect(p.realizedPnl - p.costBasis).toBe(grossCash(done));
          expect(p.fees).toBe(totalFees(done));
          if (p.quantity === 0) expect(p.costBasis).toBe(0);
          // The cost basis keeps the position's sign and stays within price bounds per contract.
          if (p.quantity !== 0) {
            expect(Math.sign(p.costBasis)).toBe(Math.sign(p.quantity));
            expect(Math.abs(p.costBasis)).toBeLessThan(Math.abs(p.quantity) * 1_000_000);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with no mark, unrealized is zero', () => {
    fc.assert(
      fc.property(fc.array(positionFill, { maxLength: 20 }), (fills) => {
        const p = fills.reduce((pos, f) => applyFillToPosition(pos, f), emptyPosition('M'));
        expect(unrealizedPnl(p, null)).toBe(0);
      }),
    );
  });

  it('resolution pays 1 or 0 per contract held: realized - fees == cash flow + payout', () => {
    fc.assert(
      fc.property(fc.array(positionFill, { maxLength: 30 }), fc.constantFrom<'YES' | 'NO'>('YES', 'NO'), (fills, outcome) => {
        const p = fills.reduce((pos, f) => applyFillToPosition(pos, f), emptyPosition('M'));
        const s = settlePosition(p, outcome);
        expect(s.quantity).toBe(0);
        expect(s.costBasis).toBe(0);
        expect(s.realizedPnl - s.fees).toBe(grossCash(fills) - totalFees(fills) + (outcome === 'YES' ? p.quantity * 1_000_000 : 0));
      }),
    );
  });
});

// Trade IDs include Object.prototype names and integer-like strings on purpose.
const tradeIdArb = fc.oneof(fc.constantFrom('constructor', 'toString', 'hasOwnProperty', '42', '7'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,12}$/));
const marketIdArb = fc.constantFrom('A', 'B', 'constructor', 'valueOf');

const distinctFills = fc
  .uniqueArray(fc.record({ tradeId: tradeIdArb, marketId: marketIdArb, f: positionFill }), { selector: (x) => x.tradeId, minLength: 1, maxLength: 25 })
  .map((xs) =>
    xs.map((x): Fill => ({ tradeId: x.tradeId, clientOrderId: 'c-1', marketId: x.marketId, side: x.f.side, quantity: x.f.quantity, price: x.f.price, fee: x.f.fee, ts: 0 })),
  );

/** The distinct fills in order, each then repeated at random later points. */
const withDuplicates = distinctFills.chain((fills) =>
  fc.array(fc.nat({ max: fills.length - 1 }), { maxLength: 30 }).chain((repeats) =>
    fc.array(fc.nat(), { minLength: repeats.length, maxLength: repeats.length }).map((positions) => {
      const seq = [...fills];
      repeats.forEach((idx, k) => {
        const first = seq.indexOf(fills[idx]!);
        const at = first + 1 + ((positions[k] ?? 0) % (seq.length - first));
        seq.splice(at, 0, { ...fills[idx]! });
      });
      return { fills, seq };
    }),
  ),
);

const applyAll = (ledger: Ledger, fills: Fill[]): Ledger => fills.reduce((l, f) => applyFill(l, f).ledger, ledger);

describe('ledger idempotence', () => {
  it('a sequence with repeated trade IDs equals the distinct fills applied once', () => {
    fc.assert(
      fc.property(withDuplicates, ({ fills, seq }) => {
        const once = applyAll(emptyLedger(), fills);
        let ledger = emptyLedger();
        let applied = 0;
        for (const f of seq) {
          const r = applyFill(ledger, f);
          if (r.applied) applied += 1;
          else expect(r.ledger).toBe(ledger);
          ledger = r.ledger;
        }
        expect(applied).toBe(fills.length);
        expect(ledger).toEqual(once);
        expect(Object.keys(ledger.appliedTradeIds).sort()).toEqual(fills.map((f) => f.tradeId).sort());
      }),
      { numRuns: 300 },
    );
  });

  it('the in-place variant agrees, and the ledger cash flow matches the fills', () => {
    fc.assert(
      fc.property(withDuplicates, ({ fills, seq }) => {
        const owned = emptyLedger();
        for (const f of seq) applyFillInPlace(owned, f);
        expect(owned).toEqual(applyAll(emptyLedger(), fills));
        expect(netCashFlow(owned)).toBe(grossCash(fills) - totalFees(fills));
        expect(owned.dailyFees).toBe(totalFees(fills));
        const realized = Object.values(owned.positions).reduce((s, p) => s + p.realizedPnl, 0);
        expect(owned.dailyRealizedPnl).toBe(realized);
      }),
      { numRuns: 200 },
    );
  });
});
