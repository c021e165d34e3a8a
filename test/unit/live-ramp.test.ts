/**
 * The LIVE capital ramp's pure rules (domain/stages.ts): the steps, the capital of a step, the
 * limits a step allows, when a step moves (only on a justified LIVE stage report), and the
 * go/no-go rows that show the step and check the venue's balance against it.
 */
import { describe, expect, it } from 'vitest';
import { MICROS, type Money } from '../../domain/money';
import { CASE_STUDY_LIMITS, parseRiskLimits } from '../../domain/risk-limits';
import { riskLimitsAsConfig } from '../../activities/preflight';
import {
  compareStages,
  decideRamp,
  DEFAULT_RAMP_STEPS,
  evaluateGoNoGo,
  formatGoNoGo,
  limitsAtStep,
  parseRampSteps,
  steppedCapital,
  type GoNoGoInput,
  type RunStats,
} from '../../domain/stages';

const usd = (n: number): Money => Math.round(n * MICROS) as Money;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);

const SHADOW: RunStats = { stage: 'SHADOW', days: 7, totalTrades: 40, winRate: 0.55, totalPnl: usd(100), maxDrawdown: usd(40), fillRate: 0.92, averageSlippage: usd(0.004), systemErrors: 0, signalAlignment: 0.97 };
const GOOD_LIVE: RunStats = { stage: 'LIVE', days: 30, totalTrades: 42, winRate: 0.54, totalPnl: usd(105), maxDrawdown: usd(42), fillRate: 0.9, averageSlippage: usd(0.005), systemErrors: 0 };

describe('ramp steps', () => {
  it('parses whole percentages, increasing, ending at 100', () => {
    expect(DEFAULT_RAMP_STEPS).toEqual([25, 50, 100]);
    expect(parseRampSteps('25,50,100')).toEqual([25, 50, 100]);
    expect(parseRampSteps([100])).toEqual([100]);
    for (const bad of ['', '25,25,100', '25,50,90', '0,50,100', '2.5,100', [25, 50.5, 100], 'all']) expect(() => parseRampSteps(bad)).toThrow(/LIVE_RAMP_STEPS.*strictly increasing, ending at 100/);
  });

  it('gives a step its share of the cap, rounded down to the micro', () => {
    expect(steppedCapital(usd(2000), 25)).toBe(usd(500));
    expect(steppedCapital(99 as Money, 50)).toBe(49);
    expect(steppedCapital(usd(1_000_000_000), 100)).toBe(usd(1_000_000_000));
  });

  it('scales the limits that depend on capital, keeps those that guard against mistakes, and stays valid', () => {
    const l = limitsAtStep(CASE_STUDY_LIMITS, 25);
    expect(l).toMatchObject({ maxPortfolioExposure: usd(500), maxCategoryExposure: usd(200), maxPositionValue: usd(125), maxDailyLoss: usd(50), maxPositionSize: 25, maxOrderSize: 12 });
    expect(l).toMatchObject({ fatFingerNotional: CASE_STUDY_LIMITS.fatFingerNotional, maxSpread: CASE_STUDY_LIMITS.maxSpread, maxPriceDeviation: CASE_STUDY_LIMITS.maxPriceDeviation, maxOrdersPerMinute: 10 });
    expect(limitsAtStep(CASE_STUDY_LIMITS, 1).maxOrderSize).toBe(1);
    expect(limitsAtStep(CASE_STUDY_LIMITS, 100)).toEqual(CASE_STUDY_LIMITS);
    expect(() => parseRiskLimits(riskLimitsAsConfig(l))).not.toThrow();
  });
});

