/**
 * Replay: the histories recorded from the server suites (test/fixtures/histories/<set>/*.json,
 * written with RECORD_HISTORIES=<dir> or `npm run histories:export -- <dir>`) must replay against
 * the current workflow code without a nondeterminism error: a change of workflow control flow that
 * would break a running workflow fails here (guard it with patched()). A self-check on hand-built histories proves that replay runs here and
 * that it does catch a workflow that issues a different command than the one recorded.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReconciliationWorkflowInput, SessionWorkflowInput } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { MICROS, type Money } from '../../domain/money';
import { historyFromJson } from '../../worker/histories';
import { syntheticHistory } from '../worker/synthetic-history';

const root = join(import.meta.dirname, '..', '..');
const HISTORIES_DIR = join(root, 'test', 'fixtures', 'histories');

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Another test in this process installed the runtime first; its logger stays.
}

let bundle: WorkflowBundle;
beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows', 'index.ts'), logger: new DefaultLogger('WARN') });
}, 120_000);

interface Replayed {
  workflowId: string;
  error: Error | undefined;
}

async function replay(histories: { workflowId: string; history: unknown }[]): Promise<Replayed[]> {
  const out: Replayed[] = [];
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle },
    histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJson(h.history) })),
  );
  for await (const r of results) out.push({ workflowId: r.workflowId, error: r.error });
  return out;
}

/** Every .json under the fixtures folder, one level of sets deep, as <set>/<file>. */
const recorded = existsSync(HISTORIES_DIR)
  ? readdirSync(HISTORIES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(HISTORIES_DIR, d.name)).filter((f) => f.endsWith('.json')).map((f) => join(d.name, f)))
      .sort()
  : [];

describe('recorded histories', () => {
  it('are committed: at least one set of fixtures exists', () => {
    expect(recorded.length).toBeGreaterThan(0);
  });

  it(`replay ${recorded.length} histories from test/fixtures/histories without nondeterminism`, async () => {
    const histories = recorded.map((file) => ({
      workflowId: (file.split('/').pop() ?? file).split('__')[0] ?? file,
      history: JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as unknown,
    }));
    const results = await replay(histories);
    expect(results).toHaveLength(histories.length);
    const failures = results.filter((r) => r.error !== undefined).map((r) => `${r.workflowId}: ${r.error?.name} ${r.error?.message.slice(0, 300)}`);
    expect(failures).toEqual([]);
  }, 300_000);
});

describe('replay self-check on hand-built histories (no server)', () => {
  it('replays a daily reset whose first task scheduled resetDailyCounters', async () => {
    const [r] = await replay([{ workflowId: 'daily-reset-1', history: syntheticHistory({ workflowType: 'dailyResetWorkflow', args: [{ tradingDay: null }], firstActivity: 'resetDailyCounters' }) }]);
    expect(r?.error).toBeUndefined();
  }, 60_000);

  it('catches a history in which the first task scheduled another activity', async () => {
    const [r] = await replay([{ workflowId: 'daily-reset-2', history: syntheticHistory({ workflowType: 'dailyResetWorkflow', args: [{ tradingDay: null }], firstActivity: 'listActiveSessions' }) }]);
    expect(r?.error).toBeInstanceOf(DeterminismViolationError);
    expect(r?.error?.message).toMatch(/nondeterminism/i);
  }, 60_000);

  it('replays reconciliation and market resolution first tasks', async () => {
    const input: ReconciliationWorkflowInput = { policy: 'HALT_AND_ALERT', reminderMs: 30 * 60_000 };
    const results = await replay([
      { workflowId: 'reconciliation-1', history: syntheticHistory({ workflowType: 'reconciliationWorkflow', args: [input], firstActivity: 'reconcileAccount' }) },
      { workflowId: 'market-resolution-1', history: syntheticHistory({ workflowType: 'marketResolutionWorkflow', args: [], firstActivity: 'settleResolvedMarkets' }) },
    ]);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
  }, 60_000);

  // Guards against merging activity proxies with object spread: a Proxy has no own keys.
  it('replays a session whose first task scheduled loadCarryover', async () => {
    const input: SessionWorkflowInput = {
      strategy: 'ema',
      strategyName: 'ema-mean-reversion',
      strategyParams: {},
      tradingDay: '2026-03-09',
      marketIds: ['PRES-2028'],
      endOfDayAt: Date.parse('2026-03-10T00:00:00Z'),
      watchPeriodMs: 15 * 60_000,
      pollIntervalMs: 30_000,
      orderTtlMs: 600_000,
      maxDailyLoss: (200 * MICROS) as Money,
      breakers: CASE_STUDY_BREAKERS,
      searchAttributes: false,
    };
    const [r] = await replay([{ workflowId: 'session-ema-2026-03-09', history: syntheticHistory({ workflowType: 'sessionWorkflow', args: [input], firstActivity: 'loadCarryover' }) }]);
    expect(r?.error).toBeUndefined();
  }, 60_000);
});
