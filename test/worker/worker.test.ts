import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { buildConfig } from '../../runtime/config';
import { TemporalUnavailable } from '../../runtime/temporal';
import { createActivities } from '../../activities/index';
import { endOfTradingDay, startOfDayIn, tradingDayIn } from '../../domain/calendar';
import { openActivityDeps } from '../../worker/activity-deps';
import { serveWorker } from '../../worker/worker';
import { signalHalt, signalKillSwitch, startSession } from '../../runtime/session-control';

const config = buildConfig({ TRADING_TIME_ZONE: 'America/New_York', SESSION_STRATEGY: 'ema-mr', SESSION_MARKETS: 'PRES-2028' });

interface Started {
  type: string;
  options: { workflowId: string; taskQueue: string; args: unknown[]; workflowIdReusePolicy: unknown; typedSearchAttributes?: unknown };
}

/** `taken`: workflow IDs whose newest run has this status (RUNNING, COMPLETED, FAILED...). */
function fakeClient(taken: Map<string, string> = new Map()) {
  const started: Started[] = [];
  const signals: { workflowId: string; name: string; payload: unknown }[] = [];
  const client = {
    workflow: {
      start: async (type: string, options: Started['options']) => {
        const last = taken.get(options.workflowId);
        // Allow-duplicate-failed-only, as the server applies it.
        if (last === 'RUNNING' || last === 'COMPLETED') throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, type);
        taken.set(options.workflowId, 'RUNNING');
        started.push({ type, options });
        return { workflowId: options.workflowId, firstExecutionRunId: 'run-1' };
      },
      getHandle: (workflowId: string) => ({
        describe: async () => {
          const name = taken.get(workflowId);
          if (name === undefined) throw new WorkflowNotFoundError('not found', workflowId, undefined);
          return { status: { name } };
        },
        signal: async (def: { name: string }, payload: unknown) => void signals.push({ workflowId, name: def.name, payload }),
      }),
    },
  } as unknown as Client;
  return { client, started, signals };
}

describe('trading days in a time zone', () => {
  it('finds the calendar date of an instant in the zone', () => {
    const t = Date.parse('2026-03-10T03:30:00Z');
    expect(tradingDayIn(t, 'UTC')).toBe('2026-03-10');
    expect(tradingDayIn(t, 'America/New_York')).toBe('2026-03-09');
    expect(tradingDayIn(t, 'Asia/Tokyo')).toBe('2026-03-10');
  });

  it('finds local midnight across daylight-saving changes', () => {
    expect(startOfDayIn('2026-01-15', 'UTC')).toBe(Date.parse('2026-01-15T00:00:00Z'));
    expect(startOfDayIn('2026-01-15', 'America/New_York')).toBe(Date.parse('2026-01-15T05:00:00Z'));
    // 8 March 2026: clocks go forward at 02:00, so that day starts at EST and ends at EDT.
    expect(startOfDayIn('2026-03-08', 'America/New_York')).toBe(Date.parse('2026-03-08T05:00:00Z'));
    expect(startOfDayIn('2026-03-09', 'America/New_York')).toBe(Date.parse('2026-03-09T04:00:00Z'));
    expect(endOfTradingDay('2026-03-08', 'America/New_York') - startOfDayIn('2026-03-08', 'America/New_York')).toBe(23 * 3_600_000);
    expect(startOfDayIn('2026-07-01', 'Asia/Kolkata')).toBe(Date.parse('2026-06-30T18:30:00Z'));
  });
});