describe('ramp decisions', () => {
  const steps = DEFAULT_RAMP_STEPS;

  it('begins at the first step on the first LIVE start, to be recorded', () => {
    const d = decideRamp({ steps, recorded: null, report: null, now: T0 });
    expect(d).toMatchObject({ step: { percent: 25, since: T0 }, position: 1, next: 50, previous: null, toRecord: { percent: 25, since: T0 } });
  });

  it('moves up one step only when the LIVE criteria over the step are justified', () => {
    const recorded = { percent: 25, since: T0 };
    const passed = compareStages(GOOD_LIVE, SHADOW);
    expect(passed.justified).toBe(true);
    const up = decideRamp({ steps, recorded, report: passed, now: T0 + 30 * DAY });
    expect(up).toMatchObject({ step: { percent: 50, since: T0 + 30 * DAY }, position: 2, next: 100, toRecord: { percent: 50 } });
    expect(up.reasons).toEqual(['every LIVE criterion passed over the 25% step: moved up to 50%']);

    // Each failing criterion keeps the step, and says why.
    for (const [bad, criterion] of [
      [{ ...GOOD_LIVE, days: 20 }, 'DURATION'],
      [{ ...GOOD_LIVE, totalPnl: usd(80) }, 'PNL_WITHIN_TOLERANCE'],
      [{ ...GOOD_LIVE, fillRate: 0.7 }, 'FILL_RATE'],
      [{ ...GOOD_LIVE, systemErrors: 1 }, 'NO_SYSTEM_ERRORS'],
    ] as const) {
      const stay = decideRamp({ steps, recorded, report: compareStages(bad, SHADOW), now: T0 + 30 * DAY });
      expect(stay).toMatchObject({ step: recorded, toRecord: null, next: 50 });
      expect(stay.reasons.join('\n')).toMatch(new RegExp(`^${criterion} failed`, 'm'));
    }
    // Not measured (no baseline) is not a pass either.
    const unmeasured = decideRamp({ steps, recorded, report: compareStages(GOOD_LIVE, null), now: T0 + 30 * DAY });
    expect(unmeasured.toRecord).toBeNull();
    expect(unmeasured.reasons.join('\n')).toMatch(/PREDECESSOR not measured/);
    expect(decideRamp({ steps, recorded, report: null, now: T0 }).toRecord).toBeNull();
  });

  it('stays at the last step, and keeps a recorded step that the list no longer names', () => {
    const last = decideRamp({ steps, recorded: { percent: 100, since: T0 }, report: compareStages(GOOD_LIVE, SHADOW), now: T0 + 40 * DAY });
    expect(last).toMatchObject({ step: { percent: 100 }, next: null, toRecord: null, position: 3 });
    const odd = decideRamp({ steps, recorded: { percent: 30, since: T0 }, report: compareStages(GOOD_LIVE, SHADOW), now: T0 + 40 * DAY });
    expect(odd).toMatchObject({ step: { percent: 50 }, previous: { percent: 30 }, toRecord: { percent: 50 } });
    expect(decideRamp({ steps, recorded: { percent: 30, since: T0 }, report: null, now: T0 })).toMatchObject({ step: { percent: 30 }, position: 0, next: 50 });
  });
});

describe('the go/no-go shows the step and checks the balance against it', () => {
  const passing = [{ name: 'VENUE_REACHABLE', ok: true, detail: 'kalshi answered' }];
  const ramp = decideRamp({ steps: DEFAULT_RAMP_STEPS, recorded: { percent: 25, since: T0 }, report: compareStages(GOOD_LIVE, SHADOW), now: T0 + 30 * DAY });
  const live: GoNoGoInput = { stage: 'LIVE', confirmed: true, capitalCap: usd(2000), maxPortfolioExposure: usd(2000), preflight: passing, alertSinks: ['email'], ramp, balance: usd(1000) };

  it('is GO when the balance covers the step (a balance above the cap is fine)', () => {
    const g = evaluateGoNoGo(live);
    expect(g.go).toBe(true);
    const text = formatGoNoGo(g);
    expect(text).toMatch(/CAPITAL_RAMP_STEP\s+PASS\s+step 2 of 3: 50% of the cap \$2000.00 = \$1000.00 \(up from 25%\), since 2026-02-04 00:00 UTC; next 100% when the LIVE criteria pass over this step/);
    expect(text).toMatch(/VENUE_BALANCE\s+PASS\s+balance \$1000.00 covers the session's capital \$1000.00/);
    expect(evaluateGoNoGo({ ...live, balance: usd(50_000) }).go).toBe(true);
  });

  it('is NO-GO when the balance is below the step, or could not be read, or no step was decided', () => {
    expect(evaluateGoNoGo({ ...live, balance: usd(999.99) }).refusals).toEqual([
      "VENUE_BALANCE: balance $999.99 is below the session's capital $1000.00 (50% of LIVE_CAPITAL_CAP $2000.00): fund the account or lower LIVE_CAPITAL_CAP",
    ]);
    expect(evaluateGoNoGo({ ...live, balance: null, balanceProblem: 'AUTH: 401 unauthorized' }).refusals).toEqual(['VENUE_BALANCE: the venue balance could not be read: AUTH: 401 unauthorized']);
    expect(evaluateGoNoGo({ ...live, ramp: null }).refusals.map((r) => r.split(':')[0])).toEqual(['CAPITAL_RAMP_STEP', 'VENUE_BALANCE']);
  });

  it('asks nothing of the ramp or the balance outside LIVE', () => {
    const paper = evaluateGoNoGo({ ...live, stage: 'PAPER', ramp: null, balance: null });
    expect(paper.go).toBe(true);
    expect(paper.rows.map((r) => r.check)).not.toContain('VENUE_BALANCE');
  });
});
