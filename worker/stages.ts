/**
 * The deployment stage as the worker process sees it (rules in domain/stages.ts):
 *
 * - `guardStart`: runs pre-flight for the configured stage, prints the go/no-go table and
 *   refuses (StageRefused) when a required row fails. LIVE requires LIVE_CONFIRM=true, a
 *   LIVE_CAPITAL_CAP covering the exposure limit, SMTP for alerts, a venue balance covering the
 *   capital ramp's step (`liveStartChecks`) and every pre-flight check; the step is recorded
 *   only when the start goes.
 * - The capital ramp (docs/live.md): `liveRunStats` measures the LIVE figures of the records
 *   since the step began, `planLiveStart` judges them with the LIVE stage criteria and decides
 *   the step (domain/stages.ts decideRamp).
 * - `startObservability`: the logger, the metrics registry and the /metrics server the config
 *   asks for, and `observe` to hand them to the activities.
 * - `stageReport`: a run's figures against its predecessor's on the reference criteria.
 * - SHADOW: `loadShadowExecutions` reads the live orders' decision quotes and fills from the
 *   records; `runShadow` replays the quotes through the strategy beside them and compares
 *   signals and modelled versus observed slippage.
 *
 * CLI: `tsx worker/stages.ts shadow [strategy] [paper.json]` prints the stage report of the newest
 * shadow run in the records (shadow_comparisons) against a PAPER run's figures.
 * `npm run stage-report -- <current.json> <previous.json>` prints the stage report
 * (exit 0 justified, 3 not justified, 2 bad input); `tsx worker/stages.ts check` prints the
 * go/no-go table of the configured stage (exit 0 GO, 3 NO-GO, 2 bad configuration).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ActivityDeps } from '../activities/deps';
import { createPreflightActivities } from '../activities/preflight';
import { createServices } from '../activities/services';
import type { PreflightCheck } from '../contracts/activities';
import { currentLiveCapitalStep, listAlerts, listDailyPnl, listExecutions, listFills, listRiskDecisions, listShadowComparisons, listShadowRuns, recordLiveCapitalStep, type Db } from '../db';
import { tradingDayIn } from '../domain/calendar';
import { slippageMicros } from '../domain/execution-quality';
import type { Money } from '../domain/money';
import { shadowRunStats } from '../domain/shadow';
import { limitsAtStep, steppedCapital, decideRamp, describeRamp, type RampDecision, type RampStep } from '../domain/stages';
import { InvalidInput } from '../domain/errors';
import type { FillModelParams } from '../domain/fill-model';
import type { Market, MarketSnapshot, Side } from '../domain/market';
import type { Price, Quantity } from '../domain/money';
import type { SizingMethod } from '../domain/sizing';
import { alignSignals, compareSlippage, compareStages, evaluateGoNoGo, formatGoNoGo, formatStageReport, replaySignals, type GoNoGo, type RunStats, type ShadowExecution, type ShadowSignal, type ShadowSlippage, type SignalAlignment, type StageReport } from '../domain/stages';
import { createStrategy, type StrategyName } from '../domain/strategies';
import { loadConfig, type Env, type WorkerConfig } from '../runtime/config';

/** A start the go/no-go table refused; the message names every failed check. */
export class StageRefused extends Error {
  constructor(readonly goNoGo: GoNoGo) {
    super(`${goNoGo.stage} refused to start: ${goNoGo.refusals.join('; ')}`);
    this.name = 'StageRefused';
  }
}

/** What a LIVE start found about its money: the ramp step and the venue balance. */
export interface LivePlan {
  ramp: RampDecision | null;
  balance: Money | null;
  /** Why the balance or the ramp could not be read. */
  problems: string[];
  /** The LIVE criteria over the step in force (null on the first start, or when not measured). */
  report: StageReport | null;
}

/** How guardStart reaches the records and the venue for a LIVE start (liveStartChecks builds it). */
export interface LiveStartChecks {
  plan(): Promise<LivePlan>;
  /** Writes the step to the records; called only when the start goes. */
  commit(ramp: RampDecision): Promise<void>;
}

/** The go/no-go table of a start in the configured stage, from pre-flight results (null: did not run). */
export function goNoGoFor(config: WorkerConfig, preflight: readonly PreflightCheck[] | null, live: LivePlan | null = null): GoNoGo {
  return evaluateGoNoGo({
    stage: config.stage,
    confirmed: config.live.confirmed,
    capitalCap: config.live.capitalCap,
    maxPortfolioExposure: config.riskLimits.maxPortfolioExposure,
    preflight,
    alertSinks: [...(config.smtp !== null ? (['email'] as const) : []), ...(config.alertWebhook !== null ? (['webhook'] as const) : [])],
    ramp: live?.ramp ?? null,
    balance: live?.balance ?? null,
    balanceProblem: live && live.problems.length > 0 ? live.problems.join('; ') : null,
  });
}

