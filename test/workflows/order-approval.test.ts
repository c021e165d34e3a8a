/**
 * Levels of automation, the order's side: a semi-automatic order waits for an approval after its
 * risk check, runs the check again when approved, and otherwise ends unsent (rejected, refused,
 * expired, halted). Driven without a server (virtual time, recording activities); the same object
 * runs inside orderWorkflow (server-automation.test.ts proves it there).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertRequest, OperatorAction, OrderActivities } from '../../contracts/activities';
import type { OrderApprovalAnswer, OrderWorkflowInput } from '../../workflows/api';
import { InvalidInput } from '../../domain/errors';
import { px, type Quantity } from '../../domain/money';
import { ORDER_PATCHES, OrderLifecycle, type LifecycleEnv } from '../../workflows/order-lifecycle';
import { validateOrderWorkflowInput } from '../../workflows/validation';
import { MAX_OPERATOR_LENGTH, MAX_REASON_LENGTH, operatorTextProblem } from '../../domain/operator-request';
import { VirtualTime } from './virtual-time';
import { anyJson, hostileString, runs, wrongTyped } from '../sweeps/support';

const COID = 'ema-20261121-000007';
const MINUTE = 60_000;
const ann = { operator: 'ann', reason: 'looks right' };

class Failure extends Error {
  constructor(readonly type: string) {
    super(`${type} failure`);
  }
}

function harness(overrides: Partial<OrderWorkflowInput> = {}, envOverrides: Partial<LifecycleEnv> = {}) {
  const time = new VirtualTime();
  const calls: string[] = [];
  const alerts: AlertRequest[] = [];
  const journal: OperatorAction[] = [];
  const patchesAsked: string[] = [];
  /** Set to a message to make the risk check refuse from then on (the world moved). */
  const risk = { refusal: null as string | null, assessments: 0, during: null as (() => void) | null };
  let placed = 0;
  const input: OrderWorkflowInput = {
    order: { clientOrderId: COID, marketId: 'PRES-2028', side: 'BUY', quantity: 10 as Quantity, limitPrice: px(0.43) },
    context: { strategy: 'ema', sessionWorkflowId: null, tradingDay: '2026-11-21', signal: { price: px(0.43), confidence: 0.6, at: time.now, metadata: {} } },
    ttlMs: 600_000,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
    automation: { level: 'semi-auto', approvalTimeoutMs: 5 * MINUTE },
    ...overrides,
  };
  const acts: OrderActivities = {
    assessOrder: async () => {
      calls.push('assessOrder');
      risk.assessments++;
      risk.during?.();
      if (risk.refusal !== null) return { approved: false, violations: [{ rule: 'POSITION_SIZE', limit: 10, observed: 20, message: risk.refusal }], at: time.now };
      return { approved: true, violations: [], at: time.now };
    },
    recordOrder: async (o) => void calls.push(`recordOrder:${o.state}`),
    submitOrder: async () => {
      calls.push('submitOrder');
      placed++;
      return { outcome: 'ACCEPTED', venueOrderId: `V-${COID}`, status: 'OPEN', at: time.now };
    },
    lookupOrder: async () => ({ found: false, at: time.now }),
    syncFills: async () => ({ pages: 1, fillsSeen: 0, fillsInserted: 0 }),
    pollOrder: async (id) => ({
      venueOrderId: `V-${id}`,
      status: 'FILLED',
      rejectReason: null,
      fills: [{ tradeId: 'T-1', clientOrderId: id, marketId: 'PRES-2028', side: 'BUY', quantity: 10 as Quantity, price: px(0.43), fee: 0 as never, ts: time.now }],
      at: time.now,
    }),
    cancelOrder: async () => ({ status: 'CANCELED', at: time.now }),
    recordExecution: async () => void calls.push('recordExecution'),
    raiseAlert: async (a) => {
      alerts.push(a);
      return { sent: true, reason: 'SENT' };
    },
  };
  const env: LifecycleEnv = {
    acts,
    waitFor: time.waitFor,
    startTimer: time.startTimer,
    failureType: (e) => (e instanceof Failure ? e.type : null),
    patched: (id) => {
      patchesAsked.push(id);
      return true;
    },
    journal: async (a) => {
      if (!journal.some((j) => j.workflowId === a.workflowId && j.sequence === a.sequence)) journal.push(a);
    },
    ...envOverrides,
  };
  const lifecycle = new OrderLifecycle(input, env);
  /** An operator's decision at a virtual time; its answer once the lifecycle acted on it. */
  const decideAt = (ms: number, kind: 'APPROVE' | 'REJECT', request: unknown = ann): { answer: Promise<OrderApprovalAnswer> } => {
    const holder = {} as { answer: Promise<OrderApprovalAnswer> };
    time.at(ms, () => {
      holder.answer = lifecycle.decide(kind, request);
    });
    return holder;
  };
  return { lifecycle, time, t0: time.now, calls, alerts, journal, risk, patchesAsked, decideAt, placed: () => placed };
}

