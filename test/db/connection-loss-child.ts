/**
 * Child process for connection-loss.test.ts: a transaction's server connection is ended mid-query
 * (pg_terminate_backend, what a server restart does to it), then a burst of queries runs on the
 * same handle. Prints one JSON line (LossReport). A child because postgres.js throws an uncaught
 * TypeError in this scenario (porsager/postgres#1208), which a test runner reports as a failure of
 * its own; here it is counted.
 *
 * LOSS_MODE=pool: openDatabase's pool (db/client.ts). LOSS_MODE=bare: a plain postgres.js pool
 * with the same handshake bound, the negative control showing the scenario wedges a connection.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { CONNECT_TIMEOUT_S, openDatabase, type Db } from '../../db/client';

export interface LossReport {
  transactionError: string | null;
  uncaught: string[];
  poolReplacements: number;
  /** Each query of the burst after the loss: its error code (null when it answered) and how long it took. */
  queries: { error: string | null; ms: number }[];
  closeMs: number;
}

const url = new URL(process.env.LOSS_URL!);
const application = process.env.LOSS_APPLICATION!;
url.searchParams.set('application_name', application);
const bare = process.env.LOSS_MODE === 'bare';

const uncaught: string[] = [];
process.on('uncaughtException', (e) => uncaught.push(e.message));

let poolReplacements = 0;
let db: Db;
let close: () => Promise<void>;
if (bare) {
  const client = postgres(url.toString(), { max: 2, onnotice: () => {}, connect_timeout: CONNECT_TIMEOUT_S });
  db = drizzle({ client }) as unknown as Db;
  close = () => client.end({ timeout: 5 });
} else {
  const database = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 }, { migrate: false, onPoolReplaced: () => poolReplacements++ });
  db = database.db;
  close = database.close;
}
const admin = postgres(process.env.LOSS_URL!, { max: 1, onnotice: () => {} });

/** The driver's error code; drizzle wraps query errors and keeps the driver's as the cause. */
function code(e: unknown): string {
  const { code: own, cause } = (e ?? {}) as { code?: unknown; cause?: unknown };
  if (typeof own === 'string') return own;
  if (cause !== undefined) return code(cause);
  return e instanceof Error ? e.message : String(e);
}
const timed = async (p: Promise<unknown>): Promise<{ error: string | null; ms: number }> => {
  const started = Date.now();
  try {
    await p;
    return { error: null, ms: Date.now() - started };
  } catch (e) {
    return { error: code(e), ms: Date.now() - started };
  }
};

await db.execute(sql`select 1`);
let transactionError: string | null = null;
const transaction = db
  .transaction(async (tx) => {
    await tx.execute(sql`select pg_sleep(5)`);
    await tx.execute(sql`select 1`);
  })
  .catch((e: unknown) => (transactionError = code(e)));
for (let i = 0; i < 100; i++) {
  const sleeping = await admin`select 1 from pg_stat_activity where application_name = ${application} and wait_event = 'PgSleep'`;
  if (sleeping.length > 0) break;
  await new Promise((r) => setTimeout(r, 20));
}
await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${application}`;
await transaction;
await new Promise((r) => setTimeout(r, 100));
// More queries than connections: some wait for a connection, so the closed ones are reused.
const queries = await Promise.all(Array.from({ length: 6 }, (_, i) => timed(db.execute(sql`select pg_sleep(0.1), ${i}::int`))));
const closing = Date.now();
await close();
const report: LossReport = { transactionError, uncaught, poolReplacements, queries, closeMs: Date.now() - closing };
await admin.end({ timeout: 5 });
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
