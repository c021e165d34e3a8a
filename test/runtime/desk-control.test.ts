/**
 * How runtime/desk-control.ts gathers the answers, on a scripted client (the real server is
 * test/workflows/server-desk-control.test.ts): a session visibility does not list yet is reached
 * by name and says so; the strategy narrows by workflow ID; a target that does not answer makes
 * the whole UNREACHABLE (exit 1), one that every target refuses REFUSED (exit 3); a worker without
 * the update handler gets the old signal; a bad request is refused before anything is sent.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { controlDesk, deskExitCode, journalOutcomeOf } from '../../runtime/desk-control';
import type { ControlOutcome } from '../../workflows/api';

type Answer = ControlOutcome | Error;

interface Script {
  running: Record<'sessionWorkflow' | 'orderWorkflow', string[]>;
  /** Running by describe (a session visibility does not list yet counts here). */
  described: string[];
  answers: Record<string, Answer>;
}

function scriptedClient(script: Script) {
  const sent: { workflowId: string; update?: string; signal?: string; args: unknown[] }[] = [];
  const client = {
    connection: { withDeadline: <T>(_d: number, fn: () => Promise<T>) => fn() },
    workflow: {
      list: ({ query }: { query: string }) => {
        const type = /WorkflowType = '(\w+)'/.exec(query)![1] as keyof Script['running'];
        return (async function* () {
          for (const workflowId of script.running[type]) yield { workflowId };
        })();
      },
      getHandle: (workflowId: string) => ({
        describe: async () => {
          if (!script.described.includes(workflowId)) throw new WorkflowNotFoundError('not found', workflowId, undefined);
          return { status: { name: 'RUNNING' } };
        },
        executeUpdate: async (def: { name: string }, { args }: { args: unknown[] }) => {
          sent.push({ workflowId, update: def.name, args });
          const a = script.answers[workflowId];
          if (a === undefined) throw new Error(`unscripted ${workflowId}`);
          if (a instanceof Error) throw a;
          return a;
        },
        signal: async (def: { name: string }, ...args: unknown[]) => void sent.push({ workflowId, signal: def.name, args }),
      }),
    },
  };
  return { client: client as unknown as Client, sent };
}

const applied = (workflowId: string, over: Partial<ControlOutcome> = {}): ControlOutcome => ({
  outcome: 'APPLIED',
  action: 'HALT',
  workflowId,
  reason: 'halted: no new orders until resumed',
  journalKey: 'cli:k',
  sessionsHalted: 1,
  sessionsResumed: 0,
  ordersTold: 0,
  ordersNotSent: 0,
  ordersCancelled: 0,
  ordersKeptWorking: 0,
  stateAfter: 'MANUAL',
  ...over,
});

const request = { operator: 'ann', reason: 'news', journalKey: 'cli:k' };