describe('semi-automatic order: approval', () => {
  it('waits for the approval, runs the risk check again, submits once and answers SUBMITTED; journaled once', async () => {
    const h = harness();
    const d = h.decideAt(2 * MINUTE, 'APPROVE');
    const status = await h.lifecycle.run();
    expect(h.alerts.map((a) => a.type)).toContain('ORDER_AWAITING_APPROVAL');
    expect(h.risk.assessments).toBe(2);
    expect(h.placed()).toBe(1);
    expect(status.state).toBe('FILLED');
    // Sent after the approval, not before: the submission's time is the second risk check's.
    expect(status.timings.submittedAt! - h.t0).toBe(2 * MINUTE);
    await expect(d.answer).resolves.toEqual({ clientOrderId: COID, outcome: 'SUBMITTED', state: 'SUBMITTED', reason: null });
    expect(status.approval).toEqual({ phase: 'APPROVED', deadlineAt: h.t0 + 5 * MINUTE, decision: { kind: 'APPROVE', ...ann }, outcome: 'SUBMITTED', limitPrice: px(0.43), strategy: 'ema' });
    expect(h.journal).toEqual([
      { action: 'ORDER_APPROVED', ...ann, workflowId: `order-${COID}`, sequence: 1, details: { outcome: 'SUBMITTED', clientOrderId: COID, strategy: 'ema', marketId: 'PRES-2028' } },
    ]);
    // The CREATED order is in the records while it waits (the approvals list reads the workflows, the journal the records).
    expect(h.calls.slice(0, 3)).toEqual(['assessOrder', 'recordOrder:CREATED', 'assessOrder']);
  });

  it('a risk change between proposal and approval refuses it: never sent, REJECTED with the reason, answered REFUSED_BY_RISK', async () => {
    const h = harness();
    h.time.at(MINUTE, () => {
      h.risk.refusal = 'position 20 over the limit 10';
    });
    const d = h.decideAt(2 * MINUTE, 'APPROVE');
    const status = await h.lifecycle.run();
    expect(h.placed()).toBe(0);
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/approved by ann, then refused by the risk check at approval: .*POSITION_SIZE/);
    const answer = await d.answer;
    expect(answer).toMatchObject({ outcome: 'REFUSED_BY_RISK', state: 'REJECTED' });
    expect(answer.reason).toBe(status.rejectReason);
    expect(h.journal.map((j) => [j.action, j.details.outcome])).toEqual([['ORDER_APPROVED', 'REFUSED_BY_RISK']]);
    expect(h.calls.at(-1)).toBe('recordOrder:REJECTED');
  });

  it('a rejection ends the order REJECTED naming the operator, never sent; journaled ORDER_REJECTED', async () => {
    const h = harness();
    const d = h.decideAt(MINUTE, 'REJECT', { operator: 'bo', reason: 'news pending' });
    const status = await h.lifecycle.run();
    expect(h.placed()).toBe(0);
    expect(h.risk.assessments).toBe(1);
    expect(status).toMatchObject({ state: 'REJECTED', rejectReason: 'rejected by bo: news pending' });
    await expect(d.answer).resolves.toMatchObject({ outcome: 'REJECTED', state: 'REJECTED' });
    expect(h.journal.map((j) => [j.action, j.operator, j.reason])).toEqual([['ORDER_REJECTED', 'bo', 'news pending']]);
  });

  it('unapproved past the deadline: EXPIRED at the deadline, never sent, journaled; a late decision answers EXPIRED', async () => {
    const h = harness();
    const status = await h.lifecycle.run();
    expect(h.placed()).toBe(0);
    expect(status.state).toBe('EXPIRED');
    expect(status.timings.completedAt! - h.t0).toBe(5 * MINUTE);
    expect(status.approval).toMatchObject({ phase: 'EXPIRED', outcome: 'EXPIRED' });
    expect(h.journal.map((j) => [j.action, j.operator, j.reason])).toEqual([['ORDER_EXPIRED', 'system', 'not approved within 5m: expired, never sent']]);
    expect(h.calls).not.toContain('recordExecution');
    expect(h.calls.at(-1)).toBe('recordOrder:EXPIRED');
    await expect(h.lifecycle.decide('APPROVE', ann)).resolves.toMatchObject({ outcome: 'EXPIRED', state: 'EXPIRED' });
  });

  it('a halt while waiting: never sent, REJECTED with the halt; a later approval answers ALREADY_DECIDED', async () => {
    const h = harness();
    h.time.at(MINUTE, () => h.lifecycle.requestHalt({ operator: 'session', reason: 'daily loss limit' }));
    const status = await h.lifecycle.run();
    expect(h.placed()).toBe(0);
    expect(status.state).toBe('REJECTED');
    expect(status.rejectReason).toMatch(/trading halted before the order was sent: daily loss limit/);
    expect(status.approval?.phase).toBe('STOPPED');
    await expect(h.lifecycle.decide('APPROVE', ann)).resolves.toMatchObject({ outcome: 'ALREADY_DECIDED' });
    expect(h.journal).toEqual([]);
  });

  it('a halt that arrives while the risk check runs again comes first: never sent, answered ALREADY_DECIDED with the halt', async () => {
    const h = harness();
    h.time.at(MINUTE, () => {
      h.risk.during = () => h.lifecycle.requestHalt({ operator: 'session', reason: 'daily loss limit' });
    });
    const d = h.decideAt(2 * MINUTE, 'APPROVE');
    const status = await h.lifecycle.run();
    expect(h.placed()).toBe(0);
    expect(status.state).toBe('REJECTED');
    const answer = await d.answer;
    expect(answer).toMatchObject({ outcome: 'ALREADY_DECIDED', state: 'REJECTED' });
    expect(answer.reason).toMatch(/trading halted before the order was sent: daily loss limit/);
    expect(h.journal.map((j) => [j.action, j.details.outcome])).toEqual([['ORDER_APPROVED', 'STOPPED']]);
  });

  it('a second decision while the first is acted on answers ALREADY_DECIDED; the first holds', async () => {
    const h = harness();
    const first = h.decideAt(MINUTE, 'APPROVE');
    const second = h.decideAt(MINUTE, 'REJECT');
    await h.lifecycle.run();
    await expect(first.answer).resolves.toMatchObject({ outcome: 'SUBMITTED' });
    await expect(second.answer).resolves.toMatchObject({ outcome: 'ALREADY_DECIDED' });
    expect(h.placed()).toBe(1);
  });

  it('refuses a decision without a reason, naming the field, and changes nothing', async () => {
    const h = harness();
    let refused: unknown = null;
    h.time.at(MINUTE, () => {
      try {
        void h.lifecycle.decide('APPROVE', { operator: 'ann' });
      } catch (e) {
        refused = e;
      }
    });
    const status = await h.lifecycle.run();
    expect(refused).toBeInstanceOf(InvalidInput);
    expect(String((refused as Error).message)).toMatch(/approve\.reason: is required/);
    expect(status.state).toBe('EXPIRED');
  });

  it('full automation (no level in the input, as in older histories): no wait, no patch asked, decisions answer NOT_AWAITING', async () => {
    const h = harness({ automation: undefined });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(h.risk.assessments).toBe(1);
    expect(h.patchesAsked).not.toContain(ORDER_PATCHES.approval);
    expect(status.approval).toBeUndefined();
    await expect(h.lifecycle.decide('APPROVE', ann)).resolves.toMatchObject({ outcome: 'NOT_AWAITING' });
  });

  it('a history recorded before the approval step replays without the wait', async () => {
    const h = harness({}, { patched: (id) => id !== ORDER_PATCHES.approval });
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(h.alerts.map((a) => a.type)).not.toContain('ORDER_AWAITING_APPROVAL');
  });

  it('a journal that cannot be written does not hold the order back', async () => {
    const logged: string[] = [];
    const h = harness({}, { journal: () => Promise.reject(new Failure('UNAVAILABLE')), log: (m) => void logged.push(m) });
    h.decideAt(MINUTE, 'APPROVE');
    const status = await h.lifecycle.run();
    expect(status.state).toBe('FILLED');
    expect(logged).toEqual(['journal entry could not be written; the order goes on']);
  });

  it('validates the level an order input carries, naming each bad field', () => {
    const h = harness();
    const input = { ...h.lifecycle.input, automation: { level: 'auto', approvalTimeoutMs: 10 } } as unknown as OrderWorkflowInput;
    expect(() => validateOrderWorkflowInput(input)).toThrow(/automation\.level: must be one of alerts-only, semi-auto, full \(got "auto"\).*automation\.approvalTimeoutMs/);
  });
});