/**
 * Runs pre-flight (not for a backtest, which touches nothing live), prints the go/no-go table
 * and returns it when GO; throws StageRefused when NO-GO. A pre-flight that cannot run at all
 * is a failed row, not a crash.
 */
export async function guardStart(
  config: WorkerConfig,
  runPreflight: () => Promise<PreflightCheck[]>,
  print: (text: string) => void = console.log,
  live?: LiveStartChecks,
): Promise<GoNoGo & { ramp: RampDecision | null }> {
  let checks: PreflightCheck[] | null = null;
  if (config.stage !== 'BACKTEST') {
    try {
      checks = await runPreflight();
    } catch (e) {
      checks = [{ name: 'VENUE_REACHABLE', ok: false, detail: `pre-flight could not run: ${e instanceof Error ? e.message : String(e)}` }];
    }
  }
  let plan: LivePlan | null = null;
  if (config.stage === 'LIVE') {
    try {
      plan = live ? await live.plan() : { ramp: null, balance: null, problems: ['no venue to read it from'], report: null };
    } catch (e) {
      plan = { ramp: null, balance: null, problems: [e instanceof Error ? e.message : String(e)], report: null };
    }
  }
  const g = goNoGoFor(config, checks, plan);
  print(formatGoNoGo(g));
  if (plan?.report && plan.ramp) print(`${formatStageReport(plan.report)}\n${rampLine(config, plan.ramp)}`);
  if (!g.go) throw new StageRefused(g);
  if (plan?.ramp && live) await live.commit(plan.ramp);
  return { ...g, ramp: plan?.ramp ?? null };
}

// ---- capital ramp (LIVE) ----

const DAY_MS = 86_400_000;

/**
 * The LIVE figures of the records since `since` (the ramp step's start):
 * - days: elapsed time, in days (fractional);
 * - total P&L and max drawdown: the net daily P&L (fills and resolutions less fees, plus the
 *   day's mark) of the account's trading days from the step's first day, the drawdown taken on
 *   the running total day by day;
 * - win rate: the share of trading days with fills whose net P&L was positive (the records do
 *   not pair fills into round trips, so a day stands in for a trade);
 * - trades, fill rate, slippage: the orders sent since `since` (execution-quality records):
 *   orders with a fill, orders with a fill over orders sent, the contract-weighted slippage per
 *   contract against the signal's price;
 * - system errors: CRITICAL alerts raised since `since`.
 * Orders and alerts are not kept per account: a database shared by several accounts' workers
 * mixes them here (the P&L is the account's own).
 */
export async function liveRunStats(db: Db, input: { account: string; since: number; now: number; timeZone: string }): Promise<RunStats> {
  const days = (await listDailyPnl(db, { account: input.account, from: tradingDayIn(input.since, input.timeZone) })).reverse();
  let total = 0;
  let peak = 0;
  let drawdown = 0;
  let tradedDays = 0;
  let winningDays = 0;
  for (const d of days) {
    total += d.netPnl;
    peak = Math.max(peak, total);
    drawdown = Math.max(drawdown, peak - total);
    if (d.fillCount > 0) {
      tradedDays += 1;
      if (d.netPnl > 0) winningDays += 1;
    }
  }
  const executions = (await listExecutions(db, { since: input.since, limit: 100_000 })).filter((e) => e.submittedAt !== null);
  const filled = executions.filter((e) => e.fills.length > 0);
  let slip = 0;
  let contracts = 0;
  for (const e of filled) {
    for (const f of e.fills) {
      slip += slippageMicros(e.side, e.intendedPrice, f.price) * f.quantity;
      contracts += f.quantity;
    }
  }
  const critical = await listAlerts(db, { level: 'CRITICAL', since: input.since, limit: 10_000 });
  return {
    stage: 'LIVE',
    days: Math.max(0, input.now - input.since) / DAY_MS,
    totalTrades: filled.length,
    winRate: tradedDays === 0 ? null : winningDays / tradedDays,
    totalPnl: total as Money,
    maxDrawdown: drawdown as Money,
    fillRate: executions.length === 0 ? null : filled.length / executions.length,
    averageSlippage: contracts === 0 ? null : (Math.round(slip / contracts) as Money),
    systemErrors: critical.length,
  };
}

