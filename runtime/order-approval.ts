/**
 * Levels of automation, the client side: the semi-automatic orders waiting for an approval, and
 * approving or rejecting one. Shared by the CLI and the dashboard. The order workflow journals
 * the decision itself (one row per order, keyed by its workflow ID), so a surface never writes a
 * second row for it.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { InvalidInput } from '../domain/errors';
import { orderWorkflowId, validateClientOrderId } from '../domain/ids';
import { APPLIED_APPROVAL_OUTCOMES, lateDecisionOutcome, type ApprovalDecisionKind } from '../domain/automation';
import type { OrderState } from '../domain/order';
import type { Price, Quantity } from '../domain/money';
import { approveOrderUpdate, orderStatusQuery, rejectOrderUpdate, type OperatorRequest, type OrderApprovalAnswer, type OrderStatus } from '../workflows/api';
import { validateOperatorRequest } from '../workflows/validation';
import { listRunning } from './desk-control';

/** An order waiting for a person's decision. */
export interface AwaitingOrder {
  clientOrderId: string;
  workflowId: string;
  marketId: string;
  side: 'BUY' | 'SELL';
  quantity: Quantity;
  limitPrice: Price | null;
  state: OrderState;
  /** Epoch ms (activity clock) when it expires unapproved. */
  deadlineAt: number | null;
}

/** Running order workflows visible to the server, at most this many asked about (the list is for people). */
const MAX_LISTED = 200;

/**
 * Every running order workflow whose status says it awaits an approval. Found through the
 * server's visibility (the built-in WorkflowType and ExecutionStatus, no custom search attribute
 * needed), then each one asked by query: the workflow is the truth of whether it still waits.
 */
export async function listAwaitingApproval(client: Client): Promise<AwaitingOrder[]> {
  const ids = await listRunning(client, 'orderWorkflow', MAX_LISTED);
  const statuses = await Promise.all(
    ids.map((id) =>
      client.workflow
        .getHandle(id)
        .query(orderStatusQuery)
        .then(
          (s) => [id, s] as const,
          () => null,
        ),
    ),
  );
  return statuses
    .filter((x): x is readonly [string, OrderStatus] => x !== null && x[1].approval?.phase === 'AWAITING')
    .map(([workflowId, s]) => ({
      clientOrderId: s.clientOrderId,
      workflowId,
      marketId: s.marketId,
      side: s.side,
      quantity: s.quantity,
      limitPrice: s.approval?.limitPrice ?? null,
      state: s.state,
      deadlineAt: s.approval?.deadlineAt ?? null,
    }))
    .sort((a, b) => (a.deadlineAt ?? 0) - (b.deadlineAt ?? 0));
}

/** The request and the order, checked together: every bad field named at once. */
function validDecision(clientOrderId: unknown, request: unknown, kind: ApprovalDecisionKind): { clientOrderId: string; request: OperatorRequest } {
  const problems = [];
  let coid = '';
  let valid: OperatorRequest = { operator: '', reason: '' };
  try {
    coid = validateClientOrderId(clientOrderId);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(...e.problems);
  }
  try {
    valid = validateOperatorRequest(request, kind === 'APPROVE' ? 'approve' : 'reject');
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return { clientOrderId: coid, request: valid };
}

/** Whether an answer means the request was applied (approved and submitted, or rejected). */
export const decisionApplied = (answer: OrderApprovalAnswer): boolean => APPLIED_APPROVAL_OUTCOMES.includes(answer.outcome);

/**
 * Approves or rejects an order and returns its answer once the workflow acted on it (an approval:
 * after the risk check ran again and the order went to the venue, or was refused). An order whose
 * workflow has ended answers from its result (EXPIRED, ALREADY_DECIDED). Throws InvalidInput for
 * a bad request (nothing sent) and WorkflowNotFoundError for an unknown order.
 */
export async function decideOrder(client: Client, kind: ApprovalDecisionKind, clientOrderId: unknown, request: unknown): Promise<OrderApprovalAnswer> {
  const valid = validDecision(clientOrderId, request, kind);
  const handle = client.workflow.getHandle(orderWorkflowId(valid.clientOrderId));
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') {
    try {
      return await handle.executeUpdate(kind === 'APPROVE' ? approveOrderUpdate : rejectOrderUpdate, { args: [valid.request] });
    } catch (e) {
      // The validator refused it (it names the field), or the workflow ended meanwhile: answered below.
      if (e instanceof WorkflowUpdateFailedError) throw InvalidInput.of(kind === 'APPROVE' ? 'approve' : 'reject', valid.request, e.cause instanceof Error ? e.cause.message : e.message);
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  }
  return endedAnswer(client, valid.clientOrderId);
}

/** The answer of an order whose workflow has ended: what happened to it first. */
async function endedAnswer(client: Client, clientOrderId: string): Promise<OrderApprovalAnswer> {
  const handle = client.workflow.getHandle(orderWorkflowId(clientOrderId));
  const status = await handle.result().then(
    (s: OrderStatus) => s,
    () => null,
  );
  if (status === null) return { clientOrderId, outcome: 'ALREADY_DECIDED', state: 'REJECTED', reason: 'the order workflow did not complete normally' };
  const phase = status.approval?.phase ?? 'NOT_REQUIRED';
  const outcome = phase === 'AWAITING' ? 'ALREADY_DECIDED' : lateDecisionOutcome(phase);
  return { clientOrderId, outcome, state: status.state, reason: status.rejectReason };
}
