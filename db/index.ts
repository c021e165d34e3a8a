/** The records layer's public surface: open a database, then call the repositories with its `db`. */
export { openDatabase, databaseConfigFromEnv, redactUrl, DEFAULT_PGLITE_DIR, type Database, type DatabaseConfig, type Db, type Executor, type Tx } from './client';
export { RecordError, RecordConflict, RecordNotFound, RecordErrorType, toRecordError } from './errors';
export * from './repositories/audit';
export * from './repositories/orders';
export * from './repositories/fills';
export * from './repositories/positions';
export * from './repositories/risk';
export * from './repositories/journal';
export * from './repositories/alerts';
export * from './repositories/reconciliation';
export * from './repositories/execution';
export * from './repositories/markets';
export * from './repositories/venue-cursors';
export * from './repositories/venue-order-ids';
export * from './repositories/settlements';
export * from './repositories/live-ramp';
export * from './repositories/shadow';
export * from './repositories/strategy-states';
