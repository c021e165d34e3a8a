/**
 * The orchestration bench without a server: it loads, it skips (never downloads) when no server
 * is configured, its pure helpers count and rank correctly, and its bench-only workflows bundle
 * with the SDK bundler. The measurements themselves need a Temporal server (npm run bench).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { formatResults, type BenchResult } from '../../bench/harness';
import { BENCH_WORKFLOWS_PATH, ROWS, SKIP_REASON, benchGate, lifecycleShape, percentile, run, runWith, type HistoryEventLike } from '../../bench/orchestration.bench';
import { TemporalUnavailable } from '../../worker/temporal';

const root = join(import.meta.dirname, '..', '..');
const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined };

describe('orchestration bench: skip path', () => {
  it('exports run() and skips when neither TEMPORAL_ADDRESS nor TEMPORAL_CLI_PATH is set', async () => {
    expect(typeof run).toBe('function');
    expect(benchGate({})).toEqual({ run: false, reason: SKIP_REASON });
    expect(benchGate({ TEMPORAL_ADDRESS: '  ', TEMPORAL_CLI_PATH: '', CI: 'true' })).toEqual({ run: false, reason: SKIP_REASON });
    expect(benchGate({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }).run).toBe(true);

    const rows = await runWith({ CI: 'true', PATH: process.env.PATH });
    expect(rows.map((r) => r.name)).toEqual(Object.values(ROWS).map((r) => r.name));
    for (const r of rows) {
      expect(r.skipped).toBe(SKIP_REASON);
      expect(r.notes).toContain('skipped: no Temporal server (set TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH)');
      expect([r.figure, r.baselineFigure]).toEqual([0, 0]);
    }
    const table = formatResults(rows);
    expect(table).toContain(SKIP_REASON);
    expect(table).not.toMatch(/NaN| met/);
  });

  it('fails at once, without downloading, when TEMPORAL_CLI_PATH names no binary', async () => {
    const started = Date.now();
    const attempt = runWith({ CI: 'true', TEMPORAL_CLI_PATH: '/nonexistent/temporal-cli' });
    await expect(attempt).rejects.toBeInstanceOf(TemporalUnavailable);
    await expect(attempt).rejects.toThrow(/TEMPORAL_CLI_PATH=\/nonexistent\/temporal-cli does not exist/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('orchestration bench: helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });

  it('counts an order history: activities, local-activity markers (not patches), awaited and idle timers', () => {
    const events: HistoryEventLike[] = [
      { eventType: 1 },
      { eventType: 25, markerRecordedEventAttributes: { markerName: 'core_local_activity' } },
      { eventType: 25, markerRecordedEventAttributes: { markerName: 'core_patch' } },
      { eventType: 10 },
      { eventType: 10 },
      { eventType: 17, timerStartedEventAttributes: { timerId: '1', startToFireTimeout: { seconds: { toNumber: () => 600 } } } },
      { eventType: 17, timerStartedEventAttributes: { timerId: '2', startToFireTimeout: { seconds: 1, nanos: 500_000_000 } } },
      { eventType: 18, timerFiredEventAttributes: { timerId: '2' } },
      { eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' },
      { eventType: 2 },
    ];
    expect(lifecycleShape(events, 600_000)).toEqual({ activities: 3, localActivities: 1, awaitedTimers: 1, idleTimers: 1, timerMs: 1_500, idleTimerMs: 600_000 });
    expect(lifecycleShape([], 1_000)).toEqual({ activities: 0, localActivities: 0, awaitedTimers: 0, idleTimers: 0, timerMs: 0, idleTimerMs: 1_000 });
  });

  it('renders ceilings, ratio targets and skipped rows in the bench table', () => {
    const base: BenchResult = { name: 'x', figure: 0, unit: 'u', baselineName: 'b', baselineFigure: 100 };
    const line = (r: BenchResult) => formatResults([r]).split('\n')[2]!;
    expect(line({ ...base, figure: 250, target: 300, lowerIsBetter: true })).toMatch(/≤300 met/);
    expect(line({ ...base, figure: 350, target: 300, lowerIsBetter: true })).toMatch(/≤300 NOT met/);
    expect(line({ ...base, figure: 60, target: 50, ratioTarget: 0.5 })).toMatch(/≥50\.00 met; ratio ≥0\.50 met/);
    expect(line({ ...base, figure: 40, target: 50, ratioTarget: 0.5 })).toMatch(/≥50\.00 NOT met; ratio ≥0\.50 NOT met/);
    expect(line({ ...base, figure: 2_000, target: 1_000 })).toMatch(/≥1,000 met/);
    expect(line({ ...base, skipped: 'skipped: why', notes: 'skipped: why', target: 300, lowerIsBetter: true })).toMatch(/skipped \(u\).*≤300 +\| skipped: why/);
  });
});

describe('orchestration bench: workflows', () => {
  it('bundles the bench-only workflows with the production ones, without Node built-ins or I/O libraries', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: BENCH_WORKFLOWS_PATH, logger: quiet });
    const modules = [...(code.split('//# sourceMappingURL=')[0] ?? '').matchAll(/\/\*\*\*\/ "([^"]+)"/g)].map((m) => m[1]!);
    expect(modules.some((m) => m.includes('bench/workflows/bare.ts'))).toBe(true);
    expect(modules.some((m) => m.includes('workflows/order-workflow.ts'))).toBe(true);
    expect(modules.filter((m) => /node_modules\/(drizzle-orm|postgres|nodemailer|@electric-sql|@temporalio\/(activity|client|worker|testing))\//.test(m))).toEqual([]);
    expect(code).toContain('bareLifecycleWorkflow');
    expect(code).toContain('bareOneActivityWorkflow');
    // The production worker never registers them.
    expect(readFileSync(join(root, 'workflows', 'index.ts'), 'utf8')).not.toMatch(/bare/i);
  }, 120_000);
});
