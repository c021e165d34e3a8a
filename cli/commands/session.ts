/**
 * The trading session: start it, halt, resume, kill switch, order cancel. Every control command
 * is journaled (who, why) before it acts, sends a Workflow Update to every target with the journal
 * key, prints what each target answered and adds the answer to the journal row. `status` is in
 * status.ts.
 */
import type { Command } from 'commander';
import { ORDER_SEARCH_ATTRIBUTES } from '../../workflows/api';
import { endOfTradingDay } from '../../domain/calendar';
import { sessionWorkflowId, validateClientOrderId } from '../../domain/ids';
import { InvalidInput } from '../../domain/errors';
import { deskExitCode, journalOutcomeOf, type DeskAction, type DeskOutcome, type TargetOutcome } from '../../runtime/desk-control';
import { ENV } from '../../runtime/config';
import type { CliContext, JournalEntry } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { json, table } from '../format';
import { checkDay, checkTarget, checkReason, journalOutcome, resolveTarget, withJson, withOperator, withTarget } from './common';

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

// ---- control with an answer: halt, resume, kill and order cancel (runtime/desk-control.ts) ----

/** Runs an action journaled under `key`; a failure before any answer is added to the row (refused, or failed) and rethrown. */
async function answered(ctx: CliContext, key: string | null, act: () => Promise<DeskOutcome>): Promise<DeskOutcome> {
  let outcome: DeskOutcome;
  try {
    outcome = await act();
  } catch (e) {
    const refused = e instanceof InvalidInput || (e instanceof CliError && e.exitCode === ExitCode.REFUSED);
    await journalOutcome(ctx, key, { outcome: `${refused ? 'REFUSED' : 'FAILED'}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) });
    throw e;
  }
  await journalOutcome(ctx, key, journalOutcomeOf(outcome));
  return outcome;
}

const countsText = (t: TargetOutcome): string => {
  const parts: string[] = [];
  if (t.sessionsHalted > 0) parts.push('halted');
  if (t.sessionsResumed > 0) parts.push('resumed');
  if (t.ordersTold > 0) parts.push(`${t.ordersTold} told`);
  if (t.ordersNotSent > 0) parts.push('not sent');
  if (t.ordersCancelled > 0) parts.push(`${t.ordersCancelled} cancelled`);
  if (t.ordersKeptWorking > 0) parts.push('kept working');
  return parts.join(', ') || '-';
};

function printOutcome(ctx: CliContext, o: DeskOutcome, journal: { key: string | null; problem: string | null }, operator: string, json_: boolean | undefined): number {
  if (json_) {
    ctx.out(json({ ...o, operator, journalKey: journal.key, journalProblem: journal.problem }));
    return deskExitCode(o);
  }
  ctx.out(`${o.action} (${o.scope}) by ${operator}: ${o.summary}\n`);
  ctx.out(table([{ header: 'workflow' }, { header: 'kind' }, { header: 'found by' }, { header: 'outcome' }, { header: 'did' }, { header: 'what it said' }], o.targets.map((t) => [t.workflowId, t.kind, t.foundBy, t.outcome, countsText(t), t.reason])));
  ctx.out(`${journalLine(journal.key, operator)}${journal.key !== null ? '; outcome added' : ''}\n`);
  return deskExitCode(o);
}

async function control(ctx: CliContext, kind: DeskAction, opts: ControlOptions & { flatten?: boolean; cancelOrders?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const target = checkTarget(check, opts);
  const reason = opts.reason === undefined && kind === 'RESUME' ? 'resumed from the CLI (no reason given)' : checkReason(check, '--reason', opts.reason ?? '');
  check.done();
  const operator = ctx.operator(opts.operator);
  // --day names one session (of --strategy, else the configured one); otherwise the desk, or --strategy's part of it.
  const sessionId = target.day !== undefined ? sessionWorkflowId(resolveTarget(ctx, target).strategy, target.day) : undefined;
  const scope = sessionId ?? (target.strategy !== undefined ? `strategy ${target.strategy}` : 'desk');
  const flatten = opts.flatten === true;
  const cancelOrders = kind === 'HALT' && opts.cancelOrders === true;
  const journal = await journalFirst(
    ctx,
    { action: kind, operator, reason: reason!, details: { command: kind === 'KILL_SWITCH' ? 'kill' : kind.toLowerCase(), scope, ...(kind === 'KILL_SWITCH' ? { flatten } : {}), ...(cancelOrders ? { cancelOrders } : {}) } },
    true,
  );
  const outcome = await answered(ctx, journal.key, async () => {
    const { client } = await ctx.temporal();
    const { controlDesk } = await import('../../runtime/desk-control');
    // Visibility may not list a session started a moment ago: today's session of the configured strategy (or --strategy) is also tried by name.
    const expected = kind === 'RESUME' ? [] : [sessionWorkflowId(target.strategy ?? ctx.config().session.strategy, ctx.today())];
    return controlDesk(
      client,
      kind,
      { operator, reason: reason!, ...(journal.key !== null ? { journalKey: journal.key } : {}), ...(kind === 'KILL_SWITCH' ? { flatten } : {}), ...(cancelOrders ? { cancelOrders } : {}) },
      { ...(sessionId !== undefined ? { sessionId } : {}), ...(target.strategy !== undefined ? { strategy: target.strategy } : {}), expectedSessions: expected },
    );
  });
  return printOutcome(ctx, outcome, journal, operator, opts.json);
}

async function cancel(ctx: CliContext, opts: { order?: string; reason?: string; operator?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const clientOrderId = opts.order === undefined ? check.bad('--order', opts.order, 'is required: the client order ID') : check.try('--order', opts.order, () => validateClientOrderId(opts.order, '--order'));
  const reason = checkReason(check, '--reason', opts.reason ?? '');
  check.done();
  const operator = ctx.operator(opts.operator);
  const journal = await journalFirst(ctx, { action: 'OVERRIDE', operator, reason: reason!, details: { command: 'cancel order', clientOrderId: clientOrderId! } }, false);
  const outcome = await answered(ctx, journal.key, async () => {
    const { client } = await ctx.temporal();
    const { cancelOrder } = await import('../../runtime/desk-control');
    return cancelOrder(client, clientOrderId!, { operator, reason: reason!, ...(journal.key !== null ? { journalKey: journal.key } : {}) });
  });
  return printOutcome(ctx, outcome, journal, operator, opts.json);
}

// ---- end of control with an answer ----

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
    .description('halt the desk: every running session (no new orders until resumed) and every order not yet sent; --strategy narrows, --day names one session; prints what each answered (journaled first)')
    .requiredOption('--reason <text>', 'why (required; journaled and shown in the status)')
    .option('--cancel-orders', 'also cancel the working orders (the kill switch always does)')
    .action((opts: ControlOptions & { cancelOrders?: boolean }) => ctx.run(() => control(ctx, 'HALT', opts)));

  withJson(withOperator(withTarget(program.command('resume'))))
    .description('lift the manual halts of every running session (--strategy narrows, --day names one); a daily-loss trip stays until the daily reset (journaled first)')
    .option('--reason <text>', 'why, for the journal')
    .action((opts: ControlOptions) => ctx.run(() => control(ctx, 'RESUME', opts)));

  withJson(withOperator(withTarget(program.command('kill'))))
    .description('kill switch for the desk: halt every running session and cancel every open order; --flatten also closes every position; --strategy narrows (journaled first)')
    .requiredOption('--reason <text>', 'why (required; journaled)')
    .option('--flatten', 'also send orders that bring every position to zero')
    .action((opts: ControlOptions & { flatten?: boolean }) => ctx.run(() => control(ctx, 'KILL_SWITCH', opts)));

  withJson(withOperator(program.command('cancel')))
    .description('cancel one order: never sent if it has not left, cancelled at the venue if it works there; refused (exit 3) if already final (journaled first)')
    .requiredOption('--order <clientOrderId>', 'client order ID of the order')
    .requiredOption('--reason <text>', 'why (required; journaled)')
    .action((opts: { order?: string; reason?: string; operator?: string; json?: boolean }) => ctx.run(() => cancel(ctx, opts)));

}
