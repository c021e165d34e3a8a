/**
 * The one typed, validated configuration of the worker and its clients.
 * Built from an environment object (entry points pass process.env; nothing else reads it) and,
 * optionally, a JSON file named by DURABLE_TRADER_CONFIG; a variable overrides the file.
 * Secrets come from the environment only. Every bad field is reported at once, naming the
 * variable or file field and the value it got; secret values are shown as "***".
 */
import { MIN_SECRET_LENGTH } from '../exchange/config';
import { parseAllowedHosts } from './host-check';
import { isValidTimeZone } from '../domain/calendar';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ALERT_EMAIL_LEVELS, parseAlertEmailLevels } from '../activities/alerts';
import { isEmailAddress } from '../activities/email-address';
import { parseModelProbabilitySource, type ModelProbabilitySource } from '../activities/model-probabilities';
import type { AlertLevel } from '../contracts/activities';
import { WEBHOOK_FORMATS, shownWebhookUrl, webhookUrlProblem, type WebhookFormat } from '../activities/webhook';
import { Secret, checkUrl, PAPER_ENV } from '../activities/venue/credentials';
import { DEFAULT_APPROVAL_TIMEOUT_MS, DEFAULT_AUTOMATION_LEVEL, parseApprovalTimeout, parseAutomationLevel, type AutomationSettings } from '../domain/automation';
import { CONNECTION_LOST_POLICIES, TASK_QUEUE, type ConnectionLostPolicy } from '../workflows/api';
import { MONITORING_DEFAULTS } from '../activities/monitoring';
import { CASE_STUDY_BREAKERS, parseBreakerConfig, type BreakerConfig } from '../domain/breakers';
import { ErrorType, InvalidInput, type FieldProblem } from '../domain/errors';
import { validateKey } from '../domain/ids';
import { validateMarketId } from '../domain/market';
import { RECONCILIATION_POLICIES, type ReconciliationPolicy } from '../domain/reconciliation';
import { CASE_STUDY_LIMITS, parseRiskLimits, type RiskLimits } from '../domain/risk-limits';
import { parseMoney, type Money } from '../domain/money';
import { DEFAULT_RAMP_STEPS, STAGES, parseRampSteps, type Stage } from '../domain/stages';
import { createPrivateKey } from 'node:crypto';
import { STRATEGY_NAMES, createStrategy, type StrategyName } from '../domain/strategies';
import { TEMPORAL_ENV, connectionSecrets, readTemporalConnection, type TemporalTlsConfig } from './temporal-env';

export type Env = Readonly<Record<string, string | undefined>>;

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every environment variable the config reads. */
export const ENV = {
  configFile: 'DURABLE_TRADER_CONFIG',
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  temporalCliPath: 'TEMPORAL_CLI_PATH',
  temporalUiPort: 'TEMPORAL_UI_PORT',
  temporalLocalPort: 'TEMPORAL_LOCAL_PORT',
  temporalConfigFile: TEMPORAL_ENV.configFile,
  temporalProfile: TEMPORAL_ENV.profile,
  temporalApiKey: TEMPORAL_ENV.apiKey,
  temporalTls: TEMPORAL_ENV.tls,
  temporalTlsServerName: TEMPORAL_ENV.serverName,
  temporalTlsServerCaCertPath: TEMPORAL_ENV.serverCaCertPath,
  temporalTlsServerCaCertData: TEMPORAL_ENV.serverCaCertData,
  temporalTlsClientCertPath: TEMPORAL_ENV.clientCertPath,
  temporalTlsClientCertData: TEMPORAL_ENV.clientCertData,
  temporalTlsClientKeyPath: TEMPORAL_ENV.clientKeyPath,
  temporalTlsClientKeyData: TEMPORAL_ENV.clientKeyData,
  dataDir: 'DATA_DIR',
  databaseUrl: 'DATABASE_URL',
  recordsSocketPort: 'RECORDS_SOCKET_PORT',
  paperUrl: PAPER_ENV.url,
  paperKeyId: PAPER_ENV.keyId,
  paperSecret: PAPER_ENV.secret,
  smtpHost: 'SMTP_HOST',
  smtpPort: 'SMTP_PORT',
  smtpSecure: 'SMTP_SECURE',
  smtpUser: 'SMTP_USER',
  smtpPass: 'SMTP_PASS',
  smtpAllowPlaintext: 'SMTP_ALLOW_PLAINTEXT',
  alertFrom: 'ALERT_EMAIL_FROM',
  alertTo: 'ALERT_EMAIL_TO',
  alertEmailLevels: 'ALERT_EMAIL_LEVELS',
  modelProbabilities: 'MODEL_PROBABILITIES',
  alertWebhookUrl: 'ALERT_WEBHOOK_URL',
  alertWebhookFormat: 'ALERT_WEBHOOK_FORMAT',
  alertWebhookToken: 'ALERT_WEBHOOK_TOKEN',
  timeZone: 'TRADING_TIME_ZONE',
  dailyResetCron: 'DAILY_RESET_CRON',
  reconciliationPolicy: 'RECONCILIATION_POLICY',
  reconciliationEveryMinutes: 'RECONCILIATION_EVERY_MINUTES',
  reconciliationReminderMinutes: 'RECONCILIATION_REMINDER_MINUTES',
  sessionStrategy: 'SESSION_STRATEGY',
  sessionStrategyName: 'SESSION_STRATEGY_NAME',
  sessionMarkets: 'SESSION_MARKETS',
  sessionWatchPeriodMs: 'SESSION_WATCH_PERIOD_MS',
  sessionPollIntervalMs: 'SESSION_POLL_INTERVAL_MS',
  sessionOrderTtlMs: 'SESSION_ORDER_TTL_MS',
  automationLevel: 'AUTOMATION_LEVEL',
  approvalTimeout: 'APPROVAL_TIMEOUT',
  connectionLostPolicy: 'CONNECTION_LOST_POLICY',
  connectionLostAlertMs: 'CONNECTION_LOST_ALERT_MS',
  quoteStalenessAlertMs: 'QUOTE_STALENESS_ALERT_MS',
  rejectionRateAlertPercent: 'REJECTION_RATE_ALERT_PERCENT',
  stage: 'TRADING_STAGE',
  liveConfirm: 'LIVE_CONFIRM',
  liveCapitalCap: 'LIVE_CAPITAL_CAP',
  liveRampSteps: 'LIVE_RAMP_STEPS',
  liveRampBaseline: 'LIVE_RAMP_BASELINE',
  venue: 'VENUE',
  kalshiEnvironment: 'KALSHI_ENV',
  kalshiBaseUrl: 'KALSHI_BASE_URL',
  kalshiKeyId: 'KALSHI_API_KEY_ID',
  kalshiPrivateKey: 'KALSHI_PRIVATE_KEY_PEM',
  kalshiPrivateKeyPath: 'KALSHI_PRIVATE_KEY_PATH',
  metricsHost: 'METRICS_HOST',
  metricsPort: 'METRICS_PORT',
  metricsAllowedHosts: 'METRICS_ALLOWED_HOSTS',
  logLevel: 'LOG_LEVEL',
  workerCount: 'WORKER_COUNT',
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a LIVE start needs besides passing pre-flight (worker/stages.ts checks them and prints the go/no-go table). */
export interface LiveGuardConfig {
  /** LIVE_CONFIRM=true, from the environment only: an explicit, per-start decision, never left in a file. */
  confirmed: boolean;
  /** Most capital the live run may put at risk, integer micros; null when not set (LIVE then refuses). */
  capitalCap: Money | null;
  /** The capital ramp: whole percentages of the cap, increasing, ending at 100 (LIVE_RAMP_STEPS). */
  rampSteps: readonly number[];
  /** JSON run figures of the stage before LIVE (as `npm run stage-report` reads), the baseline of the ramp's criteria; null: the ramp cannot move. */
  rampBaseline: string | null;
}

export const VENUES = ['paper', 'kalshi'] as const;
export type VenueKind = (typeof VENUES)[number];
export const KALSHI_ENVIRONMENTS = ['demo', 'production'] as const;
export type KalshiEnvironment = (typeof KALSHI_ENVIRONMENTS)[number];

/**
 * Kalshi's REST roots as documented (docs.kalshi.com/getting_started/api_environments):
 * the recommended external-api host first, then the shared host that remains supported.
 */
export const KALSHI_BASE_URLS: Readonly<Record<KalshiEnvironment, readonly string[]>> = {
  production: ['https://external-api.kalshi.com/trade-api/v2', 'https://api.elections.kalshi.com/trade-api/v2'],
  demo: ['https://external-api.demo.kalshi.co/trade-api/v2', 'https://demo-api.kalshi.co/trade-api/v2'],
};

export interface KalshiConfig {
  environment: KalshiEnvironment;
  baseUrl: string;
  keyId: string;
  /** The RSA private key, PEM text (from KALSHI_PRIVATE_KEY_PEM or the file KALSHI_PRIVATE_KEY_PATH names). */
  privateKeyPem: Secret;
}

/**
 * Which venue the worker opens (VENUE). BACKTEST and PAPER always trade on the paper exchange
 * (VENUE=kalshi is refused there); LIVE trades on Kalshi only (VENUE=paper is refused: the paper
 * exchange is not a real venue); SHADOW reads market data from the named venue and never sends
 * it an order.
 */
export type VenueConfig = { kind: 'paper' } | { kind: 'kalshi'; kalshi: KalshiConfig };

export interface MetricsConfig {
  /** Interface the /metrics server binds; loopback unless an operator opens it on purpose. */
  host: string;
  /** Null: no metrics server (METRICS_PORT=0). */
  port: number | null;
  /** Host names /metrics answers besides the bind host and loopback names (DNS rebinding). */
  allowedHosts: string[];
}

export interface TemporalConfig {
  /** host:port of a running server; null: start a local dev server. */
  address: string | null;
  namespace: string;
  taskQueue: string;
  /** Temporal CLI binary for the local dev server; null: the SDK's cached download. */
  cliPath: string | null;
  /** Web UI port of the local dev server. */
  uiPort: number;
  /** gRPC port of the local dev server (fixed, so clients in other processes can reach it). */
  localPort: number;
  /** TLS to a remote server (TEMPORAL_TLS_*, a Temporal profile); null: plaintext. runtime/temporal.ts turns these into connection options. */
  tls: TemporalTlsConfig | null;
  /** Temporal Cloud API key (TEMPORAL_API_KEY), sent as `authorization: Bearer`. */
  apiKey: Secret | null;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_*); kept out of logs. */
  grpcMeta: Record<string, string>;
  /** The Temporal profile read, e.g. `profile "default" in ~/.config/temporalio/temporal.toml`; null: none. */
  profile: string | null;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  pass: Secret | null;
  from: string;
  to: string[];
  /** SMTP_ALLOW_PLAINTEXT: a host off this machine may be used without TLS (default false: TLS required). */
  allowPlaintext: boolean;
}

