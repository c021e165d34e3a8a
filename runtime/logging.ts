/**
 * Structured JSON logs (pino): one line per signal, order event, fill, risk decision, operator
 * action, alert and activity failure, each carrying the IDs that find it again (clientOrderId,
 * sessionId, workflowId). Every line has an `event` field naming its kind (LOG_EVENTS).
 *
 * Secrets are kept out twice over: pino redacts every secret-bearing field by path (REDACT_PATHS),
 * and the stream scrubs the secret values themselves (the config's secrets, see secretsOf) from
 * each finished line, so a secret that slipped into a message or an error text is still replaced.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger } from 'pino';

/** The kinds of line the trading system writes (the `event` field). */
export const LOG_EVENTS = {
  signal: 'signal',
  warmUp: 'warm_up',
  order: 'order',
  fill: 'fill',
  riskDecision: 'risk_decision',
  operatorAction: 'operator_action',
  alert: 'alert',
  activityFailure: 'activity_failure',
  venue: 'venue',
  stage: 'stage',
} as const;
export type LogEvent = (typeof LOG_EVENTS)[keyof typeof LOG_EVENTS];

export const CENSOR = '[redacted]';

/** Field names that carry a secret wherever they appear. */
const SECRET_KEYS = [
  'secret',
  'secrets',
  'password',
  'pass',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'adminToken',
  'apiKey',
  'apiSecret',
  'privateKey',
  'privateKeyPem',
  'signature',
  'authorization',
  'Authorization',
  'cookie',
  'databaseUrl',
  'dashboardToken',
  'DASHBOARD_TOKEN',
  'kalshiKeyId',
  'KALSHI_API_KEY_ID',
  'KALSHI_PRIVATE_KEY_PEM',
  'PAPER_EXCHANGE_SECRET',
  'PAPER_EXCHANGE_ADMIN_TOKEN',
  'SMTP_PASS',
] as const;

/** Header names that carry credentials (paper exchange, Kalshi's key and signature). */
const SECRET_HEADERS = [
  'authorization',
  'Authorization',
  'x-paper-signature',
  'X-Paper-Signature',
  'KALSHI-ACCESS-KEY',
  'kalshi-access-key',
  'KALSHI-ACCESS-SIGNATURE',
  'kalshi-access-signature',
  'cookie',
] as const;

const prop = (key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`);

/** Each secret key at the top level and up to three objects deep; credential headers under any `headers`. */
export const REDACT_PATHS: readonly string[] = (() => {
  const paths: string[] = [];
  for (const k of SECRET_KEYS) {
    paths.push(k, `*${prop(k)}`, `*.*${prop(k)}`, `*.*.*${prop(k)}`);
  }
  for (const h of SECRET_HEADERS) paths.push(`headers${prop(h)}`, `*.headers${prop(h)}`, `*.*.headers${prop(h)}`);
  return paths;
})();

/**
 * Values shorter than this are never scrubbed by value: replacing every "e" or "0" would shred
 * each line while hiding nothing. Secrets the system issues are longer (exchange/config.ts
 * MIN_SECRET_LENGTH, the dashboard's MIN_TOKEN_LENGTH); a shorter third-party password is still
 * redacted wherever it sits in a secret-named field (REDACT_PATHS).
 */
export const MIN_SCRUBBED_SECRET_LENGTH = 8;

/** Replaces each secret value in `text`, in plain and in JSON-escaped form. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < MIN_SCRUBBED_SECRET_LENGTH) continue;
    const escaped = JSON.stringify(s).slice(1, -1);
    out = out.split(s).join(CENSOR);
    if (escaped !== s) out = out.split(escaped).join(CENSOR);
  }
  return out;
}

/** A destination that scrubs secret values from each line before passing it on. */
export function scrubbingStream(inner: DestinationStream, secrets: readonly string[]): DestinationStream {
  const list = [...secrets].filter((s) => s.length >= MIN_SCRUBBED_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (list.length === 0) return inner;
  return { write: (line: string) => inner.write(scrubSecrets(line, list)) };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Secret values to scrub from every line (the config's: secretsOf(config)). */
  secrets?: readonly string[];
  /** Where lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
  /** Fields on every line (service name, stage). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = scrubbingStream(options.destination ?? pino.destination({ dest: 1, sync: true }), options.secrets ?? []);
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'durable-trader', ...options.base },
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** The IDs a line is found by; absent ones are left out. */
export interface LogIds {
  clientOrderId?: string | null;
  sessionId?: string | null;
  workflowId?: string | null;
}

/** A child logger that puts the given IDs on each of its lines. */
export function withIds(log: Logger, ids: LogIds): Logger {
  const bindings: Record<string, string> = {};
  for (const [k, v] of Object.entries(ids)) if (typeof v === 'string' && v.length > 0) bindings[k] = v;
  return Object.keys(bindings).length === 0 ? log : log.child(bindings);
}

/** A destination that keeps every line in memory, parsed: for tests and for the dashboard's recent-log view. */
export class CapturedLines implements DestinationStream {
  readonly raw: string[] = [];

  write(line: string): void {
    for (const l of line.split('\n')) if (l.trim() !== '') this.raw.push(l);
  }

  get lines(): Record<string, unknown>[] {
    return this.raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  ofEvent(event: LogEvent): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === event);
  }
}