describe('startSession', () => {
  const now = Date.parse('2026-03-09T14:00:00Z');

  it('starts session-<strategy>-<day> with allow-duplicate-failed-only and the config carried into the input', async () => {
    const { client, started } = fakeClient();
    const result = await startSession(client, config, '2026-03-09', true, now);
    expect(result).toEqual({ status: 'STARTED', workflowId: 'session-ema-mr-2026-03-09', runId: 'run-1', restartedAfter: null });
    const s = started[0]!;
    expect(s.type).toBe('sessionWorkflow');
    expect(s.options.workflowIdReusePolicy).toBe('ALLOW_DUPLICATE_FAILED_ONLY');
    expect(s.options.taskQueue).toBe('durable-trader');
    expect(s.options.args[0]).toMatchObject({
      strategy: 'ema-mr',
      strategyName: 'ema-mean-reversion',
      tradingDay: '2026-03-09',
      marketIds: ['PRES-2028'],
      endOfDayAt: Date.parse('2026-03-10T04:00:00Z'),
      pollIntervalMs: 30_000,
      orderTtlMs: 600_000,
      maxDailyLoss: CASE_STUDY_LIMITS.maxDailyLoss,
      breakers: CASE_STUDY_BREAKERS,
      searchAttributes: true,
    });
    expect(s.options.typedSearchAttributes).toBeDefined();
  });

  it('reports a running or completed session instead of starting a second one', async () => {
    for (const existing of ['RUNNING', 'COMPLETED']) {
      const { client, started } = fakeClient(new Map([['session-ema-mr-2026-03-09', existing]]));
      expect(await startSession(client, config, '2026-03-09', false, now)).toEqual({ status: 'ALREADY_EXISTS', workflowId: 'session-ema-mr-2026-03-09', existing });
      expect(started).toEqual([]);
    }
  });

  it('starts a failed or terminated session of the day again, and says so', async () => {
    for (const before of ['FAILED', 'TERMINATED']) {
      const { client, started } = fakeClient(new Map([['session-ema-mr-2026-03-09', before]]));
      expect(await startSession(client, config, '2026-03-09', false, now)).toMatchObject({ status: 'STARTED', restartedAfter: before });
      expect(started).toHaveLength(1);
    }
  });

  it('passes no search attributes when the server refused them', async () => {
    const { client, started } = fakeClient();
    await startSession(client, config, '2026-03-09', false, now);
    expect(started[0]!.options.typedSearchAttributes).toBeUndefined();
    expect(started[0]!.options.args[0]).toMatchObject({ searchAttributes: false });
  });

  it('refuses a day that has ended, a malformed day, and a session without markets', async () => {
    const { client } = fakeClient();
    await expect(startSession(client, config, '2026-03-08', false, now)).rejects.toThrow(/already ended in America\/New_York/);
    await expect(startSession(client, config, '2026-02-30', false, now)).rejects.toThrow(InvalidInput);
    await expect(startSession(client, buildConfig({}), '2026-03-09', false, now)).rejects.toThrow(/SESSION_MARKETS/);
  });
});

describe('control signals', () => {
  it('validates the operator request before sending it', async () => {
    const { client, signals } = fakeClient();
    await expect(signalHalt(client, 'session-ema-mr-2026-03-09', { operator: '', reason: 'x' })).rejects.toThrow(/halt.operator/);
    expect(signals).toEqual([]);
    await signalHalt(client, 'session-ema-mr-2026-03-09', { operator: 'ana', reason: 'news' });
    await signalKillSwitch(client, 'session-ema-mr-2026-03-09', { operator: 'ana', reason: 'runaway' });
    expect(signals).toEqual([
      { workflowId: 'session-ema-mr-2026-03-09', name: 'halt', payload: { operator: 'ana', reason: 'news' } },
      { workflowId: 'session-ema-mr-2026-03-09', name: 'killSwitch', payload: { operator: 'ana', reason: 'runaway', flatten: false } },
    ]);
  });
});

describe('serveWorker', () => {
  it('stops before building activities when no server can be had', async () => {
    let built = false;
    const config = buildConfig({ TEMPORAL_CLI_PATH: '/nonexistent/temporal', DATA_DIR: mkdtempSync(join(tmpdir(), 'sw-')) });
    const run = serveWorker({
      config,
      log: { info: () => undefined, warn: () => undefined },
      makeActivities: async () => {
        built = true;
        return { activities: {}, close: async () => undefined };
      },
    });
    await expect(run).rejects.toBeInstanceOf(TemporalUnavailable);
    expect(built).toBe(false);
  });
});

describe('openActivityDeps', () => {
  it('needs the paper exchange settings', async () => {
    await expect(openActivityDeps(buildConfig({}))).rejects.toThrow(/PAPER_EXCHANGE_URL/);
  });

  it('opens the records under dataDir and yields deps from which every activity is built', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'deps-'));
    const cfg = buildConfig({ DATA_DIR: dataDir, PAPER_EXCHANGE_URL: 'http://127.0.0.1:1', PAPER_EXCHANGE_KEY_ID: 'k', PAPER_EXCHANGE_SECRET: 'worker-test-secret-0123', TRADING_TIME_ZONE: 'America/New_York' });
    const { deps, close } = await openActivityDeps(cfg);
    try {
      expect(deps.mailer).toBeNull();
      expect(deps.config).toMatchObject({ account: 'paper', timeZone: 'America/New_York', limits: CASE_STUDY_LIMITS, reconciliation: { policy: 'HALT_AND_ALERT' } });
      const activities = createActivities(deps);
      for (const name of ['assessOrder', 'submitOrder', 'pollOrder', 'watchForSignal', 'loadCarryover', 'reconcileAccount', 'resetDailyCounters', 'raiseAlert']) {
        expect(typeof (activities as Record<string, unknown>)[name]).toBe('function');
      }
    } finally {
      await close();
    }
  }, 60_000);
});
