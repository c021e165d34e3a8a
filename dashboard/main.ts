/**
 * `npm run dashboard`: the operator dashboard on the records the worker writes.
 *
 * Records: PostgreSQL at DATABASE_URL, else the running worker's embedded records through the
 * server it names in <DATA_DIR>/pglite.socket.json (runtime/records-socket.ts), else PGlite under
 * <DATA_DIR>/pglite opened here (no worker runs).
 * Live quotes come from the paper exchange when PAPER_EXCHANGE_URL and its key are set. Halt and
 * resume reach the sessions through a Temporal client when TEMPORAL_ADDRESS is set, and need
 * DASHBOARD_TOKEN. Exit codes: 0 stopped, 1 could not start, 2 bad configuration.
 */
import { pathToFileURL } from 'node:url';
import { Client, type Connection } from '@temporalio/client';
import { createPaperVenue } from '../activities/venue/paper-venue';
import { InvalidInput } from '../domain/errors';
import type { Money } from '../domain/money';
import { loadConfig, type Env } from '../runtime/config';
import { describeLocation, locateRecords, openRecords } from '../runtime/records-socket';
import { signalHalt, signalKillSwitch, signalResume } from '../runtime/session-control';
import { decideOrder, listAwaitingApproval } from '../runtime/order-approval';
import type { DashboardApprovals } from './approvals';
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

  let database;
  try {
    const location = locateRecords(config);
    database = await openRecords(location);
    console.log(`Dashboard: records from ${describeLocation(location)}`);
  } catch (e) {
    console.error(`Dashboard: the records could not be opened: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof InvalidInput ? 2 : 1;
  }
  let connection: Connection | null = null;
  try {
    let temporal: DashboardTemporal | null = null;
    let approvals: DashboardApprovals | null = null;
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
      approvals = { listAwaiting: () => listAwaitingApproval(client), decide: (kind, coid, req) => decideOrder(client, kind, coid, req) };
    }
    let quotes: QuoteSource | null = null;
    let cash: (() => Promise<Money>) | null = null;
    if (config.paperExchange !== null) {
      const paper = config.paperExchange;
      const venue = createPaperVenue({ baseUrl: paper.url, keyId: paper.keyId, secret: paper.secret }, { timeoutMs: 2_000 });
      quotes = venueQuotes(venue);
      cash = async () => (await venue.getBalance()).cash;
    }
    const dashboard = await startDashboard({
      db: database.db,
      limits: config.riskLimits,
      temporal,
      approvals,
      token: settings.token,
      temporalUiUrl: settings.temporalUiUrl,
      namespace: config.temporal.namespace,
      timeZone: config.timeZone,
      quotes,
      cash,
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
