/**
 * Prometheus metrics of the worker (prom-client, a registry of its own rather than the global
 * one) and the `/metrics` endpoint, bound to 127.0.0.1 unless configured otherwise. The families
 * (METRIC_NAMES) cover reference 004's monitoring list as far as this system measures it:
 * orders by state, fills, risk rejections by rule, P&L, exposure, limit utilization, market data
 * age, venue latency, errors by component, alerts by level, Temporal activity failures.
 *
 * The activities report through the ActivityMetrics interface (activities/deps.ts); venue
 * latency comes from the HTTP client's VenueLogger hook; activity failures from a wrapper
 * around the registered activities (`instrumentActivities`). Money gauges are in dollars:
 * Prometheus values are float64 and only displayed, never computed with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { refuseForeignHost } from './host-check';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { logEvent, type ActivityMetrics, type MonitoringFigures, type SessionFigures } from '../activities/deps';
import type { VenueLogEntry, VenueLogger } from '../activities/venue/http';
import type { Fill } from '../domain/fill';
import { MICROS } from '../domain/money';
import { TERMINAL_STATES } from '../domain/order';
import type { Stage } from '../domain/stages';
import type { Logger } from './logging';

export const METRIC_NAMES = {
  orders: 'trader_orders',
  orderEvents: 'trader_order_events_total',
  fills: 'trader_fills_total',
  filledContracts: 'trader_filled_contracts_total',
  riskDecisions: 'trader_risk_decisions_total',
  riskRejections: 'trader_risk_rejections_total',
  signals: 'trader_signals_total',
  pnl: 'trader_pnl_dollars',
  equity: 'trader_equity_dollars',
  exposure: 'trader_exposure_dollars',
  openPositions: 'trader_open_positions',
  limitUtilization: 'trader_limit_utilization_ratio',
  dataAge: 'trader_market_data_age_seconds',
  venueLatency: 'trader_venue_request_duration_seconds',
  errors: 'trader_errors_total',
  alerts: 'trader_alerts_total',
  operatorActions: 'trader_operator_actions_total',
  activityFailures: 'trader_activity_failures_total',
  stage: 'trader_stage_info',
  quoteStaleness: 'trader_quote_staleness_seconds',
  connectionLost: 'trader_venue_connection_lost_seconds',
  rateLimitHits: 'trader_rate_limit_hits_total',
  rejectionRate: 'trader_order_rejection_ratio',
  fillRate: 'trader_fill_rate_ratio',
  meanSlippage: 'trader_mean_slippage_dollars',
} as const;

const dollars = (micros: number): number => micros / MICROS;
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATES);
/** Orders whose state is remembered (to move them between states); terminal ones are forgotten first. */
const MAX_TRACKED_ORDERS = 50_000;

export interface TradingMetricsOptions {
  /** Epoch milliseconds, for the data-age gauge. */
  clock?: () => number;
  /** Also export Node's process metrics (CPU, memory, event loop lag). */
  processMetrics?: boolean;
  stage?: Stage;
}

export class TradingMetrics implements ActivityMetrics {
  readonly registry = new Registry();
  private readonly clock: () => number;
  private readonly orderStates = new Map<string, string>();
  private readonly quoteTimes = new Map<string, number>();

  private readonly orders: Gauge;
  private readonly orderEvents: Counter;
  private readonly fills: Counter;
  private readonly filledContracts: Counter;
  private readonly riskDecisions: Counter;
  private readonly riskRejections: Counter;
  private readonly signals: Counter;
  private readonly pnl: Gauge;
  private readonly equity: Gauge;
  private readonly exposure: Gauge;
  private readonly openPositions: Gauge;
  private readonly limitUtilization: Gauge;
  private readonly venueLatency: Histogram;
  private readonly errors: Counter;
  private readonly alerts: Counter;
  private readonly operatorActions: Counter;
  private readonly activityFailures: Counter;
  private readonly quoteStaleness: Gauge;
  private readonly connectionLost: Gauge;
  private readonly rateLimitHits: Counter;
  private readonly rejectionRate: Gauge;
  private readonly fillRate: Gauge;
  private readonly meanSlippage: Gauge;

