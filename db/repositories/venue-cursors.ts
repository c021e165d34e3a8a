/**
 * The fill sync's position per account: the venue's opaque fill cursor. The caller writes a
 * cursor only after the fills it read before it are committed; `advanceFillCursor` is a
 * compare-and-set, so two syncs that raced never move the cursor back to an older position.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../client';
import { venueCursors } from '../schema';
import { fillCursorProblem } from '../../contracts/venue';
import { InvalidInput } from '../../domain/errors';
import { ACCOUNT_RE, mapErrors } from './common';

export interface FillCursor {
  account: string;
  venue: string;
  cursor: string;
  updatedAt: number;
}

function checkAccount(account: string): void {
  if (typeof account !== 'string' || !ACCOUNT_RE.test(account)) throw InvalidInput.of('account', account, 'must be 1-64 letters, digits, "_", "." or "-"');
}

/** The stored cursor, or null before the first sync (read the venue from the beginning). */
export async function getFillCursor(ex: Executor, account: string): Promise<FillCursor | null> {
  checkAccount(account);
  const [row] = await mapErrors(ex.select().from(venueCursors).where(eq(venueCursors.account, account)));
  return row ? { account: row.account, venue: row.venue, cursor: row.fillCursor, updatedAt: row.updatedAt } : null;
}

/**
 * Moves the cursor from `expected` (null: no row yet) to `next`. Returns false, changing
 * nothing, when another sync moved it first; that sync read at least as far.
 */
export async function advanceFillCursor(ex: Executor, input: { account: string; venue: string; expected: string | null; next: string }): Promise<boolean> {
  checkAccount(input.account);
  const problem = fillCursorProblem(input.next);
  if (problem !== null) throw InvalidInput.of('next', input.next, problem);
  if (input.expected === input.next) return true;
  if (input.expected === null) {
    const rows = await mapErrors(
      ex
        .insert(venueCursors)
        .values({ account: input.account, venue: input.venue, fillCursor: input.next })
        .onConflictDoNothing()
        .returning({ account: venueCursors.account }),
    );
    return rows.length === 1;
  }
  const rows = await mapErrors(
    ex
      .update(venueCursors)
      .set({ fillCursor: input.next, venue: input.venue, updatedAt: sql`now()` })
      .where(and(eq(venueCursors.account, input.account), eq(venueCursors.fillCursor, input.expected)))
      .returning({ account: venueCursors.account }),
  );
  return rows.length === 1;
}
