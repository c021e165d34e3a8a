/** The handle types every repository takes, identical for both back ends (PostgreSQL and PGlite). */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/** The drizzle handle. */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** A handle or an open transaction: repositories write through either. */
export type Executor = Db | Tx;
