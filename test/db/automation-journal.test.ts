/** Levels of automation in the journal: the new action kinds are accepted (migration automation_levels), and the level last journaled for a strategy is read back per strategy. */
import { expect, it } from 'vitest';
import { lastAutomationLevel, listOperatorActions, recordOperatorAction } from '../../db/repositories/journal';
import { forEachBackend } from './harness';

const T0 = Date.UTC(2026, 0, 15, 14);

forEachBackend('levels of automation in the journal', (ctx) => {
  it('journals level changes and order decisions once each; the last level is read per strategy', async () => {
    expect(await lastAutomationLevel(ctx.db, 'mr')).toBeNull();
    const level = (strategy: string, level: string, sequence: number, at: number) =>
      recordOperatorAction(ctx.db, { action: 'AUTOMATION_LEVEL', operator: 'config', reason: `AUTOMATION_LEVEL=${level}`, workflowId: `session-${strategy}-2026-01-15`, sequence, details: { strategy, level, previous: null, approvalTimeoutMs: null }, at });
    expect(await level('mr', 'semi-auto', 1, T0)).toEqual({ inserted: true });
    expect(await level('mr', 'semi-auto', 1, T0)).toEqual({ inserted: false });
    await level('mr-2', 'alerts-only', 1, T0 + 1_000);
    await level('mr', 'full', 2, T0 + 2_000);
    expect(await lastAutomationLevel(ctx.db, 'mr')).toBe('full');
    expect(await lastAutomationLevel(ctx.db, 'mr-2')).toBe('alerts-only');

    const decisions = ['ORDER_APPROVED', 'ORDER_REJECTED', 'ORDER_EXPIRED'] as const;
    for (const [i, action] of decisions.entries()) {
      const row = { action, operator: 'ann', reason: 'checked', workflowId: `order-mr-20260115-00000${i + 1}`, sequence: 1, details: { outcome: 'SUBMITTED' }, at: T0 };
      expect(await recordOperatorAction(ctx.db, row)).toEqual({ inserted: true });
      expect(await recordOperatorAction(ctx.db, row)).toEqual({ inserted: false });
    }
    // One decision per order: another under the same order's key is refused.
    await expect(recordOperatorAction(ctx.db, { action: 'ORDER_REJECTED', operator: 'bo', reason: 'late', workflowId: 'order-mr-20260115-000001', sequence: 1, details: {}, at: T0 })).rejects.toThrow(/already recorded with different/);
    expect((await listOperatorActions(ctx.db)).map((a) => a.action).sort()).toEqual(['AUTOMATION_LEVEL', 'AUTOMATION_LEVEL', 'AUTOMATION_LEVEL', 'ORDER_APPROVED', 'ORDER_EXPIRED', 'ORDER_REJECTED']);
  });
});
