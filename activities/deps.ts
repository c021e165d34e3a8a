/**
 * What every activity factory receives (activities come from a factory that receives
 * its dependencies). Built once in worker/, passed down; activities never read the environment.
 */
import type { Logger } from 'pino';
import type { AlertLevel } from '../contracts/activities';
import type { ModelProbabilitySource } from './model-probabilities';
import type { Db } from '../db';
import type { Fill } from '../domain/fill';
import type { Money } from '../domain/money';
import type { BreakerConfig } from '../domain/breakers';
import type { ReconciliationPolicy } from '../domain/reconciliation';
import type { RiskLimits } from '../domain/risk-limits';
import type { FillRateAlertParams, SlippageAlertParams } from '../domain/execution-quality';
import { isSessionWorkflowId } from '../domain/ids';
import { currentContext } from './context';
import type { ResilientVenue } from './venue/resilient-venue';

/** Sends one email; nodemailer's transport in production, a capturing fake or a local SMTP server in tests. */
export interface Mailer {
  /**
   * `messageId` (optional) sets the Message-ID header: alerts derive it from the dedupe key, so a
   * resend after an SMTP reply was lost carries the same ID and mail clients can fold the copies.
   */
  send(message: { subject: string; text: string; messageId?: string }): Promise<{ messageId: string }>;
  /** Checks the SMTP server answers (pre-flight "alerting reachable"). */
  verify(): Promise<void>;
}

/** An alert as a webhook posts it (activities/webhook.ts formats the body). */
export interface WebhookAlert {
  level: string;
  type: string;
  dedupeKey: string;
  title: string;
  body: string;
  /** Epoch milliseconds. */
  raisedAt: number;
}

/** Posts one alert to a webhook; throws when the receiver did not answer 2xx in time. */
export interface AlertWebhook {
  send(alert: WebhookAlert): Promise<{ status: number }>;
}

export interface ActivityConfig {
  /** Account name in the records (positions, fills); 'paper' on the paper venue. */
  account: string;
  venueName: string;
  limits: RiskLimits;
  breakers: BreakerConfig;
  /** IANA time zone of the trading day (daily reset, reports). */
  timeZone: string;
  /** Alert cooldown per level and type (reference: 5 minutes). */
  alertCooldownMs: number;
  /** Levels that are emailed (ALERT_EMAIL_LEVELS); absent: CRITICAL and HIGH (alerts.ts DEFAULT_ALERT_EMAIL_LEVELS). */
  alertEmailLevels?: readonly AlertLevel[];
  /** A quote older than this fails the MARKET_DATA_FRESH pre-flight check and the STALE_QUOTE rule. */
  maxQuoteAgeMs: number;
  reconciliation: { policy: ReconciliationPolicy; cashTolerance: number };
  /**
   * The operator's model probabilities (MODEL_PROBABILITIES), read by each market watch; a signal
   * that carries one is sized by half Kelly on the account's equity. Absent: confidence sizing.
   * `maxAgeMs`: an entry older than this is refused (default MODEL_PROBABILITIES_MAX_AGE_MS).
   */
  modelProbabilities?: { source: ModelProbabilitySource; maxAgeMs?: number };
  /** The alert table's live checks (activities/monitoring.ts); absent fields take MONITORING_DEFAULTS. */
  monitoring?: Partial<MonitoringThresholds>;
}

/** When the live checks raise the alert table's rows and the deployment guide's thresholds. */
export interface MonitoringThresholds {
  /** CRITICAL CONNECTION_LOST once the venue has been unreachable this long (the alert table: one minute). */
  connectionLostAlertMs: number;
  /** HIGH QUOTE_STALE when a quote is older than this when read (the deployment guide: 1 s). */
  quoteStalenessAlertMs: number;
  /** HIGH REJECTION_RATE_HIGH above this share of submitted orders, in percent (the deployment guide: 1%). */
  rejectionRateAlertPercent: number;
  /** Submitted orders needed before the rejection rate means anything. */
  minOrdersForRejectionRate: number;
  fillRate: FillRateAlertParams;
  slippage: SlippageAlertParams;
  /** How far back the execution checks (fill rate, slippage, rejections) look. */
  lookbackMs: number;
  /** The execution checks read the records at most this often per worker. */
  executionCheckEveryMs: number;
}