/** Alerts posted to a webhook besides (or instead of) email. */
export interface AlertWebhookConfig {
  /** http(s), without user or password; the URL itself may hold a capability (Slack's does): logged as its origin only. */
  url: string;
  /** `json`: the alert's fields; `slack`: Slack's incoming-webhook body, {"text": ...}. */
  format: WebhookFormat;
  /** Sent as `Authorization: Bearer ...`; null: no header. */
  token: Secret | null;
}

export interface PaperExchangeConfig {
  url: string;
  keyId: string;
  secret: Secret;
}

export interface SessionConfig {
  /** Key used in workflow and client order IDs, e.g. "ema-mr". */
  strategy: string;
  strategyName: StrategyName;
  strategyParams: Record<string, unknown>;
  markets: string[];
  watchPeriodMs: number;
  pollIntervalMs: number;
  orderTtlMs: number;
  /** Levels of automation (AUTOMATION_LEVEL, default full) and how long a semi-automatic order waits for its approval (APPROVAL_TIMEOUT, default 5m). */
  automation: AutomationSettings;
}

export interface MonitoringConfig {
  /** Working orders when the venue connection comes back after an outage: cancel them (default) or keep them. */
  connectionLostPolicy: ConnectionLostPolicy;
  connectionLostAlertMs: number;
  quoteStalenessAlertMs: number;
  rejectionRateAlertPercent: number;
}

export interface WorkerConfig {
  temporal: TemporalConfig;
  dataDir: string;
  /** A PostgreSQL URL (may hold a password: log it through describeConfig); null: PGlite under dataDir. */
  database: { url: string | null };
  /**
   * Without DATABASE_URL: the loopback port the worker serves its PGlite records on, for the CLI and
   * the dashboard (runtime/records-socket.ts); null: a free port, named in the discovery file.
   */
  recordsSocketPort: number | null;
  /** Null when PAPER_EXCHANGE_URL is not set. */
  paperExchange: PaperExchangeConfig | null;
  /** Null when SMTP_HOST is not set: alerts are recorded, not mailed. */
  smtp: SmtpConfig | null;
  /** Alert levels that are emailed (ALERT_EMAIL_LEVELS, default CRITICAL,HIGH); the others are recorded only. */
  alertEmailLevels: readonly AlertLevel[];
  /** Where the market watch reads model probabilities for Kelly sizing (MODEL_PROBABILITIES); null: none. */
  modelProbabilities: ModelProbabilitySource | null;
  /** Null when ALERT_WEBHOOK_URL is not set: alerts are not posted. */
  alertWebhook: AlertWebhookConfig | null;
  /** IANA zone of the trading day and the daily reset. */
  timeZone: string;
  dailyResetCron: string;
  reconciliation: { policy: ReconciliationPolicy; everyMinutes: number; reminderMinutes: number };
  session: SessionConfig;
  /** The alert table's live checks (activities/monitoring.ts) and what a session does after a connection outage. */
  monitoring: MonitoringConfig;
  riskLimits: RiskLimits;
  breakers: BreakerConfig;
  /** Deployment stage (reference 004): BACKTEST, PAPER, SHADOW or LIVE. */
  stage: Stage;
  live: LiveGuardConfig;
  venue: VenueConfig;
  metrics: MetricsConfig;
  logLevel: LogLevel;
  /**
   * How many worker processes trade on this venue account at once (WORKER_COUNT, default 1). Each
   * worker's client-side venue rate budget is the venue's divided by it (worker/activity-deps.ts
   * venueRateShare), so that the workers together stay inside the venue's limit (docs/workers.md).
   */
  workerCount: number;
}

