/**
 * Every row of the alert table, raised from the live path: the production market watch
 * (`watchForSignal`) on the paper exchange in-process (faults injected through its admin API),
 * the records (PGlite, and PostgreSQL when configured) and a real SMTP server. Each alert reaches
 * the SMTP server once however many polls and watches see the condition (MEDIUM ones are recorded,
 * never emailed: the chapter emails CRITICAL and HIGH only).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { ActivityConfig, MonitoringFigures } from '../../activities/deps';
import { parseAlertEmailLevels } from '../../activities/alerts';
import { MONITORING_DEFAULTS } from '../../activities/monitoring';
import type { WatchInput, WatchResult } from '../../contracts/activities';
import { listAlerts, recordExecution, type Db } from '../../db';
import type { ExecutionRecord } from '../../domain/execution-quality';
import type { Price, Quantity } from '../../domain/money';
import { inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';
import { captureMailer, startSmtpCapture, type SmtpCapture } from './smtp-capture';

let smtp: SmtpCapture;
beforeAll(async () => {
  smtp = await startSmtpCapture();
});
afterAll(async () => {
  await smtp?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachBackend('the alert table from the market watch', (backend) => {
  let exchange: TestExchange | null = null;
  afterEach(async () => {
    await exchange?.close();
    exchange = null;
    smtp.messages.length = 0;
  });

  async function world(monitoring: ActivityConfig['monitoring'] = {}, extra: Partial<ActivityConfig> = {}) {
    // A circuit that reopens quickly, so the watch after an outage reaches the venue at once.
    exchange = await startTestExchange({}, { circuitBreaker: { failureThreshold: 5, openMs: 100, halfOpenTrials: 1 } });
    const figures: MonitoringFigures[] = [];
    const deps = makeDeps({ db: backend.db, venue: exchange.venue, mailer: captureMailer(smtp.port), config: { monitoring, ...extra } });
    deps.metrics = {
      signal: () => undefined,
      orderState: () => undefined,
      fill: () => undefined,
      riskDecision: () => undefined,
      operatorAction: () => undefined,
      alert: () => undefined,
      quote: () => undefined,
      session: () => undefined,
      error: () => undefined,
      monitoring: (f) => figures.push(f),
    };
    const acts = createActivities(deps);
    const input = (untilInMs: number): WatchInput => ({
      strategy: 'mon',
      strategyName: 'ema-mean-reversion',
      strategyParams: {},
      strategyState: {},
      marketIds: [exchange!.market.marketId],
      untilMs: Date.now() + untilInMs,
      pollIntervalMs: 50,
    });
    /** One watch attempt; `scheduledAt`: when its first attempt was scheduled (as Temporal reports to a retry). */
    const watch = (untilInMs: number, scheduledAt?: number): Promise<WatchResult> =>
      inActivity(() => acts.watchForSignal(input(untilInMs)), scheduledAt === undefined ? {} : { scheduledTimestampMs: scheduledAt });
    return { exchange, acts, watch, figures, db: backend.db };
  }

  const mails = (type: string) => smtp.messages.filter((m) => m.text.includes(`Type: ${type}\n`));
  const rows = async (db: Db, type: string) => listAlerts(db, { type });

  it('CRITICAL connection lost over the threshold: one email per outage however many attempts fail; the watch after it reports the outage', async () => {
    const w = await world({ connectionLostAlertMs: 400 });
    await w.watch(100);
    const firstAttempt = Date.now();
    w.exchange.exchange.admin.setFaults({ errorRate: 1 });
    const failures: string[] = [];
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      await w.watch(100, firstAttempt).then(
        () => failures.push('none'),
        (e: Error) => failures.push(e.message),
      );
      await sleep(50);
    }
    expect(failures.length).toBeGreaterThan(3);
    expect(failures.every((f) => f !== 'none')).toBe(true);
    expect(mails('CONNECTION_LOST')).toHaveLength(1);
    expect(mails('CONNECTION_LOST')[0]!.subject).toBe('[Trading Alert - CRITICAL] Venue connection lost for more than 0.4 s');
    expect(w.figures.some((f) => (f.connectionLostMs ?? 0) >= 400)).toBe(true);

    w.exchange.exchange.admin.resetFaults();
    const back = await w.watch(100, firstAttempt);
    expect(back.connectionOutage).not.toBeNull();
    expect(back.connectionOutage!.restoredAt - back.connectionOutage!.since).toBeGreaterThanOrEqual(400);
    // A watch whose first attempt started after the outage ended does not report it again.
    const later = await w.watch(100, Date.now());
    expect(later.connectionOutage).toBeNull();
    expect(mails('CONNECTION_LOST')).toHaveLength(1);
    expect(await rows(w.db, 'CONNECTION_LOST')).toHaveLength(1);
  });

  it('a short outage under the threshold raises nothing and is not reported', async () => {
    const w = await world({ connectionLostAlertMs: 60_000 });
    const firstAttempt = Date.now();
    w.exchange.exchange.admin.setFaults({ errorRate: 1 });
    for (let i = 0; i < 3; i++) await w.watch(100, firstAttempt).catch(() => undefined);
    w.exchange.exchange.admin.resetFaults();
    const back = await w.watch(100, firstAttempt);
    expect(back.connectionOutage).toBeNull();
    expect(await rows(w.db, 'CONNECTION_LOST')).toHaveLength(0);
  });

  it('MEDIUM rate limit hit: recorded once per cooldown window, never emailed', async () => {
    const w = await world();
    w.exchange.exchange.admin.setFaults({ rateLimitStormRate: 1, rateLimitStormRetryAfterSeconds: 5 });
    for (let i = 0; i < 3; i++) await w.watch(100).catch(() => undefined);
    const recorded = await rows(w.db, 'RATE_LIMIT_HIT');
    expect(recorded.map((r) => [r.level, r.delivery, r.deliveryError?.split(':')[0]])).toEqual([['MEDIUM', 'SUPPRESSED', 'RECORDED_ONLY']]);
    expect(recorded[0]!.body).toMatch(/answered 429/);
    expect(mails('RATE_LIMIT_HIT')).toEqual([]);
    expect(w.figures.reduce((n, f) => n + (f.rateLimitHits ?? 0), 0)).toBeGreaterThanOrEqual(3);
  });

  it('MEDIUM rate limit hit with ALERT_EMAIL_LEVELS including MEDIUM: reaches the SMTP server exactly once, the cooldown holds', async () => {
    const w = await world({}, { alertEmailLevels: parseAlertEmailLevels('CRITICAL,HIGH,MEDIUM') });
    w.exchange.exchange.admin.setFaults({ rateLimitStormRate: 1, rateLimitStormRetryAfterSeconds: 5 });
    for (let i = 0; i < 3; i++) await w.watch(100).catch(() => undefined);
    await sleep(100);
    const recorded = await rows(w.db, 'RATE_LIMIT_HIT');
    expect(recorded.map((r) => [r.level, r.delivery])).toEqual([['MEDIUM', 'SENT']]);
    expect(mails('RATE_LIMIT_HIT')).toHaveLength(1);
    expect(mails('RATE_LIMIT_HIT')[0]!.subject).toMatch(/^\[Trading Alert - MEDIUM\] /);
    // More hits inside the 5-minute cooldown: recorded at most, never emailed again.
    for (let i = 0; i < 2; i++) await w.watch(100).catch(() => undefined);
    expect(mails('RATE_LIMIT_HIT')).toHaveLength(1);
  });

  it('HIGH quote staleness over 1 s: one email however many polls and watches see it', async () => {
    const w = await world();
    await w.watch(100);
    expect(await rows(w.db, 'QUOTE_STALE')).toHaveLength(0);
    w.exchange.exchange.admin.setFaults({ staleQuotes: true });
    await w.watch(1_600);
    await w.watch(300);
    expect(mails('QUOTE_STALE')).toHaveLength(1);
    expect(mails('QUOTE_STALE')[0]!.subject).toBe('[Trading Alert - HIGH] Market data is stale');
    expect(mails('QUOTE_STALE')[0]!.text).toMatch(new RegExp(`Quotes older than ${MONITORING_DEFAULTS.quoteStalenessAlertMs} ms when read: ${w.exchange.market.marketId} \\d+\\.\\d s`));
    const ages = w.figures.flatMap((f) => Object.values(f.quoteAgesMs ?? {}));
    expect(Math.max(...ages)).toBeGreaterThan(1_000);
  });

  it('HIGH fill rate under 50%, unusual slippage and rejections over 1%: one email each from the execution records', async () => {
    const w = await world({ executionCheckEveryMs: 0 });
    const now = Date.now();
    const market = w.exchange.market.marketId;
    const record = (i: number, state: ExecutionRecord['finalState'], fillPrice: number | null): ExecutionRecord => ({
      clientOrderId: `mon-20260101-${String(i).padStart(6, '0')}`,
      marketId: market,
      side: 'BUY',
      intendedPrice: 400_000 as Price,
      orderQuantity: 2 as Quantity,
      fills: fillPrice === null ? [] : [{ quantity: 2 as Quantity, price: fillPrice as Price, fee: 0 as never, ts: now - 1_000 }],
      signalAt: now - 5_000,
      submittedAt: now - 4_000,
      firstFillAt: fillPrice === null ? null : now - 1_000,
      completedAt: now - 500,
      finalState: state,
    });
    // 12 sent: 5 filled two cents worse than intended, 6 cancelled unfilled, 1 rejected.
    const records = [
      ...Array.from({ length: 5 }, (_, i) => record(i + 1, 'FILLED', 420_000)),
      ...Array.from({ length: 6 }, (_, i) => record(i + 6, 'CANCELED', null)),
      record(12, 'REJECTED', null),
    ];
    for (const r of records) await recordExecution(w.db, r);
    await w.watch(200);
    await w.watch(200);
    expect(mails('FILL_RATE_LOW').map((m) => m.subject)).toEqual(['[Trading Alert - HIGH] Fill rate under 50%']);
    expect(mails('FILL_RATE_LOW')[0]!.text).toContain('5 of 12 decided orders filled');
    expect(mails('SLIPPAGE_UNUSUAL').map((m) => m.subject)).toEqual(['[Trading Alert - HIGH] Unusual slippage']);
    expect(mails('SLIPPAGE_UNUSUAL')[0]!.text).toContain('Mean slippage 0.02 per contract over 10 contracts in 5 orders');
    expect(mails('REJECTION_RATE_HIGH').map((m) => m.subject)).toEqual(['[Trading Alert - HIGH] Order rejections over 1%']);
    expect(mails('REJECTION_RATE_HIGH')[0]!.text).toContain('1 of 12 orders sent');
    const last = w.figures.filter((f) => f.rejectionRate !== undefined).at(-1)!;
    expect(last.rejectionRate).toBeCloseTo(1 / 12, 10);
    expect(last.fillRate).toBeCloseTo(5 / 12, 10);
    expect(last.meanSlippageMicros).toBe(20_000);
  });

  it('healthy execution raises none of them', async () => {
    const w = await world({ executionCheckEveryMs: 0 });
    const now = Date.now();
    for (let i = 1; i <= 12; i++) {
      await recordExecution(w.db, {
        clientOrderId: `mon-20260101-${String(100 + i).padStart(6, '0')}`,
        marketId: w.exchange.market.marketId,
        side: 'BUY',
        intendedPrice: 400_000 as Price,
        orderQuantity: 1 as Quantity,
        fills: [{ quantity: 1 as Quantity, price: 400_000 as Price, fee: 0 as never, ts: now - 1_000 }],
        signalAt: now - 5_000,
        submittedAt: now - 4_000,
        firstFillAt: now - 1_000,
        completedAt: now - 500,
        finalState: 'FILLED',
      });
    }
    await w.watch(200);
    expect((await listAlerts(w.db, {})).map((a) => a.type)).toEqual([]);
  });
});
