/**
 * Reconciliation on demand: start a run now (its own workflow ID, beside the scheduled ones) and
 * report how it ended, or that it halted trading and waits for an operator's decision; and
 * `reconcile decide` to give that decision. Both are journaled before they act.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { reconciliationDecisionUpdate, reconciliationStatusQuery, type ReconciliationStatus, type ReconciliationWorkflowInput } from '../../workflows/api';
import { cliReconciliationRunId } from '../../domain/ids';
import { RECONCILIATION_POLICIES, type ReconciliationPolicy } from '../../domain/reconciliation';
import type { reconciliationWorkflow } from '../../workflows/operations-workflows';
import type { CliContext } from '../context';
import { ArgumentCheck, CliError, ExitCode } from '../exit-codes';
import { json } from '../format';
import { checkChoice, checkReason, checkWhole, journalOutcome, withJson, withOperator } from './common';

const DECISIONS = ['ADOPT_VENUE', 'STAY_HALTED'] as const;
const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const POLL_MS = 500;

type Handle = WorkflowHandle<typeof reconciliationWorkflow>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh run ID (domain/ids.ts `cliReconciliationRunId`). */
export function cliRunId(now: number): string {
  return cliReconciliationRunId(now, randomUUID().slice(0, 8));
}

/** The run's status: its result once finished, else its query; null while nothing answers (no worker yet). */
async function poll(ctx: CliContext, handle: Handle): Promise<ReconciliationStatus | null> {
  const { connection } = await ctx.temporal();
  const description = await handle.describe();
  if (description.status.name === 'COMPLETED') return handle.result();
  if (description.status.name !== 'RUNNING') {
    throw new CliError(ExitCode.FAILURE, `reconciliation ${handle.workflowId} ended ${description.status.name}${description.status.name === 'FAILED' ? ' (see its history in the Temporal Web UI)' : ''}`);
  }
  try {
    return await connection.withDeadline(Date.now() + 3_000, () => handle.query(reconciliationStatusQuery));
  } catch {
    return null;
  }
}

function report(ctx: CliContext, s: ReconciliationStatus, asJson: boolean | undefined): number {
  const waiting = s.phase === 'WAITING_FOR_OPERATOR';
  if (asJson) {
    ctx.out(json({ ...s, waitsForDecision: waiting }));
    return waiting ? ExitCode.REFUSED : ExitCode.OK;
  }
  switch (s.phase) {
    case 'CLEAN':
      ctx.out(`Reconciliation ${s.runId}: clean, the records match the venue\n`);
      break;
    case 'REPORTED':
      ctx.out(`Reconciliation ${s.runId}: ${s.discrepancies} discrepancies reported, trading not halted: ${s.summary}\n`);
      break;
    case 'DECIDED':
      ctx.out(`Reconciliation ${s.runId}: decided ${s.decision?.decision ?? '?'} by ${s.decision?.operator ?? '?'} (${s.decision?.reason ?? ''})\n`);
      break;
    case 'WAITING_FOR_OPERATOR':
      ctx.out(
        `Reconciliation ${s.runId}: ${s.discrepancies} discrepancies: ${s.summary}\n` +
          `Trading is HALTED (${s.haltedSessions.length > 0 ? s.haltedSessions.join(', ') : 'no session was running'}) and the run waits for a decision:\n` +
          `  durable-trader reconcile decide --run ${s.runId} --decision ADOPT_VENUE|STAY_HALTED --reason "<why>"\n`,
      );
      break;
    case 'CHECKING':
      ctx.out(`Reconciliation ${s.runId}: still checking\n`);
      break;
  }
  return waiting ? ExitCode.REFUSED : ExitCode.OK;
}

async function waitForOutcome(ctx: CliContext, handle: Handle, waitMs: number, until: (s: ReconciliationStatus) => boolean): Promise<ReconciliationStatus | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const s = await poll(ctx, handle);
    if (s !== null && until(s)) return s;
    if (Date.now() >= deadline) return null;
    await sleep(POLL_MS);
  }
}

