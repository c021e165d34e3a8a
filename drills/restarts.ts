/**
 * Drill 3: the venue and PostgreSQL restart in the middle of a trading session.
 * - The session is testkit/paper-session.ts: the session and order-lifecycle controllers on
 *   the real activities without a Temporal server, with scripted orders besides its strategy's.
 * - Venue restart: the in-process exchange is closed (its state flushed to its data dir) and
 *   started again on the same port and data dir a moment later.
 * - PostgreSQL restart, simulated: the machine's server is shared with other tests and is not
 *   restarted; instead every server connection of this drill is ended with pg_terminate_backend
 *   (what a restart does to them), and the pool reconnects. On PGlite the instance is closed and
 *   opened again on its files.
 * Ending connections mid-transaction makes postgres.js 3.4.9 throw an uncaught TypeError from a
 * deferred write on its closed socket (connection.js nextWrite) and leaves that connection
 * wedged; db/client.ts replaces the pool on the first close, so no query waits on it (this once
 * hung sessions here), and runtime/process-guards.ts keeps a worker up through the TypeError.
 * While the drill runs it takes over uncaught exceptions the way that guard does: the driver
 * error is counted and noted, the session carries on, and any other uncaught error is a failed
 * check. A session that does not end cleanly is a failed check, whatever preceded it.
 * Breakers on errors are widened so the outages do not halt the session and the scripted
 * orders still trade (a halt would only get them rejected, proving less).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPaperSession } from '../testkit/paper-session';
import { CASE_STUDY_BREAKERS } from '../domain/breakers';
import { seededRandom } from '../domain/random';
import { isClosedSocketWrite } from '../runtime/process-guards';
import { audit } from './audit';
import { sleep } from './controllers';
import { addCounts, zeroCounts, type Drill, type DrillResult } from './types';
import { DRILL_LIMITS, DrillWorld, PAPER_KEY_ID } from './world';

const ORDER_DEADLINE_MS = 30_000;

function within<T>(p: Promise<T>, ms: number): Promise<T | 'TIMEOUT'> {
  return Promise.race([p, sleep(ms).then(() => 'TIMEOUT' as const)]);
}

export const restartsDrill: Drill = {
  id: '3-venue-and-db-restart',
  title: 'Venue restart and PostgreSQL restart in the middle of a session',
  defaultTrials: 8,
  quickTrials: 2,
  async run({ trials, seed, log }): Promise<DrillResult> {
    const started = Date.now();
    const rng = seededRandom(seed + 3);
    const dataDir = mkdtempSync(join(tmpdir(), 'drill-exchange-'));
    const world = await DrillWorld.open('restarts', { exchange: { dataDir } });
    const notes = [
      `records: ${world.backend.describe}`,
      world.backend.kind === 'postgres'
        ? 'PostgreSQL restart simulated with pg_terminate_backend on every connection of the drill (application_name = its schema); the shared server itself is not restarted'
        : 'PostgreSQL restart simulated by closing PGlite and opening it again on its files',
      'venue restart: exchange closed, down 300-1000 ms, started again on the same port and data dir',
      'session: testkit/paper-session.ts (no Temporal server), 4 scripted orders per trial around the two restarts',
    ];
    const checksFailed: string[] = [];
    const unfinished: string[] = [];
    const coids: string[] = [];
    let terminated = 0;
    let driverCrashes = 0;
    const previous = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const onUncaught = (e: Error) => {
      if (isClosedSocketWrite(e)) driverCrashes += 1;
      else checksFailed.push(`uncaught error: ${e.stack ?? e.message}`);
    };
    process.on('uncaughtException', onUncaught);
    const states: Record<string, number> = {};
    try {
      for (let i = 0; i < trials; i++) {
        const session = startPaperSession({
          db: world.db,
          venue: world.venue,
          marketIds: world.markets.slice(0, 2).map((m) => m.marketId),
          strategy: `restarts-${i + 1}`,
          durationMs: 120_000,
          orderTtlMs: 5_000,
          maxWaitMs: 100,
          activityAttempts: 40,
          config: { limits: DRILL_LIMITS, breakers: { ...CASE_STUDY_BREAKERS, maxErrorsInWindow: 1_000_000, maxErrorRate: 1 } },
        });
        const orders: { clientOrderId: string; done: Promise<unknown> }[] = [];
        const place = async () => {
          const market = world.markets[Math.floor(rng.next() * world.markets.length)]!;
          // The quote for the price may itself meet the outage: take a fixed crossing price then.
          const limitPrice = await world.crossingBuy(market.marketId).catch(() => 990_000);
          orders.push(session.placeOrder({ marketId: market.marketId, side: 'BUY', quantity: 1 + Math.floor(rng.next() * 8), limitPrice }));
        };
        await session.until('the session trades', () => session.session.status().mode !== 'PREFLIGHT', 20_000);
        await place();
        await place();
        const venueFirst = rng.next() < 0.5;
        const restartVenue = async () => world.restartExchange(300 + Math.floor(rng.next() * 700));
        const restartDb = async () => {
          terminated += await world.backend.restart();
        };
        await sleep(Math.floor(rng.next() * 500));
        await (venueFirst ? restartVenue() : restartDb());
        await place();
        await sleep(200 + Math.floor(rng.next() * 400));
        await (venueFirst ? restartDb() : restartVenue());
        await place();
        for (const o of orders) {
          coids.push(o.clientOrderId);
          const r = await within(o.done, ORDER_DEADLINE_MS).catch((e: unknown) => `run failed (${e instanceof Error ? e.message : String(e)})`);
          const state = r === 'TIMEOUT' || typeof r === 'string' ? String(r) : String((r as { state: string }).state);
          if (r === 'TIMEOUT' || typeof r === 'string') unfinished.push(o.clientOrderId);
          states[state] = (states[state] ?? 0) + 1;
        }
        const ended = await within(session.end(), 20_000).catch((e: unknown) => e);
        if (ended === 'TIMEOUT' || ended instanceof Error) checksFailed.push(`trial ${i + 1}: the session did not end cleanly (${ended instanceof Error ? ended.message : 'timeout'})`);
        log(`  trial ${i + 1}/${trials}: ${venueFirst ? 'venue then records' : 'records then venue'}; ${orders.length} scripted orders, ${session.orders.size - orders.length} from the strategy`);
        for (const [coid] of session.orders) if (!coids.includes(coid)) coids.push(coid);
      }
      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, runsUnfinished: unfinished });
      notes.push(`scripted orders ended: ${Object.entries(states).map(([s, n]) => `${s} x${n}`).join(', ')}`);
      notes.push(`${terminated} server connections ended over ${trials} simulated PostgreSQL restarts`);
      if (world.backend.kind === 'postgres') notes.push(`the records' pool was replaced ${world.backend.poolReplacements} times after its connections closed`);
      if (driverCrashes > 0) notes.push(`postgres.js threw ${driverCrashes} uncaught TypeError(s) (nextWrite on a closed socket) after its connections were ended; a worker counts and survives them (runtime/process-guards.ts)`);
      notes.push(`${result.venueOrders} venue orders for ${coids.length} client order IDs; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
      for (const p of result.problems) notes.push(`finding: ${p}`);
      return { id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials, ...result.counts }), checksFailed, notes, elapsedMs: Date.now() - started };
    } finally {
      await world.close();
      process.off('uncaughtException', onUncaught);
      for (const l of previous) process.on('uncaughtException', l);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
