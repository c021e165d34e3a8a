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

/** Names of the fields whose values differ (compared as JSON for objects). */
export function differingFields<T extends object>(stored: T, offered: T, fields: readonly (keyof T)[]): string[] {
  return fields.filter((f) => JSON.stringify(stored[f] ?? null) !== JSON.stringify(offered[f] ?? null)).map(String);
}

export const ACCOUNT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
