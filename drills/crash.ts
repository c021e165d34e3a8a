/**
 * Drill 1, no-server form: the worker killed with SIGKILL at points of the order lifecycle, then
 * restarted. The lifecycle runs in a child process (drills/order-child.ts) on the real
 * activities, the real records and the paper exchange over HTTP. "Restarted" means a new
 * process runs the lifecycle again from the start with the same input, replaying the outcomes
 * the first process had written to its history file and executing every activity from the one
 * the kill interrupted on, as a Temporal worker does after a crash.
 *
 * (Executing every activity again instead, completed ones included, was tried first: after a
 * kill between fills the re-executed submit returns a new acknowledgement time, and recording
 * the order snapshot again under the same sequence fails with a RecordConflict on its
 * occurredAt. Under Temporal the completed submit's result comes from the history, so that
 * re-execution is not what a restart does.)
 *
 * Kill points:
 * - before-submit: risk decided and the order recorded, nothing sent;
 * - during-submit: 0-20 ms after the submission left, wherever it is by then;
 * - after-accept: the exchange accepted the order and dropped the response (dropAfterAccept
 *   fault); killed as soon as the order exists at the venue;
 * - between-fills: some fills in the ledger, more to come (the exchange fills in parts);
 * - random: 0-1.5 s after the lifecycle started.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrillBackend } from './backend';
import { DrillChild } from './child';
import { orderInput } from './controllers';
import { audit } from './audit';
import type { OrderChildSpec } from './order-child';
import { EAGER_FILLS } from '../testkit/venue-harness';
import { seededRandom } from '../domain/random';
import { tradingDayIn } from '../domain/calendar';
import { addCounts, zeroCounts, type Drill, type DrillResult } from './types';
import { DrillWorld, PAPER_KEY_ID } from './world';

export const KILL_POINTS = ['before-submit', 'during-submit', 'after-accept', 'between-fills', 'random'] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

/** Fills arrive in parts over several engine steps, so "between fills" exists. */
const PARTIAL_FILLS = { ...EAGER_FILLS, fillProbability: 0.6, partialFillProbability: 1, feeCoefficientPpm: 70_000 };
const CHILD_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function childSpec(backend: DrillBackend, url: string, input: OrderChildSpec['input'], pauseAt: string | null, historyFile: string, replay: boolean): Record<string, string> {
  const spec: OrderChildSpec = { db: backend.config, venueUrl: url, input, pauseAt, timeoutMs: CHILD_TIMEOUT_MS, historyFile, replay };
  return { DRILL_ORDER_CHILD: JSON.stringify(spec) };
}

/** Kills the child at `point`; returns what happened ("killed at ...", or that it finished first). */
async function killAt(point: KillPoint, child: DrillChild, world: DrillWorld, clientOrderId: string, rng: () => number): Promise<string> {
  const line = (prefix: string) => child.waitForLine((l) => l.startsWith(prefix), 20_000);
  switch (point) {
    case 'before-submit':
    case 'between-fills': {
      const reached = await line(`POINT ${point}`);
      await child.kill();
      return reached ? `killed at ${point}` : `${point} not reached (${child.lines.at(-1) ?? 'no output'})`;
    }
    case 'during-submit': {
      const reached = await line('POINT submit-sending');
      await sleep(Math.floor(rng() * 20));
      const answered = child.lines.some((l) => l.startsWith('POINT submit-answered'));
      await child.kill();
      return reached ? (answered ? 'killed after the submit answered' : 'killed during submit') : 'submit not reached';
    }
    case 'after-accept': {
      const reached = await line('POINT submit-sending');
      const deadline = Date.now() + 10_000;
      while (reached && Date.now() < deadline && !world.exchange.engine.findOrder(PAPER_KEY_ID, { clientOrderId })) await sleep(1);
      const answered = child.lines.some((l) => l.startsWith('POINT submit-answered'));
      await child.kill();
      return answered ? 'killed after the submit answered (the response got through)' : 'killed after accept, before the response';
    }
    case 'random': {
      await line('POINT start');
      await sleep(Math.floor(rng() * 1_500));
      const finished = !child.running || child.lines.some((l) => l.startsWith('DONE'));
      await child.kill();
      return finished ? 'finished before the kill' : `killed at random after "${child.lines.at(-1) ?? ''}"`;
    }
  }
}

export const crashDrill: Drill = {
  id: '1-worker-sigkill',
  title: 'Worker killed with SIGKILL at points of the order lifecycle, then restarted',
  defaultTrials: 20,
  quickTrials: 5,
  async run({ trials, seed, log }): Promise<DrillResult> {
    const started = Date.now();
    const rng = seededRandom(seed);
    const world = await DrillWorld.open('crash', { exchange: { engine: { fillModel: PARTIAL_FILLS } } });
    const notes = [
      `records: ${world.backend.describe}`,
      'no Temporal server: each kill hits a child process running OrderLifecycle on the real activities; the restart runs it again from the start with the same input in a new process, replaying the outcomes recorded in its history file and executing from the interrupted activity on',
    ];
    const checksFailed: string[] = [];
    const outcomes = new Map<string, number>();
    const unfinished: string[] = [];
    const coids: string[] = [];
    const historyDir = mkdtempSync(join(tmpdir(), 'drill-history-'));
    try {
      const tradingDay = tradingDayIn(Date.now(), 'UTC');
      for (let i = 0; i < trials; i++) {
        const point: KillPoint = i < KILL_POINTS.length ? KILL_POINTS[i]! : KILL_POINTS[Math.floor(rng.next() * KILL_POINTS.length)]!;
        const market = world.markets[i % world.markets.length]!;
        const input = orderInput({
          strategy: 'crash',
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
        await world.backend.release();
        const history = join(historyDir, `${coid}.jsonl`);
        const first = new DrillChild('./order-child.ts', childSpec(world.backend, world.exchange.url, input, point === 'before-submit' || point === 'between-fills' ? point : null, history, true));
        const what = await killAt(point, first, world, coid, () => rng.next());
        world.exchange.admin.resetFaults();
        outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
        // Down for a moment: fills keep arriving at the venue meanwhile.
        await sleep(Math.floor(rng.next() * 300));
        const second = new DrillChild('./order-child.ts', childSpec(world.backend, world.exchange.url, input, null, history, true));
        const end = await second.waitForLine((l) => l.startsWith('DONE') || l.startsWith('FAILED'), CHILD_TIMEOUT_MS + 10_000);
        await second.kill();
        await world.backend.reacquire();
        if (!end?.startsWith('DONE')) {
          unfinished.push(coid);
          log(`  trial ${i + 1} restart did not finish: ${end ?? second.stderr.slice(-500)}`);
        }
        log(`  trial ${i + 1}/${trials} ${coid} ${point}: ${what}; restart ${end ?? 'no answer'}`);
      }
      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, clientOrderIds: coids, runsUnfinished: unfinished });
      for (const p of result.problems) notes.push(`finding: ${p}`);
      const submitted = world.exchange.engine.toState().accounts.find((a) => a.keyId === PAPER_KEY_ID)?.orders.length ?? 0;
      if (submitted !== coids.length) checksFailed.push(`${coids.length} orders run, ${submitted} at the venue (expected exactly one each)`);
      notes.push(`kill outcomes: ${[...outcomes].map(([k, n]) => `${k} x${n}`).join('; ')}`);
      notes.push(`${submitted} venue orders for ${coids.length} client order IDs; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
      return { id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials, ...result.counts }), checksFailed, notes, elapsedMs: Date.now() - started };
    } finally {
      await world.close();
      rmSync(historyDir, { recursive: true, force: true });
    }
  },
};
