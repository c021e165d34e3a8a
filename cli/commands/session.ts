/**
 * The trading session: start it, halt, resume, kill switch. Every control command is
 * journaled (who, why) before it acts. `status` is in status.ts.
 */
import type { Command } from 'commander';
import { ORDER_SEARCH_ATTRIBUTES } from '../../workflows/api';
import { endOfTradingDay } from '../../domain/calendar';
import { sessionWorkflowId } from '../../domain/ids';
import { ENV } from '../../runtime/config';
import type { CliContext, JournalEntry } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { json } from '../format';
import { checkDay, checkTarget, checkReason, resolveTarget, withJson, withOperator, withTarget } from './common';

interface ControlOptions {
  strategy?: string;
  day?: string;
  operator?: string;
  reason?: string;
  json?: boolean;
}

/**
 * Journals the request. A session control signal (halt, resume, kill switch) still goes out when
 * the CLI cannot write the journal, typically because the worker holds the embedded records: the
 * session journals every control signal itself, with who and why, when it applies it. Stopping
 * trading never waits on the records, and an operator can resume what they halted.
 */
async function journalFirst(ctx: CliContext, entry: JournalEntry, sessionJournalsIt: boolean): Promise<{ key: string | null; problem: string | null }> {
  try {
    return { key: await ctx.journal(entry), problem: null };
  } catch (e) {
    if (!sessionJournalsIt) throw e;
    const problem = e instanceof Error ? e.message : String(e);
    ctx.note(`warning: the journal entry could not be written (${problem}); sending the ${entry.action} anyway: the session journals it when it applies it`);
    return { key: null, problem };
  }
}

function journalLine(key: string | null, by: string): string {
  return key === null ? `Journal: NOT written by the CLI (see the warning); the workflow journals it when applied` : `Journal: recorded as ${key} (operator ${by}) before sending`;
}

async function control(ctx: CliContext, kind: 'HALT' | 'RESUME' | 'KILL_SWITCH', opts: ControlOptions & { flatten?: boolean; cancelOrders?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const target = checkTarget(check, opts);
  const reason = opts.reason === undefined && kind === 'RESUME' ? 'resumed from the CLI (no reason given)' : checkReason(check, '--reason', opts.reason ?? '');
  check.done();
  const operator = ctx.operator(opts.operator);
  const { strategy, tradingDay } = resolveTarget(ctx, target);
  const workflowId = sessionWorkflowId(strategy, tradingDay);
  const flatten = opts.flatten === true;
  const cancelOrders = kind === 'HALT' && opts.cancelOrders === true;
  const journal = await journalFirst(
    ctx,
    { action: kind, operator, reason: reason!, details: { command: kind === 'KILL_SWITCH' ? 'kill' : kind.toLowerCase(), workflowId, ...(kind === 'KILL_SWITCH' ? { flatten } : {}), ...(cancelOrders ? { cancelOrders } : {}) } },
    true,
  );
  const { client } = await ctx.temporal();
  const { signalHalt, signalKillSwitch, signalResume } = await import('../../runtime/session-control');
  const request = { operator, reason: reason! };
  if (kind === 'HALT') await signalHalt(client, workflowId, cancelOrders ? { ...request, cancelOrders } : request);
  else if (kind === 'RESUME') await signalResume(client, workflowId, request);
  else await signalKillSwitch(client, workflowId, { ...request, flatten });

  if (opts.json) {
    ctx.out(json({ command: kind, workflowId, operator, reason, ...(kind === 'KILL_SWITCH' ? { flatten } : {}), ...(kind === 'HALT' ? { cancelOrders } : {}), signalled: true, journalKey: journal.key, journalProblem: journal.problem }));
    return ExitCode.OK;
  }
  const what = kind === 'HALT' ? (cancelOrders ? 'Halt (and cancel the working orders)' : 'Halt') : kind === 'RESUME' ? 'Resume' : flatten ? 'Kill switch (cancel all open orders, then flatten every position)' : 'Kill switch (cancel all open orders)';
  ctx.out(`${what} sent to ${workflowId} by ${operator}: ${reason}\n${journalLine(journal.key, operator)}\n`);
  if (kind !== 'RESUME') ctx.out(`Check with: durable-trader status --strategy ${strategy} --day ${tradingDay}\n`);
  return ExitCode.OK;
}

async function searchAttributesRegistered(ctx: CliContext): Promise<boolean> {
  const { connection } = await ctx.temporal();
  const { compareSearchAttributes } = await import('../../runtime/temporal');
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace: ctx.config().temporal.namespace });
    const { missing, conflicting } = compareSearchAttributes(listed.customAttributes ?? {}, ORDER_SEARCH_ATTRIBUTES);
    return missing.length === 0 && conflicting.length === 0;
  } catch {
    return false;
  }
}