export const DEFAULTS = {
  namespace: 'default',
  uiPort: 8233,
  localPort: 7233,
  timeZone: 'UTC',
  dailyResetCron: '0 0 * * *',
  reconciliationPolicy: 'HALT_AND_ALERT' as ReconciliationPolicy,
  reconciliationEveryMinutes: 5,
  reconciliationReminderMinutes: 30,
  strategy: 'ema-mr',
  strategyName: 'ema-mean-reversion' as StrategyName,
  /** Longest watch before the session checks in; bounds history growth. */
  watchPeriodMs: 15 * 60_000,
  /** Case study: the data feed polls every 30 seconds. */
  pollIntervalMs: 30_000,
  /** Case study: unfilled orders are cancelled after 10 minutes. */
  orderTtlMs: 10 * 60_000,
  smtpPort: 587,
  stage: 'PAPER' as Stage,
  metricsHost: '127.0.0.1',
  /** The port Prometheus exporters of Node services commonly use. */
  metricsPort: 9464,
  logLevel: 'info' as LogLevel,
  workerCount: 1,
} as const;

/** More workers than this on one account would leave each a share of the venue's budget too small to be useful. */
export const MAX_WORKER_COUNT = 100;

export const REDACTED = '***';

/** Fields a config file may hold; secrets are absent on purpose. */
export const FILE_SHAPE: Readonly<Record<string, readonly string[] | null>> = {
  temporal: ['address', 'namespace', 'cliPath', 'uiPort', 'localPort'],
  dataDir: null,
  paperExchange: ['url', 'keyId'],
  smtp: ['host', 'port', 'secure', 'user', 'from', 'to', 'allowPlaintext'],
  alertEmailLevels: null,
  modelProbabilities: null,
  alertWebhook: ['url', 'format'],
  timeZone: null,
  dailyResetCron: null,
  reconciliation: ['policy', 'everyMinutes', 'reminderMinutes'],
  session: ['strategy', 'strategyName', 'strategyParams', 'markets', 'watchPeriodMs', 'pollIntervalMs', 'orderTtlMs', 'automationLevel', 'approvalTimeout'],
  monitoring: ['connectionLostPolicy', 'connectionLostAlertMs', 'quoteStalenessAlertMs', 'rejectionRateAlertPercent'],
  riskLimits: null,
  breakers: null,
  stage: null,
  live: ['capitalCap', 'rampSteps', 'rampBaseline'],
  venue: ['kind', 'kalshiEnvironment', 'kalshiBaseUrl', 'kalshiKeyId', 'kalshiPrivateKeyPath'],
  metrics: ['host', 'port', 'allowedHosts'],
  logLevel: null,
  workerCount: null,
};

/** Secrets found in a file are refused, naming the variable that must carry them. */
const FILE_SECRETS: Record<string, string> = {
  'database.url': ENV.databaseUrl,
  'database': ENV.databaseUrl,
  'paperExchange.secret': ENV.paperSecret,
  'smtp.pass': ENV.smtpPass,
  'alertWebhook.token': ENV.alertWebhookToken,
  'venue.kalshiPrivateKey': ENV.kalshiPrivateKey,
  'venue.kalshiPrivateKeyPem': ENV.kalshiPrivateKey,
};

/** Settings that must come from the environment although they are not secret. */
const ENV_ONLY: Record<string, string> = {
  'live.confirm': ENV.liveConfirm,
};

/** One setting's raw value and where it came from (for messages). */
interface Raw {
  value: unknown;
  source: string;
  secret: boolean;
}

class Reader {
  readonly problems: FieldProblem[] = [];

  constructor(
    private readonly env: Env,
    private readonly file: Record<string, unknown>,
    private readonly fileLabel: string,
  ) {}

  /** A variable wins over the file field; empty variables count as unset. */
  raw(envName: string | null, filePath: string | null, secret = false): Raw | null {
    if (envName !== null) {
      const v = this.env[envName];
      if (v !== undefined && v.trim() !== '') return { value: v.trim(), source: envName, secret };
    }
    if (filePath !== null) {
      const v = filePath.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), this.file);
      if (v !== undefined && v !== null) return { value: v, source: `${this.fileLabel} ${filePath}`, secret };
    }
    return null;
  }

  bad(raw: Raw, problem: string): undefined {
    this.problems.push({ field: raw.source, value: raw.secret ? REDACTED : raw.value, problem });
    return undefined;
  }

  report(field: string, problem: string): undefined {
    this.problems.push({ field, value: undefined, problem });
    return undefined;
  }

  text(raw: Raw | null): string | null {
    if (raw === null) return null;
    if (typeof raw.value !== 'string' || raw.value.trim() === '') return this.bad(raw, 'must be non-empty text') ?? null;
    return raw.value.trim();
  }

  integer(raw: Raw | null, min: number, max: number, unit = ''): number | null {
    if (raw === null) return null;
    const n = typeof raw.value === 'string' && /^-?\d+$/.test(raw.value) ? Number(raw.value) : raw.value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      return this.bad(raw, `must be a whole number${unit} from ${min} to ${max}`) ?? null;
    }
    return n;
  }

  bool(raw: Raw | null): boolean | null {
    if (raw === null) return null;
    if (typeof raw.value === 'boolean') return raw.value;
    if (raw.value === 'true' || raw.value === '1') return true;
    if (raw.value === 'false' || raw.value === '0') return false;
    return this.bad(raw, 'must be true or false') ?? null;
  }

  /** A comma-separated variable or a JSON array of strings in the file. */
  list(raw: Raw | null): string[] | null {
    if (raw === null) return null;
    if (typeof raw.value === 'string') return raw.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (Array.isArray(raw.value) && raw.value.every((s) => typeof s === 'string')) return raw.value.map((s: string) => s.trim());
    return this.bad(raw, 'must be a comma-separated list (or an array of strings in the file)') ?? null;
  }

  /** Runs a domain validator, collecting its problems under this setting's name. */
  check<T>(raw: Raw, fn: (value: unknown) => T): T | undefined {
    try {
      return fn(raw.value);
    } catch (e) {
      if (!(e instanceof InvalidInput)) throw e;
      for (const p of e.problems) {
        const field = p.field === raw.source ? p.field : `${raw.source}: ${p.field}`;
        this.problems.push({ field, value: raw.secret ? REDACTED : p.value, problem: p.problem });
      }
      return undefined;
    }
  }
}