async function reconcileNow(ctx: CliContext, opts: { policy?: string; wait?: string; operator?: string; reason?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const policy = checkChoice<ReconciliationPolicy>(check, '--policy', opts.policy, RECONCILIATION_POLICIES);
  const waitSeconds = checkWhole(check, '--wait', opts.wait, 1, 3_600) ?? 60;
  const reason = opts.reason === undefined ? 'reconciliation run on demand from the CLI' : checkReason(check, '--reason', opts.reason);
  check.done();
  const operator = ctx.operator(opts.operator);
  const config = ctx.config();
  const input: ReconciliationWorkflowInput = { policy: policy ?? config.reconciliation.policy, reminderMs: config.reconciliation.reminderMinutes * 60_000 };
  const runId = cliRunId(ctx.io.now());
  const key = await ctx.journal({ action: 'OVERRIDE', operator, reason: reason!, details: { command: 'reconcile', runId, policy: input.policy } });
  if (!opts.json) ctx.out(`Journal: recorded as ${key} (operator ${operator}) before starting\n`);
  const { client } = await ctx.temporal();
  const handle = await client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', { taskQueue: config.temporal.taskQueue, workflowId: runId, args: [input] });
  if (!opts.json) ctx.out(`Reconciliation ${runId} started (policy ${input.policy})\n`);
  const outcome = await waitForOutcome(ctx, handle, waitSeconds * 1_000, (s) => s.phase !== 'CHECKING');
  if (outcome === null) {
    throw new CliError(
      ExitCode.FAILURE,
      `reconciliation ${runId} has no outcome after ${waitSeconds} s: is a worker polling task queue ${config.temporal.taskQueue} (npm start)? The run stays on the server and finishes when one does.`,
    );
  }
  return report(ctx, outcome, opts.json);
}

async function decide(ctx: CliContext, opts: { run?: string; decision?: string; reason?: string; wait?: string; operator?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const runId = opts.run?.trim();
  if (runId === undefined || !RUN_ID_RE.test(runId)) check.bad('--run', opts.run, 'must be the workflow ID of a reconciliation run (as printed by `reconcile` or in the alert)');
  const decision = checkChoice(check, '--decision', opts.decision, DECISIONS);
  const reason = checkReason(check, '--reason', opts.reason ?? '');
  const waitSeconds = checkWhole(check, '--wait', opts.wait, 1, 3_600) ?? 30;
  check.done();
  const operator = ctx.operator(opts.operator);
  const key = await ctx.journal({ action: 'RECONCILIATION_DECISION', operator, reason: reason!, details: { command: 'reconcile decide', runId: runId!, decision: decision! } });
  if (!opts.json) ctx.out(`Journal: recorded as ${key} (operator ${operator}) before sending\n`);
  const { client } = await ctx.temporal();
  const handle: Handle = client.workflow.getHandle(runId!);
  const before = await poll(ctx, handle);
  // A run still CHECKING keeps a decision and applies it if it halts; one that has ended takes none.
  if (before !== null && before.phase !== 'WAITING_FOR_OPERATOR' && before.phase !== 'CHECKING') {
    const why = `reconciliation ${runId} is ${before.phase}: it does not wait for a decision, nothing sent`;
    await journalOutcome(ctx, key, { outcome: `REFUSED: ${why}`, signalled: null, failed: runId! });
    throw new CliError(ExitCode.REFUSED, why);
  }
  // An update, not a signal: the run answers, and a refused decision (invalid, or the run already
  // has one) comes back with its reason instead of being dropped silently.
  try {
    const answer = await handle.executeUpdate(reconciliationDecisionUpdate, { args: [{ operator, reason: reason!, decision: decision! }] });
    // The same outcome shape as halt, resume and kill: the verdict and what it did, added to the row written first.
    await journalOutcome(ctx, key, { outcome: `APPLIED: Decision ${answer.decision} accepted by ${runId} (phase ${answer.phase})`, signalled: runId!, failed: null });
    if (!opts.json) ctx.out(`APPLIED: Decision ${answer.decision} accepted by ${runId} (phase ${answer.phase})\n`);
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      const why = e.cause instanceof Error ? e.cause.message : e.message;
      await journalOutcome(ctx, key, { outcome: `REFUSED: ${why}`.slice(0, 500), signalled: null, failed: runId! });
      throw new CliError(ExitCode.REFUSED, `reconciliation ${runId} refused the decision: ${why}`);
    }
    await journalOutcome(ctx, key, { outcome: `FAILED: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) });
    throw e;
  }
  const after = await waitForOutcome(ctx, handle, waitSeconds * 1_000, (s) => s.phase === 'DECIDED');
  if (after === null) {
    ctx.note(`the run has not applied the decision within ${waitSeconds} s; it will once a worker picks it up (check: durable-trader journal)`);
    if (opts.json) ctx.out(json({ runId, decision, sent: true, applied: false, journalKey: key }));
    return ExitCode.OK;
  }
  return report(ctx, after, opts.json);
}

export function registerReconcileCommands(program: Command, ctx: CliContext): void {
  const reconcile = withJson(withOperator(program.command('reconcile')))
    .description('reconcile the records with the venue now; prints the outcome, or that trading is halted and waits for a decision (exit 3)')
    .option('--policy <policy>', `what a mismatch does (${RECONCILIATION_POLICIES.join(', ')}; default RECONCILIATION_POLICY)`)
    .option('--wait <seconds>', 'how long to wait for the outcome (default 60)')
    .option('--reason <text>', 'why, for the journal')
    .action((opts) => ctx.run(() => reconcileNow(ctx, opts)));
  withJson(withOperator(reconcile.command('decide')))
    .description('decide a reconciliation that halted trading: adopt the venue figures, or stay halted (journaled first)')
    .requiredOption('--run <id>', 'workflow ID of the waiting run')
    .requiredOption('--decision <decision>', `${DECISIONS.join(' or ')}`)
    .requiredOption('--reason <text>', 'why (required; journaled)')
    .option('--wait <seconds>', 'how long to wait for the run to apply it (default 30)')
    .action((opts) => ctx.run(() => decide(ctx, opts)));
}
