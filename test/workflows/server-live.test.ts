/**
 * LIVE on a real venue, on a real Temporal server (issue 13): a LIVE start against the Kalshi
 * double, configured as Kalshi's demo environment (KALSHI_ENV=demo, KALSHI_BASE_URL at the
 * double's loopback URL), goes through the worker's own start path: the config, the venue the
 * config names (worker/activity-deps.ts), the go/no-go with the venue's balance and the capital
 * ramp (worker/stages.ts), the ramp step's limits, then the real activities behind the order
 * workflows. A refused go/no-go leaves the venue without a single order. The logs of the whole
 * run never hold the Kalshi credentials.
 *
 * Settlement: the double resolves the market itself (its position removed, the payout credited,
 * a row on GET /portfolio/settlements), and the reconciliation workflow runs as its schedule
 * starts it (worker/schedules.ts): it books the settlement once, finds the position gone and the
 * cash credited as the records expect, and reports no mismatch, run after run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { riskLimitsAsConfig } from '../../activities/preflight';
import { listFills, listLiveCapitalSteps, listPositions, listVenueSettlements, positionHistoryOf } from '../../db';
import { getRun, type RunSummary } from '../../activities/reconciliation-runs';
import { tradingDayIn } from '../../domain/calendar';
import { makeClientOrderId, orderWorkflowId } from '../../domain/ids';
import type { Price, Quantity } from '../../domain/money';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { buildConfig, type Env, type WorkerConfig } from '../../runtime/config';
import { CapturedLines } from '../../runtime/logging';
import { cancelOrderSignal, orderStatusQuery, reconciliationStatusQuery, type OrderWorkflowInput, type ReconciliationWorkflowInput } from '../../workflows/api';
import type { marketResolutionWorkflow, orderWorkflow, reconciliationWorkflow } from '../../workflows';
import { openActivityDeps, withLimits } from '../../worker/activity-deps';
import { scheduleDefinitions, SCHEDULE_IDS } from '../../worker/schedules';
import { configAtStep, guardStart, liveStartChecks, preflightWith, StageRefused } from '../../worker/stages';
import { startObservability } from '../../worker/observability';
import { startKalshiDouble, takerFeeMicros, type KalshiDouble } from '../../testkit/kalshi-double';
import { KALSHI_KEY_ID, kalshiKeyPair } from '../../testkit/venue-harness';
import { startSmtpCapture, SMTP_PASSWORD, SMTP_USER, type SmtpCapture } from '../activities/smtp-capture';
import { terminateQuietly } from '../support/server-sessions';
import { describeOnServer, eventually, temporalServerForFile, withTimeout, type TestServer } from '../support/temporal-server';

const found = await temporalServerForFile();

const MARKET = 'KXFEDDECISION-26JAN-H0';
/** The double's book for MARKET: YES bid 0.42, ask 0.44 (NO bid 0.56). */
const RESTING_BUY = 410_000 as Price;
const CROSSING_BUY = 450_000 as Price;

/** The case study's limits with a spread and volume the double's fixture book passes. */
const LIMITS = riskLimitsAsConfig({ ...CASE_STUDY_LIMITS, maxSpread: 50_000, maxVolumeFraction: 1 });