const CRON_FIELD_RE = /^(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?)(\/\d{1,2})?)*$/;
const CRON_RANGES: readonly [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** A five-field numeric cron expression (minute hour day-of-month month day-of-week); null if valid. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return 'must be a cron expression of five fields: minute hour day-of-month month day-of-week';
  for (let i = 0; i < 5; i++) {
    const f = fields[i]!;
    const [lo, hi] = CRON_RANGES[i]!;
    if (!CRON_FIELD_RE.test(f)) return `field ${i + 1} ("${f}") must be *, numbers, ranges, lists or steps`;
    for (const n of f.split(/[,\-/]/).filter((s) => s !== '*' && s !== '')) {
      const v = Number(n);
      if (f.includes(`/${n}`) ? v < 1 : v < lo || v > hi) return `field ${i + 1} ("${f}") has ${n}, outside ${lo}-${hi}`;
    }
  }
  return null;
}

/**
 * The daily reset must fire at 00:00 in TRADING_TIME_ZONE: a trading day runs from midnight to
 * midnight there (sessions start at 00:00) and the reset opens the day it runs on, so at 17:00 it
 * would roll the daily loss in the middle of a day. Refused rather than shifted (issue 14).
 */
function resetTimeProblem(expr: string): string | null {
  const [minute, hour] = expr.trim().split(/\s+/);
  return /^0+$/.test(minute ?? '') && /^0+$/.test(hour ?? '')
    ? null
    : 'must fire at 00:00 in TRADING_TIME_ZONE (minute 0, hour 0; any days): a trading day runs from midnight to midnight there and the reset opens the day it runs on';
}

function checkAddress(v: string): string | null {
  return /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/.test(v) ? null : 'must be host:port, e.g. 127.0.0.1:7233';
}

const PEM_PROBLEM = 'must be an RSA private key in PEM form (PKCS#1 or PKCS#8)';

/** PEM text from a one-line variable may carry literal "\\n" escapes. */
function pemText(text: string): string {
  return text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
}

function isRsaPem(pem: string): boolean {
  try {
    return createPrivateKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
}

/** Hosts of Kalshi's production environment (kalshi.com and its subdomains; demo is kalshi.co). */
function isProductionHost(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'kalshi.com' || host.endsWith('.kalshi.com');
  } catch {
    return false;
  }
}

/**
 * VENUE and the Kalshi settings: the stage decides which venues are allowed (see VenueConfig);
 * production needs its base URL named explicitly, one of the documented ones, and LIVE against
 * production needs LIVE_CONFIRM=true; demo defaults to the documented demo root and refuses a
 * production host. Credentials come from the environment only.
 */
