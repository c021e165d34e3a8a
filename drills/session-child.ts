/**
 * Drill 5's first worker: a paper session (testkit/paper-session.ts) on the real activities
 * whose scripted round trip loses more than the daily-loss breaker allows. It prints
 * "HALTED <trip since>" once the breaker has tripped and been recorded, then waits to be killed.
 */
import { openDatabase, type DatabaseConfig } from '../db/client';
import { startPaperSession } from '../testkit/paper-session';
import type { ActivityConfig } from '../activities/deps';
import { venueAt } from './world';

export interface SessionChildSpec {
  db: DatabaseConfig;
  venueUrl: string;
  strategy: string;
  marketId: string;
  quantity: number;
  buyPrice: number;
  sellPrice: number;
  config: Partial<ActivityConfig>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.DRILL_SESSION_CHILD ?? 'null') as SessionChildSpec | null;
  if (!spec) throw new Error('DRILL_SESSION_CHILD is not set');
  const database = await openDatabase(spec.db, { migrate: false });
  const session = startPaperSession({
    db: database.db,
    venue: venueAt(spec.venueUrl),
    marketIds: [spec.marketId],
    strategy: spec.strategy,
    // Without a model probability this strategy never signals: only the scripted orders trade.
    strategyName: 'model-edge',
    // Long watches: the round trip completes before the next snapshot trips the breaker.
    watchPeriodMs: 4_000,
    durationMs: 10 * 60_000,
    maxWaitMs: 100,
    activityAttempts: 40,
    config: spec.config,
  });
  await session.until('the session trades', () => session.session.status().mode !== 'PREFLIGHT', 20_000);
  const buy = await session.placeOrder({ marketId: spec.marketId, side: 'BUY', quantity: spec.quantity, limitPrice: spec.buyPrice }).done;
  // The day's loss is the account's: a later trial's session may be halted before it buys.
  const sell = buy.filledQuantity > 0 ? await session.placeOrder({ marketId: spec.marketId, side: 'SELL', quantity: buy.filledQuantity, limitPrice: spec.sellPrice }).done : null;
  say(`POINT round trip ${buy.state} ${buy.filledQuantity} / ${sell ? `${sell.state} ${sell.filledQuantity}` : 'no sell'}`);
  await session.until('the daily-loss breaker trips', () => session.session.status().trips.some((t) => t.kind === 'DAILY_LOSS'), 30_000);
  // The trip is in the records once the session's flush has written it.
  await session.until('the trip is flushed', () => session.session.status().haltReason !== null, 5_000);
  const trip = session.session.status().trips.find((t) => t.kind === 'DAILY_LOSS')!;
  await new Promise((r) => setTimeout(r, 500));
  say(`HALTED ${trip.since}`);
  setInterval(() => {}, 1_000);
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
