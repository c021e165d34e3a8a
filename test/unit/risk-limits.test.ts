import { describe, expect, it } from 'vitest';
import { ErrorType, InvalidInput } from '../../domain/errors';
import { CASE_STUDY_LIMITS, RISK_LIMIT_FIELDS, parseRiskLimits } from '../../domain/risk-limits';

/** The case-study limits as they would appear in a config file. */
const caseStudyConfig = {
  maxOrderSize: 50,
  maxPositionSize: 100,
  maxPositionValue: '500.00',
  maxDailyLoss: '200.00',
  maxPortfolioExposure: 2000,
  maxCategoryExposure: '800',
  maxPriceDeviation: 0.1,
  maxVolumeFraction: '0.03',
  maxSpread: '0.02',
  fatFingerNotional: 25,
  maxOpenPositions: 5,
  maxOrdersPerMinute: '10',
  maxQuoteAgeMs: 90_000,
};

function problemsOf(input: unknown): { field: string; problem: string }[] {
  try {
    parseRiskLimits(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    expect((e as InvalidInput).type).toBe(ErrorType.InvalidRiskLimits);
    return (e as InvalidInput).problems.map((p) => ({ field: p.field, problem: p.problem }));
  }
  throw new Error('expected parseRiskLimits to throw');
}

describe('risk limits', () => {
  it('the case-study defaults carry the figures of the case study, in micros', () => {
    expect(CASE_STUDY_LIMITS.maxPositionSize).toBe(100);
    expect(CASE_STUDY_LIMITS.maxPositionValue).toBe(500_000_000);
    expect(CASE_STUDY_LIMITS.maxOrderSize).toBe(50);
    expect(CASE_STUDY_LIMITS.maxDailyLoss).toBe(200_000_000);
    expect(CASE_STUDY_LIMITS.maxOpenPositions).toBe(5);
    expect(CASE_STUDY_LIMITS.maxPortfolioExposure).toBe(2_000_000_000);
    expect(CASE_STUDY_LIMITS.maxCategoryExposure).toBe(800_000_000);
    expect(CASE_STUDY_LIMITS.maxPriceDeviation).toBe(100_000);
    expect(CASE_STUDY_LIMITS.maxVolumeFraction).toBe(0.03);
    expect(CASE_STUDY_LIMITS.maxSpread).toBe(20_000); // 2 cents: lets the case study's own 0.42/0.44 trade through
    expect(Object.isFrozen(CASE_STUDY_LIMITS)).toBe(true);
  });

  it('parses a config-style object with decimal strings and exact numbers', () => {
    expect(parseRiskLimits(caseStudyConfig)).toEqual(CASE_STUDY_LIMITS);
  });

  it('the defaults pass their own validation', () => {
    expect(parseRiskLimits({ ...CASE_STUDY_LIMITS, maxPositionValue: '500', maxDailyLoss: '200', maxPortfolioExposure: '2000', maxCategoryExposure: '800', fatFingerNotional: '25', maxPriceDeviation: '0.1', maxSpread: '0.02' })).toEqual(CASE_STUDY_LIMITS);
  });

  it('reads money exactly, without binary-float drift', () => {
    const limits = parseRiskLimits({ ...caseStudyConfig, maxDailyLoss: '199.999999', maxPositionValue: 0.3 });
    expect(limits.maxDailyLoss).toBe(199_999_999);
    expect(limits.maxPositionValue).toBe(300_000);
  });

  it('reports every bad field at once, naming the field and the value', () => {
    const problems = problemsOf({
      ...caseStudyConfig,
      maxOrderSize: 2.5,
      maxDailyLoss: 'two hundred',
      maxPortfolioExposure: -1,
      maxVolumeFraction: 1.5,
      maxSpread: '0.0000001',
      maxQuoteAgeMs: null,
      maxOpenPositions: undefined,
    });
    expect(problems.map((p) => p.field).sort()).toEqual(
      ['maxDailyLoss', 'maxOpenPositions', 'maxOrderSize', 'maxPortfolioExposure', 'maxQuoteAgeMs', 'maxSpread', 'maxVolumeFraction'].sort(),
    );
    try {
      parseRiskLimits({ ...caseStudyConfig, maxDailyLoss: 'two hundred' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('maxDailyLoss');
      expect((e as Error).message).toContain('"two hundred"');
    }
  });

  it('applies no default: a missing field is an error', () => {
    for (const field of RISK_LIMIT_FIELDS) {
      const input: Record<string, unknown> = { ...caseStudyConfig };
      delete input[field];
      expect(problemsOf(input)).toEqual([{ field, problem: 'is required' }]);
    }
  });

  it('refuses wrong types rather than coercing them', () => {
    const problems = problemsOf({ ...caseStudyConfig, maxOrderSize: true, maxPositionValue: [500], maxPriceDeviation: {} });
    expect(problems.map((p) => p.field).sort()).toEqual(['maxOrderSize', 'maxPositionValue', 'maxPriceDeviation']);
  });

  it('refuses a zero limit, an unknown key and a non-object', () => {
    expect(problemsOf({ ...caseStudyConfig, maxDailyLoss: '0' })).toEqual([{ field: 'maxDailyLoss', problem: 'must be greater than zero' }]);
    expect(problemsOf({ ...caseStudyConfig, maxDailyLos: '100' })).toEqual([{ field: 'maxDailyLos', problem: 'is not a known risk limit' }]);
    expect(problemsOf(null)[0]?.field).toBe('riskLimits');
    expect(problemsOf([caseStudyConfig])[0]?.field).toBe('riskLimits');
  });

  it('checks limits against each other', () => {
    const problems = problemsOf({ ...caseStudyConfig, maxOrderSize: 150, maxCategoryExposure: '2500', maxPositionValue: '3000' });
    expect(problems.map((p) => p.field).sort()).toEqual(['maxCategoryExposure', 'maxOrderSize', 'maxPositionValue']);
    expect(problems.find((p) => p.field === 'maxOrderSize')?.problem).toContain('maxPositionSize');
  });

  it('an order size equal to the position size is consistent', () => {
    expect(parseRiskLimits({ ...caseStudyConfig, maxOrderSize: 100 }).maxOrderSize).toBe(100);
  });
});