function readVenue(r: Reader, stage: Stage, confirmed: boolean): VenueConfig {
  const kindRaw = r.raw(ENV.venue, 'venue.kind');
  const kindText = r.text(kindRaw)?.toLowerCase() ?? 'paper';
  if (kindRaw && !(VENUES as readonly string[]).includes(kindText)) {
    r.bad(kindRaw, `must be one of ${VENUES.join(', ')}`);
    return { kind: 'paper' };
  }
  const kind = kindText as VenueKind;
  if (stage === 'LIVE' && kind !== 'kalshi') {
    r.problems.push({ field: ENV.venue, value: kindRaw?.value ?? null, problem: `must be kalshi when ${ENV.stage}=LIVE: LIVE trades on a real venue and the paper exchange is not one (to trade on paper, set ${ENV.stage}=PAPER)` });
    return { kind: 'paper' };
  }
  if ((stage === 'PAPER' || stage === 'BACKTEST') && kind !== 'paper') {
    r.problems.push({ field: ENV.venue, value: kindText, problem: `applies to SHADOW and LIVE only: ${ENV.stage}=${stage} always uses the paper exchange (unset ${ENV.venue} or set it to paper)` });
    return { kind: 'paper' };
  }
  if (kind === 'paper') return { kind };

  const envRaw = r.raw(ENV.kalshiEnvironment, 'venue.kalshiEnvironment');
  const envText = r.text(envRaw)?.toLowerCase() ?? 'demo';
  let environment: KalshiEnvironment | null = envText as KalshiEnvironment;
  if (envRaw && !(KALSHI_ENVIRONMENTS as readonly string[]).includes(envText)) environment = r.bad(envRaw, `must be one of ${KALSHI_ENVIRONMENTS.join(', ')}`) ?? null;

  const urlRaw = r.raw(ENV.kalshiBaseUrl, 'venue.kalshiBaseUrl');
  const urlText = r.text(urlRaw)?.replace(/\/+$/, '') ?? null;
  let baseUrl: string | null = null;
  if (environment === 'production') {
    const named = KALSHI_BASE_URLS.production;
    if (urlRaw === null) r.report(ENV.kalshiBaseUrl, `is required with ${ENV.kalshiEnvironment}=production: name the production URL explicitly (${named.join(' or ')})`);
    else if (urlText !== null && !named.includes(urlText)) r.bad(urlRaw, `is not a documented Kalshi production URL (${named.join(' or ')}); production is reached only through one of them`);
    else baseUrl = urlText;
    if (stage === 'LIVE' && !confirmed) r.report(ENV.liveConfirm, `must be true for a LIVE start against Kalshi's production environment (${ENV.kalshiEnvironment}=production): real money is at stake`);
  } else if (environment === 'demo') {
    if (urlRaw === null) baseUrl = KALSHI_BASE_URLS.demo[0]!;
    else if (urlText !== null && checkUrl(urlText) !== null) r.bad(urlRaw, checkUrl(urlText)!);
    else if (urlText !== null && isProductionHost(urlText)) r.bad(urlRaw, `names Kalshi's production environment while ${ENV.kalshiEnvironment}=demo: set ${ENV.kalshiEnvironment}=production to trade there`);
    else baseUrl = urlText;
  }

  const keyId = r.text(r.raw(ENV.kalshiKeyId, 'venue.kalshiKeyId'));
  if (keyId === null) r.report(ENV.kalshiKeyId, `is required with ${ENV.venue}=kalshi (the API key ID of the Kalshi ${environment ?? ''} account)`);
  const pemRaw = r.raw(ENV.kalshiPrivateKey, null, true);
  const pathRaw = r.raw(ENV.kalshiPrivateKeyPath, 'venue.kalshiPrivateKeyPath');
  let pem: string | null = null;
  if (pemRaw && pathRaw) r.report(ENV.kalshiPrivateKey, `and ${ENV.kalshiPrivateKeyPath} are both set: give the private key one way only`);
  else if (pemRaw) {
    const text = pemText(String(pemRaw.value));
    if (isRsaPem(text)) pem = text;
    else r.bad(pemRaw, PEM_PROBLEM);
  } else if (pathRaw) {
    const path = r.text(pathRaw);
    if (path !== null) {
      const full = isAbsolute(path) ? path : resolve(PROJECT_ROOT, path);
      let text: string | null = null;
      try {
        text = readFileSync(full, 'utf8');
      } catch (e) {
        r.bad(pathRaw, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      // The file's content is a secret: a bad key is named by the path, never echoed.
      if (text !== null && isRsaPem(text)) pem = text;
      else if (text !== null) r.bad(pathRaw, `names a file that ${PEM_PROBLEM.replace('must be', 'is not')}`);
    }
  } else r.report(ENV.kalshiPrivateKey, `or ${ENV.kalshiPrivateKeyPath} is required with ${ENV.venue}=kalshi (the RSA private key of the API key)`);

  if (environment === null || baseUrl === null || keyId === null || pem === null) return { kind: 'paper' };
  return { kind: 'kalshi', kalshi: { environment, baseUrl, keyId, privateKeyPem: new Secret(pem) } };
}

/** Reads the config file named by DURABLE_TRADER_CONFIG (relative to the project root); problems are collected. */
export function readConfigFile(env: Env, problems: FieldProblem[]): Record<string, unknown> {
  const path = env[ENV.configFile]?.trim();
  if (!path) return {};
  const full = isAbsolute(path) ? path : resolve(PROJECT_ROOT, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    problems.push({ field: ENV.configFile, value: path, problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    problems.push({ field: ENV.configFile, value: path, problem: 'must hold a JSON object' });
  } catch (e) {
    problems.push({ field: ENV.configFile, value: path, problem: `is not valid JSON (${(e as Error).message})` });
  }
  return {};
}

/**
 * Builds the config from an environment and an already parsed file object (pure; tests call it
 * directly). Throws InvalidInput (type InvalidConfig) listing every bad field.
 */
export function buildConfig(env: Env, file: Record<string, unknown> = {}, fileLabel = 'config file', earlier: FieldProblem[] = []): WorkerConfig {
  const r = new Reader(env, file, fileLabel);
  r.problems.push(...earlier);

  for (const [key, value] of Object.entries(file)) {
    if (key in FILE_SECRETS) {
      r.problems.push({ field: `${fileLabel} ${key}`, value: REDACTED, problem: `secrets come from the environment only: set ${FILE_SECRETS[key]}` });
      continue;
    }
    if (!(key in FILE_SHAPE)) {
      r.problems.push({ field: `${fileLabel} ${key}`, value, problem: `is not a known setting (known: ${Object.keys(FILE_SHAPE).join(', ')})` });
      continue;
    }
    const allowed = FILE_SHAPE[key];
    if (allowed === null || allowed === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      r.problems.push({ field: `${fileLabel} ${key}`, value, problem: 'must be an object' });
      continue;
    }
    for (const [sub, subValue] of Object.entries(value as Record<string, unknown>)) {
      const path = `${key}.${sub}`;
      if (path in FILE_SECRETS) r.problems.push({ field: `${fileLabel} ${path}`, value: REDACTED, problem: `secrets come from the environment only: set ${FILE_SECRETS[path]}` });
      else if (path in ENV_ONLY) r.problems.push({ field: `${fileLabel} ${path}`, value: subValue, problem: `is a per-start decision, taken from the environment only: set ${ENV_ONLY[path]}` });
      else if (!allowed.includes(sub)) r.problems.push({ field: `${fileLabel} ${path}`, value: subValue, problem: `is not a known setting (known: ${allowed.join(', ')})` });
    }
  }

  // ---- temporal ----
  // Precedence: the variable, then this project's config file, then the Temporal profile (TOML).
  const connection = readTemporalConnection(env, PROJECT_ROOT, r.problems);
  const addressRaw = r.raw(ENV.temporalAddress, 'temporal.address') ?? (connection.profileAddress && { ...connection.profileAddress, secret: false });
  let address = r.text(addressRaw);
  if (address !== null && addressRaw && checkAddress(address) !== null) address = r.bad(addressRaw, checkAddress(address)!) ?? null;
  if (address === null && addressRaw === null && (connection.tls !== null || connection.apiKey !== null)) {
    r.report(connection.apiKey !== null ? ENV.temporalApiKey : ENV.temporalTls, `TLS and API keys are for a remote server: set ${ENV.temporalAddress} too (without it a local plaintext dev server is started)`);
  }
  const namespaceRaw = r.raw(ENV.temporalNamespace, 'temporal.namespace') ?? (connection.profileNamespace && { ...connection.profileNamespace, secret: false });
  let namespace = r.text(namespaceRaw) ?? DEFAULTS.namespace;
  if (namespaceRaw && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(namespace)) namespace = r.bad(namespaceRaw, 'must be letters, digits, ".", "_" or "-"') ?? DEFAULTS.namespace;
  const cliRaw = r.raw(ENV.temporalCliPath, 'temporal.cliPath');
  const cliText = r.text(cliRaw);
  const cliPath = cliText === null ? null : isAbsolute(cliText) ? cliText : resolve(PROJECT_ROOT, cliText);
  const uiPort = r.integer(r.raw(ENV.temporalUiPort, 'temporal.uiPort'), 1, 65_535) ?? DEFAULTS.uiPort;
  const localPort = r.integer(r.raw(ENV.temporalLocalPort, 'temporal.localPort'), 1, 65_535) ?? DEFAULTS.localPort;
  if (uiPort === localPort) r.report(ENV.temporalUiPort, `must differ from ${ENV.temporalLocalPort} (both ${uiPort})`);

  // ---- storage ----
  const dataText = r.text(r.raw(ENV.dataDir, 'dataDir'));
  const dataDir = dataText === null ? resolve(PROJECT_ROOT, 'data') : isAbsolute(dataText) ? dataText : resolve(PROJECT_ROOT, dataText);
  const dbRaw = r.raw(ENV.databaseUrl, null, true);
  let databaseUrl = r.text(dbRaw);
  if (databaseUrl !== null && dbRaw) {
    let ok = false;
    try {
      ok = ['postgres:', 'postgresql:'].includes(new URL(databaseUrl).protocol);
    } catch {
      ok = false;
    }
    if (!ok) databaseUrl = r.bad(dbRaw, 'must be a postgres:// or postgresql:// URL') ?? null;
  }
  const recordsSocketPort = r.integer(r.raw(ENV.recordsSocketPort, null), 1, 65_535);

  // ---- paper exchange: URL set means the key and secret are required ----
  const paperUrlRaw = r.raw(ENV.paperUrl, 'paperExchange.url');
  let paperUrl = r.text(paperUrlRaw);
  if (paperUrl !== null && paperUrlRaw) {
    // A URL may carry user:password@: the value is echoed without it, and credentials are refused.
    const problem = checkUrl(paperUrl) ?? (hasUserinfo(paperUrl) ? `must not carry credentials (user:password@): the key goes in ${ENV.paperKeyId} and ${ENV.paperSecret}` : null);
    if (problem !== null) {
      r.problems.push({ field: paperUrlRaw.source, value: withoutUserinfo(paperUrl), problem });
      paperUrl = hasUserinfo(paperUrl) ? null : paperUrl;
    }
  }
  const keyId = r.text(r.raw(ENV.paperKeyId, 'paperExchange.keyId'));
  let secretText = r.text(r.raw(ENV.paperSecret, null, true));
  if (secretText !== null && secretText.length < MIN_SECRET_LENGTH) {
    r.report(ENV.paperSecret, `must be at least ${MIN_SECRET_LENGTH} characters (as the paper exchange requires; a shorter secret is guessable)`);
    secretText = null;
  }
  let paperExchange: PaperExchangeConfig | null = null;
  if (paperUrl !== null) {
    if (keyId === null) r.report(ENV.paperKeyId, `is required when ${ENV.paperUrl} is set`);
    if (secretText === null) r.report(ENV.paperSecret, `is required when ${ENV.paperUrl} is set`);
    if (keyId !== null && secretText !== null && checkUrl(paperUrl) === null) paperExchange = { url: paperUrl, keyId, secret: new Secret(secretText) };
  }

  // ---- smtp: host set means from and to are required ----
  const host = r.text(r.raw(ENV.smtpHost, 'smtp.host'));
  const port = r.integer(r.raw(ENV.smtpPort, 'smtp.port'), 1, 65_535) ?? DEFAULTS.smtpPort;
  const secure = r.bool(r.raw(ENV.smtpSecure, 'smtp.secure')) ?? port === 465;
  const user = r.text(r.raw(ENV.smtpUser, 'smtp.user'));
  const pass = r.text(r.raw(ENV.smtpPass, null, true));
  const allowPlaintext = r.bool(r.raw(ENV.smtpAllowPlaintext, 'smtp.allowPlaintext')) ?? false;
  const fromRaw = r.raw(ENV.alertFrom, 'smtp.from');
  let from = r.text(fromRaw);
  if (from !== null && fromRaw && !isEmailAddress(from)) from = r.bad(fromRaw, 'must be an email address') ?? null;
  const toRaw = r.raw(ENV.alertTo, 'smtp.to');
  let to = r.list(toRaw);
  if (to !== null && toRaw) {
    const badAddresses = to.filter((a) => !isEmailAddress(a));
    if (badAddresses.length > 0 || to.length === 0) to = r.bad(toRaw, 'must be one or more email addresses, comma-separated') ?? null;
  }
  let smtp: SmtpConfig | null = null;
  if (host !== null) {
    if (fromRaw === null) r.report(ENV.alertFrom, `is required when ${ENV.smtpHost} is set`);
    if (toRaw === null) r.report(ENV.alertTo, `is required when ${ENV.smtpHost} is set`);
    if (user !== null && pass === null) r.report(ENV.smtpPass, `is required when ${ENV.smtpUser} is set`);
    if (from !== null && to !== null) smtp = { host, port, secure, user, pass: pass === null ? null : new Secret(pass), from, to, allowPlaintext };
  }

  const levelsRaw = r.raw(ENV.alertEmailLevels, 'alertEmailLevels');
  const alertEmailLevels = (levelsRaw ? r.check(levelsRaw, (v) => parseAlertEmailLevels(v, levelsRaw.source)) : DEFAULT_ALERT_EMAIL_LEVELS) ?? DEFAULT_ALERT_EMAIL_LEVELS;

  // ---- model probabilities (Kelly sizing of model-edge) ----
  const modelRaw = r.raw(ENV.modelProbabilities, 'modelProbabilities');
  const modelText = r.text(modelRaw);
  const modelProbabilities = modelText === null || modelRaw === null ? null : (r.check({ ...modelRaw, value: modelText }, (v) => parseModelProbabilitySource(v as string, modelRaw.source)) ?? null);

  // ---- alert webhook: the URL may not carry credentials, which are then not echoed ----
  const hookUrlRaw = r.raw(ENV.alertWebhookUrl, 'alertWebhook.url');
  let hookUrl = r.text(hookUrlRaw);
  const hookUrlProblem = hookUrl === null ? null : webhookUrlProblem(hookUrl);
  if (hookUrlRaw && hookUrlProblem !== null) {
    r.problems.push({ field: hookUrlRaw.source, value: shownWebhookUrl(hookUrl), problem: hookUrlProblem });
    hookUrl = null;
  }
  const hookFormatRaw = r.raw(ENV.alertWebhookFormat, 'alertWebhook.format');
  let hookFormat = (r.text(hookFormatRaw)?.toLowerCase() ?? 'json') as WebhookFormat;
  if (hookFormatRaw && !WEBHOOK_FORMATS.includes(hookFormat)) hookFormat = r.bad(hookFormatRaw, `must be one of ${WEBHOOK_FORMATS.join(', ')}`) ?? 'json';
  const hookTokenRaw = r.raw(ENV.alertWebhookToken, null, true);
  let hookToken = r.text(hookTokenRaw);
  // At least 8 characters: a shorter token would shred every log line through the scrubber.
  if (hookToken !== null && hookTokenRaw && !/^[\x21-\x7e]{8,}$/.test(hookToken)) hookToken = r.bad(hookTokenRaw, 'must be at least 8 printable characters without spaces') ?? null;
  if (hookUrlRaw === null && hookTokenRaw !== null) r.report(ENV.alertWebhookUrl, `is required when ${ENV.alertWebhookToken} is set`);
  const alertWebhook: AlertWebhookConfig | null = hookUrl === null ? null : { url: hookUrl, format: hookFormat, token: hookToken === null ? null : new Secret(hookToken) };

  // ---- time ----
  const tzRaw = r.raw(ENV.timeZone, 'timeZone');
  let timeZone = r.text(tzRaw) ?? DEFAULTS.timeZone;
  if (tzRaw && !isValidTimeZone(timeZone)) timeZone = r.bad(tzRaw, 'must be an IANA time zone such as "America/New_York" or "UTC"') ?? DEFAULTS.timeZone;
  const cronRaw = r.raw(ENV.dailyResetCron, 'dailyResetCron');
  let dailyResetCron = r.text(cronRaw) ?? DEFAULTS.dailyResetCron;
  const resetProblem = cronProblem(dailyResetCron) ?? resetTimeProblem(dailyResetCron);
  if (cronRaw && resetProblem !== null) dailyResetCron = r.bad(cronRaw, resetProblem) ?? DEFAULTS.dailyResetCron;

  // ---- reconciliation ----
  const policyRaw = r.raw(ENV.reconciliationPolicy, 'reconciliation.policy');
  let policy = (r.text(policyRaw) ?? DEFAULTS.reconciliationPolicy) as ReconciliationPolicy;
  if (policyRaw && !RECONCILIATION_POLICIES.includes(policy)) {
    policy = r.bad(policyRaw, `must be one of ${RECONCILIATION_POLICIES.join(', ')}`) ?? DEFAULTS.reconciliationPolicy;
  }
  const everyMinutes = r.integer(r.raw(ENV.reconciliationEveryMinutes, 'reconciliation.everyMinutes'), 1, 1_440, ' of minutes') ?? DEFAULTS.reconciliationEveryMinutes;
  const reminderMinutes = r.integer(r.raw(ENV.reconciliationReminderMinutes, 'reconciliation.reminderMinutes'), 1, 1_440, ' of minutes') ?? DEFAULTS.reconciliationReminderMinutes;

  // ---- session ----
  const strategyRaw = r.raw(ENV.sessionStrategy, 'session.strategy');
  const strategy = (strategyRaw ? r.check(strategyRaw, (v) => validateKey(v, strategyRaw.source)) : DEFAULTS.strategy) ?? DEFAULTS.strategy;
  const nameRaw = r.raw(ENV.sessionStrategyName, 'session.strategyName');
  let strategyName = (r.text(nameRaw) ?? DEFAULTS.strategyName) as StrategyName;
  if (nameRaw && !STRATEGY_NAMES.includes(strategyName)) strategyName = r.bad(nameRaw, `must be one of ${STRATEGY_NAMES.join(', ')}`) ?? DEFAULTS.strategyName;
  const paramsRaw = r.raw(null, 'session.strategyParams');
  let strategyParams: Record<string, unknown> = {};
  if (paramsRaw) {
    if (typeof paramsRaw.value !== 'object' || paramsRaw.value === null || Array.isArray(paramsRaw.value)) r.bad(paramsRaw, 'must be an object of strategy parameters');
    else if (r.check(paramsRaw, (v) => createStrategy(strategyName, v as Record<string, unknown>)) !== undefined) strategyParams = paramsRaw.value as Record<string, unknown>;
  }
  const marketsRaw = r.raw(ENV.sessionMarkets, 'session.markets');
  const markets: string[] = [];
  for (const m of r.list(marketsRaw) ?? []) {
    const ok = r.check({ ...marketsRaw!, value: m }, (v) => validateMarketId(v, marketsRaw!.source));
    if (ok !== undefined && !markets.includes(ok)) markets.push(ok);
  }
  const watchPeriodMs = r.integer(r.raw(ENV.sessionWatchPeriodMs, 'session.watchPeriodMs'), 60_000, 3_600_000, ' of milliseconds') ?? DEFAULTS.watchPeriodMs;
  const pollIntervalMs = r.integer(r.raw(ENV.sessionPollIntervalMs, 'session.pollIntervalMs'), 1_000, 3_600_000, ' of milliseconds') ?? DEFAULTS.pollIntervalMs;
  const orderTtlMs = r.integer(r.raw(ENV.sessionOrderTtlMs, 'session.orderTtlMs'), 1_000, 86_400_000, ' of milliseconds') ?? DEFAULTS.orderTtlMs;
  if (pollIntervalMs > watchPeriodMs) r.report(ENV.sessionPollIntervalMs, `must not exceed the watch period (${watchPeriodMs} ms)`);
  const levelRaw = r.raw(ENV.automationLevel, 'session.automationLevel');
  const automationLevel = (levelRaw ? r.check(levelRaw, (v) => parseAutomationLevel(v, levelRaw.source)) : DEFAULT_AUTOMATION_LEVEL) ?? DEFAULT_AUTOMATION_LEVEL;
  const timeoutRaw = r.raw(ENV.approvalTimeout, 'session.approvalTimeout');
  const approvalTimeoutMs = (timeoutRaw ? r.check(timeoutRaw, (v) => parseApprovalTimeout(v, timeoutRaw.source)) : DEFAULT_APPROVAL_TIMEOUT_MS) ?? DEFAULT_APPROVAL_TIMEOUT_MS;

  // ---- monitoring ----
  const lostPolicyRaw = r.raw(ENV.connectionLostPolicy, 'monitoring.connectionLostPolicy');
  let connectionLostPolicy = (r.text(lostPolicyRaw)?.toLowerCase() ?? MONITORING_DEFAULTS.connectionLostPolicy) as ConnectionLostPolicy;
  if (lostPolicyRaw && !CONNECTION_LOST_POLICIES.includes(connectionLostPolicy)) {
    connectionLostPolicy = r.bad(lostPolicyRaw, `must be one of ${CONNECTION_LOST_POLICIES.join(', ')}`) ?? MONITORING_DEFAULTS.connectionLostPolicy;
  }
  const monitoring: MonitoringConfig = {
    connectionLostPolicy,
    connectionLostAlertMs: r.integer(r.raw(ENV.connectionLostAlertMs, 'monitoring.connectionLostAlertMs'), 1_000, 3_600_000, ' of milliseconds') ?? MONITORING_DEFAULTS.connectionLostAlertMs,
    quoteStalenessAlertMs: r.integer(r.raw(ENV.quoteStalenessAlertMs, 'monitoring.quoteStalenessAlertMs'), 100, 3_600_000, ' of milliseconds') ?? MONITORING_DEFAULTS.quoteStalenessAlertMs,
    rejectionRateAlertPercent: r.integer(r.raw(ENV.rejectionRateAlertPercent, 'monitoring.rejectionRateAlertPercent'), 1, 100, ' of percent') ?? MONITORING_DEFAULTS.rejectionRateAlertPercent,
  };

  // ---- limits: a file object replaces the case-study defaults as a whole ----
  const limitsRaw = r.raw(null, 'riskLimits');
  const riskLimits = (limitsRaw ? r.check(limitsRaw, parseRiskLimits) : CASE_STUDY_LIMITS) ?? CASE_STUDY_LIMITS;
  const breakersRaw = r.raw(null, 'breakers');
  const breakers = (breakersRaw ? r.check(breakersRaw, parseBreakerConfig) : CASE_STUDY_BREAKERS) ?? CASE_STUDY_BREAKERS;

  // ---- deployment stage, live guard, metrics, logs ----
  const stageRaw = r.raw(ENV.stage, 'stage');
  let stage = (r.text(stageRaw)?.toUpperCase() ?? DEFAULTS.stage) as Stage;
  if (stageRaw && !STAGES.includes(stage)) stage = r.bad(stageRaw, `must be one of ${STAGES.join(', ')}`) ?? DEFAULTS.stage;
  const confirmed = r.bool(r.raw(ENV.liveConfirm, null)) ?? false;
  const capRaw = r.raw(ENV.liveCapitalCap, 'live.capitalCap');
  let capitalCap: Money | null = null;
  if (capRaw) {
    const text = typeof capRaw.value === 'number' ? String(capRaw.value) : capRaw.value;
    const cap = r.check({ ...capRaw, value: text }, (v) => parseMoney(v as string, capRaw.source));
    if (cap !== undefined && cap <= 0) r.bad(capRaw, 'must be a positive amount of money such as "500.00"');
    else if (cap !== undefined) capitalCap = cap;
  }
  const rampRaw = r.raw(ENV.liveRampSteps, 'live.rampSteps');
  const rampSteps = (rampRaw ? r.check(rampRaw, (v) => parseRampSteps(v, rampRaw.source)) : [...DEFAULT_RAMP_STEPS]) ?? [...DEFAULT_RAMP_STEPS];
  const baselineText = r.text(r.raw(ENV.liveRampBaseline, 'live.rampBaseline'));
  const rampBaseline = baselineText === null ? null : isAbsolute(baselineText) ? baselineText : resolve(PROJECT_ROOT, baselineText);
  const venue = readVenue(r, stage, confirmed);
  const metricsHostRaw = r.raw(ENV.metricsHost, 'metrics.host');
  let metricsHost = r.text(metricsHostRaw) ?? DEFAULTS.metricsHost;
  if (metricsHostRaw && !/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:]+\]?$/.test(metricsHost)) metricsHost = r.bad(metricsHostRaw, 'must be a host name or an IP address, e.g. 127.0.0.1') ?? DEFAULTS.metricsHost;
  const metricsPortRaw = r.raw(ENV.metricsPort, 'metrics.port');
  const metricsPortValue = r.integer(metricsPortRaw, 0, 65_535, ' (0 turns the metrics server off)');
  const metricsPort = metricsPortValue === null ? DEFAULTS.metricsPort : metricsPortValue === 0 ? null : metricsPortValue;
  if (metricsPort !== null && (metricsPort === uiPort || metricsPort === localPort)) {
    r.report(ENV.metricsPort, `must differ from the Temporal dev server ports (${localPort}, ${uiPort}); got ${metricsPort}`);
  }
  const metricsHostsRaw = r.raw(ENV.metricsAllowedHosts, 'metrics.allowedHosts');
  let metricsAllowedHosts: string[] = [];
  const metricsHostsText = r.text(metricsHostsRaw);
  if (metricsHostsRaw && metricsHostsText !== null) {
    const { hosts, bad } = parseAllowedHosts(metricsHostsText);
    if (bad.length === 0) metricsAllowedHosts = hosts;
    else r.bad(metricsHostsRaw, `must be host names separated by commas, each optionally with :port (bad: ${bad.join(', ')})`);
  }
  const logLevelRaw = r.raw(ENV.logLevel, 'logLevel');
  let logLevel = (r.text(logLevelRaw)?.toLowerCase() ?? DEFAULTS.logLevel) as LogLevel;
  if (logLevelRaw && !LOG_LEVELS.includes(logLevel)) logLevel = r.bad(logLevelRaw, `must be one of ${LOG_LEVELS.join(', ')}`) ?? DEFAULTS.logLevel;
  const workerCount = r.integer(r.raw(ENV.workerCount, 'workerCount'), 1, MAX_WORKER_COUNT, ' of worker processes on this venue account') ?? DEFAULTS.workerCount;

  if (r.problems.length > 0) throw new InvalidInput(r.problems, ErrorType.InvalidConfig);
  return {
    temporal: { address, namespace, taskQueue: TASK_QUEUE, cliPath, uiPort, localPort, tls: connection.tls, apiKey: connection.apiKey, grpcMeta: connection.grpcMeta, profile: connection.profile },
    dataDir,
    database: { url: databaseUrl },
    recordsSocketPort,
    paperExchange,
    smtp,
    alertEmailLevels,
    modelProbabilities,
    alertWebhook,
    timeZone,
    dailyResetCron,
    reconciliation: { policy, everyMinutes, reminderMinutes },
    session: { strategy, strategyName, strategyParams, markets, watchPeriodMs, pollIntervalMs, orderTtlMs, automation: { level: automationLevel, approvalTimeoutMs } },
    monitoring,
    riskLimits,
    breakers,
    stage,
    live: { confirmed, capitalCap, rampSteps, rampBaseline },
    venue,
    metrics: { host: metricsHost, port: metricsPort, allowedHosts: metricsAllowedHosts },
    logLevel,
    workerCount,
  };
}

/** Reads the optional file and builds the config; the entry points call this with process.env. */
export function loadConfig(env: Env): WorkerConfig {
  const problems: FieldProblem[] = [];
  const file = readConfigFile(env, problems);
  return buildConfig(env, file, env[ENV.configFile] ? `${ENV.configFile} file` : 'config file', problems);
}

const USERINFO_RE = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/;

const hasUserinfo = (url: string): boolean => USERINFO_RE.test(url);

/** The URL with any user:password@ removed, for an error message (never the credentials themselves). */
export function withoutUserinfo(url: string): string {
  return url.replace(USERINFO_RE, '$1***@');
}

/** The URL with its password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = REDACTED;
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/**
 * The secret values the config holds (paper secret, SMTP password, the alert webhook's token and
 * the path of its URL (a Slack webhook's capability), the database password, the
 * Temporal API key, mTLS client key and gRPC header values,
 * Kalshi key ID and private key),
 * for the log scrubber: they must never appear in a log line, whatever field carries them.
 */
export function secretsOf(config: WorkerConfig): string[] {
  const out: string[] = [];
  if (config.paperExchange) out.push(config.paperExchange.secret.reveal());
  if (config.smtp?.pass) out.push(config.smtp.pass.reveal());
  if (config.alertWebhook) {
    if (config.alertWebhook.token) out.push(config.alertWebhook.token.reveal());
    const { pathname, search } = new URL(config.alertWebhook.url);
    // Only a long path is a capability worth scrubbing; a short one ("/", "/hook") would shred every line.
    if (`${pathname}${search}`.length >= 16) out.push(config.alertWebhook.url, `${pathname}${search}`);
  }
  if (config.venue.kind === 'kalshi') {
    const pem = config.venue.kalshi.privateKeyPem.reveal();
    // The whole PEM, and each base64 line of it, so that no part of the key reaches a log.
    out.push(config.venue.kalshi.keyId, pem, ...pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----')));
  }
  out.push(...connectionSecrets(config.temporal));
  if (config.database.url !== null) {
    try {
      const password = new URL(config.database.url).password;
      if (password) out.push(password, decodeURIComponent(password));
    } catch {
      out.push(config.database.url);
    }
  }
  return [...new Set(out.filter((s) => s.length > 0))];
}

/** The config as loggable JSON: secrets and database passwords replaced by "***". */
export function describeConfig(config: WorkerConfig): Record<string, unknown> {
  return {
    ...config,
    temporal: {
      ...config.temporal,
      tls: config.temporal.tls && {
        serverName: config.temporal.tls.serverName,
        serverCaCert: config.temporal.tls.serverCaCert === null ? null : 'PEM certificate',
        client: config.temporal.tls.client && { cert: 'PEM certificate', key: REDACTED },
      },
      apiKey: config.temporal.apiKey === null ? null : REDACTED,
      grpcMeta: Object.fromEntries(Object.keys(config.temporal.grpcMeta).map((k) => [k, REDACTED])),
    },
    database: { url: config.database.url === null ? null : redactUrl(config.database.url) },
    paperExchange: config.paperExchange && { ...config.paperExchange, secret: REDACTED },
    smtp: config.smtp && { ...config.smtp, pass: config.smtp.pass === null ? null : REDACTED },
    alertWebhook: config.alertWebhook && { url: shownWebhookUrl(config.alertWebhook.url), format: config.alertWebhook.format, token: config.alertWebhook.token === null ? null : REDACTED },
    venue: config.venue.kind === 'kalshi' ? { kind: 'kalshi', kalshi: { ...config.venue.kalshi, keyId: REDACTED, privateKeyPem: REDACTED } } : config.venue,
  };
}