describeOnServer(found, 'LIVE against the Kalshi double as the demo environment', (server: TestServer) => {
  const day = tradingDayIn(Date.now(), 'UTC');
  const keys = kalshiKeyPair();

  async function world(over: Env = {}): Promise<{ double: KalshiDouble; smtp: SmtpCapture; config: WorkerConfig; lines: CapturedLines; close(): Promise<void> }> {
    const double = await startKalshiDouble({ keyId: KALSHI_KEY_ID, publicKey: keys.publicKey });
    const smtp = await startSmtpCapture();
    const env: Env = {
      TRADING_STAGE: 'LIVE',
      VENUE: 'kalshi',
      KALSHI_ENV: 'demo',
      KALSHI_BASE_URL: double.url,
      KALSHI_API_KEY_ID: KALSHI_KEY_ID,
      KALSHI_PRIVATE_KEY_PEM: keys.privateKeyPem,
      LIVE_CONFIRM: 'true',
      LIVE_CAPITAL_CAP: '2000.00',
      SESSION_MARKETS: MARKET,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURE: 'false',
      SMTP_USER,
      SMTP_PASS: SMTP_PASSWORD,
      ALERT_EMAIL_FROM: 'bot@example.com',
      ALERT_EMAIL_TO: 'ops@example.com',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'live-')),
      METRICS_PORT: '0',
      LOG_LEVEL: 'debug',
      ...over,
    };
    const config = buildConfig(env, { riskLimits: LIMITS });
    return { double, smtp, config, lines: new CapturedLines(), close: async () => void (await Promise.all([double.close(), smtp.close()])) };
  }

  const orderInput = (clientOrderId: string, limitPrice: Price): OrderWorkflowInput => ({
    order: { clientOrderId, marketId: MARKET, side: 'BUY', quantity: 2 as Quantity, limitPrice },
    context: { strategy: 'live', sessionWorkflowId: null, tradingDay: day, signal: { price: limitPrice, confidence: 0.6, at: Date.now(), metadata: {} } },
    ttlMs: 10 * 60_000,
    halted: null,
    ordersInLastMinute: 0,
    searchAttributes: false,
    limits: { pollMaxMs: 1_000 },
  });

  function expectNoCredentials(text: string): void {
    const keyBody = keys.privateKeyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(text).not.toContain(KALSHI_KEY_ID);
    for (const line of keyBody) expect(text).not.toContain(line);
    expect(text).not.toContain(SMTP_PASSWORD);
  }

  it('goes live after the go/no-go, on the ramp step, then places, follows, cancels and settles orders through the workflows', async () => {
    const w = await world();
    const observability = await startObservability(w.config, { destination: w.lines, processMetrics: false });
    const opened = await openActivityDeps(w.config, observability);
    let printed = '';
    try {
      expect(opened.deps.config).toMatchObject({ account: 'kalshi-demo', venueName: 'kalshi' });
      // The worker's start path (worker/worker.ts main): go/no-go, then the step's limits.
      const started = await guardStart(w.config, preflightWith(opened.deps, w.config), (t) => (printed += `${t}\n`), liveStartChecks(opened.deps, w.config));
      expect(started.go).toBe(true);
      expect(printed).toMatch(/VENUE_BALANCE\s+PASS\s+balance \$10000.00 covers the session's capital \$500.00/);
      expect(printed).toMatch(/CAPITAL_RAMP_STEP\s+PASS\s+step 1 of 3: 25% of the cap \$2000.00 = \$500.00/);
      expect(printed).toMatch(/PREFLIGHT VENUE_REACHABLE\s+PASS\s+kalshi answered/);
      expect(w.double.ordersPerClientId().size).toBe(0);
      expect(await listLiveCapitalSteps(opened.deps.db, 'kalshi-demo')).toEqual([expect.objectContaining({ percent: 25, capital: 500_000_000, capitalCap: 2_000_000_000 })]);
      const runConfig = configAtStep(w.config, started.ramp);
      expect(runConfig.riskLimits.maxPortfolioExposure).toBe(CASE_STUDY_LIMITS.maxPortfolioExposure / 4);
      const deps = withLimits(opened.deps, runConfig.riskLimits);

      const taskQueue = server.unique('live');
      const worker = await server.startWorker(createActivities(deps), taskQueue);
      try {
        // A resting order: placed at the venue, followed while it works, cancelled on request.
        const resting = makeClientOrderId(server.unique('rest'), day, 1);
        const rest = await server.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(resting), args: [orderInput(resting, RESTING_BUY)] });
        const working = await eventually(() => rest.query(orderStatusQuery), (s) => s.state === 'SUBMITTED', 'the resting order to work at the venue', 60_000);
        expect(working.venueOrderId).not.toBeNull();
        expect(w.double.ordersPerClientId().get(resting)).toBe(1);
        await rest.signal(cancelOrderSignal, { operator: 'live-test', reason: 'cancel the resting order' });
        const cancelled = await withTimeout(rest.result(), 60_000, 'the resting order to be cancelled');
        expect(cancelled.state).toBe('CANCELED');
        expect(cancelled.filledQuantity).toBe(0);
        expect(w.double.requests.some((r) => r.method === 'DELETE' && r.path.includes(working.venueOrderId!) && r.status < 300)).toBe(true);

        // A crossing order: placed, filled at the touch, the fill followed into the records.
        const crossing = makeClientOrderId(server.unique('cross'), day, 1);
        const cross = await server.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(crossing), args: [orderInput(crossing, CROSSING_BUY)] });
        const filled = await withTimeout(cross.result(), 60_000, 'the crossing order to fill');
        expect(filled.state).toBe('FILLED');
        expect(filled.filledQuantity).toBe(2);
        expect(filled.averageFillPrice).toBe(440_000);
        expect(w.double.ordersPerClientId().get(crossing)).toBe(1);
        const fills = await listFills(opened.deps.db, { clientOrderId: crossing });
        expect(fills.map((f) => [f.quantity, f.price])).toEqual([[2, 440_000]]);

        // Kalshi's fee for 2 contracts taken at 0.44: 0.07 × 2 × 0.44 × 0.56 = $0.034496, rounded up to $0.0345.
        const fee = takerFeeMicros(200, 440_000);
        expect(fee).toBe(34_500);
        expect(fills.map((f) => f.fee)).toEqual([fee]);

        // The reconciliation as its schedule starts it (its input from the schedule's definition).
        const definition = scheduleDefinitions(runConfig).find((d) => d.scheduleId === SCHEDULE_IDS.reconciliation);
        const [reconciliationInput] = definition!.action.args as [ReconciliationWorkflowInput];
        const reconcile = async (label: string) => {
          const run = await server.client.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', { taskQueue, workflowId: server.unique(label), args: [reconciliationInput] });
          // A mismatch would leave the run waiting for an operator: read its phase, not only its end.
          const status = await eventually(() => run.query(reconciliationStatusQuery), (st) => st.phase !== 'CHECKING', `the ${label} run to compare`, 60_000);
          expect(status, status.summary).toMatchObject({ phase: 'CLEAN', discrepancies: 0, haltedSessions: [] });
          expect(await withTimeout(run.result(), 60_000, `the ${label} run to end`)).toMatchObject({ phase: 'CLEAN' });
          const row = await getRun(opened.deps.db, run.workflowId);
          return { status: row?.status, summary: row?.summary as RunSummary };
        };
        // Before the settlement: anchors the cash baseline, so the later runs check the credited cash.
        const before = await reconcile('reconcile-before');
        expect(before).toMatchObject({ status: 'CLEAN', summary: { settlementsBooked: 0, cash: { source: 'FIRST_RUN' } } });

        // The market resolves YES at the venue: the double removes the position and credits $2.
        const balanceBefore = (await opened.deps.venue.getBalance()).cash;
        w.double.settle(MARKET, 'yes');
        expect((await opened.deps.venue.getBalance()).cash).toBe(balanceBefore + 2_000_000);
        expect(await opened.deps.venue.getPositions()).toEqual([]);

        // Two runs: the settlement read from /portfolio/settlements is booked by the first, once.
        const first = await reconcile('reconcile-settled');
        const second = await reconcile('reconcile-again');
        expect(first).toMatchObject({ status: 'CLEAN', summary: { settlementsBooked: 1, cash: { source: 'CARRIED' } } });
        expect(second).toMatchObject({ status: 'CLEAN', summary: { settlementsBooked: 0, cash: { source: 'CARRIED' } } });
        expect(first.summary.cash?.local).toBe(first.summary.cash?.venue);
        expect(second.summary.cash?.local).toBe(second.summary.cash?.venue);
        expect(second.summary.cash?.venue).toBe(balanceBefore + 2_000_000);
        expect(w.double.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/portfolio/settlements') && r.status === 200).length).toBeGreaterThanOrEqual(3);

        const booked = await listVenueSettlements(opened.deps.db, 'kalshi-demo');
        expect(booked).toEqual([expect.objectContaining({ venue: 'kalshi', marketId: MARKET, result: 'YES', quantity: 2, cash: 2_000_000, fee: 0, localQuantity: 2, realizedDelta: 2 * (1_000_000 - 440_000) })]);
        const history = await positionHistoryOf(opened.deps.db, 'kalshi-demo', MARKET);
        expect(history.filter((h) => h.cause === 'SETTLEMENT')).toHaveLength(1);
        const [position] = await listPositions(opened.deps.db, { account: 'kalshi-demo' });
        expect(position).toMatchObject({ marketId: MARKET, quantity: 0, costBasis: 0, realizedPnl: 2 * (1_000_000 - 440_000), fees: fee });
        expect(position!.realizedPnl - position!.fees).toBe(2 * (1_000_000 - 440_000) - 34_500);

        // The resolution schedule's run afterwards finds nothing left to settle.
        const resolution = await server.client.workflow.execute<typeof marketResolutionWorkflow>('marketResolutionWorkflow', { taskQueue, workflowId: server.unique('resolution'), args: [] });
        expect(resolution.settled).toBe(0);
        expect((await positionHistoryOf(opened.deps.db, 'kalshi-demo', MARKET)).filter((h) => h.cause === 'SETTLEMENT')).toHaveLength(1);

        // The venue's own count: each client order ID reached it once.
        const perClientId = w.double.ordersPerClientId();
        expect([...perClientId.keys()].sort()).toEqual([crossing, resting].sort());
        for (const [clientOrderId, count] of perClientId) expect({ clientOrderId, count }).toEqual({ clientOrderId, count: 1 });
        await terminateQuietly(rest);
      } finally {
        await worker.stop();
      }
      // Whatever was logged on the way (venue requests at debug level included) holds no credential.
      expect(w.lines.raw.length).toBeGreaterThan(0);
      expectNoCredentials(w.lines.raw.join('\n'));
      expectNoCredentials(printed);
    } finally {
      await opened.close();
      await observability.close();
      await w.close();
    }
  }, 240_000);

  it('keeps the venue closed when the go/no-go fails: the step needs more than the balance, no order reaches the double and no step is recorded', async () => {
    // 25% of $80,000 is $20,000; the double's account holds $10,000.
    const w = await world({ LIVE_CAPITAL_CAP: '80000.00' });
    const observability = await startObservability(w.config, { destination: w.lines, processMetrics: false });
    const opened = await openActivityDeps(w.config, observability);
    let printed = '';
    try {
      const refused = await guardStart(w.config, preflightWith(opened.deps, w.config), (t) => (printed += t), liveStartChecks(opened.deps, w.config)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(StageRefused);
      expect((refused as StageRefused).goNoGo.refusals).toEqual([expect.stringMatching(/^VENUE_BALANCE: balance \$10000.00 is below the session's capital \$20000.00 \(25% of LIVE_CAPITAL_CAP \$80000.00\)/)]);
      expect(printed).toMatch(/NO-GO: LIVE refused \(1 failed check\)/);
      expect(w.double.ordersPerClientId().size).toBe(0);
      expect(w.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(await listLiveCapitalSteps(opened.deps.db, 'kalshi-demo')).toEqual([]);
      expectNoCredentials(w.lines.raw.join('\n') + printed);
    } finally {
      await opened.close();
      await observability.close();
      await w.close();
    }
  }, 120_000);
});
