import { ScheduleAlreadyRunning, ServiceError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleUpdateOptions } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { TASK_QUEUE } from '../../workflows/api';
import { buildConfig } from '../../runtime/config';
import { RUN_TIMEOUTS, SCHEDULE_IDS, ensureSchedules, scheduleDefinitions, schedulesUnsupported, sessionTemplate } from '../../worker/schedules';
import { GrpcCode, type WorkerLog } from '../../runtime/temporal';

const config = buildConfig({
  TRADING_TIME_ZONE: 'America/New_York',
  DAILY_RESET_CRON: '0 0 * * 1-5',
  RECONCILIATION_EVERY_MINUTES: '5',
  RECONCILIATION_REMINDER_MINUTES: '20',
  SESSION_STRATEGY: 'ema-mr',
  SESSION_MARKETS: 'PRES-2028,FED-CUT',
});

const HOUR = 3_600_000;
/** A duration string of the schedules ('12 hours', '14 minutes') in ms. */
function ms(duration: string): number {
  const m = /^(\d+) (minutes|hours)$/.exec(duration);
  if (!m) throw new Error(`unexpected duration ${duration}`);
  return Number(m[1]) * (m[2] === 'hours' ? HOUR : 60_000);
}

function grpcError(code: number): Error {
  return new ServiceError('schedule call failed', { cause: Object.assign(new Error(`${code}`), { code, details: 'x', metadata: {} }) });
}

function log() {
  const warnings: string[] = [];
  const l: WorkerLog = { info: () => undefined, warn: (m) => void warnings.push(m) };
  return { l, warnings };
}

/** A schedule client double: `existing` schedules answer create with ScheduleAlreadyRunning. */
function fakeClient(existing: Record<string, { paused: boolean; note?: string }>, createError?: Error) {
  const created: ScheduleOptions[] = [];
  const updated: { id: string; options: ScheduleUpdateOptions }[] = [];
  const client = {
    schedule: {
      create: async (o: ScheduleOptions) => {
        if (createError) throw createError;
        if (existing[o.scheduleId]) throw new ScheduleAlreadyRunning('exists', o.scheduleId);
        created.push(o);
      },
      getHandle: (id: string) => ({
        update: async (fn: (previous: ScheduleDescription) => ScheduleUpdateOptions) => {
          const previous = { state: existing[id] } as unknown as ScheduleDescription;
          updated.push({ id, options: fn(previous) });
        },
      }),
    },
  } as unknown as Client;
  return { client, created, updated };
}

