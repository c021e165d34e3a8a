/**
 * Operator control over the whole desk, with an answer: halt, resume and the kill switch reach
 * every running trading session (every strategy, or the one `strategy` names) and, for halt and
 * kill, every order workflow in flight; cancel reaches one order. Each target gets a Workflow
 * Update (workflows/api.ts) and answers what it did; the answers are gathered per target with
 * totals, and `deskExitCode` turns them into the CLI's exit code.
 *
 * Targets are found through visibility on built-in attributes only (`WorkflowType` and
 * `ExecutionStatus`, which work whether or not the custom search attributes are registered), and
 * narrowed by the workflow ID, which always carries the strategy (domain/ids.ts); the custom
 * `TradingStrategy` attribute is set only on workflows started while it was registered. So near
 * midnight a halt reaches the session that is actually running, whatever day it is named for.
 * Visibility is eventually consistent: a session started a moment ago may not be listed yet, so a
 * halt also names the sessions the caller expects by name (today's), and says how each was found.
 *
 * Sessions and the orders in flight are reached at once (each answer may take a while: a cancel
 * waits until it went to the venue), then the orders listed after the sessions answered that were
 * not listed before, so an order a session started meanwhile is reached too (or was told by its session).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { InvalidInput } from '../domain/errors';
import { clientOrderIdFromWorkflowId, isSessionWorkflowId, isStrategyClientOrderId, orderSequencesOf, orderWorkflowId, parseSessionWorkflowId, validateKey } from '../domain/ids';
import {
  cancelOrderUpdate,
  cancelOrderSignal,
  haltOrderSignal,
  haltOrderUpdate,
  haltSessionUpdate,
  haltSignal,
  killSwitchSignal,
  killSwitchUpdate,
  resumeSessionUpdate,
  resumeSignal,
  type ControlAction,
  type ControlOutcome,
  type ControlRequest,
} from '../workflows/api';
import { validateControlRequest } from '../workflows/validation';

export type DeskAction = 'HALT' | 'RESUME' | 'KILL_SWITCH';

export interface DeskRequest extends ControlRequest {
  /** HALT: also cancel the working orders (the orders get a cancel rather than a halt). */
  cancelOrders?: boolean;
  /** KILL_SWITCH: also flatten every position. */
  flatten?: boolean;
}

export interface DeskScope {
  /** Only this strategy's sessions and orders; absent: every strategy. */
  strategy?: string;
  /** Only this session and the orders it started (a session named by strategy and day). */
  sessionId?: string;
  /** Session workflow IDs to reach even when visibility does not list them yet (today's session, by name). */
  expectedSessions?: readonly string[];
  /** Longest wait for one target's answer (default 60 s). */
  answerTimeoutMs?: number;
}

/** What one target answered. UNREACHABLE: no answer (it may still apply it); ENDED: it finished before the request arrived. */
export interface TargetOutcome extends Omit<ControlOutcome, 'outcome'> {
  kind: 'session' | 'order';
  outcome: ControlOutcome['outcome'] | 'UNREACHABLE' | 'ENDED';
  /** How the target was found: listed by visibility, or by the name the caller expected. */
  foundBy: 'visibility' | 'name';
}

export interface DeskTotals {
  sessionsReached: number;
  sessionsHalted: number;
  sessionsResumed: number;
  ordersReached: number;
  ordersTold: number;
  ordersNotSent: number;
  ordersCancelled: number;
  ordersKeptWorking: number;
  refused: number;
  unreachable: number;
  ended: number;
}

/**
 * The answer to one desk action. APPLIED: every session reached took it (some orders may have
 * refused, e.g. already final); REFUSED: nothing took it (nothing running, or every target
 * refused); UNREACHABLE: some target did not answer.
 */
export interface DeskOutcome {
  action: DeskAction | 'CANCEL_ORDER';
  outcome: 'APPLIED' | 'REFUSED' | 'UNREACHABLE';
  scope: string;
  journalKey: string | null;
  /** One line for people and the journal. */
  summary: string;
  targets: TargetOutcome[];
  totals: DeskTotals;
}

const DEFAULT_ANSWER_TIMEOUT_MS = 60_000;

/** What a journal row keeps of an answer (OPERATOR_OUTCOME_KEYS): the verdict with its summary, what was reached, what was not. */
export function journalOutcomeOf(o: DeskOutcome): { outcome: string; signalled: string | null; failed: string | null } {
  const reached = o.targets.filter((t) => t.outcome === 'APPLIED').map((t) => t.workflowId);
  const missed = o.targets.filter((t) => t.outcome === 'REFUSED' || t.outcome === 'UNREACHABLE').map((t) => `${t.workflowId}: ${t.outcome} ${t.reason}`);
  return { outcome: o.summary.slice(0, 500), signalled: reached.join(',') || null, failed: missed.join('; ').slice(0, 2_000) || null };
}