describe('desk control', () => {
  it("reaches today's session by name when visibility does not list it yet, and says how each target was found", async () => {
    const { client, sent } = scriptedClient({
      running: { sessionWorkflow: ['session-ema-2026-01-14'], orderWorkflow: ['order-ema-20260114-000001', 'order-other-20260115-000001'] },
      described: ['session-ema-2026-01-15'],
      answers: {
        'session-ema-2026-01-14': applied('session-ema-2026-01-14'),
        'session-ema-2026-01-15': applied('session-ema-2026-01-15'),
        'order-ema-20260114-000001': applied('order-ema-20260114-000001', { action: 'HALT_ORDER', sessionsHalted: 0, ordersNotSent: 1 }),
      },
    });
    const o = await controlDesk(client, 'HALT', request, { strategy: 'ema', expectedSessions: ['session-ema-2026-01-15', 'session-other-2026-01-15'] });
    expect(o.targets.map((t) => [t.workflowId, t.foundBy, t.outcome])).toEqual([
      ['session-ema-2026-01-14', 'visibility', 'APPLIED'],
      ['session-ema-2026-01-15', 'name', 'APPLIED'],
      ['order-ema-20260114-000001', 'visibility', 'APPLIED'],
    ]);
    // The other strategy's order is not reached; every update carried the journal key.
    expect(sent.map((s) => s.workflowId)).not.toContain('order-other-20260115-000001');
    expect(sent.every((s) => (s.args[0] as { journalKey?: string }).journalKey === 'cli:k')).toBe(true);
    expect(o).toMatchObject({ outcome: 'APPLIED', scope: 'strategy ema', totals: { sessionsReached: 2, sessionsHalted: 2, ordersNotSent: 1 } });
    expect(deskExitCode(o)).toBe(0);
    expect(journalOutcomeOf(o)).toEqual({
      outcome: 'APPLIED: 2 sessions reached, 2 newly halted, 1 order in flight reached, 1 not sent, 0 cancelled at the venue',
      signalled: 'session-ema-2026-01-14,session-ema-2026-01-15,order-ema-20260114-000001',
      failed: null,
    });
  });

  it('a target without an answer makes the whole UNREACHABLE (exit 1); every session refusing makes it REFUSED (exit 3)', async () => {
    const unreachable = scriptedClient({
      running: { sessionWorkflow: ['session-a-2026-01-15', 'session-b-2026-01-15'], orderWorkflow: [] },
      described: [],
      answers: { 'session-a-2026-01-15': applied('session-a-2026-01-15'), 'session-b-2026-01-15': new Error('deadline exceeded') },
    });
    const o = await controlDesk(unreachable.client, 'HALT', request);
    expect(o.outcome).toBe('UNREACHABLE');
    expect(deskExitCode(o)).toBe(1);
    expect(o.targets[1]).toMatchObject({ outcome: 'UNREACHABLE', reason: expect.stringMatching(/deadline exceeded.*may still apply/) });
    expect(journalOutcomeOf(o).failed).toMatch(/^session-b-2026-01-15: UNREACHABLE/);

    const refusal = new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ message: 'resumeSession.reason: must not contain control characters' }));
    const refused = scriptedClient({ running: { sessionWorkflow: ['session-a-2026-01-15'], orderWorkflow: [] }, described: [], answers: { 'session-a-2026-01-15': refusal } });
    const r = await controlDesk(refused.client, 'RESUME', request);
    expect(r).toMatchObject({ outcome: 'REFUSED', targets: [{ outcome: 'REFUSED', reason: 'resumeSession.reason: must not contain control characters' }] });
    expect(deskExitCode(r)).toBe(3);

    const nothing = scriptedClient({ running: { sessionWorkflow: [], orderWorkflow: [] }, described: [], answers: {} });
    const n = await controlDesk(nothing.client, 'HALT', request, { expectedSessions: ['session-a-2026-01-15'] });
    expect(n).toMatchObject({ outcome: 'REFUSED', summary: 'REFUSED: nothing running for every strategy: no session or order was halted', targets: [] });
  });

  it('a worker without the update handler gets the old signal, answered as sent', async () => {
    const noHandler = new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ message: 'No registered handler for update: killSwitchSession' }));
    const { client, sent } = scriptedClient({ running: { sessionWorkflow: ['session-a-2026-01-15'], orderWorkflow: [] }, described: [], answers: { 'session-a-2026-01-15': noHandler } });
    const o = await controlDesk(client, 'KILL_SWITCH', { ...request, flatten: true });
    expect(sent.map((s) => s.signal ?? s.update)).toEqual(['killSwitchSession', 'killSwitch']);
    expect(sent[1]!.args[0]).toEqual({ operator: 'ann', reason: 'news', flatten: true });
    expect(o.targets[0]).toMatchObject({ outcome: 'APPLIED', reason: expect.stringMatching(/sent as a signal/) });
  });

  it('a bad request is refused naming the field before anything is listed or sent', async () => {
    const { client, sent } = scriptedClient({ running: { sessionWorkflow: ['session-a-2026-01-15'], orderWorkflow: [] }, described: [], answers: {} });
    await expect(controlDesk(client, 'HALT', { operator: 'ann', reason: 'news', cancelOrders: 'yes' as never })).rejects.toThrow(/halt\.cancelOrders: must be true or false/);
    await expect(controlDesk(client, 'HALT', { ...request, journalKey: 'key with space' })).rejects.toThrow(/halt\.journalKey/);
    await expect(controlDesk(client, 'HALT', request, { strategy: 'bad strategy!' })).rejects.toThrow(/strategy/);
    expect(sent).toEqual([]);
  });
});
