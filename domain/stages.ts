/**
 * Deployment stages (reference 004, "Deployment Pipeline"; reference 003, "Recommended
 * Progression"): backtest -> paper -> shadow -> live, each a mode of the same code with its own
 * guard, and a stage report that says whether a run justifies the next stage.
 *
 *   BACKTEST  historical data, simulated fills (the paper fill model)
 *   PAPER     live data, the paper venue
 *   SHADOW    live data, live signals recorded beside simulated fills
 *   LIVE      the real venue, under a capital cap (reference 004's "small capital" stage; raising
 *             the cap step by step is its "full production")
 *
 * Pure: figures come in as arguments (money in integer micros, ratios as floats).
 */
import { InvalidInput, type FieldProblem } from './errors';
import { simulateFill, validateFillModelParams, type FillModelParams } from './fill-model';
import { slippageMicros } from './execution-quality';
import type { Market, MarketSnapshot, Side } from './market';
import { formatDecimal, quantityFromLots, quantityLots, type Money, type Price, type Quantity } from './money';
import { seededRandom } from './random';
import type { RiskLimits } from './risk-limits';
import { sizeSignal, type SizingMethod } from './sizing';
import type { Strategy } from './strategy';

export const STAGES = ['BACKTEST', 'PAPER', 'SHADOW', 'LIVE'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageDescription {
  data: 'historical' | 'live';
  execution: string;
  /** Reference 004's shortest duration for the stage, in days. */
  minDays: number;
}

export const STAGE_DESCRIPTIONS: Readonly<Record<Stage, StageDescription>> = {
  BACKTEST: { data: 'historical', execution: 'simulated fills (paper fill model)', minDays: 7 },
  PAPER: { data: 'live', execution: 'paper venue', minDays: 14 },
  SHADOW: { data: 'live', execution: 'live signals recorded beside simulated fills', minDays: 7 },
  LIVE: { data: 'live', execution: 'real venue under a capital cap', minDays: 28 },
};

export function parseStage(value: unknown, field = 'stage'): Stage {
  const v = typeof value === 'string' ? value.trim().toUpperCase() : value;
  if (!(STAGES as readonly unknown[]).includes(v)) throw InvalidInput.of(field, value, `must be one of ${STAGES.join(', ')}`);
  return v as Stage;
}

export function nextStage(stage: Stage): Stage | null {
  return STAGES[STAGES.indexOf(stage) + 1] ?? null;
}

export function previousStage(stage: Stage): Stage | null {
  const i = STAGES.indexOf(stage);
  return i > 0 ? STAGES[i - 1]! : null;
}

// ---- go / no-go ----

export interface PreflightOutcome {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GoNoGoInput {
  stage: Stage;
  /** The explicit confirmation flag (LIVE_CONFIRM). */
  confirmed: boolean;
  capitalCap: Money | null;
  /** The risk limit on total exposure: it must fit under the capital cap. */
  maxPortfolioExposure: Money;
  /** Null when pre-flight could not run at all. */
  preflight: readonly PreflightOutcome[] | null;
  /** Where CRITICAL and HIGH alerts would reach a person: 'email' (SMTP configured), 'webhook' (ALERT_WEBHOOK_URL); empty: nowhere. */
  alertSinks: readonly AlertSink[];
  /** LIVE: the capital ramp's step for this start (decideRamp); absent or null: not decided. */
  ramp?: RampDecision | null;
  /** LIVE: the cash the venue reports; null when it could not be read. */
  balance?: Money | null;
  /** LIVE: why the balance could not be read, for the table. */
  balanceProblem?: string | null;
}

export interface GoNoGoRow {
  check: string;
  /** A required row that fails makes the whole table NO-GO. */
  required: boolean;
  ok: boolean;
  detail: string;
}

export interface GoNoGo {
  stage: Stage;
  go: boolean;
  rows: GoNoGoRow[];
  /** One sentence per failed required row, for the refusal message. */
  refusals: string[];
}

/**
 * The go/no-go table of a start in `stage`. LIVE requires the confirmation flag, a capital cap
 * at least the exposure limit, alert email, a ramp step, a venue balance covering the step's
 * capital (capitalRows), and every pre-flight check passing. PAPER and SHADOW
 * require pre-flight; BACKTEST needs nothing live. Rows that do not apply are shown as not required.
 */
/** A way an alert reaches a person. */
export type AlertSink = 'email' | 'webhook';

export function evaluateGoNoGo(input: GoNoGoInput): GoNoGo {
  const live = input.stage === 'LIVE';
  const rows: GoNoGoRow[] = [];
  rows.push({
    check: 'LIVE_CONFIRMED',
    required: live,
    ok: input.confirmed,
    detail: input.confirmed ? 'LIVE_CONFIRM=true' : 'LIVE_CONFIRM is not true: a live start must be confirmed explicitly',
  });
  const cap = input.capitalCap;
  rows.push({
    check: 'CAPITAL_CAP_SET',
    required: live,
    ok: cap !== null && cap > 0,
    detail: cap !== null && cap > 0 ? `capital cap ${formatDecimal(cap)}` : 'LIVE_CAPITAL_CAP is not set: a live start needs a cap on the capital at risk',
  });
  const fits = cap !== null && input.maxPortfolioExposure <= cap;
  rows.push({
    check: 'EXPOSURE_WITHIN_CAP',
    required: live,
    ok: fits,
    detail:
      cap === null
        ? 'no capital cap to compare the exposure limit with'
        : fits
          ? `max portfolio exposure ${formatDecimal(input.maxPortfolioExposure)} fits the cap ${formatDecimal(cap)}`
          : `max portfolio exposure ${formatDecimal(input.maxPortfolioExposure)} exceeds the capital cap ${formatDecimal(cap)}: lower riskLimits.maxPortfolioExposure or raise the cap`,
  });
  const sinks = input.alertSinks;
  rows.push({
    check: 'ALERTS_DELIVERED',
    required: live,
    ok: sinks.length > 0,
    detail: sinks.length > 0 ? `CRITICAL and HIGH alerts are sent by ${sinks.join(' and ')}` : 'neither SMTP nor ALERT_WEBHOOK_URL is configured: alerts would be recorded but reach nobody',
  });
  if (live) rows.push(...capitalRows(input));
  const needsPreflight = input.stage !== 'BACKTEST';
  if (input.preflight === null || input.preflight.length === 0) {
    rows.push({ check: 'PREFLIGHT', required: needsPreflight, ok: false, detail: 'pre-flight checks did not run' });
  } else {
    for (const c of input.preflight) rows.push({ check: `PREFLIGHT ${c.name}`, required: needsPreflight, ok: c.ok, detail: c.detail });
  }
  const failed = rows.filter((r) => r.required && !r.ok);
  return { stage: input.stage, go: failed.length === 0, rows, refusals: failed.map((r) => `${r.check}: ${r.detail}`) };
}

/** The LIVE rows about money: the ramp step in force and the venue balance behind it. */
function capitalRows(input: GoNoGoInput): GoNoGoRow[] {
  const ramp = input.ramp ?? null;
  const cap = input.capitalCap;
  const rows: GoNoGoRow[] = [];
  rows.push({ check: 'CAPITAL_RAMP_STEP', required: true, ok: ramp !== null && cap !== null, detail: ramp === null || cap === null ? 'no ramp step decided (needs LIVE_CAPITAL_CAP and the records)' : describeRamp(ramp, cap) });
  const capital = ramp !== null && cap !== null ? steppedCapital(cap, ramp.step.percent) : null;
  const balance = input.balance ?? null;
  let detail: string;
  if (balance === null) detail = `the venue balance could not be read${input.balanceProblem ? `: ${input.balanceProblem}` : ''}`;
  else if (capital === null) detail = `balance $${formatDecimal(balance)}; no step capital to compare it with`;
  else if (balance >= capital) detail = `balance $${formatDecimal(balance)} covers the session's capital $${formatDecimal(capital)}`;
  else detail = `balance $${formatDecimal(balance)} is below the session's capital $${formatDecimal(capital)} (${ramp!.step.percent}% of LIVE_CAPITAL_CAP $${formatDecimal(cap!)}): fund the account or lower LIVE_CAPITAL_CAP`;
  rows.push({ check: 'VENUE_BALANCE', required: true, ok: balance !== null && capital !== null && balance >= capital, detail });
  return rows;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The table as fixed-width text: one line per check, then the verdict. */
export function formatGoNoGo(g: GoNoGo): string {
  const width = Math.max(5, ...g.rows.map((r) => r.check.length));
  const lines = [`Go/no-go for ${g.stage}`, `${pad('CHECK', width)}  RESULT    DETAIL`];
  for (const r of g.rows) {
    const result = r.ok ? 'PASS' : r.required ? 'FAIL' : 'n/a';
    lines.push(`${pad(r.check, width)}  ${pad(result, 8)}  ${r.detail}${r.required ? '' : ' (not required)'}`);
  }
  lines.push(g.go ? `GO: ${g.stage} may start` : `NO-GO: ${g.stage} refused (${g.refusals.length} failed check${g.refusals.length === 1 ? '' : 's'})`);
  return lines.join('\n');
}

// ---- capital ramp (LIVE) ----

/** Reference 004's "small capital" then "full production": a quarter, a half, then all of the cap. */
export const DEFAULT_RAMP_STEPS: readonly number[] = Object.freeze([25, 50, 100]);

/**
 * Ramp steps as whole percentages of LIVE_CAPITAL_CAP: "25,50,100" (or an array of numbers),
 * strictly increasing, each from 1 to 100, the last exactly 100 (the ramp ends at the cap).
 */
export function parseRampSteps(value: unknown, field = 'LIVE_RAMP_STEPS'): number[] {
  const parts = typeof value === 'string' ? value.split(',').map((p) => p.trim().replace(/%$/, '')) : Array.isArray(value) ? value : null;
  const problem = 'must be whole percentages of LIVE_CAPITAL_CAP, strictly increasing, ending at 100, e.g. "25,50,100"';
  if (parts === null || parts.length === 0) throw InvalidInput.of(field, value, problem);
  const steps = parts.map((p) => (typeof p === 'string' && /^\d{1,3}$/.test(p) ? Number(p) : p));
  const ok = steps.every((p, i) => Number.isSafeInteger(p) && (p as number) >= 1 && (p as number) <= 100 && (i === 0 || (p as number) > (steps[i - 1] as number)));
  if (!ok || steps[steps.length - 1] !== 100) throw InvalidInput.of(field, value, problem);
  return steps as number[];
}

/** `percent` of the cap, rounded down to the micro (never more than the cap allows). */
export function steppedCapital(cap: Money, percent: number): Money {
  return (Math.floor(cap / 100) * percent + Math.floor(((cap % 100) * percent) / 100)) as Money;
}

/** A step of the ramp as the records hold it: which share of the cap, since when. */
export interface RampStep {
  percent: number;
  /** Epoch ms the step began (its criteria are measured from here). */
  since: number;
}

export interface RampDecision {
  steps: readonly number[];
  /** The step in force for this start. */
  step: RampStep;
  /** 1-based position of `step.percent` in `steps` (0 when the records hold a step no longer configured). */
  position: number;
  /** The step the records held before this decision; null on the first LIVE start. */
  previous: RampStep | null;
  /** The next share of the cap, or null at the last step. */
  next: number | null;
  /** A step to write to the records when the start goes (the first step, or a move up); null: unchanged. */
  toRecord: RampStep | null;
  /** Why the step moved or stayed. */
  reasons: string[];
}

/**
 * The ramp step for a LIVE start. Rules:
 * - no step recorded: the first configured step, beginning now;
 * - a step recorded: it stays in force unless `report` (the LIVE stage criteria measured over
 *   the period since the step began, compareStages) is justified, in which case the next
 *   configured step above it begins now. One step per start at most: the new step's own
 *   period starts empty, so its criteria cannot pass on the old step's figures;
 * - a recorded step that is no longer one of the configured steps stays in force (the records
 *   win over a changed list) and moves to the next configured step above it.
 * The step only ever moves up; lowering the capital is done with LIVE_CAPITAL_CAP.
 */
export function decideRamp(input: { steps: readonly number[]; recorded: RampStep | null; report: StageReport | null; now: number }): RampDecision {
  const { steps, recorded, report, now } = input;
  const positionOf = (percent: number) => steps.indexOf(percent) + 1;
  if (recorded === null) {
    const step = { percent: steps[0]!, since: now };
    return { steps, step, position: 1, previous: null, next: steps[1] ?? null, toRecord: step, reasons: [`first LIVE start: the ramp begins at ${step.percent}% of the cap`] };
  }
  const next = steps.find((p) => p > recorded.percent) ?? null;
  if (next === null) return { steps, step: recorded, position: positionOf(recorded.percent), previous: recorded, next: null, toRecord: null, reasons: ['the last step: the whole cap is in use'] };
  if (report === null) return { steps, step: recorded, position: positionOf(recorded.percent), previous: recorded, next, toRecord: null, reasons: ['the step\'s criteria were not measured'] };
  if (!report.justified) return { steps, step: recorded, position: positionOf(recorded.percent), previous: recorded, next, toRecord: null, reasons: report.reasons };
  const step = { percent: next, since: now };
  return { steps, step, position: positionOf(next), previous: recorded, next: steps.find((p) => p > next) ?? null, toRecord: step, reasons: [`every LIVE criterion passed over the ${recorded.percent}% step: moved up to ${next}%`] };
}

/** One line for the go/no-go table and the stage report: the step, its capital and why. */
export function describeRamp(r: RampDecision, cap: Money): string {
  const where = r.position > 0 ? `step ${r.position} of ${r.steps.length}` : 'a step no longer configured';
  const since = new Date(r.step.since).toISOString().slice(0, 16).replace('T', ' ');
  const moved = r.toRecord !== null && r.previous !== null ? ` (up from ${r.previous.percent}%)` : '';
  const next = r.next === null ? '' : `; next ${r.next}% when the LIVE criteria pass over this step`;
  return `${where}: ${r.step.percent}% of the cap $${formatDecimal(cap)} = $${formatDecimal(steppedCapital(cap, r.step.percent))}${moved}, since ${since} UTC${next} (${r.reasons.join('; ')})`;
}

/**
 * The risk limits a step allows. The configured limits describe the whole cap; a step of
 * `percent` scales what depends on capital by the same share: the money limits on positions,
 * exposure and the day's loss, and the contract counts of a position and an order (rounded
 * down, at least one contract). Limits that guard against mistakes rather than size (price
 * deviation, spread, quote age, order rate, the fat-finger notional) stay as they are.
 */
export function limitsAtStep(limits: RiskLimits, percent: number): RiskLimits {
  const money = (m: Money): Money => steppedCapital(m, percent);
  const count = (n: number): number => Math.max(1, Math.floor((n * percent) / 100));
  return Object.freeze({
    ...limits,
    maxPositionValue: money(limits.maxPositionValue),
    maxDailyLoss: money(limits.maxDailyLoss),
    maxPortfolioExposure: money(limits.maxPortfolioExposure),
    maxCategoryExposure: money(limits.maxCategoryExposure),
    maxPositionSize: count(limits.maxPositionSize),
    maxOrderSize: count(limits.maxOrderSize),
  });
}

// ---- stage report ----

/** The figures of one run, as the case study tabulates them (reference 001). */
export interface RunStats {
  stage: Stage;
  days: number;
  totalTrades: number;
  /** Wins / trades, in [0, 1]; null with no trades. */
  winRate: number | null;
  totalPnl: Money;
  /** Largest fall of equity from a peak, as a positive amount. */
  maxDrawdown: Money;
  /** Orders with a fill / orders placed, in [0, 1]; null with no orders. */
  fillRate: number | null;
  /** Mean slippage per contract (positive is worse); null with no fills. */
  averageSlippage: Money | null;
  /** Crashes and unhandled errors; the reference wants none. */
  systemErrors: number;
  sharpe?: number | null;
  profitFactor?: number | null;
  /** Capital behind the run, for drawdown as a share of it (backtest criterion). */
  capital?: Money | null;
  /** Shadow runs: share of live signals the replay also produced. */
  signalAlignment?: number | null;
  /** Shadow runs: the paper fill model's slippage per contract on the same decisions (averageSlippage is the observed one). */
  modelledSlippage?: Money | null;
}

export interface StageCriteria {
  /** "Matches backtest within 10%" (reference 004, paper stage). */
  pnlTolerance: number;
  winRateTolerance: number;
  drawdownTolerance: number;
  /** Reference 004 monitoring: alert if the fill rate falls under 80%. */
  minFillRate: number;
  /** Reference 003: shadow execution quality above 90%. */
  minShadowFillRate: number;
  /** Reference 003: shadow signal alignment above 95%. */
  minSignalAlignment: number;
  /** Reference 004 monitoring: alert if slippage is over 2x expected. */
  maxSlippageRatio: number;
  /** Slippage up to this much per contract passes whatever the ratio (a zero-slippage backtest). */
  slippageFloor: Money;
  /** Reference 004, backtest: Sharpe > 1, max drawdown < 15%, profit factor > 1.3. */
  minSharpe: number;
  maxDrawdownShare: number;
  minProfitFactor: number;
}

export const REFERENCE_CRITERIA: StageCriteria = Object.freeze({
  pnlTolerance: 0.1,
  winRateTolerance: 0.1,
  drawdownTolerance: 0.1,
  minFillRate: 0.8,
  minShadowFillRate: 0.9,
  minSignalAlignment: 0.95,
  maxSlippageRatio: 2,
  slippageFloor: 10_000 as Money,
  minSharpe: 1,
  maxDrawdownShare: 0.15,
  minProfitFactor: 1.3,
});

export type CriterionStatus = 'PASS' | 'FAIL' | 'NOT_MEASURED';

export interface CriterionResult {
  criterion: string;
  status: CriterionStatus;
  current: string;
  reference: string;
  detail: string;
}

export interface StageReport {
  stage: Stage;
  comparedWith: Stage | null;
  /** The stage the verdict is about; for LIVE, a larger capital cap. */
  next: string;
  criteria: CriterionResult[];
  justified: boolean;
  reasons: string[];
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const usdText = (m: number): string => `${m < 0 ? '-' : '+'}$${formatDecimal(Math.abs(m))}`;

function validateRunStats(s: RunStats, prefix: string, problems: FieldProblem[]): void {
  const bad = (field: string, value: unknown, problem: string): void => {
    problems.push({ field: `${prefix}.${field}`, value, problem });
  };
  if (typeof s !== 'object' || s === null) return bad('(run)', s, 'must be an object of run figures');
  if (!(STAGES as readonly unknown[]).includes(s.stage)) bad('stage', s.stage, `must be one of ${STAGES.join(', ')}`);
  if (typeof s.days !== 'number' || !Number.isFinite(s.days) || s.days < 0) bad('days', s.days, 'must be a non-negative number of days');
  if (!Number.isSafeInteger(s.totalTrades) || s.totalTrades < 0) bad('totalTrades', s.totalTrades, 'must be a whole number');
  for (const k of ['winRate', 'fillRate', 'signalAlignment'] as const) {
    const v = s[k];
    if (v !== null && v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) bad(k, v, 'must be a fraction from 0 to 1, or null');
  }
  if (!Number.isSafeInteger(s.totalPnl)) bad('totalPnl', s.totalPnl, 'must be integer micros');
  if (!Number.isSafeInteger(s.maxDrawdown) || s.maxDrawdown < 0) bad('maxDrawdown', s.maxDrawdown, 'must be non-negative integer micros');
  if (s.averageSlippage !== null && !Number.isSafeInteger(s.averageSlippage)) bad('averageSlippage', s.averageSlippage, 'must be integer micros or null');
  if (s.modelledSlippage !== undefined && s.modelledSlippage !== null && !Number.isSafeInteger(s.modelledSlippage)) bad('modelledSlippage', s.modelledSlippage, 'must be integer micros or null');
  if (!Number.isSafeInteger(s.systemErrors) || s.systemErrors < 0) bad('systemErrors', s.systemErrors, 'must be a whole number');
}

function criterion(criterion: string, status: CriterionStatus, current: string, reference: string, detail: string): CriterionResult {
  return { criterion, status, current, reference, detail };
}

function minDays(s: RunStats): CriterionResult {
  const need = STAGE_DESCRIPTIONS[s.stage].minDays;
  return criterion('DURATION', s.days >= need ? 'PASS' : 'FAIL', `${s.days} days`, `>= ${need} days`, `reference 004: a ${s.stage} run lasts at least ${need} days`);
}

function noErrors(s: RunStats): CriterionResult {
  return criterion('NO_SYSTEM_ERRORS', s.systemErrors === 0 ? 'PASS' : 'FAIL', String(s.systemErrors), '0', 'reference 004: no system errors');
}

/** |current - previous| / |previous| within the tolerance, both ways ("matches within 10%"). */
function pnlMatches(cur: RunStats, prev: RunStats, c: StageCriteria): CriterionResult {
  const ref = `${usdText(prev.totalPnl)} within ${pct(c.pnlTolerance)}`;
  if (prev.totalPnl === 0) {
    return criterion('PNL_WITHIN_TOLERANCE', 'NOT_MEASURED', usdText(cur.totalPnl), ref, `the ${prev.stage} P&L is zero: no relative difference`);
  }
  const diff = (cur.totalPnl - prev.totalPnl) / Math.abs(prev.totalPnl);
  const ok = Math.abs(diff) <= c.pnlTolerance;
  return criterion(
    'PNL_WITHIN_TOLERANCE',
    ok ? 'PASS' : 'FAIL',
    usdText(cur.totalPnl),
    ref,
    `${cur.stage} P&L is ${pct(Math.abs(diff))} ${diff < 0 ? 'below' : 'above'} ${prev.stage} (allowed ${pct(c.pnlTolerance)})`,
  );
}

function pnlPositive(cur: RunStats): CriterionResult {
  return criterion('PNL_POSITIVE', cur.totalPnl > 0 ? 'PASS' : 'FAIL', usdText(cur.totalPnl), '> $0', 'reference 001 go/no-go: the run made money');
}

/** Win rate no more than the tolerance (relative) below the predecessor's. */
function winRateHolds(cur: RunStats, prev: RunStats, c: StageCriteria): CriterionResult {
  const ref = prev.winRate === null ? 'n/a' : `>= ${pct(prev.winRate * (1 - c.winRateTolerance))}`;
  if (cur.winRate === null || prev.winRate === null || prev.winRate === 0) {
    return criterion('WIN_RATE', 'NOT_MEASURED', cur.winRate === null ? 'n/a' : pct(cur.winRate), ref, 'a win rate is missing');
  }
  const drop = (prev.winRate - cur.winRate) / prev.winRate;
  const ok = drop <= c.winRateTolerance;
  return criterion('WIN_RATE', ok ? 'PASS' : 'FAIL', pct(cur.winRate), ref, `${pct(cur.winRate)} vs ${pct(prev.winRate)} in ${prev.stage} (${drop > 0 ? `${pct(drop)} lower` : 'not lower'}, allowed ${pct(c.winRateTolerance)})`);
}

/** Drawdown no more than the tolerance (relative) above the predecessor's. */
function drawdownHolds(cur: RunStats, prev: RunStats, c: StageCriteria): CriterionResult {
  const limit = Math.floor(prev.maxDrawdown * (1 + c.drawdownTolerance));
  const ok = cur.maxDrawdown <= limit;
  const rise = prev.maxDrawdown === 0 ? null : (cur.maxDrawdown - prev.maxDrawdown) / prev.maxDrawdown;
  return criterion(
    'MAX_DRAWDOWN',
    ok ? 'PASS' : 'FAIL',
    `$${formatDecimal(cur.maxDrawdown)}`,
    `<= $${formatDecimal(limit)}`,
    `$${formatDecimal(cur.maxDrawdown)} vs $${formatDecimal(prev.maxDrawdown)} in ${prev.stage}${rise === null ? '' : rise > 0 ? ` (${pct(rise)} deeper, allowed ${pct(c.drawdownTolerance)})` : ' (not deeper)'}`,
  );
}

function fillRateAtLeast(cur: RunStats, min: number, source: string): CriterionResult {
  if (cur.fillRate === null) return criterion('FILL_RATE', 'NOT_MEASURED', 'n/a', `>= ${pct(min)}`, 'no orders were placed');
  return criterion('FILL_RATE', cur.fillRate >= min ? 'PASS' : 'FAIL', pct(cur.fillRate), `>= ${pct(min)}`, `${source}: fill rate at least ${pct(min)}`);
}

/** Slippage at most `maxSlippageRatio` times the predecessor's, or under the floor. */
function slippageHolds(cur: RunStats, prev: RunStats, c: StageCriteria): CriterionResult {
  if (cur.averageSlippage === null) return criterion('SLIPPAGE', 'NOT_MEASURED', 'n/a', 'n/a', 'no fills to measure slippage on');
  const expected = prev.averageSlippage ?? 0;
  const limit = Math.max(c.maxSlippageRatio * expected, c.slippageFloor);
  const ok = cur.averageSlippage <= limit;
  return criterion(
    'SLIPPAGE',
    ok ? 'PASS' : 'FAIL',
    `$${formatDecimal(cur.averageSlippage, 3)}`,
    `<= $${formatDecimal(limit, 3)}`,
    `reference 004: at most ${c.maxSlippageRatio}x the ${prev.stage} slippage ($${formatDecimal(expected, 3)}), or $${formatDecimal(c.slippageFloor, 3)} per contract`,
  );
}

/** Reference 004, shadow stage: "slippage modeled accurately" (observed against the paper model on the same decisions). */
function slippageModelled(cur: RunStats, c: StageCriteria): CriterionResult {
  const observed = cur.averageSlippage;
  const modelled = cur.modelledSlippage ?? null;
  if (observed === null || modelled === null) return criterion('SLIPPAGE_MODELLED', 'NOT_MEASURED', 'n/a', 'n/a', 'no decision had both a paper fill and a book to measure');
  const limit = Math.max(c.maxSlippageRatio * modelled, modelled + c.slippageFloor);
  return criterion(
    'SLIPPAGE_MODELLED',
    slippageModelledAccurately(observed, modelled, c) ? 'PASS' : 'FAIL',
    `$${formatDecimal(observed, 3)}`,
    `<= $${formatDecimal(limit, 3)}`,
    `reference 004: observed slippage on the venue's book against $${formatDecimal(modelled, 3)} modelled by the paper fill model`,
  );
}

function backtestCriteria(cur: RunStats, c: StageCriteria): CriterionResult[] {
  const out: CriterionResult[] = [];
  const sharpe = cur.sharpe ?? null;
  out.push(sharpe === null ? criterion('SHARPE', 'NOT_MEASURED', 'n/a', `> ${c.minSharpe}`, 'no Sharpe ratio given') : criterion('SHARPE', sharpe > c.minSharpe ? 'PASS' : 'FAIL', sharpe.toFixed(2), `> ${c.minSharpe}`, 'reference 004, backtest'));
  const pf = cur.profitFactor ?? null;
  out.push(pf === null ? criterion('PROFIT_FACTOR', 'NOT_MEASURED', 'n/a', `> ${c.minProfitFactor}`, 'no profit factor given') : criterion('PROFIT_FACTOR', pf > c.minProfitFactor ? 'PASS' : 'FAIL', pf.toFixed(2), `> ${c.minProfitFactor}`, 'reference 004, backtest'));
  const capital = cur.capital ?? null;
  if (capital === null || capital <= 0) {
    out.push(criterion('MAX_DRAWDOWN', 'NOT_MEASURED', `$${formatDecimal(cur.maxDrawdown)}`, `< ${pct(c.maxDrawdownShare)} of capital`, 'no capital given to measure the drawdown against'));
  } else {
    const share = cur.maxDrawdown / capital;
    out.push(criterion('MAX_DRAWDOWN', share < c.maxDrawdownShare ? 'PASS' : 'FAIL', pct(share), `< ${pct(c.maxDrawdownShare)}`, `$${formatDecimal(cur.maxDrawdown)} of $${formatDecimal(capital)} capital`));
  }
  return out;
}

/**
 * Whether `current` justifies the stage after it, judged on the reference criteria against
 * `previous` (the run of the stage before; null only for a backtest):
 *
 * - BACKTEST: Sharpe > 1, max drawdown < 15% of capital, profit factor > 1.3, duration.
 * - PAPER vs BACKTEST: total P&L within 10% of the backtest either way ("matches backtest within
 *   10%"), positive P&L, win rate and drawdown no more than 10% worse, fill rate >= 80%,
 *   slippage <= 2x the backtest's (or a cent), no system errors, at least 14 days.
 * - SHADOW vs PAPER: signal alignment >= 95%, fill rate >= 90%, slippage <= 2x the modelled
 *   one, no system errors, at least 7 days.
 * - LIVE vs its predecessor: P&L positive and within 10%, win rate, drawdown, fill rate >= 80%,
 *   slippage, no errors, at least 28 days: the case for a larger capital cap.
 *
 * A criterion that cannot be measured (a missing figure) counts against the verdict: the next
 * stage is justified only when every criterion passes.
 */
export function compareStages(current: RunStats, previous: RunStats | null, c: StageCriteria = REFERENCE_CRITERIA): StageReport {
  const problems: FieldProblem[] = [];
  validateRunStats(current, 'current', problems);
  if (previous !== null) validateRunStats(previous, 'previous', problems);
  if (problems.length > 0) throw new InvalidInput(problems);

  const criteria: CriterionResult[] = [];
  const expected = previousStage(current.stage);
  if (current.stage !== 'BACKTEST') {
    if (previous === null) {
      criteria.push(criterion('PREDECESSOR', 'NOT_MEASURED', 'none', expected ?? 'none', `a ${current.stage} run is judged against a ${expected} run; none was given`));
    } else if (STAGES.indexOf(previous.stage) >= STAGES.indexOf(current.stage)) {
      criteria.push(criterion('PREDECESSOR', 'FAIL', previous.stage, `an earlier stage (${expected})`, `${previous.stage} does not come before ${current.stage}`));
    } else if (previous.stage !== expected) {
      criteria.push(criterion('PREDECESSOR', 'FAIL', previous.stage, expected ?? 'none', `${current.stage} follows ${expected}; comparing with ${previous.stage} skips a stage`));
    }
  }

  criteria.push(minDays(current));
  if (current.stage === 'BACKTEST') {
    criteria.push(...backtestCriteria(current, c));
  } else if (previous !== null) {
    if (current.stage === 'SHADOW') {
      const a = current.signalAlignment ?? null;
      criteria.push(
        a === null
          ? criterion('SIGNAL_ALIGNMENT', 'NOT_MEASURED', 'n/a', `>= ${pct(c.minSignalAlignment)}`, 'no signal alignment measured')
          : criterion('SIGNAL_ALIGNMENT', a >= c.minSignalAlignment ? 'PASS' : 'FAIL', pct(a), `>= ${pct(c.minSignalAlignment)}`, 'reference 003: live and replayed signals agree'),
      );
      criteria.push(fillRateAtLeast(current, c.minShadowFillRate, 'reference 003 (execution quality)'));
      criteria.push(slippageHolds(current, previous, c));
      if (current.modelledSlippage !== undefined) criteria.push(slippageModelled(current, c));
    } else {
      criteria.push(pnlMatches(current, previous, c));
      criteria.push(pnlPositive(current));
      criteria.push(winRateHolds(current, previous, c));
      criteria.push(drawdownHolds(current, previous, c));
      criteria.push(fillRateAtLeast(current, c.minFillRate, 'reference 004 monitoring'));
      criteria.push(slippageHolds(current, previous, c));
    }
  }
  criteria.push(noErrors(current));

  const failing = criteria.filter((r) => r.status !== 'PASS');
  const next = nextStage(current.stage) ?? 'LIVE with a larger capital cap';
  const justified = failing.length === 0;
  const reasons = justified
    ? [`every criterion passed: ${next} is justified`]
    : failing.map((r) => `${r.criterion} ${r.status === 'FAIL' ? 'failed' : 'not measured'}: ${r.detail}`);
  return { stage: current.stage, comparedWith: previous?.stage ?? null, next, criteria, justified, reasons };
}

export function formatStageReport(r: StageReport): string {
  const w = Math.max(9, ...r.criteria.map((c) => c.criterion.length));
  const cw = Math.max(7, ...r.criteria.map((c) => c.current.length));
  const lines = [
    `Stage report: ${r.stage}${r.comparedWith ? ` compared with ${r.comparedWith}` : ''}`,
    `${pad('CRITERION', w)}  ${pad('RESULT', 12)}  ${pad('CURRENT', cw)}  REFERENCE`,
  ];
  for (const c of r.criteria) lines.push(`${pad(c.criterion, w)}  ${pad(c.status, 12)}  ${pad(c.current, cw)}  ${c.reference}  (${c.detail})`);
  lines.push(r.justified ? `Verdict: ${r.next} is justified.` : `Verdict: ${r.next} is NOT justified:`);
  if (!r.justified) for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}

// ---- shadow: live signals beside a replay, modelled versus observed slippage ----

export interface ShadowSignal {
  marketId: string;
  side: Side;
  /** Epoch milliseconds of the quote the signal came from. */
  at: number;
}

export interface SignalAlignment {
  matched: number;
  liveOnly: ShadowSignal[];
  replayOnly: ShadowSignal[];
  /** matched / (matched + liveOnly + replayOnly); null when neither side signalled. */
  alignment: number | null;
}

/**
 * Pairs each live signal with a replayed one of the same market and side within `toleranceMs`
 * (nearest first, each used once). What is left on either side is a misalignment.
 */
export function alignSignals(live: readonly ShadowSignal[], replayed: readonly ShadowSignal[], toleranceMs: number): SignalAlignment {
  if (!Number.isFinite(toleranceMs) || toleranceMs < 0) throw InvalidInput.of('toleranceMs', toleranceMs, 'must be non-negative milliseconds');
  const used = new Set<number>();
  const liveOnly: ShadowSignal[] = [];
  let matched = 0;
  for (const s of [...live].sort((a, b) => a.at - b.at)) {
    let best = -1;
    let bestGap = Infinity;
    replayed.forEach((r, i) => {
      if (used.has(i) || r.marketId !== s.marketId || r.side !== s.side) return;
      const gap = Math.abs(r.at - s.at);
      if (gap <= toleranceMs && gap < bestGap) {
        best = i;
        bestGap = gap;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched += 1;
    } else liveOnly.push(s);
  }
  const replayOnly = replayed.filter((_, i) => !used.has(i));
  const total = matched + liveOnly.length + replayOnly.length;
  return { matched, liveOnly, replayOnly, alignment: total === 0 ? null : matched / total };
}

/** Where a replay starts and how its positions move (absent: from scratch, each signal filled in full at once). */
export interface ReplayStart {
  /** Per market, the strategy state the replay begins from (a warm-up the live side also began from). */
  initialStates?: Readonly<Record<string, unknown>>;
  /**
   * Fills the live side actually got (signed contracts, at the quote time they were decided on):
   * when given, replayed positions follow these instead of the replay's own signals, so sizing
   * sees what the live side saw.
   */
  fills?: readonly { marketId: string; at: number; signedQuantity: number }[];
}

/**
 * The signals a strategy gives on a quote stream, as a backtest running beside the live
 * session would. Positions follow the replayed signals as if each filled in full at once (the
 * replay has no venue); an exit therefore closes what the replay itself opened. With
 * `start.fills`, positions follow those fills instead (applied after the quote they were decided on).
 */
export function replaySignals(strategy: Strategy<unknown>, markets: readonly Market[], snapshots: Iterable<MarketSnapshot>, sizing: SizingMethod, start: ReplayStart = {}): ShadowSignal[] {
  const byId = new Map(markets.map((m) => [m.marketId, m]));
  const state = new Map<string, unknown>(Object.entries(start.initialStates ?? {}));
  const position = new Map<string, number>();
  const fills = start.fills ? [...start.fills].sort((a, b) => a.at - b.at) : null;
  let nextFill = 0;
  const out: ShadowSignal[] = [];
  for (const s of snapshots) {
    const market = byId.get(s.marketId);
    if (!market) continue;
    if (fills) {
      // Fills decided on an earlier quote are held by now; lots keep fractional contracts exact.
      for (; nextFill < fills.length && fills[nextFill]!.at < s.ts; nextFill++) {
        const f = fills[nextFill]!;
        position.set(f.marketId, quantityFromLots(quantityLots(position.get(f.marketId) ?? 0) + quantityLots(f.signedQuantity)));
      }
    }
    const held = position.get(s.marketId) ?? 0;
    const step = strategy.onSnapshot(state.has(s.marketId) ? state.get(s.marketId) : strategy.initialState(), s, { market, position: held, modelProbability: null });
    state.set(s.marketId, step.state);
    if (step.signal === null) continue;
    const qty = sizeSignal(step.signal, held, sizing);
    if (qty <= 0) continue;
    out.push({ marketId: s.marketId, side: step.signal.side, at: s.ts });
    if (!fills) position.set(s.marketId, held + (step.signal.side === 'BUY' ? qty : -qty));
  }
  return out;
}

/** One live order: the quote it was decided on and what the venue actually filled. */
export interface ShadowExecution {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: Quantity;
  limitPrice: Price | null;
  /** The touch when the order was decided: slippage is measured from it, modelled and observed alike. */
  bid: Price | null;
  ask: Price | null;
  intervalVolume: Quantity;
  tickSize: number;
  observedFills: readonly { quantity: Quantity; price: Price }[];
}

export interface ShadowSlippage {
  orders: number;
  /** Expected fill rate and slippage under the paper fill model (Monte Carlo over `draws`). */
  modelledFillRate: number | null;
  modelledSlippage: number | null;
  observedFillRate: number | null;
  /** Contract-weighted mean slippage per contract of the real fills, micros; positive is worse. */
  observedSlippage: number | null;
  /** observed / modelled; null when the model expects no slippage. */
  ratio: number | null;
  /** Observed within maxSlippageRatio x modelled, or within the floor. */
  modelledAccurately: boolean | null;
}

/** Observed slippage within `maxSlippageRatio` x the modelled one, or within the floor of it (reference 004: "slippage modeled accurately"). */
export function slippageModelledAccurately(observed: number, modelled: number, c: StageCriteria = REFERENCE_CRITERIA): boolean {
  return observed <= Math.max(c.maxSlippageRatio * modelled, modelled + c.slippageFloor);
}

/**
 * Modelled versus observed slippage of live orders. The model side runs the paper fill model
 * (`simulateFill`, the backtester's and the paper exchange's) `draws` times per order on the
 * quote the order was decided on, seeded, so the same records give the same report.
 */
export function compareSlippage(
  executions: readonly ShadowExecution[],
  params: FillModelParams,
  options: { seed: number; draws?: number; criteria?: StageCriteria },
): ShadowSlippage {
  validateFillModelParams(params);
  const draws = options.draws ?? 200;
  const c = options.criteria ?? REFERENCE_CRITERIA;
  const rng = seededRandom(options.seed);
  let modelFilledOrders = 0;
  let modelSlip = 0;
  let modelContracts = 0;
  let obsFilledOrders = 0;
  let obsSlip = 0;
  let obsContracts = 0;
  for (const e of executions) {
    const touch = (e.side === 'BUY' ? e.ask : e.bid) ?? e.limitPrice;
    for (let i = 0; i < draws; i++) {
      const f = simulateFill({ side: e.side, limitPrice: e.limitPrice, remaining: e.quantity }, { bid: e.bid, ask: e.ask, intervalVolume: e.intervalVolume }, params, e.tickSize, rng);
      if (f === null) continue;
      modelFilledOrders += 1;
      if (touch !== null) {
        modelSlip += slippageMicros(e.side, touch, f.price) * f.quantity;
        modelContracts += f.quantity;
      }
    }
    if (e.observedFills.length > 0) obsFilledOrders += 1;
    for (const f of e.observedFills) {
      if (touch === null) continue;
      obsSlip += slippageMicros(e.side, touch, f.price) * f.quantity;
      obsContracts += f.quantity;
    }
  }
  const n = executions.length;
  const modelledSlippage = modelContracts === 0 ? null : modelSlip / modelContracts;
  const observedSlippage = obsContracts === 0 ? null : obsSlip / obsContracts;
  const ratio = modelledSlippage === null || observedSlippage === null || modelledSlippage <= 0 ? null : observedSlippage / modelledSlippage;
  const modelledAccurately = modelledSlippage === null || observedSlippage === null ? null : slippageModelledAccurately(observedSlippage, modelledSlippage, c);
  return {
    orders: n,
    modelledFillRate: n === 0 ? null : modelFilledOrders / (n * draws),
    modelledSlippage,
    observedFillRate: n === 0 ? null : obsFilledOrders / n,
    observedSlippage,
    ratio,
    modelledAccurately,
  };
}