/** Exit code of a desk outcome: 0 applied, 3 refused, 1 when some target could not be reached. */
export function deskExitCode(o: Pick<DeskOutcome, 'outcome'>): 0 | 1 | 3 {
  return o.outcome === 'APPLIED' ? 0 : o.outcome === 'REFUSED' ? 3 : 1;
}

/**
 * IDs of the running workflows of a type, through visibility's built-in attributes (no custom
 * search attribute needed), at most `limit`. The one listing the desk control, the approvals list
 * and the desk status share.
 */
export async function listRunning(client: Client, workflowType: 'sessionWorkflow' | 'orderWorkflow', limit = Number.POSITIVE_INFINITY): Promise<string[]> {
  const ids: string[] = [];
  if (limit <= 0) return ids;
  for await (const w of client.workflow.list({ query: `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running'` })) {
    ids.push(w.workflowId);
    if (ids.length >= limit) break;
  }
  return ids;
}

/** Running session workflow IDs, narrowed to a strategy by the ID. */
export async function runningSessions(client: Client, strategy?: string): Promise<string[]> {
  return (await listRunning(client, 'sessionWorkflow')).filter((id) => isSessionWorkflowId(id) && (strategy === undefined || parseSessionWorkflowId(id).strategy === strategy)).sort();
}

/** Running order workflow IDs, narrowed to a strategy by the client order ID. */
export async function runningOrders(client: Client, strategy?: string): Promise<string[]> {
  const orders: string[] = [];
  for (const id of await listRunning(client, 'orderWorkflow')) {
    let clientOrderId: string;
    try {
      clientOrderId = clientOrderIdFromWorkflowId(id);
    } catch (e) {
      if (e instanceof InvalidInput) continue;
      throw e;
    }
    if (strategy === undefined || isStrategyClientOrderId(strategy, clientOrderId)) orders.push(id);
  }
  return orders.sort();
}

async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The update's refusal (its validator, or its handler) in the words the workflow gave. */
function refusalOf(e: WorkflowUpdateFailedError): string {
  return e.cause?.message ?? e.message;
}

/** A worker without the update handler (an older build) rejects the update by name. */
const noHandler = (e: WorkflowUpdateFailedError): boolean => /no registered handler|unknown update|not registered/i.test(refusalOf(e));

/** The workflow finished before the request reached it. */
const hasEnded = (e: unknown): boolean => e instanceof WorkflowNotFoundError || /already completed|workflow execution not found|not found/i.test(messageOf(e));

function blank(kind: TargetOutcome['kind'], action: ControlAction, workflowId: string, foundBy: TargetOutcome['foundBy'], journalKey: string | null): Omit<TargetOutcome, 'outcome' | 'reason'> {
  return { kind, action, workflowId, foundBy, journalKey, sessionsHalted: 0, sessionsResumed: 0, ordersTold: 0, ordersNotSent: 0, ordersCancelled: 0, ordersKeptWorking: 0, stateAfter: null };
}

/**
 * Sends one control update and returns the target's answer. An update the worker does not know
 * (an older build) goes out as the old signal instead, answered only as "sent".
 */
async function reach(
  client: Client,
  target: { kind: TargetOutcome['kind']; action: ControlAction; workflowId: string; foundBy: TargetOutcome['foundBy'] },
  request: DeskRequest,
  timeoutMs: number,
): Promise<TargetOutcome> {
  const handle = client.workflow.getHandle(target.workflowId);
  const base = blank(target.kind, target.action, target.workflowId, target.foundBy, request.journalKey ?? null);
  const update = {
    HALT: haltSessionUpdate,
    RESUME: resumeSessionUpdate,
    KILL_SWITCH: killSwitchUpdate,
    CANCEL_ORDER: cancelOrderUpdate,
    HALT_ORDER: haltOrderUpdate,
  }[target.action];
  try {
    const answer = await client.connection.withDeadline(Date.now() + timeoutMs, () => handle.executeUpdate(update, { args: [request] }));
    return { ...answer, kind: target.kind, foundBy: target.foundBy };
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      if (!noHandler(e)) return { ...base, outcome: 'REFUSED', reason: refusalOf(e) };
      return signalInstead(client, base, request);
    }
    if (hasEnded(e)) return { ...base, outcome: 'ENDED', reason: 'the workflow ended before the request reached it' };
    return { ...base, outcome: 'UNREACHABLE', reason: `no answer: ${messageOf(e)} (it may still apply the request once a worker runs it)` };
  }
}

