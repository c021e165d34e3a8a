import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import {
  MICROS,
  formatDecimal,
  isOnTick,
  microsFromNumber,
  mulDiv,
  notional,
  parseMicros,
  parsePrice,
  px,
  quantity,
  roundToTick,
  toNumericString,
  usd,
} from '../../domain/money';

describe('money: exact fixed-point', () => {
  it('parses decimal strings exactly into micros', () => {
    expect(parseMicros('0.43', 'p')).toBe(430_000);
    expect(parseMicros('-12.000001', 'x')).toBe(-12_000_001);
    expect(parseMicros('200', 'x')).toBe(200 * MICROS);
    expect(parseMicros('-0', 'x')).toBe(0);
  });

  it('refuses more than six decimals, junk and overflow, naming the field and value', () => {
    expect(() => parseMicros('0.0000001', 'limitPrice')).toThrow(/limitPrice.*0\.0000001/);
    expect(() => parseMicros('1e3', 'cash')).toThrow(InvalidInput);
    expect(() => parseMicros('', 'cash')).toThrow(/cash/);
    expect(() => parseMicros('9999999999999999', 'cash')).toThrow(/cash/);
    expect(() => parseMicros(12 as unknown as string, 'cash')).toThrow(/cash: must be a decimal string/);
  });

  it('round-trips every micros value through its decimal string', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), (m) => {
        expect(parseMicros(toNumericString(m), 'm')).toBe(m);
        expect(parseMicros(formatDecimal(m), 'm')).toBe(m);
      }),
    );
  });

  it('formats with trimmed zeros down to the minimum decimals', () => {
    expect(formatDecimal(430_000)).toBe('0.43');
    expect(formatDecimal(433_333)).toBe('0.433333');
    expect(formatDecimal(-150_000)).toBe('-0.15');
    expect(formatDecimal(5 * MICROS, 0)).toBe('5');
    expect(toNumericString(1)).toBe('0.000001');
  });

  it('accepts number literals only when exact at six decimals', () => {
    expect(usd(0.15)).toBe(150_000);
    expect(px(0.455)).toBe(455_000);
    expect(() => microsFromNumber(0.1234567, 'slippage')).toThrow(/slippage/);
    expect(() => microsFromNumber(Number.NaN, 'slippage')).toThrow(/finite/);
    expect(() => px(1)).toThrow(/inside \(0, 1\)/);
    expect(() => px(0)).toThrow(InvalidInput);
    expect(() => parsePrice('1.5')).toThrow(/price/);
  });

  it('quantities are whole, non-negative contracts', () => {
    expect(quantity(15)).toBe(15);
    expect(() => quantity(1.5)).toThrow(/whole/);
    expect(() => quantity(-1)).toThrow(InvalidInput);
  });

  it('notional is exact: 15 contracts at 0.43 cost 6.45', () => {
    expect(formatDecimal(notional(px(0.43), 15))).toBe('6.45');
  });

  it('mulDiv rounds half away from zero and is exact beyond 2^53 intermediates', () => {
    expect(mulDiv(10, 1, 3)).toBe(3);
    expect(mulDiv(5, 1, 2)).toBe(3);
    expect(mulDiv(-5, 1, 2)).toBe(-3);
    expect(mulDiv(-4, 1, 3)).toBe(-1);
    expect(mulDiv(9_000_000_000_000, 1_000, 3_000)).toBe(3_000_000_000_000);
    expect(() => mulDiv(1, 1, 0)).toThrow(/division by zero/);
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e6 }), (a, b, c) => {
        const exact = (BigInt(a) * BigInt(b) * 2n + BigInt(c) * (a < 0 ? -1n : 1n)) / (2n * BigInt(c));
        if (exact > BigInt(Number.MAX_SAFE_INTEGER) || exact < -BigInt(Number.MAX_SAFE_INTEGER)) expect(() => mulDiv(a, b, c)).toThrow(/safe integer/);
        else expect(mulDiv(a, b, c)).toBe(Number(exact));
      }),
    );
  });

  it('rounds to the tick grid in each direction', () => {
    expect(isOnTick(430_000, 10_000)).toBe(true);
    expect(isOnTick(435_000, 10_000)).toBe(false);
    expect(roundToTick(435_000, 10_000, 'down')).toBe(430_000);
    expect(roundToTick(431_000, 10_000, 'up')).toBe(440_000);
    expect(roundToTick(435_000, 10_000, 'nearest')).toBe(440_000);
    expect(roundToTick(434_999, 10_000, 'nearest')).toBe(430_000);
  });
});
