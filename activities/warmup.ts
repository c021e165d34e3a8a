/**
 * Warm-up from the venue's price history. A strategy that needs days of quotes before it may
 * signal (the case study's 72 hours and 100 observations, reference 001) would otherwise sit idle
 * for days after every start, since a market's state begins empty. When a market's state is new,
 * this reads the quotes the venue recorded and steps the strategy through them with the same pure
 * `onSnapshot` a live poll calls. Signals emitted on the way are dropped: their prices are past
 * and nothing can be traded at them now. The strategy's own warm-up rules still decide when it
 * is ready; history only gives them real data to decide on.
 */
import type { Market, MarketSnapshot } from '../domain/market';
import { DAY_MS, HOUR_MS, type Strategy } from '../domain/strategy';
import { logEvent, type ActivityDeps } from './deps';
import { currentContext } from './context';
import type { Venue } from '../contracts/venue';
import { isVenueError } from './venue/errors';

/**
 * How far back a warm-up reads: a week, longer than the case-study strategy's 72-hour warm-up
 * and 96-hour deviation span, so a venue that keeps more than that still feeds it enough.
 */
export const WARM_UP_LOOKBACK_MS = 7 * DAY_MS;

export interface WarmUpInput<S> {
  venue: Pick<Venue, 'name' | 'getPriceHistory'>;
  strategy: Strategy<S>;
  market: Market;
  /** The market's state so far; undefined when it has seen nothing yet (then it is warmed up). */
  state: S | undefined;
  /** Time of the live quote about to be stepped: history at or after it is left to the live poll. */
  untilMs: number;
  lookbackMs?: number;
}

export interface WarmUpResult<S> {
  state: S;
  /** History snapshots stepped through now: 0 when the state already existed or the venue has none. */
  observations: number;
  /** Hours from the first to the last of them. */
  hours: number;
  /** Why no history was used, when none was. */
  skipped: 'ALREADY_WARM' | 'NO_HISTORY_AT_VENUE' | null;
}

/**
 * Steps a new market state through the venue's history before `untilMs`. Positions held in the
 * past are unknown, so the strategy sees a flat position; none of the bundled strategies keeps
 * anything in its state that depends on the position, only which signal it emits.
 */
export async function warmUpFromHistory<S>(input: WarmUpInput<S>): Promise<WarmUpResult<S>> {
  const { venue, strategy, market, untilMs } = input;
  if (input.state !== undefined) return { state: input.state, observations: 0, hours: 0, skipped: 'ALREADY_WARM' };
  let state = strategy.initialState();
  if (!venue.getPriceHistory) return { state, observations: 0, hours: 0, skipped: 'NO_HISTORY_AT_VENUE' };
  const history = await venue.getPriceHistory(market.marketId, untilMs - (input.lookbackMs ?? WARM_UP_LOOKBACK_MS));
  const ctx = { market, position: 0, modelProbability: null };
  let first: MarketSnapshot | null = null;
  let last: MarketSnapshot | null = null;
  let observations = 0;
  for (const snapshot of history) {
    if (snapshot.ts >= untilMs) break;
    state = strategy.onSnapshot(state, snapshot, ctx).state;
    first ??= snapshot;
    last = snapshot;
    observations += 1;
  }
  const hours = first && last ? Math.round(((last.ts - first.ts) / HOUR_MS) * 10) / 10 : 0;
  return { state, observations, hours, skipped: null };
}

/**
 * The market watch's warm-up of a new market state, with a log line saying how warm it is. A
 * venue that refuses the history request (BAD_REQUEST: an older paper exchange without the
 * route, say) leaves the market to warm up on live quotes, with a warning; any other venue
 * error is thrown, and the watch retries as it does when a quote fails.
 */
export async function warmUpMarket<S>(deps: Pick<ActivityDeps, 'venue' | 'log'>, strategy: Strategy<S>, market: Market, untilMs: number): Promise<S> {
  const ids = { sessionId: currentContext()?.info.workflowExecution?.workflowId ?? null };
  let result: WarmUpResult<S>;
  try {
    result = await warmUpFromHistory({ venue: deps.venue, strategy, market, state: undefined, untilMs });
  } catch (e) {
    if (!isVenueError(e) || e.kind !== 'BAD_REQUEST') throw e;
    logEvent(deps, 'warm_up', ids, { marketId: market.marketId, strategy: strategy.name, observations: 0, hours: 0, error: e.message }, `${market.marketId}: no price history (${e.message}); warming up on live quotes`, 'warn');
    return strategy.initialState();
  }
  const { observations, hours, skipped } = result;
  logEvent(
    deps,
    'warm_up',
    ids,
    { marketId: market.marketId, strategy: strategy.name, observations, hours, skipped },
    skipped === 'NO_HISTORY_AT_VENUE' ? `${market.marketId}: ${deps.venue.name} keeps no price history; warming up on live quotes` : `${market.marketId}: warmed up on ${observations} quotes over ${hours} h of venue history`,
  );
  return result.state;
}
