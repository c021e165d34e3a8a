/**
 * Venue fills into the ledger. The venue hands out an account's fills after an opaque cursor;
 * each page, once its cursor is known to be storable, is recorded with `recordFills` (fill,
 * position, history and order totals in one transaction, idempotent by trade ID) and only then
 * is the cursor stored. A crash between the two reads the page again and records nothing twice;
 * nothing is ever skipped.
 *
 * Within a worker, concurrent callers coalesce: a caller arriving while a sync runs waits for
 * the next one (which starts after the running one, so it sees every fill the venue had when
 * the caller asked). Across workers the cursor write is a compare-and-set.
 */
import { recordFills, type Db } from '../db';
import type { Fill } from '../domain/fill';
import { advanceFillCursor, getFillCursor } from '../db/repositories/venue-cursors';
import type { FillSyncResult, SessionActivities } from '../contracts/activities';
import { runActivity } from './errors';
import { fillCursorProblem } from '../contracts/venue';
import { malformed } from './venue/errors';
import type { ResilientVenue } from './venue/resilient-venue';

export type { FillSyncResult } from '../contracts/activities';

/** Pages read by one sync at most; the next sync carries on from the stored cursor. */
const MAX_PAGES_PER_SYNC = 50;

export class FillSync {
  private running: Promise<FillSyncResult> | null = null;
  private queued: Promise<FillSyncResult> | null = null;

  constructor(
    private readonly db: Db,
    private readonly venue: ResilientVenue,
    private readonly account: string,
    private readonly timeZone: string,
    /** Told of the fills each page recorded for the first time (logs and metrics), after they commit. */
    private readonly onRecorded?: (fills: Fill[]) => void,
  ) {}

  /** Resolves once every fill the venue held when this was called is in the ledger. */
  sync(): Promise<FillSyncResult> {
    if (this.queued) return this.queued;
    if (this.running) {
      const next = this.running.catch(() => undefined).then(() => this.start());
      this.queued = next;
      return next;
    }
    return this.start();
  }

  private start(): Promise<FillSyncResult> {
    this.queued = null;
    const run = this.run().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async run(): Promise<FillSyncResult> {
    const result: FillSyncResult = { pages: 0, fillsSeen: 0, fillsInserted: 0 };
    while (result.pages < MAX_PAGES_PER_SYNC) {
      const stored = await getFillCursor(this.db, this.account);
      const from = stored?.cursor ?? null;
      const page = await this.venue.getFillsSince(from);
      // The whole page is checked before any of it is recorded: fills recorded from a page whose
      // cursor cannot then be stored would be read again forever, and never past.
      const cursorProblem = fillCursorProblem(page.cursor);
      if (cursorProblem !== null) throw malformed(this.venue.name, 'getFillsSince', 'cursor', page.cursor, cursorProblem);
      result.pages += 1;
      result.fillsSeen += page.fills.length;
      if (page.fills.length > 0) {
        const recorded = await recordFills(this.db, page.fills, { account: this.account, timeZone: this.timeZone });
        const inserted = new Set(recorded.outcomes.filter((o) => o.inserted).map((o) => o.tradeId));
        result.fillsInserted += inserted.size;
        if (this.onRecorded && inserted.size > 0) this.onRecorded(page.fills.filter((f) => inserted.delete(f.tradeId)));
      }
      // A lost compare-and-set means another sync stored its own cursor; the next read starts
      // there, and whatever it reads again is recorded once by trade ID.
      await advanceFillCursor(this.db, { account: this.account, venue: this.venue.name, expected: from, next: page.cursor });
      if (!page.hasMore) break;
    }
    return result;
  }
}

/** The fill sync as a step of its own (`syncFills`), for workflows that need the ledger current before they read it. */
export function createFillSyncActivities(fills: FillSync): Pick<SessionActivities, 'syncFills'> {
  return {
    syncFills: () => runActivity(() => fills.sync()),
  };
}