/** The run figures LIVE is judged against (LIVE_RAMP_BASELINE), or why there are none. */
export function readRampBaseline(path: string | null): { baseline: RunStats | null; problem: string | null } {
  if (path === null) return { baseline: null, problem: 'LIVE_RAMP_BASELINE is not set: the ramp needs the figures of the stage before LIVE to judge a step' };
  try {
    return { baseline: parseRunStats(readJson(path), 'LIVE_RAMP_BASELINE'), problem: null };
  } catch (e) {
    return { baseline: null, problem: `LIVE_RAMP_BASELINE ${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * The step in force from the records; on a recorded step, the LIVE criteria over its period
 * against the baseline (compareStages) decide whether it moves up. Pure apart from the reads.
 */
export async function planLiveRamp(db: Db, input: { account: string; config: WorkerConfig; now: number }): Promise<{ ramp: RampDecision; report: StageReport | null }> {
  const stored = await currentLiveCapitalStep(db, input.account);
  const recorded: RampStep | null = stored === null ? null : { percent: stored.percent, since: stored.beganAt };
  let report: StageReport | null = null;
  let baselineProblem: string | null = null;
  if (recorded !== null && input.config.live.rampSteps.some((p) => p > recorded.percent)) {
    const stats = await liveRunStats(db, { account: input.account, since: recorded.since, now: input.now, timeZone: input.config.timeZone });
    const { baseline, problem } = readRampBaseline(input.config.live.rampBaseline);
    baselineProblem = problem;
    report = compareStages(stats, baseline);
  }
  const ramp = decideRamp({ steps: input.config.live.rampSteps, recorded, report, now: input.now });
  return { ramp: baselineProblem === null ? ramp : { ...ramp, reasons: [baselineProblem, ...ramp.reasons] }, report };
}

/** The LIVE start's reads (ramp from the records, balance from the venue) and its one write (the step). */
export function liveStartChecks(deps: ActivityDeps, config: WorkerConfig, now: () => number = () => Date.now()): LiveStartChecks {
  return {
    async plan() {
      const problems: string[] = [];
      let balance: Money | null = null;
      try {
        balance = (await deps.venue.getBalance()).cash;
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
      const { ramp, report } = await planLiveRamp(deps.db, { account: deps.config.account, config, now: now() });
      return { ramp, balance, problems, report };
    },
    async commit(ramp) {
      const cap = config.live.capitalCap;
      if (ramp.toRecord === null || cap === null) return;
      await recordLiveCapitalStep(deps.db, {
        account: deps.config.account,
        percent: ramp.toRecord.percent,
        capitalCap: cap,
        capital: steppedCapital(cap, ramp.toRecord.percent),
        beganAt: ramp.toRecord.since,
        reason: ramp.reasons.join('; '),
      });
    },
  };
}

/** The config a LIVE session runs under: the risk limits of its ramp step (limitsAtStep); other stages unchanged. */
export function configAtStep(config: WorkerConfig, ramp: RampDecision | null): WorkerConfig {
  return ramp === null ? config : { ...config, riskLimits: limitsAtStep(config.riskLimits, ramp.step.percent) };
}

/** The ramp line for reports: the step in force and its capital. */
export function rampLine(config: WorkerConfig, ramp: RampDecision): string {
  return config.live.capitalCap === null ? `ramp step ${ramp.step.percent}%` : `Capital ramp: ${describeRamp(ramp, config.live.capitalCap)}`;
}

/** Pre-flight through the session activity, outside Temporal, on the configured markets. */
export function preflightWith(deps: ActivityDeps, config: WorkerConfig): () => Promise<PreflightCheck[]> {
  return () => createPreflightActivities(deps, createServices(deps)).preflight({ strategy: config.session.strategy, marketIds: config.session.markets });
}

// ---- stage report ----

/** The stage report of `current` against `previous`, with its text. */
export function stageReport(current: RunStats, previous: RunStats | null): { report: StageReport; text: string } {
  const report = compareStages(current, previous);
  return { report, text: formatStageReport(report) };
}

/** Run figures from JSON: money as decimal strings ("187.00") or micros; ratios as fractions. */
export function parseRunStats(json: unknown, label: string): RunStats {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw InvalidInput.of(label, json, 'must be a JSON object of run figures');
  const o = json as Record<string, unknown>;
  const money = (k: string): unknown => {
    const v = o[k];
    if (typeof v !== 'string') return v;
    const m = /^([+-])?(\d{1,15})(?:\.(\d{1,6}))?$/.exec(v.trim());
    if (!m) return v;
    const micros = Number(m[2]) * 1_000_000 + Number((m[3] ?? '').padEnd(6, '0'));
    return m[1] === '-' ? -micros : micros;
  };
  return {
    ...(o as unknown as RunStats),
    stage: (typeof o.stage === 'string' ? o.stage.toUpperCase() : o.stage) as RunStats['stage'],
    totalPnl: money('totalPnl') as RunStats['totalPnl'],
    maxDrawdown: money('maxDrawdown') as RunStats['maxDrawdown'],
    averageSlippage: (o.averageSlippage === undefined ? null : money('averageSlippage')) as RunStats['averageSlippage'],
    capital: (o.capital === undefined ? null : money('capital')) as RunStats['capital'],
  };
}

// ---- shadow ----

/**
 * The strategy's live orders since `since`, as shadow executions: the quote each was approved
 * on (recorded with the risk decision) and the fills the venue gave it. Orders of markets not
 * in `markets` (no tick size) are left out. The interval volume is the decision quote's, raised
 * to the order's size: the quote's volume is what traded before the order, not while it worked,
 * so model with a participation rate of 1 unless real volume figures are at hand.
 */
export async function loadShadowExecutions(db: Db, filter: { strategy: string; since: number; markets: readonly Market[] }): Promise<{ executions: ShadowExecution[]; signals: ShadowSignal[] }> {
  const ticks = new Map(filter.markets.map((m) => [m.marketId, m.tickSize]));
  const decisions = await listRiskDecisions(db, { strategy: filter.strategy, approved: true, since: filter.since, limit: 100_000 });
  const executions: ShadowExecution[] = [];
  const signals: ShadowSignal[] = [];
  for (const d of decisions.reverse()) {
    const req = d.request as { order?: { clientOrderId: string; marketId: string; side: Side; quantity: number; limitPrice: number | null }; snapshot?: { ts: number; bid: number | null; ask: number | null; intervalVolume: number } };
    const tick = ticks.get(d.marketId);
    if (!req.order || !req.snapshot || tick === undefined) continue;
    const fills = await listFills(db, { clientOrderId: req.order.clientOrderId });
    executions.push({
      clientOrderId: req.order.clientOrderId,
      marketId: req.order.marketId,
      side: req.order.side,
      quantity: req.order.quantity as Quantity,
      limitPrice: req.order.limitPrice as Price | null,
      bid: req.snapshot.bid as Price | null,
      ask: req.snapshot.ask as Price | null,
      intervalVolume: Math.max(req.snapshot.intervalVolume, req.order.quantity) as Quantity,
      tickSize: tick,
      observedFills: fills.map((f) => ({ quantity: f.quantity, price: f.price })),
    });
    signals.push({ marketId: req.order.marketId, side: req.order.side, at: req.snapshot.ts });
  }
  return { executions, signals };
}

export interface ShadowInput {
  strategyName: StrategyName;
  strategyParams: Record<string, unknown>;
  markets: readonly Market[];
  /** The quotes the live session saw (a recorded quotes file). */
  snapshots: readonly MarketSnapshot[];
  liveSignals: readonly ShadowSignal[];
  executions: readonly ShadowExecution[];
  fillModel: FillModelParams;
  sizing: SizingMethod;
  seed: number;
  /** How far apart a live and a replayed signal may be and still agree; one poll by default. */
  toleranceMs?: number;
}

export interface ShadowReport {
  alignment: SignalAlignment;
  slippage: ShadowSlippage;
  text: string;
}

export function runShadow(input: ShadowInput): ShadowReport {
  const strategy = createStrategy(input.strategyName, input.strategyParams);
  const replayed = replaySignals(strategy, input.markets, input.snapshots, input.sizing);
  const alignment = alignSignals(input.liveSignals, replayed, input.toleranceMs ?? 30_000);
  const slippage = compareSlippage(input.executions, input.fillModel, { seed: input.seed });
  const f = (x: number | null, unit = '') => (x === null ? 'n/a' : `${x.toFixed(unit === '%' ? 1 : 0)}${unit}`);
  const text = [
    `Shadow: ${input.liveSignals.length} live signals, ${replayed.length} replayed; ${alignment.matched} agree`,
    `  signal alignment ${f(alignment.alignment === null ? null : alignment.alignment * 100, '%')} (reference 003: above 95%)`,
    `  fill rate modelled ${f(slippage.modelledFillRate === null ? null : slippage.modelledFillRate * 100, '%')}, observed ${f(slippage.observedFillRate === null ? null : slippage.observedFillRate * 100, '%')}`,
    `  slippage per contract modelled ${f(slippage.modelledSlippage)} micros, observed ${f(slippage.observedSlippage)} micros: ${slippage.modelledAccurately === null ? 'not measured' : slippage.modelledAccurately ? 'modelled accurately' : 'NOT modelled accurately (reference 004: alert over 2x expected)'}`,
  ].join('\n');
  return { alignment, slippage, text };
}

/**
 * A shadow run's figures from its comparisons in the records (shadow_comparisons, written by the
 * shadow session workflow): signal alignment, the paper fill rate, observed and modelled slippage.
 */
export async function shadowRunStatsFromRecords(db: Db, shadowRun: string): Promise<RunStats> {
  const rows = await listShadowComparisons(db, { shadowRun });
  return shadowRunStats(rows);
}

/** The newest shadow run of a strategy (or of any), or null when none is recorded. */
export async function latestShadowRun(db: Db, strategy?: string): Promise<string | null> {
  const runs = await listShadowRuns(db, strategy === undefined ? {} : { strategy });
  return runs[0]?.shadowRun ?? null;
}

// ---- CLI ----

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** The config, or null after reporting why it cannot be read (exit code 2 for the caller). */
function configOrReport(env: Env, err: (text: string) => void): WorkerConfig | null {
  try {
    return loadConfig(env);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    err(`Configuration: ${e.message}`);
    return null;
  }
}

/** `report <current.json> <previous.json|->` or `check`; returns the exit code. */
export async function main(argv: readonly string[], env: Env, out: (text: string) => void = console.log, err: (text: string) => void = console.error): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'report') {
    if (args.length < 1 || args.length > 2) {
      err('usage: stage-report <current.json> [previous.json]  (figures as in RunStats: stage, days, totalTrades, winRate, totalPnl, maxDrawdown, fillRate, averageSlippage, systemErrors)');
      return 2;
    }
    try {
      const current = parseRunStats(readJson(args[0]!), 'current');
      const previous = args[1] === undefined || args[1] === '-' ? null : parseRunStats(readJson(args[1]), 'previous');
      const { report, text } = stageReport(current, previous);
      out(text);
      return report.justified ? 0 : 3;
    } catch (e) {
      if (e instanceof InvalidInput || e instanceof SyntaxError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
        err(`stage-report: ${(e as Error).message}`);
        return 2;
      }
      throw e;
    }
  }
  if (command === 'shadow') {
    // `shadow [strategy] [previous.json]`: the newest recorded shadow run against a PAPER run's figures.
    const config = configOrReport(env, err);
    if (config === null) return 2;
    const { openActivityDeps } = await import('./activity-deps');
    const opened = await openActivityDeps(config);
    try {
      const run = await latestShadowRun(opened.deps.db, args[0] ?? config.session.strategy);
      if (run === null) {
        err(`stage-report: no shadow run of ${args[0] ?? config.session.strategy} is recorded (start one with TRADING_STAGE=SHADOW)`);
        return 2;
      }
      const current = await shadowRunStatsFromRecords(opened.deps.db, run);
      const previous = args[1] === undefined || args[1] === '-' ? null : parseRunStats(readJson(args[1]), 'previous');
      const { report, text } = stageReport(current, previous);
      out(`Shadow run ${run}`);
      out(text);
      return report.justified ? 0 : 3;
    } catch (e) {
      if (e instanceof InvalidInput || e instanceof SyntaxError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
        err(`stage-report: ${(e as Error).message}`);
        return 2;
      }
      throw e;
    } finally {
      await opened.close();
    }
  }
  if (command === 'check') {
    const config = configOrReport(env, err);
    if (config === null) return 2;
    const { openActivityDeps } = await import('./activity-deps');
    let opened: Awaited<ReturnType<typeof openActivityDeps>> | null = null;
    try {
      opened = config.stage === 'BACKTEST' ? null : await openActivityDeps(config);
      const deps = opened?.deps;
      // A dry check: the ramp step is shown, never recorded.
      const live = deps && config.stage === 'LIVE' ? { ...liveStartChecks(deps, config), commit: async () => undefined } : undefined;
      await guardStart(config, deps ? preflightWith(deps, config) : async () => [], out, live);
      return 0;
    } catch (e) {
      if (e instanceof StageRefused) return 3;
      if (e instanceof InvalidInput) {
        err(e.message);
        return 2;
      }
      throw e;
    } finally {
      await opened?.close();
    }
  }
  err('usage: tsx worker/stages.ts report <current.json> [previous.json] | shadow [strategy] [previous.json] | check');
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
