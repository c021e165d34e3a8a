/** Transactions with typed errors and a bounded retry on deadlock/serialization failure. */
import type { Db, Executor, Tx } from '../client';
import { isTransient, toRecordError } from '../errors';

const ATTEMPTS = 4;

/** Runs `fn` in one transaction: everything commits or nothing does. Driver errors become RecordErrors. */
export async function transaction<T>(db: Executor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await (db as Db).transaction(fn);
    } catch (err) {
      if (attempt < ATTEMPTS && isTransient(err)) continue;
      throw toRecordError(err);
    }
  }
}

/** A single statement with driver errors mapped to RecordErrors. */
export async function mapErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw toRecordError(err);
  }
}

/** JSON with object keys sorted, so a jsonb round trip (which reorders keys) compares equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Names of the fields whose values differ (objects compared by content, not key order). */
export function differingFields<T extends object>(stored: T, offered: T, fields: readonly (keyof T)[]): string[] {
  return fields.filter((f) => canonical(stored[f]) !== canonical(offered[f])).map(String);
}

export const ACCOUNT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
