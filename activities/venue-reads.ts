/**
 * Venue reads the session can do without: when the venue does not answer, the session goes on
 * with the records as they are (the breakers must still be evaluated), and says so in the log.
 */
import type { PositionView } from '../db';
import { markPrice } from '../domain/market';
import type { Price } from '../domain/money';
import { currentContext } from './context';
import type { ActivityDeps } from './deps';
import { isVenueError } from './venue/errors';

export function describeError(e: unknown): string {
  if (isVenueError(e)) return `${e.kind}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

/** A warning in the running activity's log; nothing outside an activity. */
export const warn = (message: string): void => currentContext()?.log.warn(message);

/** The result of `work`, or null (logged) when the venue failed it; any other failure is thrown. */
export async function tryVenue<T>(what: string, work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (e) {
    if (!isVenueError(e)) throw e;
    warn(`${what} skipped, the records are used as they are: ${describeError(e)}`);
    return null;
  }
}

/**
 * The mark of each open position: a fresh quote's where the venue answers (also listed in
 * `fresh`, to be stored), else the last stored mark.
 */
export async function freshMarks(venue: ActivityDeps['venue'], positions: readonly PositionView[]): Promise<{ marks: Record<string, Price | null>; fresh: Record<string, Price> }> {
  const marks: Record<string, Price | null> = {};
  const fresh: Record<string, Price> = {};
  await Promise.all(
    positions
      .filter((p) => p.quantity !== 0)
      .map(async (p) => {
        marks[p.marketId] = p.mark;
        const s = await tryVenue(`quote of ${p.marketId}`, () => venue.getMarketSnapshot(p.marketId));
        const m = s ? markPrice(s) : null;
        if (m !== null) {
          marks[p.marketId] = m;
          fresh[p.marketId] = m;
        }
      }),
  );
  return { marks, fresh };
}
