/**
 * Levels of automation on the dashboard: the list of orders awaiting approval, and approve /
 * reject with the token, every bad field named, the request journaled under its request ID before
 * the order hears of it, a replay answered without acting twice, a reused ID refused (409).
 * The order side is a stand-in here; server-automation.test.ts proves the real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperatorActions, openDatabase, type Database } from '../../db';
import type { OperatorRequest, OrderApprovalAnswer } from '../../workflows/api';
import type { ApprovalDecisionKind } from '../../domain/automation';
import type { Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { parseApprovalBody, type DashboardApprovals } from '../../dashboard/approvals';
import { startDashboard, type RunningDashboard } from '../../dashboard/server';

const TOKEN = 'approvals-test-token-0123456789';
const NOW = 1_765_000_000_000;
const WAITING = 'mr-20260105-000004';

let database: Database;
const decisions: { kind: ApprovalDecisionKind; clientOrderId: string; request: OperatorRequest }[] = [];
let outcomeNext: OrderApprovalAnswer['outcome'] = 'SUBMITTED';
const approvals: DashboardApprovals = {
  listAwaiting: async () => [
    { clientOrderId: WAITING, workflowId: `order-${WAITING}`, marketId: 'PX-A', side: 'BUY', quantity: 10 as Quantity, limitPrice: 430_000 as Price, state: 'CREATED', deadlineAt: NOW + 300_000 },
  ],
  decide: async (kind, clientOrderId, request) => {
    decisions.push({ kind, clientOrderId, request });
    if (clientOrderId === 'mr-20260105-000099') throw Object.assign(new Error('workflow not found'), { name: 'WorkflowNotFoundError' });
    return { clientOrderId, outcome: outcomeNext, state: outcomeNext === 'SUBMITTED' ? 'SUBMITTED' : 'REJECTED', reason: outcomeNext === 'REFUSED_BY_RISK' ? 'approved by ann, then refused by the risk check at approval' : null };
  },
};
const dashboards: RunningDashboard[] = [];

async function dashboard(overrides: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<RunningDashboard> {
  const d = await startDashboard({ db: database.db, limits: CASE_STUDY_LIMITS, temporal: null, approvals, token: TOKEN, temporalUiUrl: 'http://ui.local', port: 0, clock: () => NOW, log: () => {}, ...overrides });
  dashboards.push(d);
  return d;
}

const post = (d: RunningDashboard, path: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }) =>
  fetch(d.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const answerOf = async (res: Response): Promise<any> => res.json();

beforeAll(async () => {
  database = await openDatabase({ kind: 'pglite', dataDir: null });
});

afterAll(async () => {
  await Promise.all(dashboards.map((d) => d.close()));
  await database?.close();
});

describe('orders awaiting approval on the dashboard', () => {
  const body = { clientOrderId: WAITING, operator: 'ann', reason: 'checked the book' };

  it('lists them with prices as exact decimal strings; without a Temporal client the panel says so', async () => {
    const d = await dashboard();
    const list = await answerOf(await fetch(`${d.url}/api/approvals`));
    expect(list).toEqual({ available: true, orders: [expect.objectContaining({ clientOrderId: WAITING, limitPrice: '0.43', deadlineAt: NOW + 300_000 })] });
    const off = await dashboard({ approvals: null });
    expect(await answerOf(await fetch(`${off.url}/api/approvals`))).toEqual({ available: false, orders: [] });
    const refused = await post(off, '/api/approve', body);
    expect(refused.status).toBe(503);
  });

  it('needs the token: missing 401, wrong 403; nothing is sent or journaled', async () => {
    const d = await dashboard();
    expect((await post(d, '/api/approve', body, { 'Content-Type': 'application/json' })).status).toBe(401);
    expect((await post(d, '/api/reject', body, { Authorization: `Bearer ${TOKEN}x`, 'Content-Type': 'application/json' })).status).toBe(403);
    expect((await fetch(`${d.url}/api/approve`)).status).toBe(405);
    expect(decisions).toEqual([]);
    expect(await listOperatorActions(database.db)).toEqual([]);
  });

  it('names every bad field at once, unknown ones included, and sends nothing', async () => {
    const d = await dashboard();
    const res = await post(d, '/api/approve', { clientOrderId: 'x y', operator: '', reason: 'ok\u001b[2K', requestId: 'no', extra: 1 });
    expect(res.status).toBe(400);
    expect((await answerOf(res)).problems.map((p: { field: string }) => p.field).sort()).toEqual(['clientOrderId', 'extra', 'operator', 'reason', 'requestId']);
    expect(() => parseApprovalBody(null)).toThrow(/body: must be a JSON object/);
    expect(decisions).toEqual([]);
  });

  it('approves (200 with the outcome), journals the request once, and a replay acts no second time', async () => {
    const d = await dashboard();
    const requestId = 'approve-request-0001';
    const res = await post(d, '/api/approve', { ...body, requestId });
    expect(res.status).toBe(200);
    expect(await answerOf(res)).toMatchObject({ clientOrderId: WAITING, outcome: 'SUBMITTED', applied: true, journal: { workflowId: `dashboard-${requestId}`, sequence: 0 } });
    expect(decisions).toEqual([{ kind: 'APPROVE', clientOrderId: WAITING, request: { operator: 'ann', reason: 'checked the book' } }]);
    const replay = await post(d, '/api/approve', { ...body, requestId });
    expect(replay.status).toBe(200);
    expect(await answerOf(replay)).toMatchObject({ replayed: true, outcome: 'SUBMITTED' });
    expect(decisions).toHaveLength(1);
    const reused = await post(d, '/api/reject', { ...body, requestId });
    expect(reused.status).toBe(409);
    expect((await answerOf(reused)).error).toBe('RequestIdReused');
    expect(decisions).toHaveLength(1);
    expect(await listOperatorActions(database.db)).toEqual([
      expect.objectContaining({ action: 'ORDER_APPROVED', operator: 'ann', workflowId: `dashboard-${requestId}`, details: { via: 'dashboard', request: 'approve', clientOrderId: WAITING, outcome: 'SUBMITTED' } }),
    ]);
  });

  it('a refusal by the order (risk at approval, expired) is 409 with the outcome and reason; an unknown order 404', async () => {
    const d = await dashboard();
    outcomeNext = 'REFUSED_BY_RISK';
    try {
      const res = await post(d, '/api/approve', body);
      expect(res.status).toBe(409);
      expect(await answerOf(res)).toMatchObject({ outcome: 'REFUSED_BY_RISK', applied: false, reason: expect.stringMatching(/risk check at approval/) });
    } finally {
      outcomeNext = 'SUBMITTED';
    }
    const unknown = await post(d, '/api/reject', { ...body, clientOrderId: 'mr-20260105-000099' });
    expect(unknown.status).toBe(404);
    expect((await listOperatorActions(database.db, { action: 'ORDER_REJECTED' }))[0]).toMatchObject({ details: { outcome: 'unknown order' } });
  });
});
