/**
 * `npm run backtest -- [--data PATH] [--strategy ema|ma|edge] [--seed N] [--json]`
 *
 *   --data PATH      a directory holding quotes.csv and markets.csv (and model.csv for the edge
 *                    strategy), or a quotes CSV file with markets.csv beside it; default: the
 *                    committed sample in samples (formats: cli/quotes-csv.ts)
 *   --markets FILE   markets file, overriding the one found from --data
 *   --model FILE     model estimates file, overriding the one found from --data
 *   --strategy NAME  ema (case-study EMA mean reversion, default), ema-live (its adjusted live
 *                    settings: threshold 1.3, exit -0.3, priced at the touch), ma (moving-average
 *                    crossover) or edge (model edge, half-Kelly sized on a $2,000 bankroll)
 *   --seed N         seed of the fill model's random draws (default 1)
 *   --time-zone ZONE the trading days' zone (default TRADING_TIME_ZONE, else UTC)
 *   --fill-model M   paper fill model: a preset (chapter, pre-live, post-live; default pre-live,
 *                    the case study's paper trading: 0.8 fill probability, 0.2-cent slippage sd,
 *                    150 ms latency) or JSON ('{"preset":"post-live","slippageStd":4000}')
 *   --paper FILE     a paper run's figures (the stage-report JSON, worker/stages.ts), shown
 *   --live FILE      beside the backtest with the relative difference per row, and judged
 *                    against it on the reference criteria (domain/stages.ts compareStages)
 *   --json           print the result as JSON instead of the table
 *
 * Risk limits are the case study's (CASE_STUDY_LIMITS), orders live 10 minutes. Exit codes: 0
 * done, 1 bad data (quotes, markets, model or run files), 2 bad arguments.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isValidTimeZone } from '../domain/calendar';
import { ORDER_TTL_MS, runBacktest, type BacktestConfig } from '../domain/backtest';
import { computeBacktestStats, formatComparisonTable, formatStatsTable, runFiguresOf, type BacktestStats, type RunFigures } from '../domain/backtest-stats';
import { InvalidInput } from '../domain/errors';
import { CASE_STUDY_FILL_MODEL, parseFillModel, type FillModelParams } from '../domain/fill-model';
import type { MarketSnapshot } from '../domain/market';
import { MICROS, parseMoney, type Money } from '../domain/money';
import type { RunStats, Stage } from '../domain/stages';
import { CASE_STUDY_LIMITS } from '../domain/risk-limits';
import type { SizingMethod } from '../domain/sizing';
import type { Strategy } from '../domain/strategy';
import { EMA_CASE_STUDY_LIVE_PARAMS, EMA_CASE_STUDY_PARAMS, emaMeanReversion } from '../domain/strategies/ema-mean-reversion';
import { maCrossover } from '../domain/strategies/ma-crossover';
import { modelEdge } from '../domain/strategies/model-edge';
import { parseMarketsCsv, parseModelCsv, parseQuotesCsv, type ModelProbabilities } from './quotes-csv';

export const DEFAULT_DATA_DIR = join(import.meta.dirname, '..', 'samples');
const STRATEGY_CHOICES = ['ema', 'ema-live', 'ma', 'edge'] as const;
type StrategyChoice = (typeof STRATEGY_CHOICES)[number];

export interface BacktestCliArgs {
  data: string;
  markets: string | null;
  model: string | null;
  strategy: StrategyChoice;
  seed: number;
  /** The trading days' zone (a day of the report is a calendar day there). */
  timeZone: string;
  fillModel: FillModelParams;
  paper: string | null;
  live: string | null;
  json: boolean;
}

export class UsageError extends Error {}

const USAGE =
  'usage: npm run backtest -- [--data PATH] [--markets FILE] [--model FILE] [--strategy ema|ema-live|ma|edge] [--seed N] [--time-zone ZONE] [--fill-model chapter|pre-live|post-live|JSON] [--paper FILE] [--live FILE] [--json]';