  constructor(options: TradingMetricsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    const registers = [this.registry];
    const quoteTimes = this.quoteTimes;
    const clock = this.clock;
    this.orders = new Gauge({ name: METRIC_NAMES.orders, help: 'Orders this worker has recorded, by their latest state', labelNames: ['state'], registers });
    this.orderEvents = new Counter({ name: METRIC_NAMES.orderEvents, help: 'Order state changes recorded, by the state reached', labelNames: ['state'], registers });
    this.fills = new Counter({ name: METRIC_NAMES.fills, help: 'Fills recorded in the ledger for the first time', labelNames: ['market', 'side'], registers });
    this.filledContracts = new Counter({ name: METRIC_NAMES.filledContracts, help: 'Contracts filled', labelNames: ['market', 'side'], registers });
    this.riskDecisions = new Counter({ name: METRIC_NAMES.riskDecisions, help: 'Pre-trade risk decisions', labelNames: ['result'], registers });
    this.riskRejections = new Counter({ name: METRIC_NAMES.riskRejections, help: 'Rule violations of rejected orders, by rule', labelNames: ['rule'], registers });
    this.signals = new Counter({ name: METRIC_NAMES.signals, help: 'Strategy signals that sized to at least one contract', labelNames: ['market', 'side', 'intent'], registers });
    this.pnl = new Gauge({ name: METRIC_NAMES.pnl, help: "Today's P&L in dollars: realized, unrealized, fees, daily net", labelNames: ['account', 'kind'], registers });
    this.equity = new Gauge({ name: METRIC_NAMES.equity, help: 'Cash plus positions at their marks, dollars', labelNames: ['account'], registers });
    this.exposure = new Gauge({ name: METRIC_NAMES.exposure, help: 'Total position exposure at the marks, dollars', labelNames: ['account'], registers });
    this.openPositions = new Gauge({ name: METRIC_NAMES.openPositions, help: 'Markets with a position', labelNames: ['account'], registers });
    this.limitUtilization = new Gauge({
      name: METRIC_NAMES.limitUtilization,
      help: 'Share of a risk limit in use (1 = at the limit): portfolio_exposure, daily_loss, open_positions',
      labelNames: ['account', 'limit'],
      registers,
    });
    new Gauge({
      name: METRIC_NAMES.dataAge,
      help: 'Seconds since the newest quote of each watched market, at scrape time',
      labelNames: ['market'],
      registers,
      collect() {
        const now = clock();
        for (const [market, ts] of quoteTimes) this.set({ market }, Math.max(0, now - ts) / 1000);
      },
    });
    this.venueLatency = new Histogram({
      name: METRIC_NAMES.venueLatency,
      help: 'Venue HTTP request duration per attempt, by operation and outcome (ok or the failure kind)',
      labelNames: ['venue', 'operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.errors = new Counter({ name: METRIC_NAMES.errors, help: 'Errors by component (venue, activity, alerts) and kind', labelNames: ['component', 'kind'], registers });
    this.alerts = new Counter({ name: METRIC_NAMES.alerts, help: 'Alerts raised, by level and outcome (SENT, RECORDED, COOLDOWN, DUPLICATE)', labelNames: ['level', 'outcome'], registers });
    this.operatorActions = new Counter({ name: METRIC_NAMES.operatorActions, help: 'Operator actions journaled', labelNames: ['action'], registers });
    this.activityFailures = new Counter({
      name: METRIC_NAMES.activityFailures,
      help: 'Temporal activity attempts that failed, by activity, failure type and whether Temporal retries it',
      labelNames: ['activity', 'type', 'retryable'],
      registers,
    });
    // The live checks' figures (activities/monitoring.ts): the deployment guide's thresholds are alerts there and gauges here.
    this.quoteStaleness = new Gauge({ name: METRIC_NAMES.quoteStaleness, help: 'Age of each market quote when the watch read it, seconds (alert above 1 s)', labelNames: ['market'], registers });
    this.connectionLost = new Gauge({ name: METRIC_NAMES.connectionLost, help: 'How long the venue connection has been lost, seconds (0 when connected; CRITICAL alert above 60 s)', registers });
    this.rateLimitHits = new Counter({ name: METRIC_NAMES.rateLimitHits, help: 'Venue answers of 429 (rate limited) the live checks counted', registers });
    this.rejectionRate = new Gauge({ name: METRIC_NAMES.rejectionRate, help: 'Rejected share of the orders sent over the look-back (alert above 1%)', registers });
    this.fillRate = new Gauge({ name: METRIC_NAMES.fillRate, help: 'Orders with a fill over decided orders, over the look-back (alert under 50%)', registers });
    this.meanSlippage = new Gauge({ name: METRIC_NAMES.meanSlippage, help: 'Mean slippage per filled contract over the look-back, dollars', registers });
    const stage = new Gauge({ name: METRIC_NAMES.stage, help: 'Deployment stage the worker runs in (1 for the current one)', labelNames: ['stage'], registers });
    if (options.stage) stage.set({ stage: options.stage }, 1);
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'trader_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format, as served on /metrics. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  // ---- ActivityMetrics ----

  signal(s: { marketId: string; side: string; intent: string }): void {
    this.signals.inc({ market: s.marketId, side: s.side, intent: s.intent });
  }

  orderState(clientOrderId: string, state: string): void {
    const previous = this.orderStates.get(clientOrderId);
    if (previous === state) return;
    if (previous !== undefined) this.orders.dec({ state: previous });
    this.orders.inc({ state });
    this.orderEvents.inc({ state });
    this.orderStates.set(clientOrderId, state);
    if (this.orderStates.size > MAX_TRACKED_ORDERS) {
      for (const [id, s] of this.orderStates) {
        if (this.orderStates.size <= MAX_TRACKED_ORDERS / 2) break;
        if (TERMINAL.has(s)) this.orderStates.delete(id);
      }
    }
  }

  fill(f: Fill): void {
    this.fills.inc({ market: f.marketId, side: f.side });
    this.filledContracts.inc({ market: f.marketId, side: f.side }, f.quantity);
  }

  riskDecision(approved: boolean, rules: readonly string[]): void {
    this.riskDecisions.inc({ result: approved ? 'approved' : 'rejected' });
    for (const rule of new Set(rules)) this.riskRejections.inc({ rule });
  }

  operatorAction(action: string): void {
    this.operatorActions.inc({ action });
  }

  alert(level: string, outcome: string): void {
    this.alerts.inc({ level, outcome });
  }

  quote(marketId: string, ts: number): void {
    const known = this.quoteTimes.get(marketId);
    if (known === undefined || ts > known) this.quoteTimes.set(marketId, ts);
  }

  session(f: SessionFigures): void {
    const account = f.account;
    this.pnl.set({ account, kind: 'realized' }, dollars(f.realizedPnl));
    this.pnl.set({ account, kind: 'unrealized' }, dollars(f.unrealizedPnl));
    this.pnl.set({ account, kind: 'fees' }, dollars(f.fees));
    this.pnl.set({ account, kind: 'daily_net' }, dollars(f.dailyPnl));
    this.equity.set({ account }, dollars(f.equity));
    this.exposure.set({ account }, dollars(f.exposure));
    this.openPositions.set({ account }, f.openPositions);
    const share = (used: number, limit: number): number => (limit > 0 ? used / limit : 0);
    this.limitUtilization.set({ account, limit: 'portfolio_exposure' }, share(f.exposure, f.limits.maxPortfolioExposure));
    this.limitUtilization.set({ account, limit: 'daily_loss' }, share(Math.max(0, -f.dailyPnl), f.limits.maxDailyLoss));
    this.limitUtilization.set({ account, limit: 'open_positions' }, share(f.openPositions, f.limits.maxOpenPositions));
  }

  error(component: string, kind: string): void {
    this.errors.inc({ component, kind });
  }

  monitoring(f: MonitoringFigures): void {
    for (const [market, ms] of Object.entries(f.quoteAgesMs ?? {})) this.quoteStaleness.set({ market }, ms / 1000);
    if (f.connectionLostMs !== undefined) this.connectionLost.set(f.connectionLostMs / 1000);
    if (f.rateLimitHits !== undefined && f.rateLimitHits > 0) this.rateLimitHits.inc(f.rateLimitHits);
    // A ratio that cannot be measured yet (no orders) is left as it was rather than reported as 0.
    if (f.rejectionRate !== undefined && f.rejectionRate !== null) this.rejectionRate.set(f.rejectionRate);
    if (f.fillRate !== undefined && f.fillRate !== null) this.fillRate.set(f.fillRate);
    if (f.meanSlippageMicros !== undefined && f.meanSlippageMicros !== null) this.meanSlippage.set(dollars(f.meanSlippageMicros));
  }

  // ---- venue and Temporal hooks ----

  /**
   * A VenueLogger for the venue HTTP client: each attempt's duration into the latency histogram,
   * each failure into the error counter, and (with `log`) one line per failure, retry and
   * circuit change; successful responses are logged at debug.
   */
  venueLogger(log?: Logger): VenueLogger {
    return (entry: VenueLogEntry) => {
      if ((entry.event === 'response' || entry.event === 'failure') && entry.durationMs !== undefined) {
        this.venueLatency.observe({ venue: entry.venue, operation: entry.operation, outcome: entry.event === 'response' ? 'ok' : (entry.kind ?? 'UNKNOWN') }, entry.durationMs / 1000);
      }
      if (entry.event === 'failure') this.error('venue', entry.kind ?? 'UNKNOWN');
      if (log) {
        const { level, message, ...fields } = entry;
        log[level]({ ...fields, event: 'venue', venueEvent: entry.event }, message ?? `${entry.venue} ${entry.operation} ${entry.event}`);
      }
    };
  }

  /** Counts (and with `log`, logs) a failed activity attempt; a cancellation is not a failure. */
  activityFailed(activity: string, error: unknown, log?: Logger): void {
    if (error instanceof CancelledFailure) return;
    const type = error instanceof ApplicationFailure ? (error.type ?? 'ApplicationFailure') : error instanceof Error ? error.name : 'UNKNOWN';
    const retryable = !(error instanceof ApplicationFailure && error.nonRetryable);
    this.activityFailures.inc({ activity, type, retryable: String(retryable) });
    this.error('activity', type);
    logEvent({ log }, 'activity_failure', {}, { activityName: activity, type, retryable, error: error instanceof Error ? error.message : String(error) }, `activity ${activity} failed: ${type}`, 'error');
  }
}

/**
 * The activities object with every function wrapped to count and log its failures: register
 * the result with the Temporal Worker instead of the bare object.
 */
export function instrumentActivities<T extends object>(activities: T, metrics: TradingMetrics, log?: Logger): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(activities)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    out[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (e) {
        metrics.activityFailed(name, e, log);
        throw e;
      }
    };
  }
  return out as T;
}

/** A request handler serving GET /metrics (for the dashboard to mount, or the server below). */
export function metricsHandler(metrics: TradingMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    metrics.exposition().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves /metrics on host:port (port 0: any free port), only to requests whose Host header names
 * this server (runtime/host-check.ts: the bind host, loopback names, `allowedHosts`).
 */
export async function startMetricsServer(metrics: TradingMetrics, options: { host: string; port: number; allowedHosts?: readonly string[] }): Promise<MetricsServer> {
  const handler = metricsHandler(metrics);
  const server: Server = createServer((req, res) => {
    if (refuseForeignHost(req, res, { bindHost: options.host, port: (server.address() as AddressInfo).port, allowed: options.allowedHosts ?? [] })) return;
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      (closed ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      })),
  };
}
