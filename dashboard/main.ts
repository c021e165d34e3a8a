/**
 * `npm run dashboard`: the operator dashboard on the records the worker writes.
 *
 * Records: PostgreSQL at DATABASE_URL, else PGlite under <DATA_DIR>/pglite (PGlite admits one
 * process at a time: with the embedded store, stop the worker first or point both at PostgreSQL).
 * Live quotes come from the paper exchange when PAPER_EXCHANGE_URL and its key are set. Halt and
 * resume reach the sessions through a Temporal client when TEMPORAL_ADDRESS is set, and need
 * DASHBOARD_TOKEN. Exit codes: 0 stopped, 1 could not start, 2 bad configuration.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, type Connection } from '@temporalio/client';
import { createPaperVenue } from '../activities/venue/paper-venue';
import { openDatabase } from '../db';
import { InvalidInput } from '../domain/errors';
import { loadConfig, type Env } from '../runtime/config';
import { signalHalt, signalKillSwitch, signalResume } from '../runtime/session-control';
import { connectClientConnection } from '../runtime/temporal';
import { controlDesk } from '../runtime/desk-control';
import { sessionWorkflowId } from '../domain/ids';
import { tradingDayIn } from '../domain/calendar';
import { loadDashboardSettings } from './config';
import { startDashboard, type DashboardTemporal } from './server';
import { venueQuotes, type QuoteSource } from './api';

export async function main(env: Env): Promise<number> {
  let config;
  let settings;
  try {
    config = loadConfig(env);
    settings = loadDashboardSettings(env);
  } catch (e) {
    if (!(e instanceof InvalidInput)) throw e;
    console.error(`Configuration: ${e.message}`);
    return 2;
  }

  const database = await openDatabase(config.database.url !== null ? { kind: 'postgres', url: config.database.url } : { kind: 'pglite', dataDir: join(config.dataDir, 'pglite') });
  let connection: Connection | null = null;
  try {
    let temporal: DashboardTemporal | null = null;
    if (config.temporal.address !== null) {
      connection = await connectClientConnection(config.temporal);
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const strategy = config.session.strategy;
      const timeZone = config.timeZone;
      temporal = {
        signalHalt: (id, req) => signalHalt(client, id, req),
        signalResume: (id, req) => signalResume(client, id, req),
        signalKillSwitch: (id, req) => signalKillSwitch(client, id, req),
        // Today's session of the configured strategy is also tried by name (visibility may not list it yet).
        control: (action, req, scope) => controlDesk(client, action, req, { ...scope, expectedSessions: action === 'RESUME' ? [] : [sessionWorkflowId(strategy, tradingDayIn(Date.now(), timeZone))] }),
      };
    }
    let quotes: QuoteSource | null = null;
    if (config.paperExchange !== null) {
      const paper = config.paperExchange;
      const venue = createPaperVenue({ baseUrl: paper.url, keyId: paper.keyId, secret: paper.secret }, { timeoutMs: 2_000 });
      quotes = venueQuotes(venue);
    }
    const dashboard = await startDashboard({
      db: database.db,
      limits: config.riskLimits,
      temporal,
      token: settings.token,
      temporalUiUrl: settings.temporalUiUrl,
      namespace: config.temporal.namespace,
      timeZone: config.timeZone,
      quotes,
      host: settings.host,
      port: settings.port,
      allowedHosts: settings.allowedHosts,
    });
    console.log(`Dashboard: ${dashboard.url} (${settings.token === null ? 'read-only: set DASHBOARD_TOKEN to allow halt and resume' : 'halt and resume need the token'}${temporal === null ? '; no TEMPORAL_ADDRESS, so actions answer 503' : ''})`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await dashboard.close();
    return 0;
  } catch (e) {
    console.error(`Dashboard: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    await connection?.close();
    await database.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
