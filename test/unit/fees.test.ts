/**
 * Kalshi's fee rounding (domain/fees.ts) against the worked examples of
 * https://docs.kalshi.com/getting_started/fee_rounding, and the order-level rule as a property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BALANCE_PRECISION, kalshiFillFee, kalshiOrderFees, kalshiTradeFee, KALSHI_MAKER_RATE_PPM, KALSHI_TAKER_RATE_PPM, type KalshiFillInput } from '../../domain/fees';
import { CASE_STUDY_FILL_MODEL, KALSHI_FILL_MODEL, simulateFill, validateFillModelParams } from '../../domain/fill-model';
import type { Money, Price } from '../../domain/money';

const $ = (dollars: string): number => Math.round(Number(dollars) * 1_000_000);

/** Each example: three fills of one buy order, with the trade fee the page gives, and its table. */
const EXAMPLES = [
  {
    name: 'subpenny price: 3 × 1 contract at $0.055',
    fill: { side: 'BUY', quantity: 1, price: 55_000, tradeFee: $('0.0085') },
    rows: [
      ['0.0085', '0.0065', '0.0065', '0', '0.0150', '-0.07'],
      ['0.0085', '0.0065', '0.0030', '0.01', '0.0050', '-0.07'],
      ['0.0085', '0.0065', '0.0095', '0', '0.0150', '-0.07'],
    ],
  },
  {
    name: 'fractional count: 3 × 0.30 contracts at $0.50',
    fill: { side: 'BUY', quantity: 0.3, price: 500_000, tradeFee: $('0.0041') },
    rows: [
      ['0.0041', '0.0059', '0.0059', '0', '0.0100', '-0.16'],
      ['0.0041', '0.0059', '0.0018', '0.01', '0.0000', '-0.16'],
      ['0.0041', '0.0059', '0.0077', '0', '0.0100', '-0.16'],
    ],
  },
  {
    name: 'both: 3 × 0.03 contracts at $0.3301',
    fill: { side: 'BUY', quantity: 0.03, price: 330_100, tradeFee: $('0.0005') },
    rows: [
      ['0.0005', '0.009597', '0.009597', '0', '0.010097', '-0.02'],
      ['0.0005', '0.009597', '0.009194', '0.01', '0.000097', '-0.02'],
      ['0.0005', '0.009597', '0.008791', '0.01', '0.000097', '-0.02'],
    ],
  },
] as const;

describe('Kalshi fee rounding, the documentation’s worked examples', () => {
  for (const ex of EXAMPLES) {
    it(ex.name, () => {
      const fill = { ...ex.fill, price: ex.fill.price as Price, tradeFee: ex.fill.tradeFee as Money } as KalshiFillInput;
      const { fills, totalFee } = kalshiOrderFees([fill, fill, fill]);
      // The page's accumulator column shows the value before a rebate is taken off; ours is after it.
      expect(fills.map((f) => [f.tradeFee, f.roundingFee, f.accumulator, f.rebate, f.netFee, f.balanceChange])).toEqual(ex.rows.map((r) => r.map($)));
      expect(totalFee).toBe(ex.rows.reduce((s, r) => s + $(r[4]), 0));
    });
  }

  it('the combined example’s trade fee is the schedule’s: 0.07 × 0.03 × 0.3301 × 0.6699 rounded up to $0.0005', () => {
    expect(kalshiTradeFee(KALSHI_TAKER_RATE_PPM, 0.03, 330_100 as Price)).toBe($('0.0005'));
  });

  it('rounds the schedule up to the centicent per fill', () => {
    const cases: [number, number, number, string][] = [
      [KALSHI_TAKER_RATE_PPM, 1, 500_000, '0.0175'],
      [KALSHI_TAKER_RATE_PPM, 100, 500_000, '1.75'],
      [KALSHI_TAKER_RATE_PPM, 1, 55_000, '0.0037'], // 0.00363825
      [KALSHI_TAKER_RATE_PPM, 100, 50_000, '0.3325'],
      [KALSHI_MAKER_RATE_PPM, 100, 500_000, '0.4375'],
      [KALSHI_MAKER_RATE_PPM, 1, 10_000, '0.0002'], // 0.000173...
      [KALSHI_TAKER_RATE_PPM, 0.3, 500_000, '0.0053'], // 0.00525
    ];
    for (const [rate, qty, price, fee] of cases) expect(kalshiTradeFee(rate, qty, price as Price)).toBe($(fee));
  });

  it('a direct member’s balance precision ($0.0001) leaves no rounding on centicent prices', () => {
    const f = kalshiFillFee({ side: 'BUY', quantity: 1, price: 55_000 as Price, tradeFee: $('0.0085') as Money }, 0 as Money, BALANCE_PRECISION.CENTICENT);
    expect(f).toMatchObject({ roundingFee: 0, netFee: $('0.0085'), balanceChange: -$('0.0635') });
  });

  it('a seller’s revenue is positive and floors down too', () => {
    const f = kalshiFillFee({ side: 'SELL', quantity: 1, price: 55_000 as Price, tradeFee: $('0.0037') as Money }, 0 as Money);
    expect(f).toMatchObject({ balanceChange: $('0.05'), roundingFee: $('0.0013'), netFee: $('0.005') });
  });

  it('refuses bad input naming the field', () => {
    expect(() => kalshiTradeFee(KALSHI_TAKER_RATE_PPM, 1.234, 500_000 as Price)).toThrow(/quantity/);
    expect(() => kalshiTradeFee(KALSHI_TAKER_RATE_PPM, 1, 1_000_000 as Price)).toThrow(/price/);
    expect(() => kalshiFillFee({ side: 'BUY', quantity: 1, price: 500_000 as Price }, -1 as Money)).toThrow(/accumulator/);
  });
});

