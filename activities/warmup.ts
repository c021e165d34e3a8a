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
import type { MarketWarmth } from '../contracts/activities';
import type { StoredStrategyState } from '../db';
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

/**
 * The warm-up a new session carries on from: each market's state as the strategy's last session
 * left it in the records (saveStrategyState, after every watch). That is the state the strategy
 * built from the very quotes the live session acted on, so a carried market is exactly as warm as
 * it was at yesterday's close; venue history (above) is the fallback for a market without one, and
 * depends on what the venue keeps (Kalshi's adapter keeps none).
 *
 * A stored state is used only when it was made by the same strategy with the same validated
 * params (a state built with another EMA span is not this strategy's fair value), when the
 * strategy recognises it as one of its states, and when its last quote is at most
 * `CARRY_MAX_AGE_MS` old (a state a fortnight stale is not warm, whatever its count says).
 */
export const CARRY_MAX_AGE_MS = 7 * DAY_MS;

export type CarryRefusal = 'NONE_RECORDED' | 'OTHER_STRATEGY' | 'PARAMS_CHANGED' | 'NOT_A_STATE' | 'TOO_OLD';

export interface CarriedMarket {
  marketId: string;
  state: unknown;
  warmth: MarketWarmth | null;
  refused: CarryRefusal | null;
  quotedAt: number | null;
}

/** JSON with sorted keys: params compared by value, not by key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Sorts the stored states of the session's markets into those it carries on from and those it refuses (and why). */
export function carriedStates(strategy: Strategy<unknown>, rows: readonly StoredStrategyState[], marketIds: readonly string[], nowMs: number): CarriedMarket[] {
  const params = canonicalJson(strategy.params);
  return marketIds.map((marketId) => {
    const row = rows.find((r) => r.marketId === marketId);
    const refuse = (refused: CarryRefusal): CarriedMarket => ({ marketId, state: undefined, warmth: null, refused, quotedAt: row?.quotedAt ?? null });
    if (!row) return refuse('NONE_RECORDED');
    if (row.strategyName !== strategy.name) return refuse('OTHER_STRATEGY');
    if (canonicalJson(row.params) !== params) return refuse('PARAMS_CHANGED');
    const warmth = strategy.warmth ? strategy.warmth(row.state) : null;
    if (strategy.warmth && warmth === null) return refuse('NOT_A_STATE');
    if (nowMs - row.quotedAt > CARRY_MAX_AGE_MS) return refuse('TOO_OLD');
    return { marketId, state: row.state, warmth: warmth ? { ...warmth, carriedFrom: row.tradingDay } : null, refused: null, quotedAt: row.quotedAt };
  });
}

const REFUSAL_TEXT: Record<CarryRefusal, string> = {
  NONE_RECORDED: 'no state recorded by an earlier session',
  OTHER_STRATEGY: 'the recorded state is another strategy’s',
  PARAMS_CHANGED: 'the recorded state was made with other params',
  NOT_A_STATE: 'the recorded state is not one of this strategy’s',
  TOO_OLD: `the recorded state is more than ${CARRY_MAX_AGE_MS / DAY_MS} days old`,
};

/** The log line of one market's carry: how warm it is against what the strategy needs, or why it starts cold. */
export function warmthText(c: CarriedMarket): string {
  if (c.refused !== null) return `${c.marketId}: starts cold (${REFUSAL_TEXT[c.refused]}); warms up from venue history or live quotes`;
  const w = c.warmth;
  if (!w) return `${c.marketId}: carried on from the recorded state`;
  return `${c.marketId}: carried on from ${w.carriedFrom ?? 'an earlier session'}: ${w.observations} of ${w.neededObservations} observations over ${w.hours} of ${w.neededHours} h${w.warm ? ', warm' : ', not warm yet'}`;
}
