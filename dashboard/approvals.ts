/**
 * Levels of automation on the dashboard: the semi-automatic orders waiting for a person
 * (GET /api/approvals) and approving or rejecting one (POST /api/approve, /api/reject; the token is
 * required as for every action). As the other actions: the request is journaled under
 * `dashboard-<requestId>` before the order hears of it, a reused request ID with other content is
 * 409 and sends nothing, an exact replay answers the first outcome and sends nothing again. The
 * order workflow journals the decision itself (order-<clientOrderId> #1).
 */
import { randomUUID } from 'node:crypto';
import { loadOperatorAction, recordOperatorAction, recordOperatorActionOutcome, type Db } from '../db';
import { RecordConflict } from '../db/errors';
import { APPLIED_APPROVAL_OUTCOMES, type ApprovalDecisionKind, type ApprovalOutcome } from '../domain/automation';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { dashboardJournalKey, validateClientOrderId } from '../domain/ids';
import { formatDecimal } from '../domain/money';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../domain/operator-request';
import type { OperatorRequest, OrderApprovalAnswer } from '../workflows/api';
import type { AwaitingOrder } from '../runtime/order-approval';

/** How the dashboard reaches the order workflows (runtime/order-approval.ts); null without a Temporal client. */
export interface DashboardApprovals {
  listAwaiting(): Promise<AwaitingOrder[]>;
  decide(kind: ApprovalDecisionKind, clientOrderId: string, request: OperatorRequest): Promise<OrderApprovalAnswer>;
}

export const APPROVAL_ACTIONS = { '/api/approve': 'APPROVE', '/api/reject': 'REJECT' } as const satisfies Record<string, ApprovalDecisionKind>;

const FIELDS = ['clientOrderId', 'operator', 'reason', 'requestId'] as const;
const REQUEST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;

export interface ApprovalRequest extends OperatorRequest {
  clientOrderId: string;
  requestId: string;
}

/** Checks an approve / reject body and names every bad field, unknown ones included. */
export function parseApprovalBody(value: unknown): ApprovalRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInput([{ field: 'body', value, problem: 'must be a JSON object with clientOrderId, operator and reason' }]);
  }
  const b = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(b)) {
    if (!(FIELDS as readonly string[]).includes(k)) problems.push({ field: k, value: b[k], problem: `is not a known field (known: ${FIELDS.join(', ')})` });
  }
  let clientOrderId = '';
  try {
    clientOrderId = validateClientOrderId(b.clientOrderId);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    problems.push(...e.problems);
  }
  const text = (field: 'operator' | 'reason', max: number): string => {
    const problem = operatorTextProblem(b[field], max);
    if (problem !== null) problems.push({ field, value: b[field], problem });
    return typeof b[field] === 'string' ? b[field].trim() : '';
  };
  const operator = text('operator', MAX_OPERATOR_LENGTH);
  const reason = text('reason', MAX_REASON_LENGTH);
  let requestId: string = randomUUID();
  if (b.requestId !== undefined) {
    if (typeof b.requestId === 'string' && REQUEST_ID_RE.test(b.requestId)) requestId = b.requestId;
    else problems.push({ field: 'requestId', value: b.requestId, problem: 'must be 8-64 letters, digits or "-" (e.g. a UUID)' });
  }
  if (problems.length > 0) throw new InvalidInput(problems);
  return { clientOrderId, operator, reason, requestId };
}

/** The list for the page: prices as exact decimal strings. */
export async function approvalsPanel(approvals: DashboardApprovals | null): Promise<{ available: boolean; orders: unknown[] }> {
  if (approvals === null) return { available: false, orders: [] };
  const orders = await approvals.listAwaiting();
  return { available: true, orders: orders.map((o) => ({ ...o, limitPrice: o.limitPrice === null ? null : formatDecimal(o.limitPrice) })) };
}

export type ApprovalResponse = { status: number; body: unknown };

/**
 * Journals the request, then asks the order. 200 applied (approved and submitted, or rejected);
 * 409 refused by the order (refused by the risk check, expired, already decided), the outcome in
 * the body; 404 an order the server does not know.
 */
export async function decideFromDashboard(db: Db, approvals: DashboardApprovals, kind: ApprovalDecisionKind, request: ApprovalRequest, at: number): Promise<ApprovalResponse> {
  const journal = { workflowId: dashboardJournalKey(request.requestId), sequence: 0 };
  let recorded;
  try {
    recorded = await recordOperatorAction(db, {
      action: kind === 'APPROVE' ? 'ORDER_APPROVED' : 'ORDER_REJECTED',
      operator: request.operator,
      reason: request.reason,
      ...journal,
      details: { via: 'dashboard', request: kind === 'APPROVE' ? 'approve' : 'reject', clientOrderId: request.clientOrderId },
      at,
    });
  } catch (e) {
    if (e instanceof RecordConflict) return { status: 409, body: { error: 'RequestIdReused', message: `requestId ${request.requestId} was already used for a different action; nothing was sent` } };
    throw e;
  }
  if (!recorded.inserted) {
    const outcome = (await loadOperatorAction(db, journal))?.details.outcome ?? null;
    return { status: 200, body: { replayed: true, clientOrderId: request.clientOrderId, outcome, journal } };
  }
  let answer: OrderApprovalAnswer;
  try {
    answer = await approvals.decide(kind, request.clientOrderId, { operator: request.operator, reason: request.reason });
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const message = e instanceof Error ? e.message : String(e);
    await recordOperatorActionOutcome(db, journal, { outcome: name === 'WorkflowNotFoundError' ? 'unknown order' : `not delivered: ${message}` });
    if (name === 'WorkflowNotFoundError') return { status: 404, body: { error: 'UnknownOrder', message: `no order workflow for ${request.clientOrderId}`, journal } };
    throw e;
  }
  await recordOperatorActionOutcome(db, journal, { outcome: answer.outcome });
  const applied = APPLIED_APPROVAL_OUTCOMES.includes(answer.outcome as ApprovalOutcome);
  return { status: applied ? 200 : 409, body: { ...answer, applied, journal } };
}
