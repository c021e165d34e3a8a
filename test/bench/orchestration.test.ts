/**
 * The orchestration bench without a server: it loads, it skips (never downloads) when no server
 * is configured, its pure helpers count and rank correctly, and its bench-only workflows bundle
 * with the SDK bundler. The measurements themselves need a Temporal server (npm run bench).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import type { OrderActivities } from '../../contracts/activities';
import { Secret } from '../../activities/venue/credentials';
import { createPaperVenue } from '../../activities/venue/paper-venue';
import { formatResults, type BenchResult } from '../../bench/harness';
import {
  BENCH_WORKFLOWS_PATH,
  ROWS,
  SKIP_REASON,
  benchGate,
  benchMarket,
  benchOrderInput,
  crossingPrice,
  lifecycleShape,
  percentile,
  restingPrice,
  run,
  runWith,
  startBenchExchange,
  sustainedRate,
  type HistoryEventLike,
} from '../../bench/orchestration.bench';
import { benchActivityDeps } from '../../bench/orchestration-worker';
import { openDatabase, type Database } from '../../db';
import type { PaperExchange } from '../../exchange/server';
import { TemporalUnavailable } from '../../runtime/temporal';
import type { Price } from '../../domain/money';
import { OrderLifecycle } from '../../workflows/order-lifecycle';
import { inActivity } from '../../testkit/activities-harness';

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

  it('rates completions over their middle 80%, leaving out the ramp and the tail', () => {
    const steady = Array.from({ length: 100 }, (_, i) => 1_000 + i * 10);
    expect(sustainedRate(steady)).toBeCloseTo(100, 6);
    // A slow ramp (first 10) and a straggler (last) do not move the figure.
    const ramped = [...Array.from({ length: 10 }, (_, i) => i * 100), ...Array.from({ length: 89 }, (_, i) => 2_000 + i * 10), 60_000];
    expect(sustainedRate(ramped)).toBeCloseTo(100, 0);
    expect(sustainedRate([...steady].reverse())).toBeCloseTo(100, 6);
    expect(sustainedRate(steady.slice(0, 9))).toBeNull();
    expect(sustainedRate(Array.from({ length: 20 }, () => 5))).toBeNull();
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

/**
 * The bench's orders through the production activities on the bench's exchange and limits, with
 * the lifecycle driven directly (no server): what the bench measures must fill, rest and cancel.
 */
describe('orchestration bench: its orders on the bench exchange, without a server', () => {
  const key = { keyId: 'bench', secret: 'bench-test-secret-0123456789abcdef' };
  let exchange: PaperExchange;
  let database: Database;
  let acts: OrderActivities;
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    exchange = await startBenchExchange(key);
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    const all = createActivities(benchActivityDeps(database.db, createPaperVenue({ baseUrl: exchange.url, keyId: key.keyId, secret: new Secret(key.secret) })));
    const wrap =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      (...args: A) =>
        inActivity(() => fn(...args));
    acts = {
      assessOrder: wrap(all.assessOrder),
      recordOrder: wrap(all.recordOrder),
      submitOrder: wrap(all.submitOrder),
      lookupOrder: wrap(all.lookupOrder),
      syncFills: wrap(all.syncFills),
      pollOrder: wrap(all.pollOrder),
      cancelOrder: wrap(all.cancelOrder),
      recordExecution: wrap(all.recordExecution),
      raiseAlert: wrap(all.raiseAlert),
    };
  }, 60_000);

  afterAll(async () => {
    for (const t of timers) clearTimeout(t);
    await database?.close();
    await exchange?.close();
  });

  function lifecycle(clientOrderId: string, price: (m: { marketId: string; tickSize: number }) => number, ttlMs: number): OrderLifecycle {
    const market = benchMarket(exchange);
    const input = benchOrderInput(market.marketId, clientOrderId, price(market) as Price, ttlMs, Date.now());
    return new OrderLifecycle(input, {
      acts,
      waitFor: async (until, ms) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (until()) return true;
          await new Promise((r) => setTimeout(r, 10));
        }
        return until();
      },
      startTimer: (ms, onFire) => void timers.push(setTimeout(onFire, ms)),
      failureType: (e) => (e instanceof ApplicationFailure ? (e.type ?? 'UNKNOWN') : null),
    });
  }

  it('fills a crossing order, acknowledged after its signal', async () => {
    const l = lifecycle('bench-test-cross-1', (m) => crossingPrice(exchange, m.marketId, m.tickSize), 600_000);
    const status = await l.run();
    expect(status.rejectReason).toBeNull();
    expect(status.state).toBe('FILLED');
    expect(status.timings.acknowledgedAt).not.toBeNull();
    expect(status.timings.acknowledgedAt!).toBeGreaterThanOrEqual(l.input.context.signal.at);
  }, 30_000);

  it('rests an order at one tick until it is cancelled', async () => {
    const before = exchange.engine.openOrders(key.keyId).length;
    const l = lifecycle('bench-test-rest-1', (m) => restingPrice(m.tickSize), 1_800_000);
    const done = l.run();
    const until = Date.now() + 10_000;
    while (exchange.engine.openOrders(key.keyId).length === before && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(exchange.engine.openOrders(key.keyId).length).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(l.order.state).toBe('SUBMITTED');
    l.requestCancel({ operator: 'bench', reason: 'orchestration bench cleanup' });
    const status = await done;
    expect(status.state).toBe('CANCELED');
    expect(status.filledQuantity).toBe(0);
    expect(exchange.engine.openOrders(key.keyId).length).toBe(before);
  }, 30_000);
});