/** What the live checks measured, for the monitoring gauges. */
export interface MonitoringFigures {
  /** Age of each quote when it was read, ms. */
  quoteAgesMs?: Record<string, number>;
  /** How long the venue connection has been lost, ms (0 when connected). */
  connectionLostMs?: number;
  /** 429 answers since the last report. */
  rateLimitHits?: number;
  /** Over the look-back: rejected / submitted, withFill / decided, mean slippage per contract (micros); null when not measurable. */
  rejectionRate?: number | null;
  fillRate?: number | null;
  meanSlippageMicros?: number | null;
}

export interface ActivityDeps {
  db: Db;
  venue: ResilientVenue;
  /** Null when SMTP is not configured: alerts are recorded but not emailed (and pre-flight says so). */
  mailer: Mailer | null;
  /** The alert webhook (ALERT_WEBHOOK_URL); absent or null: alerts are not posted. */
  webhook?: AlertWebhook | null;
  config: ActivityConfig;
  /** Epoch milliseconds; injectable for tests. */
  clock: () => number;
  /** Structured JSON logs (runtime/logging.ts); absent: the activities log nothing of their own. */
  log?: Logger;
  /** Prometheus metrics (runtime/metrics.ts); absent: nothing is counted. */
  metrics?: ActivityMetrics;
}

/** The account's figures after a session snapshot, for the P&L, exposure and limit gauges. */
export interface SessionFigures {
  account: string;
  strategy: string;
  realizedPnl: Money;
  unrealizedPnl: Money;
  fees: Money;
  dailyPnl: Money;
  equity: Money;
  exposure: Money;
  openPositions: number;
  limits: RiskLimits;
}

/** What the activities report to the metrics registry (runtime/metrics.ts implements it). */
export interface ActivityMetrics {
  signal(s: { marketId: string; side: string; intent: string }): void;
  /** An order snapshot recorded in `state`; a repeat of the order's current state counts nothing. */
  orderState(clientOrderId: string, state: string): void;
  fill(f: Fill): void;
  riskDecision(approved: boolean, rules: readonly string[]): void;
  operatorAction(action: string): void;
  alert(level: string, outcome: string): void;
  /** The newest quote of a market (for the data-age gauge). */
  quote(marketId: string, ts: number): void;
  session(figures: SessionFigures): void;
  error(component: string, kind: string): void;
  /** The live checks' measurements (activities/monitoring.ts). */
  monitoring?(figures: MonitoringFigures): void;
}

/** The IDs a log line is found by. */
export interface EventIds {
  clientOrderId?: string | null;
  sessionId?: string | null;
}

/**
 * Writes one structured line of kind `event` (runtime/logging.ts LOG_EVENTS) when a logger is
 * configured, with the IDs given and, inside an activity, its workflow ID, type and attempt.
 */
export function logEvent(deps: Pick<ActivityDeps, 'log'>, event: string, ids: EventIds, fields: Record<string, unknown>, message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
  if (!deps.log) return;
  const info = currentContext()?.info;
  const line: Record<string, unknown> = { event };
  if (ids.clientOrderId) line.clientOrderId = ids.clientOrderId;
  if (ids.sessionId) line.sessionId = ids.sessionId;
  if (info) {
    if (info.workflowExecution) line.workflowId = info.workflowExecution.workflowId;
    line.activity = info.activityType;
    line.attempt = info.attempt;
  }
  deps.log[level]({ ...line, ...fields }, message);
}

/** An operator action the records now hold: one metric and one log line, wherever it was recorded. */
export function reportOperatorAction(
  deps: Pick<ActivityDeps, 'log' | 'metrics'>,
  action: { action: string; operator: string; reason: string; workflowId: string; sequence: number; details: Record<string, unknown> },
): void {
  deps.metrics?.operatorAction(action.action);
  logEvent(
    deps,
    'operator_action',
    { sessionId: isSessionWorkflowId(action.workflowId) ? action.workflowId : null },
    { action: action.action, operator: action.operator, reason: action.reason, targetWorkflowId: action.workflowId, sequence: action.sequence, details: action.details },
    `${action.action} by ${action.operator}: ${action.reason}`,
    action.action === 'KILL_SWITCH' ? 'warn' : 'info',
  );
}