async function start(ctx: CliContext, opts: { day?: string; operator?: string; reason?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const day = checkDay(check, opts.day);
  const reason = opts.reason === undefined ? 'session started from the CLI' : checkReason(check, '--reason', opts.reason);
  check.done();
  const operator = ctx.operator(opts.operator);
  const config = ctx.config();
  const tradingDay = day ?? ctx.today();
  if (config.session.markets.length === 0) throw new CliError(ExitCode.USAGE, `${ENV.sessionMarkets} must name at least one market to trade (comma-separated market IDs)`);
  if (endOfTradingDay(tradingDay, config.timeZone) <= ctx.io.now()) throw new CliError(ExitCode.USAGE, `--day: ${tradingDay} has already ended in ${config.timeZone}`);
  const workflowId = sessionWorkflowId(config.session.strategy, tradingDay);
  const key = await ctx.journal({
    action: 'OVERRIDE',
    operator,
    reason: reason!,
    details: { command: 'session start', workflowId, tradingDay, markets: config.session.markets.join(',') },
  });
  const { client } = await ctx.temporal();
  const { startSession } = await import('../../runtime/session-control');
  const started = await startSession(client, config, tradingDay, await searchAttributesRegistered(ctx), ctx.io.now());
  if (opts.json) {
    ctx.out(json({ command: 'SESSION_START', ...started, tradingDay, strategy: config.session.strategy, markets: config.session.markets, operator, journalKey: key }));
    return ExitCode.OK;
  }
  ctx.out(
    started.status === 'STARTED'
      ? `Session ${workflowId} started (run ${started.runId}) on ${config.session.markets.join(', ')}\n`
      : `Session ${workflowId} already exists (one session per strategy and day): nothing started\n`,
  );
  ctx.out(`${journalLine(key, operator)}\n`);
  return ExitCode.OK;
}

export function registerSessionCommands(program: Command, ctx: CliContext): void {
  const session = program.command('session').description('the trading session of a day');
  withJson(withOperator(session.command('start')))
    .description("start the day's trading session on SESSION_MARKETS (one per strategy and day; journaled first)")
    .option('--day <YYYY-MM-DD>', 'trading day (default: today in TRADING_TIME_ZONE)')
    .option('--reason <text>', 'why, for the journal (default: "session started from the CLI")')
    .action((opts) => ctx.run(() => start(ctx, opts)));

  withJson(withOperator(withTarget(program.command('halt'))))
    .description('halt trading: no new orders until resumed (journaled first)')
    .requiredOption('--reason <text>', 'why (required; journaled and shown in the status)')
    .option('--cancel-orders', 'also cancel the working orders (the kill switch always does)')
    .action((opts: ControlOptions & { cancelOrders?: boolean }) => ctx.run(() => control(ctx, 'HALT', opts)));

  withJson(withOperator(withTarget(program.command('resume'))))
    .description('lift a manual halt (journaled first; breaker trips other than the manual halt stay)')
    .option('--reason <text>', 'why, for the journal')
    .action((opts: ControlOptions) => ctx.run(() => control(ctx, 'RESUME', opts)));

  withJson(withOperator(withTarget(program.command('kill'))))
    .description('kill switch: halt and cancel every open order; --flatten also closes every position (journaled first)')
    .requiredOption('--reason <text>', 'why (required; journaled)')
    .option('--flatten', 'also send orders that bring every position to zero')
    .action((opts: ControlOptions & { flatten?: boolean }) => ctx.run(() => control(ctx, 'KILL_SWITCH', opts)));
}
