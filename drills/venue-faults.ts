/**
 * Drill 2: venue faults. Each trial sets one fault on the paper exchange (its fault-injection
 * settings) for a burst of 1.5-3 s while a few orders go through the order lifecycle on the
 * real activities, then lifts it; every order must end in one venue order with its fills in the
 * ledger once, or be left unresolved with an alert.
 */
import type { FaultConfig } from '../exchange/config';
import { tradingDayIn } from '../domain/calendar';
import { seededRandom } from '../domain/random';
import { audit } from './audit';
import { orderInput, orderRules, runLifecycle, sleep, withRetryPolicies } from './controllers';
import { addCounts, zeroCounts, type Drill, type DrillResult } from './types';
import { DrillWorld, PAPER_KEY_ID } from './world';

export const VENUE_FAULTS: readonly { name: string; faults: Partial<FaultConfig> }[] = [
  { name: '5xx burst', faults: { errorRate: 0.6 } },
  { name: '429 storm', faults: { rateLimitStormRate: 0.7, rateLimitStormRetryAfterSeconds: 1 } },
  // Longer than the client's 1 s timeout: answers arrive after the caller gave up.
  { name: 'latency spikes', faults: { latencySpikeProbability: 0.5, latencySpikeMs: 1_500 } },
  { name: 'hangs', faults: { hangProbability: 0.3, hangMaxMs: 2_500 } },
  { name: 'accepted, response dropped', faults: { dropAfterAcceptProbability: 1 } },
  { name: 'null or missing fields', faults: { missingFieldProbability: 0.3 } },
];

const ORDERS_PER_TRIAL = 3;
const TRIAL_DEADLINE_MS = 30_000;

export const venueFaultsDrill: Drill = {
  id: '2-venue-faults',
  title: 'Venue faults: 5xx bursts, 429 storms, latency spikes, hangs, accepted-but-dropped responses, null fields',
  defaultTrials: 18,
  quickTrials: 6,
  async run({ trials, seed, log }): Promise<DrillResult> {
    const started = Date.now();
    const rng = seededRandom(seed + 2);
    const world = await DrillWorld.open('faults');
    const notes = [`records: ${world.backend.describe}`, `each trial: ${ORDERS_PER_TRIAL} orders through OrderLifecycle (no Temporal server: retries per the workflow's activity policies at a tenth of their intervals) during one fault burst`];
    const unfinished: string[] = [];
    const coids: string[] = [];
    const perFault = new Map<string, { trials: number; states: Record<string, number> }>();
    const failures = new Map<string, number>();
    const raw = world.activities();
    try {
      const tradingDay = tradingDayIn(Date.now(), 'UTC');
      let sequence = 0;
      for (let i = 0; i < trials; i++) {
        const fault = VENUE_FAULTS[i % VENUE_FAULTS.length]!;
        const acts = withRetryPolicies(raw, orderRules, {
          deadline: Date.now() + TRIAL_DEADLINE_MS,
          onFailure: (name, _attempt, e) => {
            const key = `${name}: ${(e as { type?: string }).type ?? (e instanceof Error ? e.name : 'error')}`;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          },
        });
        const inputs = [];
        for (let k = 0; k < ORDERS_PER_TRIAL; k++) {
          const market = world.markets[(i * ORDERS_PER_TRIAL + k) % world.markets.length]!;
          const limitPrice = await world.crossingBuy(market.marketId);
          inputs.push(orderInput({ strategy: 'faults', tradingDay, sequence: ++sequence, marketId: market.marketId, side: 'BUY', quantity: 1 + Math.floor(rng.next() * 10), limitPrice, ttlMs: 5_000, at: Date.now() }));
        }
        world.exchange.admin.setFaults({ ...fault.faults, seed: seed * 1_000 + i });
        const runs = inputs.map((input) => ({ coid: input.order.clientOrderId, run: runLifecycle(acts, input) }));
        await sleep(1_500 + Math.floor(rng.next() * 1_500));
        world.exchange.admin.resetFaults();
        const entry = perFault.get(fault.name) ?? { trials: 0, states: {} };
        entry.trials += 1;
        for (const { coid, run } of runs) {
          coids.push(coid);
          const outcome = await run.outcome;
          const state = 'status' in outcome ? outcome.status.state : `run failed (${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)})`;
          if (!('status' in outcome)) unfinished.push(coid);
          entry.states[state] = (entry.states[state] ?? 0) + 1;
        }
        perFault.set(fault.name, entry);
        log(`  trial ${i + 1}/${trials} ${fault.name}: ${runs.map((r) => r.coid).join(', ')}`);
      }
      const result = await audit({ db: world.db, venue: world.freshVenue(), exchange: world.exchange, keyId: PAPER_KEY_ID, clientOrderIds: coids, runsUnfinished: unfinished });
      for (const [name, e] of perFault) notes.push(`${name}: ${e.trials} trials, orders ended ${Object.entries(e.states).map(([s, n]) => `${s} x${n}`).join(', ')}`);
      notes.push(`activity failures seen (then retried or handled): ${[...failures].map(([k, n]) => `${k} x${n}`).join('; ') || 'none'}`);
      notes.push(`${result.venueOrders} venue orders for ${coids.length} client order IDs; ${result.venueFills} venue fills, ${result.recordedFills} in the ledger`);
      for (const p of result.problems) notes.push(`finding: ${p}`);
      return { id: this.id, title: this.title, counts: addCounts(zeroCounts(), { trials, ...result.counts }), checksFailed: [], notes, elapsedMs: Date.now() - started };
    } finally {
      await world.close();
    }
  },
};
