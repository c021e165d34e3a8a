/**
 * A narrow guard for a known driver defect: postgres.js 3.4.9 can write to a socket that a
 * terminated backend already closed, from a setImmediate callback, throwing an uncaught TypeError
 * (porsager/postgres issues 1154 and 1208, fixes proposed upstream, not released). By then the
 * driver has already rejected the affected query with CONNECTION_CLOSED, which our activities
 * retry, so the process stays up and counts it. The connection it happened on is wedged for good,
 * but its pool no longer takes queries: db/client.ts replaces a pool when a connection of it
 * closes. Anything else uncaught still ends the process.
 */
export function isClosedSocketWrite(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const stack = error.stack ?? '';
  return /reading 'write'|evaluating 'socket\.write'/.test(error.message) && /postgres\/(cjs\/)?src\/connection\.js/.test(stack);
}

export function installDriverCrashGuard(report: (message: string) => void, onDriverCrash: () => void = () => undefined): () => void {
  const handler = (error: Error) => {
    if (isClosedSocketWrite(error)) {
      onDriverCrash();
      report(`database driver wrote to a closed connection (known postgres.js defect); the query was already failed and is retried: ${error.message}`);
      return;
    }
    report(`uncaught error, stopping: ${error.stack ?? error.message}`);
    process.exit(1);
  };
  process.on('uncaughtException', handler);
  return () => process.off('uncaughtException', handler);
}