describe('schedule specs', () => {
  const defs = scheduleDefinitions(config);
  const byId = new Map(defs.map((d) => [d.scheduleId, d]));

  it('always skips overlapping runs and never allows all', () => {
    expect(defs).toHaveLength(4);
    for (const d of defs) {
      expect(d.policies.overlap).toBe('SKIP');
      expect(d.action.taskQueue).toBe(TASK_QUEUE);
      expect(d.policies.catchupWindow).toBeTruthy();
    }
    expect(JSON.stringify(defs)).not.toContain('ALLOW_ALL');
  });

  it('runs the daily reset on the configured cron in the configured zone, with a catch-up window', () => {
    const d = byId.get(SCHEDULE_IDS.dailyReset)!;
    expect(d.spec).toEqual({ cronExpressions: ['0 0 * * 1-5'], timezone: 'America/New_York' });
    expect(d.action.workflowType).toBe('dailyResetWorkflow');
    expect(d.action.args).toEqual([{ tradingDay: null }]);
    expect(d.policies.catchupWindow).toBe('12 hours');
  });

  it('reconciles every N minutes under the configured policy, and checks resolutions every 15 minutes', () => {
    const r = byId.get(SCHEDULE_IDS.reconciliation)!;
    expect(r.spec).toEqual({ intervals: [{ every: '5 minutes' }] });
    expect(r.action.workflowType).toBe('reconciliationWorkflow');
    expect(r.action.args).toEqual([{ policy: 'HALT_AND_ALERT', reminderMs: 20 * 60_000 }]);
    const m = byId.get(SCHEDULE_IDS.marketResolution)!;
    expect(m.spec).toEqual({ intervals: [{ every: '15 minutes' }] });
    expect(m.action.workflowType).toBe('marketResolutionWorkflow');
  });

  it('bounds every run below the gap to the run it could make the schedule skip', () => {
    const every: Record<string, number> = {
      [SCHEDULE_IDS.dailyReset]: 24 * HOUR,
      [SCHEDULE_IDS.sessionStart]: 24 * HOUR,
      [SCHEDULE_IDS.marketResolution]: 15 * 60_000,
    };
    for (const d of defs) {
      const timeout = ms(d.action.workflowExecutionTimeout);
      expect(timeout, d.scheduleId).toBeGreaterThan(0);
      if (every[d.scheduleId] !== undefined) expect(timeout, d.scheduleId).toBeLessThan(every[d.scheduleId]!);
    }
    // A reconciliation may wait a night for its operator, then gives way to a fresh comparison.
    expect(ms(byId.get(SCHEDULE_IDS.reconciliation)!.action.workflowExecutionTimeout)).toBe(24 * HOUR);
    expect(byId.get(SCHEDULE_IDS.dailyReset)!.action.workflowExecutionTimeout).toBe(RUN_TIMEOUTS.dailyReset);
  });

  it("starts each day's session at 00:00 in the configured zone, from the config's session template (no day in it)", () => {
    const d = byId.get(SCHEDULE_IDS.sessionStart)!;
    expect(d.spec).toEqual({ cronExpressions: ['0 0 * * *'], timezone: 'America/New_York' });
    expect(d.action.workflowType).toBe('startDaySessionWorkflow');
    expect(d.action.args).toEqual([{ template: sessionTemplate(config, false), timeZone: 'America/New_York' }]);
    const template = sessionTemplate(config, true);
    expect(template).toMatchObject({ strategy: 'ema-mr', marketIds: ['PRES-2028', 'FED-CUT'], maxDailyLoss: config.riskLimits.maxDailyLoss, breakers: config.breakers, searchAttributes: true });
    expect(template).not.toHaveProperty('tradingDay');
    expect(template).not.toHaveProperty('endOfDayAt');
    expect(scheduleDefinitions(config, { searchAttributes: true }).find((x) => x.scheduleId === SCHEDULE_IDS.sessionStart)!.action.args).toEqual([{ template, timeZone: 'America/New_York' }]);
    expect(d.policies.catchupWindow).toBe('12 hours');
  });

  it('classifies missing schedule support by gRPC code', () => {
    expect(schedulesUnsupported(grpcError(GrpcCode.UNIMPLEMENTED))).toBe(true);
    expect(schedulesUnsupported(grpcError(GrpcCode.PERMISSION_DENIED))).toBe(true);
    expect(schedulesUnsupported(grpcError(GrpcCode.UNAVAILABLE))).toBe(false);
    expect(schedulesUnsupported(new Error('boom'))).toBe(false);
  });
});

describe('ensureSchedules', () => {
  it('creates what is missing and updates what exists, keeping an operator pause', async () => {
    const { client, created, updated } = fakeClient({ [SCHEDULE_IDS.reconciliation]: { paused: true, note: 'paused by ops' } });
    const outcomes = await ensureSchedules(client, config, log().l);
    expect(outcomes).toEqual({
      [SCHEDULE_IDS.dailyReset]: 'CREATED',
      [SCHEDULE_IDS.reconciliation]: 'UPDATED',
      [SCHEDULE_IDS.marketResolution]: 'CREATED',
      [SCHEDULE_IDS.sessionStart]: 'CREATED',
    });
    expect(created.map((c) => c.scheduleId)).toEqual([SCHEDULE_IDS.dailyReset, SCHEDULE_IDS.marketResolution, SCHEDULE_IDS.sessionStart]);
    expect(updated).toHaveLength(1);
    expect(updated[0]!.options.state).toEqual({ paused: true, note: 'paused by ops' });
    expect(updated[0]!.options.spec).toEqual({ intervals: [{ every: '5 minutes' }] });
    expect(updated[0]!.options.policies?.overlap).toBe('SKIP');
    expect(updated[0]!.options.action).toMatchObject({ workflowType: 'reconciliationWorkflow', workflowExecutionTimeout: RUN_TIMEOUTS.reconciliation });
  });

  it('warns once and carries on when the server has no schedules', async () => {
    const { client } = fakeClient({}, grpcError(GrpcCode.UNIMPLEMENTED));
    const { l, warnings } = log();
    expect(await ensureSchedules(client, config, l)).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Schedules are not available/);
  });

  it('lets any other failure through', async () => {
    const { client } = fakeClient({}, grpcError(GrpcCode.UNAVAILABLE));
    await expect(ensureSchedules(client, config, log().l)).rejects.toThrow(ServiceError);
  });
});