describe('the order-level rounding', () => {
  const price = fc.oneof(fc.integer({ min: 1, max: 9_999 }).map((c) => c * 100), fc.integer({ min: 1, max: 99 }).map((c) => c * 10_000));
  const fillArb = fc.record({ side: fc.constantFrom('BUY' as const, 'SELL' as const), lots: fc.integer({ min: 1, max: 50_000 }), price, maker: fc.boolean() });

  it('an order’s fee is its fills’ centicent trade fees plus the documented rounding, and its cash is cent-aligned', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 12 }), (raw) => {
        const fills: KalshiFillInput[] = raw.map((f) => ({ side: f.side, quantity: f.lots / 100, price: f.price as Price, ratePpm: f.maker ? KALSHI_MAKER_RATE_PPM : KALSHI_TAKER_RATE_PPM }));
        const { fills: fees, totalFee } = kalshiOrderFees(fills);
        const tradeFees = fills.map((f) => kalshiTradeFee(f.ratePpm!, f.quantity, f.price));
        const revenue = fills.reduce((s, f) => s + (f.side === 'BUY' ? -1 : 1) * f.price * Math.round(f.quantity * 100), 0) / 100;
        const sumTrade = tradeFees.reduce((s, x) => s + x, 0);
        const left = fees[fees.length - 1]!.accumulator;
        // Per fill: the trade fee is the schedule's, rounded up to the centicent; the rounding is under a cent.
        fees.forEach((f, i) => {
          expect(f.tradeFee).toBe(tradeFees[i]);
          expect(f.tradeFee % 100).toBe(0);
          expect(f.roundingFee).toBeGreaterThanOrEqual(0);
          expect(f.roundingFee).toBeLessThan(10_000);
          expect((f.balanceChange + f.rebate) % 10_000 === 0).toBe(true);
        });
        // Per order: sum of trade fees plus what the accumulator keeps, which is at most a cent ...
        expect(totalFee).toBe(sumTrade + left);
        expect(left).toBeGreaterThanOrEqual(0);
        expect(left).toBeLessThanOrEqual(10_000);
        // ... so the order's cash is the single-fill rounding of its total: floored to the cent,
        // a cent lower only when the accumulator stopped at exactly one cent.
        const cash = revenue - totalFee;
        expect(cash % 10_000 === 0).toBe(true);
        const floored = Math.floor((revenue - sumTrade) / 10_000) * 10_000;
        expect(cash).toBe(left === 10_000 ? floored - 10_000 : floored);
      }),
    );
  });
});

describe('the paper fill model’s Kalshi preset', () => {
  const rng = (values: number[]) => ({ next: () => values.shift() ?? 0.5 });

  it('charges Kalshi’s net fee and hands back the order’s accumulator; the default model is unchanged', () => {
    expect(validateFillModelParams(KALSHI_FILL_MODEL)).toBe(KALSHI_FILL_MODEL);
    expect(CASE_STUDY_FILL_MODEL.feeCoefficientPpm).toBe(0);
    expect(CASE_STUDY_FILL_MODEL.feeSchedule).toBeUndefined();
    const quote = { bid: 540_000 as Price, ask: 550_000 as Price, intervalVolume: 1_000 as never };
    const params = { ...KALSHI_FILL_MODEL, slippageStd: 0, partialFillProbability: 0 };
    const fill = simulateFill({ side: 'BUY', limitPrice: null, remaining: 3 as never }, quote, params, 10_000, rng([0.1, 0.5, 0.5]))!;
    const expected = kalshiFillFee({ side: 'BUY', quantity: 3, price: fill.price, ratePpm: KALSHI_TAKER_RATE_PPM }, 0 as Money);
    expect(fill).toMatchObject({ quantity: 3, fee: expected.netFee, feeAccumulator: expected.accumulator });
    expect(() => validateFillModelParams({ ...KALSHI_FILL_MODEL, feeSchedule: 'NYSE' as never })).toThrow(/feeSchedule/);
  });
});
