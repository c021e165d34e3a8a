import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { exportHistories, historyFileName, historyFromJson, historyToJson, parseHistoriesArgs } from '../../worker/histories';
import { syntheticHistory } from './synthetic-history';

const quiet = { info: () => undefined, warn: () => undefined };
const sample = () => syntheticHistory({ workflowType: 'dailyResetWorkflow', args: [{ tradingDay: null }], firstActivity: 'resetDailyCounters' });

describe('history files', () => {
  it('names files <workflowId>__<runId>.json with unsafe characters replaced', () => {
    expect(historyFileName('order-ema-20260309-000001', 'abc-123')).toBe('order-ema-20260309-000001__abc-123.json');
    expect(historyFileName('daily-reset-2026-03-09T00:00:00Z', 'r/1')).toBe('daily-reset-2026-03-09T00_00_00Z__r_1.json');
  });

  it('reads history JSON and writes it back in the same form', () => {
    const history = historyFromJson(sample());
    expect(history.events).toHaveLength(5);
    const again = JSON.parse(historyToJson(history)) as { events: { eventType: string; eventId: string }[] };
    expect(again.events.map((e) => e.eventType)).toEqual(sample().events.map((e) => e.eventType));
    expect(again.events[0]?.eventId).toBe('1');
  });

  it('accepts the PascalCase enum names older tools wrote', () => {
    const old = sample();
    old.events[0]!.eventType = 'WorkflowExecutionStarted';
    const history = historyFromJson(old);
    const back = JSON.parse(historyToJson(history)) as { events: { eventType: string }[] };
    expect(back.events[0]?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  });

  it('refuses something that is not a history', () => {
    expect(() => historyFromJson({ nope: 1 })).toThrow(InvalidInput);
    expect(() => historyFromJson({ events: [{ eventId: '1' }] })).toThrow(/without attributes/);
  });
});

describe('histories:export arguments', () => {
  it('requires export and a directory, which may not be a file', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hx-'));
    expect(parseHistoriesArgs(['export', 'out'], cwd)).toEqual({ command: 'export', dir: join(cwd, 'out') });
    expect(() => parseHistoriesArgs([], cwd)).toThrow(/command: must be "export"/);
    expect(() => parseHistoriesArgs(['export'], cwd)).toThrow(/dir: is required/);
    expect(() => parseHistoriesArgs(['export', '--help'], cwd)).toThrow(/dir: is required/);
    expect(() => parseHistoriesArgs(['export', 'a', 'b'], cwd)).toThrow(/not expected/);
    writeFileSync(join(cwd, 'file'), 'x');
    expect(() => parseHistoriesArgs(['export', 'file'], cwd)).toThrow(/not a directory/);
  });
});

describe('exportHistories', () => {
  it('writes each closed run of the task queue, skipping running ones and other queues', async () => {
    const infos = [
      { workflowId: 'order-a', runId: 'r1', taskQueue: 'durable-trader', status: { name: 'COMPLETED' } },
      { workflowId: 'session-x-2026-03-09', runId: 'r2', taskQueue: 'durable-trader', status: { name: 'RUNNING' } },
      { workflowId: 'other', runId: 'r3', taskQueue: 'someone-else', status: { name: 'FAILED' } },
      { workflowId: 'order-b', runId: 'r4', taskQueue: 'durable-trader', status: { name: 'TERMINATED' } },
    ];
    const fetched: string[] = [];
    const client = {
      workflow: {
        list: () =>
          (async function* () {
            yield* infos;
          })(),
        getHandle: (id: string, runId: string) => ({
          fetchHistory: async () => {
            fetched.push(`${id}/${runId}`);
            return historyFromJson(sample());
          },
        }),
      },
    } as unknown as Client;
    const dir = join(mkdtempSync(join(tmpdir(), 'hx-')), 'nested', 'out');
    const result = await exportHistories(client, dir, 'durable-trader', quiet);
    expect(fetched).toEqual(['order-a/r1', 'order-b/r4']);
    expect(result.skippedRunning).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['order-a__r1.json', 'order-b__r4.json']);
    const written = JSON.parse(readFileSync(join(dir, 'order-a__r1.json'), 'utf8')) as { events: unknown[] };
    expect(written.events).toHaveLength(5);
    expect(historyFromJson(written).events).toHaveLength(5);
  });
});
