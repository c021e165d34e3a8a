/**
 * Drill 1, server form: N order workflows (workflows/order-workflow.ts) on a Temporal server, run
 * by a real worker in a child process (worker-child.ts) on a task queue of the drill's own. Each
 * trial starts one workflow and SIGKILLs the worker child:
 * - after-accept: the exchange accepts the order and drops the response (dropAfterAccept fault);
 *   the worker dies as soon as the order exists at the venue, before any answer reached it;
 * - random: 0-1.5 s after the workflow started, wherever its lifecycle is by then.
 * A new worker child starts after a random 0-300 ms down time; the server hands the killed
 * worker's tasks to it (workflow tasks at once, activities after their 30 s start-to-close
 * timeout). Once every workflow is started, the last worker runs them all to the end (each wait
 * bounded), and the audit compares the venue with the records.
 */
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { orderWorkflow } from '../../workflows/order-workflow';
import type { OrderStatus } from '../../workflows/api';
import { tradingDayIn } from '../../workflows/domain/calendar';
import { orderWorkflowId } from '../../workflows/domain/ids';
import { seededRandom } from '../../workflows/domain/random';
import { EAGER_FILLS } from '../../test/venue/harness';
import { audit } from '../audit';
import type { DrillChild } from '../child';
import { orderInput, sleep } from '../controllers';
import { addCounts, zeroCounts, type DrillResult } from '../types';
import { DrillWorld, PAPER_KEY_ID } from '../world';
import { resultWithin, terminateQuietly } from './server';
import type { ServerDrill } from './types';

export const SERVER_KILL_POINTS = ['after-accept', 'random'] as const;
export type ServerKillPoint = (typeof SERVER_KILL_POINTS)[number];

/** Fills arrive in parts over several engine steps, so a kill can fall between fills. */
const PARTIAL_FILLS = { ...EAGER_FILLS, fillProbability: 0.6, partialFillProbability: 1, feeCoefficientPpm: 70_000 };
/** Longest wait for all workflows after the last kill: a killed activity alone waits out its 30 s timeout, maybe twice. */
const COMPLETION_MS = 180_000;

export const serverCrashDrill: ServerDrill = {
  id: '1-server-worker-sigkill',
  title: 'Temporal server: the worker process SIGKILLed while order workflows run, then restarted',
  defaultTrials: 10,
  quickTrials: 4,
  async run({ trials, seed, log, temporal }): Promise<DrillResult> {
    const started = Date.now();
    const rng = seededRandom(seed);
    const world = await DrillWorld.open('tcrash', { exchange: { engine: { fillModel: PARTIAL_FILLS } } });
    const taskQueue = temporal.taskQueue('crash');
    const notes = [`records: ${world.backend.describe}`, `${temporal.describe}, task queue ${taskQueue}; worker children run worker/worker.ts runWorker on createActivities`];
    const checksFailed: string[] = [];
    const outcomes = new Map<string, number>();
    const coids: string[] = [];
    const handles: ReturnType<typeof temporal.client.workflow.getHandle>[] = [];
    let worker: DrillChild | null = null;
    try {
      const tradingDay = tradingDayIn(Date.now(), 'UTC');
      // The venue quotes are read while the records belong to the worker: the world's venue client is HTTP only.
      worker = await temporal.startWorker(world, taskQueue);
      for (let i = 0; i < trials; i++) {
        const point: ServerKillPoint = i < SERVER_KILL_POINTS.length ? SERVER_KILL_POINTS[i]! : SERVER_KILL_POINTS[Math.floor(rng.next() * SERVER_KILL_POINTS.length)]!;
        const market = world.markets[i % world.markets.length]!;
        const input = orderInput({
          strategy: 'tcrash',
          tradingDay,
          sequence: i + 1,
          marketId: market.marketId,
          side: 'BUY',
          quantity: 5 + Math.floor(rng.next() * 16),
          limitPrice: await world.crossingBuy(market.marketId),
          ttlMs: 8_000,
          at: Date.now(),
        });
        const coid = input.order.clientOrderId;
        coids.push(coid);
        if (point === 'after-accept') world.exchange.admin.setFaults({ dropAfterAcceptProbability: 1 });
        const handle = await temporal.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
          taskQueue,
          workflowId: orderWorkflowId(coid),
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        handles.push(handle);
        let what: string;
        if (point === 'after-accept') {
          const deadline = Date.now() + 15_000;
          while (Date.now() < deadline && !world.exchange.engine.findOrder(PAPER_KEY_ID, { clientOrderId: coid })) await sleep(1);
          const accepted = world.exchange.engine.findOrder(PAPER_KEY_ID, { clientOrderId: coid }) !== undefined;
          await temporal.killWorker(world, worker);
          what = accepted ? 'killed after accept, before the response' : 'killed before the order reached the venue (15 s passed)';
        } else {
          const delay = Math.floor(rng.next() * 1_500);
          await sleep(delay);
          await temporal.killWorker(world, worker);
          what = `killed ${delay} ms after the start`;
        }
        world.exchange.admin.resetFaults();
        worker = null;
        outcomes.set(point, (outcomes.get(point) ?? 0) + 1);
        log(`  trial ${i + 1}/${trials} ${coid} ${point}: ${what}`);
        await sleep(Math.floor(rng.next() * 300));
        worker = await temporal.startWorker(world, taskQueue);
      }

      const deadline = Date.now() + COMPLETION_MS;
      const unfinished: string[] = [];
      const states = new Map<string, number>();
      for (const [i, handle] of handles.entries()) {
        const end = await resultWithin<OrderStatus>(handle, Math.max(1_000, deadline - Date.now()));
        const label = 'result' in end ? end.result.state : 'unfinished';
        states.set(label, (states.get(label) ?? 0) + 1);
        if ('problem' in end) {
          unfinished.push(coids[i]!);
          log(`  ${coids[i]}: ${end.problem}`);
        }
      }
      await temporal.killWorker(world, worker);
      worker = null;

      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, clientOrderIds: coids, runsUnfinished: unfinished });
      for (const p of result.problems) notes.push(`finding: ${p}`);
      const submitted = world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders.length ?? 0;
      if (submitted !== coids.length) checksFailed.push(`${coids.length} workflows run, ${submitted} orders at the venue (expected exactly one each)`);
      if (unfinished.length > 0) checksFailed.push(`${unfinished.length} of ${coids.length} workflows did not complete within ${COMPLETION_MS / 1000} s: ${unfinished.join(', ')}`);
      notes.push(`kill points: ${[...outcomes].map(([k, n]) => `${k} x${n}`).join('; ')}`);
      notes.push(`workflow outcomes: ${[...states].map(([k, n]) => `${k} x${n}`).join('; ')}`);
      notes.push(`${submitted} venue orders for ${coids.length} client order IDs; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
      return { id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials, ...result.counts }), checksFailed, notes, elapsedMs: Date.now() - started };
    } finally {
      if (worker) await temporal.killWorker(world, worker).catch(() => undefined);
      await Promise.all(handles.map((h) => terminateQuietly(h, 'drill 1 (server form) ended')));
      await world.close();
    }
  },
};