/** Parses argv, collecting every bad argument into one UsageError. */
export function parseBacktestArgs(argv: readonly string[]): BacktestCliArgs {
  const args: BacktestCliArgs = { data: DEFAULT_DATA_DIR, markets: null, model: null, strategy: 'ema', seed: 1, timeZone: process.env.TRADING_TIME_ZONE?.trim() || 'UTC', fillModel: CASE_STUDY_FILL_MODEL, paper: null, live: null, json: false };
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | null => {
      if (inline !== undefined) return inline;
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) {
        problems.push(`${flag}: needs a value`);
        return null;
      }
      i += 1;
      return v;
    };
    switch (flag) {
      case '--data': {
        const v = value();
        if (v !== null) args.data = v;
        break;
      }
      case '--markets':
        args.markets = value();
        break;
      case '--model':
        args.model = value();
        break;
      case '--strategy': {
        const v = value();
        if (v === null) break;
        if ((STRATEGY_CHOICES as readonly string[]).includes(v)) args.strategy = v as StrategyChoice;
        else problems.push(`--strategy: must be one of ${STRATEGY_CHOICES.join(', ')} (got ${JSON.stringify(v)})`);
        break;
      }
      case '--seed': {
        const v = value();
        if (v === null) break;
        if (/^-?\d{1,15}$/.test(v)) args.seed = Number(v);
        else problems.push(`--seed: must be an integer (got ${JSON.stringify(v)})`);
        break;
      }
      case '--time-zone': {
        const v = value();
        if (v === null) break;
        if (isValidTimeZone(v)) args.timeZone = v;
        else problems.push(`--time-zone: must be an IANA time zone such as America/New_York or UTC (got ${JSON.stringify(v)})`);
        break;
      }
      case '--fill-model': {
        const v = value();
        if (v === null) break;
        try {
          args.fillModel = parseFillModel(v.trimStart().startsWith('{') ? (JSON.parse(v) as unknown) : v, '--fill-model');
        } catch (e) {
          if (e instanceof InvalidInput) problems.push(...e.problems.map((p) => `${p.field}: ${p.problem} (got ${JSON.stringify(p.value)})`));
          else problems.push(`--fill-model: must be a preset name or a JSON object of fill model settings (got ${JSON.stringify(v)})`);
        }
        break;
      }
      case '--paper':
        args.paper = value();
        break;
      case '--live':
        args.live = value();
        break;
      case '--json':
        if (inline !== undefined) problems.push(`--json: takes no value (got ${JSON.stringify(inline)})`);
        args.json = true;
        break;
      default:
        problems.push(`${JSON.stringify(arg)}: unknown argument`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return args;
}

interface DataFiles {
  quotes: string;
  markets: string;
  model: string | null;
}

function locateFiles(args: BacktestCliArgs): DataFiles {
  const data = resolve(args.data);
  if (!existsSync(data)) throw new UsageError(`--data: ${JSON.stringify(args.data)} does not exist`);
  const isDir = statSync(data).isDirectory();
  const dir = isDir ? data : dirname(data);
  const quotes = isDir ? join(data, 'quotes.csv') : data;
  const markets = args.markets !== null ? resolve(args.markets) : join(dir, 'markets.csv');
  const model = args.model !== null ? resolve(args.model) : join(dir, 'model.csv');
  if (!existsSync(quotes)) throw new UsageError(`--data: ${JSON.stringify(args.data)} has no quotes.csv`);
  if (!existsSync(markets)) throw new UsageError(`${args.markets !== null ? '--markets' : '--data'}: markets file ${JSON.stringify(markets)} does not exist`);
  if (args.model !== null && !existsSync(model)) throw new UsageError(`--model: ${JSON.stringify(args.model)} does not exist`);
  for (const flag of ['paper', 'live'] as const) {
    const file = args[flag];
    if (file !== null && !existsSync(file)) throw new UsageError(`--${flag}: ${JSON.stringify(file)} does not exist`);
  }
  return { quotes, markets, model: existsSync(model) ? model : null };
}

const EDGE_BANKROLL = (2_000 * MICROS) as Money;

function buildStrategy(choice: StrategyChoice): { strategy: Strategy<unknown>; sizing: SizingMethod } {
  const maxOrderSize = CASE_STUDY_LIMITS.maxOrderSize;
  switch (choice) {
    case 'ema':
      return { strategy: emaMeanReversion.create(EMA_CASE_STUDY_PARAMS) as Strategy<unknown>, sizing: { kind: 'confidence', maxOrderSize } };
    case 'ema-live':
      return { strategy: emaMeanReversion.create(EMA_CASE_STUDY_LIVE_PARAMS) as Strategy<unknown>, sizing: { kind: 'confidence', maxOrderSize } };
    case 'ma':
      return { strategy: maCrossover.create(maCrossover.params()) as Strategy<unknown>, sizing: { kind: 'confidence', maxOrderSize } };
    case 'edge':
      return {
        strategy: modelEdge.create(modelEdge.params()) as Strategy<unknown>,
        sizing: { kind: 'kelly', maxOrderSize, kellyMultiplier: 0.5, bankroll: EDGE_BANKROLL },
      };
  }
}

/** The backtest as a stage run, for the stage report (domain/stages.ts). */
export function backtestRunStats(stats: BacktestStats): RunStats {
  return {
    stage: 'BACKTEST',
    days: stats.days,
    totalTrades: stats.totalTrades,
    winRate: stats.winRate,
    totalPnl: stats.totalPnl,
    maxDrawdown: stats.maxDrawdown,
    fillRate: stats.fillRate,
    averageSlippage: stats.averageSlippage === null ? null : (Math.round(stats.averageSlippage) as Money),
    systemErrors: 0,
    sharpe: stats.sharpe,
    profitFactor: stats.profitFactor,
  };
}

/**
 * A paper or live run's figures from the stage-report JSON (worker/stages.ts parseRunStats),
 * with the case study's average win and loss when given; checked by compareStages's validation.
 * Every problem names the file and the field.
 */
async function readRunFile(file: string, stage: Stage): Promise<RunStats & RunFigures> {
  const { parseRunStats } = await import('../worker/stages');
  const { compareStages } = await import('../domain/stages');
  const problems: { field: string; value: unknown; problem: string }[] = [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw InvalidInput.of(file, null, `is not JSON: ${(e as Error).message}`);
  }
  const raw = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const run = parseRunStats(raw.stage === undefined && typeof json === 'object' && json !== null ? { ...raw, stage } : json, file) as RunStats & RunFigures;
  if (run.stage !== stage) problems.push({ field: `${file}: stage`, value: run.stage, problem: `must be ${stage} for --${stage.toLowerCase()}` });
  for (const key of ['averageWin', 'averageLoss'] as const) {
    const v: unknown = raw[key];
    if (v === undefined || v === null) continue;
    try {
      run[key] = typeof v === 'string' ? parseMoney(v, `${file}: ${key}`) : (v as Money);
      if (!Number.isSafeInteger(run[key])) throw InvalidInput.of(`${file}: ${key}`, v, 'must be a decimal string like "19.60" or integer micros');
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      problems.push(...e.problems);
    }
  }
  try {
    compareStages({ ...run, stage: 'BACKTEST' }, null);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(...e.problems.map((p) => ({ ...p, field: `${file}: ${p.field.replace(/^current\./, '')}` })));
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return run;
}

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Told how far the replay is (the operator CLI draws a bar with it). */
export interface BacktestProgress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

/** Passes the quotes through, reporting about 200 times over the run. */
function* reportingProgress(snapshots: readonly MarketSnapshot[], progress: BacktestProgress): Generator<MarketSnapshot> {
  const step = Math.max(1, Math.floor(snapshots.length / 200));
  for (let i = 0; i < snapshots.length; i++) {
    if (i % step === 0) progress.update(i);
    yield snapshots[i] as MarketSnapshot;
  }
  progress.update(snapshots.length);
}

const processOutput: CliOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Runs the CLI; returns the exit code (0 done, 1 bad data, 2 bad arguments). */
export async function runBacktestCli(argv: string[], out: CliOutput = processOutput, progress: BacktestProgress | null = null): Promise<number> {
  let args: BacktestCliArgs;
  let files: DataFiles;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      out.stdout(`${USAGE}\n`);
      return 0;
    }
    args = parseBacktestArgs(argv);
    files = locateFiles(args);
    if (args.strategy === 'edge' && files.model === null) throw new UsageError(`--strategy edge: needs model estimates (model.csv beside the quotes, or --model FILE)`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    out.stderr(`${e.message}\n${USAGE}\n`);
    return 2;
  }

  try {
    const markets = parseMarketsCsv(readFileSync(files.markets, 'utf8'), { file: files.markets });
    const snapshots = parseQuotesCsv(readFileSync(files.quotes, 'utf8'), { file: files.quotes });
    let model: ModelProbabilities | null = null;
    if (args.strategy === 'edge' && files.model !== null) model = parseModelCsv(readFileSync(files.model, 'utf8'), { file: files.model });
    const { strategy, sizing } = buildStrategy(args.strategy);
    const config: BacktestConfig = {
      strategy,
      markets,
      limits: CASE_STUDY_LIMITS,
      sizing,
      fillModel: args.fillModel,
      seed: args.seed,
      timeZone: args.timeZone,
      orderTtlMs: ORDER_TTL_MS,
      ...(model !== null ? { modelProbability: (id: string, ts: number) => (model as ModelProbabilities).at(id, ts) } : {}),
    };
    const started = performance.now();
    let result;
    if (progress === null) {
      result = runBacktest(snapshots, config);
    } else {
      progress.start(snapshots.length);
      try {
        result = runBacktest(reportingProgress(snapshots, progress), config);
      } finally {
        progress.stop();
      }
    }
    const elapsedMs = performance.now() - started;
    const stats = computeBacktestStats(result);
    const paper = args.paper === null ? null : await readRunFile(args.paper, 'PAPER');
    const live = args.live === null ? null : await readRunFile(args.live, 'LIVE');

    if (args.json) {
      const { ledger: _ledger, fills: _fills, ...summary } = result;
      out.stdout(`${JSON.stringify({ files, stats, runStats: backtestRunStats(stats), paper, live, result: { ...summary, fills: result.fills.length } }, null, 2)}\n`);
      return 0;
    }
    const period = result.firstTs === null ? 'no quotes' : `${new Date(result.firstTs).toISOString()} .. ${new Date(result.lastTs as number).toISOString()}`;
    const rejections = Object.entries(result.rejectionsByRule)
      .sort((a, b) => b[1] - a[1])
      .map(([rule, n]) => `${rule} ${n}`)
      .join(', ');
    out.stdout(
      [
        `Backtest: ${strategy.name} ${JSON.stringify(strategy.params)}`,
        `Data: ${files.quotes} (${result.snapshots} quotes, ${markets.length} markets, ${period})`,
        `Seed ${args.seed}; fill model ${JSON.stringify(args.fillModel)}; order time-to-live ${ORDER_TTL_MS / 60_000} min`,
        `Replayed in ${elapsedMs.toFixed(0)} ms (${Math.round(result.snapshots / (elapsedMs / 1_000)).toLocaleString('en-US')} quotes/s)`,
        '',
        formatStatsTable(stats),
        '',
        `Risk rejections by rule: ${rejections || 'none'}`,
        '',
        'Side by side (the case study\'s tables; each change is against the stage before):',
        formatComparisonTable({ backtest: runFiguresOf(stats), paper, live }),
        '',
        ...(paper !== null || live !== null ? [''] : []),
      ].join('\n'),
    );
    if (paper !== null || live !== null) {
      const { compareStages, formatStageReport } = await import('../domain/stages');
      const reports: string[] = [];
      if (paper !== null) reports.push(formatStageReport(compareStages(paper, backtestRunStats(stats))));
      if (live !== null && paper !== null) reports.push(formatStageReport(compareStages(live, paper)));
      out.stdout(`${reports.join('\n\n')}\n`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    out.stderr(`bad data: ${e.message}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runBacktestCli(process.argv.slice(2));
}
