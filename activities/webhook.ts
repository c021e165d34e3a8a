/**
 * The webhook sink behind alerts: one HTTP POST per alert, a generic JSON body or a
 * Slack-compatible one ({"text": ...}, which Slack's incoming webhooks and most chat bridges take).
 * Settings validate themselves and name every bad field at once; the URL may not carry a user or
 * password (refused without echoing them) and the bearer token is never logged and is scrubbed
 * from every error message. A non-2xx answer, a redirect, a timeout or a refused connection is a
 * WebhookDeliveryError, which activities/alerts.ts records as a failed delivery and retries.
 */
import { ErrorType, InvalidInput, type FieldProblem } from '../domain/errors';
import type { AlertWebhook, WebhookAlert } from './deps';
import type { SecretValue } from './mailer';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookSettings {
  url: string;
  format: WebhookFormat;
  /** Sent as `Authorization: Bearer <token>`; null: no header. */
  token: SecretValue | null;
  /** Whole request, connect to last body byte; default 5 s. */
  timeoutMs?: number;
}

const REDACTED = '[redacted]';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;

/** Null when `url` is an http(s) URL without credentials; otherwise the problem (never the credentials). */
export function webhookUrlProblem(url: unknown): string | null {
  if (typeof url !== 'string') return 'must be an http:// or https:// URL';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'must be an http:// or https:// URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (u.username !== '' || u.password !== '') return 'must not carry a user or password (use ALERT_WEBHOOK_TOKEN for a bearer token)';
  return null;
}

/** The URL as it may be shown: a URL with credentials is shown as a placeholder, never echoed. */
export function shownWebhookUrl(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '' ? REDACTED : `${u.origin}/…`;
  } catch {
    return /@/.test(url) ? REDACTED : url;
  }
}

export function validateWebhookSettings(s: WebhookSettings): WebhookSettings {
  const problems: FieldProblem[] = [];
  const urlProblem = webhookUrlProblem(s.url);
  if (urlProblem !== null) problems.push({ field: 'webhook.url', value: shownWebhookUrl(s.url), problem: urlProblem });
  if (!(WEBHOOK_FORMATS as readonly string[]).includes(s.format)) problems.push({ field: 'webhook.format', value: s.format, problem: `must be one of ${WEBHOOK_FORMATS.join(', ')}` });
  if (s.token !== null) {
    const t = s.token as unknown;
    const ok = typeof t === 'object' && t !== null && typeof (t as SecretValue).reveal === 'function' && /^[\x21-\x7e]{8,}$/.test((t as SecretValue).reveal());
    if (!ok) problems.push({ field: 'webhook.token', value: REDACTED, problem: 'must be a Secret of at least 8 printable characters without spaces' });
  }
  if (s.timeoutMs !== undefined && (!Number.isSafeInteger(s.timeoutMs) || s.timeoutMs < 100 || s.timeoutMs > 60_000)) {
    problems.push({ field: 'webhook.timeoutMs', value: s.timeoutMs, problem: 'must be whole milliseconds from 100 to 60000' });
  }
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return s;
}

/** The generic body: the alert's fields as the alerts table keeps them. */
export function webhookJsonBody(alert: WebhookAlert): Record<string, string> {
  return {
    source: 'durable-trader',
    level: alert.level,
    type: alert.type,
    dedupeKey: alert.dedupeKey,
    title: alert.title,
    body: alert.body,
    raisedAt: new Date(alert.raisedAt).toISOString(),
  };
}

/** Slack's incoming-webhook body: one `text` field, its mrkdwn control characters escaped. */
export function webhookSlackBody(alert: WebhookAlert): { text: string } {
  const esc = (t: string) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const title = esc(alert.title.replace(/[\r\n]+/g, ' ').trim());
  const lines = [`*[Trading Alert - ${alert.level}] ${title}*`, `Type: ${alert.type} · Raised: ${new Date(alert.raisedAt).toISOString()} · Key: ${esc(alert.dedupeKey)}`];
  if (alert.body.trim().length > 0) lines.push('', esc(alert.body));
  return { text: lines.join('\n') };
}

export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    /** The HTTP status; null when no answer came (timeout, refused connection). */
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/** Up to `max` characters of the answer's body; the rest is not read. */
async function answerStart(response: Response, max: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body cut short or timed out leaves what was read: the status says the rest.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, max);
}

export function createWebhookSink(settings: WebhookSettings): AlertWebhook {
  const s = validateWebhookSettings(settings);
  const token = s.token?.reveal() ?? null;
  const scrub = (text: string) => (token === null ? text : text.split(token).join(REDACTED));
  const timeoutMs = s.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const where = shownWebhookUrl(s.url);
  return {
    async send(alert) {
      const body = JSON.stringify(s.format === 'slack' ? webhookSlackBody(alert) : webhookJsonBody(alert));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': alert.dedupeKey };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let response: Response;
      try {
        // A redirect is not followed: the bearer token goes to the configured URL only.
        response = await fetch(s.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
        const why = timedOut ? `no answer within ${timeoutMs} ms` : `${e instanceof Error ? e.message : String(e)}${cause}`;
        throw new WebhookDeliveryError(scrub(`webhook ${String(where)} not reached: ${why}`), null);
      }
      // Only the start of the answer is read (within the same timeout), to say why a delivery was refused.
      const answer = await answerStart(response, 300);
      if (response.status < 200 || response.status > 299) {
        throw new WebhookDeliveryError(scrub(`webhook ${String(where)} answered ${response.status}${answer ? `: ${answer.replace(/\s+/g, ' ')}` : ''}`), response.status);
      }
      return { status: response.status };
    },
  };
}