describe('approve / reject payloads (the Update validators\' rule)', () => {
  it('a payload without a fit operator and reason is refused naming approve.* or reject.*, and the waiting order is unchanged', async () => {
    const h = harness();
    const payload = fc.oneof(anyJson, wrongTyped, fc.record({ operator: fc.oneof(hostileString, wrongTyped), reason: fc.oneof(hostileString, wrongTyped) }, { requiredKeys: [] }));
    let swept = 0;
    // Inside the wait: the order is AWAITING while the sweep runs.
    h.time.at(MINUTE, () => {
      const before = JSON.stringify(h.lifecycle.status());
      expect(h.lifecycle.status().approval?.phase).toBe('AWAITING');
      fc.assert(
        fc.property(fc.constantFrom('APPROVE' as const, 'REJECT' as const), payload, (kind, p) => {
          const fit = typeof p === 'object' && p !== null && !Array.isArray(p) && ([['operator', MAX_OPERATOR_LENGTH], ['reason', MAX_REASON_LENGTH]] as const).every(([f, max]) => operatorTextProblem((p as Record<string, unknown>)[f], max) === null);
          fc.pre(!fit);
          swept++;
          let refused: unknown = null;
          try {
            void h.lifecycle.decide(kind, p);
          } catch (e) {
            refused = e;
          }
          expect(refused).toBeInstanceOf(InvalidInput);
          expect((refused as InvalidInput).problems.every((x) => x.field.startsWith(kind === 'APPROVE' ? 'approve' : 'reject'))).toBe(true);
          expect(JSON.stringify(h.lifecycle.status())).toBe(before);
        }),
        { numRuns: runs(300) },
      );
    });
    const status = await h.lifecycle.run();
    expect(swept).toBeGreaterThan(100);
    expect(status.state).toBe('EXPIRED');
    expect(h.placed()).toBe(0);
  });
});
