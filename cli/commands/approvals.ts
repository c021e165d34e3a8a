/**
 * Levels of automation: the semi-automatic orders waiting for a person (`approvals`), and
 * `approve` / `reject` of one. The order workflow answers (an approval after the risk check ran
 * again) and journals the decision itself, one row per order. Exit 0: applied (approved and
 * submitted, or rejected); 3: refused (refused by the risk check, already expired, already decided).
 */
import type { Command } from 'commander';
import type { ApprovalDecisionKind } from '../../domain/automation';
import type { OrderApprovalAnswer } from '../../workflows/api';
import type { CliContext } from '../context';
import { ArgumentCheck, ExitCode } from '../exit-codes';
import { decimal, isoTime, json, price, table, time } from '../format';
import { checkReason, withJson, withOperator } from './common';

interface DecisionOptions {
  reason?: string;
  operator?: string;
  json?: boolean;
}

const OUTCOME_TEXT: Record<OrderApprovalAnswer['outcome'], string> = {
  SUBMITTED: 'approved: the risk check passed again and the order went to the venue (its state says how it stands)',
  REFUSED_BY_RISK: 'approved, but the risk check at approval refused it: never sent',
  REJECTED: 'rejected: never sent',
  EXPIRED: 'refused: the order had already expired unapproved (never sent)',
  ALREADY_DECIDED: 'refused: the order was already decided (or halted, or cancelled)',
  NOT_AWAITING: 'refused: the order does not wait for an approval (not semi-automatic)',
};

async function listApprovals(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const { client } = await ctx.temporal();
  const { listAwaitingApproval } = await import('../../runtime/order-approval');
  const waiting = await listAwaitingApproval(client);
  if (opts.json) {
    ctx.out(json(waiting.map((o) => ({ ...o, limitPrice: decimal(o.limitPrice), deadlineAt: isoTime(o.deadlineAt) }))));
    return ExitCode.OK;
  }
  ctx.out(`Orders awaiting approval (AUTOMATION_LEVEL=semi-auto): ${waiting.length}\n`);
  ctx.out(
    table(
      [{ header: 'client order ID' }, { header: 'market' }, { header: 'side' }, { header: 'qty', align: 'right' }, { header: 'limit', align: 'right' }, { header: 'expires (UTC)' }],
      waiting.map((o) => [o.clientOrderId, o.marketId, o.side, String(o.quantity), price(o.limitPrice), time(o.deadlineAt)]),
    ),
  );
  if (waiting.length > 0) ctx.out('Decide with: durable-trader approve <client order ID> --reason "..."  (or reject)\n');
  return ExitCode.OK;
}

async function decide(ctx: CliContext, kind: ApprovalDecisionKind, clientOrderId: string, opts: DecisionOptions): Promise<number> {
  const check = new ArgumentCheck();
  const reason = checkReason(check, '--reason', opts.reason ?? '');
  check.done();
  const operator = ctx.operator(opts.operator);
  const { client } = await ctx.temporal();
  const { decideOrder, decisionApplied } = await import('../../runtime/order-approval');
  const answer = await decideOrder(client, kind, clientOrderId, { operator, reason: reason! });
  const applied = decisionApplied(answer);
  if (opts.json) ctx.out(json({ command: kind === 'APPROVE' ? 'approve' : 'reject', operator, requestReason: reason, applied, ...answer }));
  else {
    ctx.out(`${answer.clientOrderId}: ${OUTCOME_TEXT[answer.outcome]} (order ${answer.state})\n`);
    if (answer.reason !== null) ctx.out(`Reason: ${answer.reason}\n`);
    ctx.out(`Journal: the order workflow records the decision (order-${answer.clientOrderId} #1); see durable-trader journal\n`);
  }
  return applied ? ExitCode.OK : ExitCode.REFUSED;
}

export function registerApprovalCommands(program: Command, ctx: CliContext): void {
  withJson(program.command('approvals'))
    .description('list the semi-automatic orders waiting for an approval (AUTOMATION_LEVEL=semi-auto), soonest deadline first')
    .action((opts: { json?: boolean }) => ctx.run(() => listApprovals(ctx, opts)));

  withJson(withOperator(program.command('approve')))
    .description('approve a waiting order: the risk check runs again, then it is sent (exit 3 when refused: by the risk check, expired, already decided)')
    .argument('<clientOrderId>', 'the order, as `approvals` lists it')
    .requiredOption('--reason <text>', 'why (required; journaled with the order)')
    .action((clientOrderId: string, opts: DecisionOptions) => ctx.run(() => decide(ctx, 'APPROVE', clientOrderId, opts)));

  withJson(withOperator(program.command('reject')))
    .description('reject a waiting order: it ends REJECTED and is never sent (exit 3 when it had already expired or been decided)')
    .argument('<clientOrderId>', 'the order, as `approvals` lists it')
    .requiredOption('--reason <text>', 'why (required; journaled with the order)')
    .action((clientOrderId: string, opts: DecisionOptions) => ctx.run(() => decide(ctx, 'REJECT', clientOrderId, opts)));
}