async function signalInstead(client: Client, base: Omit<TargetOutcome, 'outcome' | 'reason'>, request: DeskRequest): Promise<TargetOutcome> {
  const handle = client.workflow.getHandle(base.workflowId);
  const who = { operator: request.operator, reason: request.reason };
  try {
    if (base.action === 'HALT') await handle.signal(haltSignal, request.cancelOrders === true ? { ...who, cancelOrders: true } : who);
    else if (base.action === 'RESUME') await handle.signal(resumeSignal, who);
    else if (base.action === 'KILL_SWITCH') await handle.signal(killSwitchSignal, { ...who, flatten: request.flatten ?? false });
    else if (base.action === 'CANCEL_ORDER') await handle.signal(cancelOrderSignal, who);
    else await handle.signal(haltOrderSignal, who);
    return { ...base, outcome: 'APPLIED', reason: 'sent as a signal (the worker runs a build without control updates): no answer; the workflow journals it' };
  } catch (e) {
    if (hasEnded(e)) return { ...base, outcome: 'ENDED', reason: 'the workflow ended before the request reached it' };
    return { ...base, outcome: 'UNREACHABLE', reason: `no answer: ${messageOf(e)}` };
  }
}

function totalsOf(targets: readonly TargetOutcome[]): DeskTotals {
  const t: DeskTotals = { sessionsReached: 0, sessionsHalted: 0, sessionsResumed: 0, ordersReached: 0, ordersTold: 0, ordersNotSent: 0, ordersCancelled: 0, ordersKeptWorking: 0, refused: 0, unreachable: 0, ended: 0 };
  for (const o of targets) {
    if (o.outcome === 'APPLIED') {
      if (o.kind === 'session') t.sessionsReached++;
      else t.ordersReached++;
    }
    if (o.outcome === 'REFUSED') t.refused++;
    if (o.outcome === 'UNREACHABLE') t.unreachable++;
    if (o.outcome === 'ENDED') t.ended++;
    t.sessionsHalted += o.sessionsHalted;
    t.sessionsResumed += o.sessionsResumed;
    t.ordersTold += o.ordersTold;
    t.ordersNotSent += o.ordersNotSent;
    t.ordersCancelled += o.ordersCancelled;
    t.ordersKeptWorking += o.ordersKeptWorking;
  }
  return t;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function summarize(action: DeskOutcome['action'], outcome: DeskOutcome['outcome'], t: DeskTotals, nothing: string | null): string {
  if (nothing !== null) return nothing;
  const parts: string[] = [];
  if (action === 'CANCEL_ORDER') {
    if (t.ordersNotSent > 0) parts.push('never sent');
    if (t.ordersCancelled > 0) parts.push('cancel sent to the venue');
  } else {
    parts.push(`${plural(t.sessionsReached, 'session')} reached`);
    if (action === 'RESUME') parts.push(`${t.sessionsResumed} resumed`);
    else parts.push(`${t.sessionsHalted} newly halted`);
    if (action !== 'RESUME') {
      parts.push(`${plural(t.ordersReached, 'order')} in flight reached`);
      parts.push(`${t.ordersNotSent} not sent`);
      parts.push(`${t.ordersCancelled} cancelled at the venue`);
      if (t.ordersKeptWorking > 0) parts.push(`${t.ordersKeptWorking} kept working`);
    }
  }
  if (t.refused > 0) parts.push(`${t.refused} refused`);
  if (t.ended > 0) parts.push(`${t.ended} ended before the request arrived`);
  if (t.unreachable > 0) parts.push(`${t.unreachable} UNREACHABLE`);
  return `${outcome}: ${parts.join(', ')}`;
}

function verdict(targets: readonly TargetOutcome[]): DeskOutcome['outcome'] {
  if (targets.some((o) => o.outcome === 'UNREACHABLE')) return 'UNREACHABLE';
  const sessions = targets.filter((o) => o.kind === 'session' && o.outcome !== 'ENDED');
  const counted = sessions.length > 0 ? sessions : targets.filter((o) => o.outcome !== 'ENDED');
  return counted.some((o) => o.outcome === 'APPLIED') ? 'APPLIED' : 'REFUSED';
}

/**
 * Halt, resume or kill the desk (or one strategy). The request is validated first (a bad one is
 * an InvalidInput naming the field; nothing is sent). Resume reaches the sessions only.
 */
export async function controlDesk(client: Client, action: DeskAction, request: DeskRequest, scope: DeskScope = {}): Promise<DeskOutcome> {
  const flags = action === 'HALT' ? (['cancelOrders'] as const) : action === 'KILL_SWITCH' ? (['flatten'] as const) : ([] as const);
  const valid = validateControlRequest(request, action === 'HALT' ? 'halt' : action === 'RESUME' ? 'resume' : 'killSwitch', flags);
  const one = scope.sessionId === undefined ? null : { workflowId: scope.sessionId, ...parseSessionWorkflowId(scope.sessionId) };
  const strategy = one !== null ? one.strategy : scope.strategy === undefined ? undefined : validateKey(scope.strategy, 'strategy');
  const timeoutMs = scope.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
  const listed = (await runningSessions(client, strategy)).filter((id) => one === null || id === one.workflowId);
  const sessions: { workflowId: string; foundBy: TargetOutcome['foundBy'] }[] = listed.map((workflowId) => ({ workflowId, foundBy: 'visibility' }));
  for (const expected of one !== null ? [one.workflowId] : (scope.expectedSessions ?? [])) {
    if (listed.includes(expected) || sessions.some((s) => s.workflowId === expected) || (strategy !== undefined && parseSessionWorkflowId(expected).strategy !== strategy)) continue;
    if (await isRunning(client, expected)) sessions.push({ workflowId: expected, foundBy: 'name' });
  }
  const targets: TargetOutcome[] = [];
  if (action === 'RESUME') {
    targets.push(...(await Promise.all(sessions.map((s) => reach(client, { kind: 'session', action, ...s }, valid, timeoutMs)))));
  } else {
    const orderAction: ControlAction = action === 'KILL_SWITCH' || valid.cancelOrders === true ? 'CANCEL_ORDER' : 'HALT_ORDER';
    const orderRequest: ControlRequest = { operator: valid.operator, reason: action === 'KILL_SWITCH' ? `kill switch: ${valid.reason}` : valid.reason, ...(valid.journalKey !== undefined ? { journalKey: valid.journalKey } : {}) };
    const ordersInScope = async () => (await runningOrders(client, strategy)).filter((id) => one === null || orderSequencesOf(one.strategy, one.tradingDay, [clientOrderIdFromWorkflowId(id)]).length > 0);
    // An order that reached a final state before the request (its workflow still finishing) refuses a
    // cancel for itself; across the desk it simply ended first, which is no refusal of the action.
    const endedFirst = (t: TargetOutcome): TargetOutcome => (t.outcome === 'REFUSED' && t.stateAfter !== null ? { ...t, outcome: 'ENDED' } : t);
    const toOrders = async (ids: readonly string[]) =>
      (await Promise.all(ids.map((workflowId) => reach(client, { kind: 'order', action: orderAction, workflowId, foundBy: 'visibility' }, orderRequest, timeoutMs)))).map(endedFirst);
    // Sessions and the orders already in flight at once (each may wait for its answer); then the
    // orders a session started before it took the request, listed once the sessions have answered.
    const first = await ordersInScope();
    const [sessionAnswers, orderAnswers] = await Promise.all([Promise.all(sessions.map((s) => reach(client, { kind: 'session', action, ...s }, valid, timeoutMs))), toOrders(first)]);
    const later = (await ordersInScope()).filter((id) => !first.includes(id));
    targets.push(...sessionAnswers, ...orderAnswers, ...(await toOrders(later)));
  }
  const totals = totalsOf(targets);
  const what = one !== null ? one.workflowId : strategy === undefined ? 'every strategy' : `strategy ${strategy}`;
  const nothing = targets.every((o) => o.outcome === 'ENDED') ? `REFUSED: nothing running for ${what}: no session or order was ${action === 'RESUME' ? 'resumed' : 'halted'}` : null;
  const outcome = nothing !== null ? 'REFUSED' : verdict(targets);
  return { action, outcome, scope: what, journalKey: valid.journalKey ?? null, summary: summarize(action, outcome, totals, nothing), targets, totals };
}

/** Cancels one order, with its answer: REFUSED when it is already final. */
export async function cancelOrder(client: Client, clientOrderId: string, request: ControlRequest, scope: Pick<DeskScope, 'answerTimeoutMs'> = {}): Promise<DeskOutcome> {
  const valid = validateControlRequest(request, 'cancelOrder');
  const workflowId = orderWorkflowId(clientOrderId);
  const target = await reach(client, { kind: 'order', action: 'CANCEL_ORDER', workflowId, foundBy: 'name' }, valid, scope.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
  const outcome: DeskOutcome['outcome'] = target.outcome === 'ENDED' ? 'REFUSED' : target.outcome;
  const totals = totalsOf([target]);
  const summary = outcome === 'APPLIED' ? `APPLIED: ${target.reason}` : outcome === 'REFUSED' ? `REFUSED: ${target.outcome === 'ENDED' ? 'no order workflow is running under that ID (it ended, or never started)' : target.reason}` : `UNREACHABLE: ${target.reason}`;
  return { action: 'CANCEL_ORDER', outcome, scope: workflowId, journalKey: valid.journalKey ?? null, summary, targets: [target], totals };
}
