/**
 * The SMTP mailer behind alerts (nodemailer). Settings validate themselves and name every bad
 * field at once; the password is held as a Secret, never logged, never echoed in a validation
 * problem, and scrubbed (plain and in the base64 forms SMTP AUTH sends) from every error message.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { ErrorType, InvalidInput, type FieldProblem } from '../domain/errors';
import type { Mailer } from './deps';
import { isEmailAddress } from './email-address';

/** Anything that hands out a secret only on request (activities/venue/credentials.ts `Secret`). */
export interface SecretValue {
  reveal(): string;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); false: plain, upgraded by STARTTLS when offered. */
  secure: boolean;
  /** Null: no AUTH (a local relay). */
  auth: { user: string; pass: SecretValue } | null;
  from: string;
  to: readonly string[];
  /** Timeouts in ms; defaults 10 s to connect, 10 s for the greeting, 30 s of socket silence. */
  timeouts?: { connectMs?: number; greetingMs?: number; socketMs?: number };
  /**
   * Refuse to log in or send without STARTTLS. Default: true for any host off this machine (the
   * password would cross the network in the clear), false for a loopback relay.
   */
  requireTls?: boolean;
  /** The operator's explicit opt-out (SMTP_ALLOW_PLAINTEXT): a network host may be plain. */
  allowPlaintext?: boolean;
}

const REDACTED = '[redacted]';

export function validateSmtpSettings(s: SmtpSettings): SmtpSettings {
  const problems: FieldProblem[] = [];
  if (typeof s.host !== 'string' || s.host.trim().length === 0 || /\s/.test(s.host)) problems.push({ field: 'smtp.host', value: s.host, problem: 'must be a host name or address' });
  if (!Number.isSafeInteger(s.port) || s.port < 1 || s.port > 65_535) problems.push({ field: 'smtp.port', value: s.port, problem: 'must be an integer from 1 to 65535' });
  if (typeof s.secure !== 'boolean') problems.push({ field: 'smtp.secure', value: s.secure, problem: 'must be true or false' });
  if (s.auth !== null) {
    if (typeof s.auth !== 'object' || s.auth === undefined) problems.push({ field: 'smtp.auth', value: s.auth, problem: 'must be { user, pass } or null' });
    else {
      if (typeof s.auth.user !== 'string' || s.auth.user.length === 0) problems.push({ field: 'smtp.auth.user', value: s.auth.user, problem: 'must be a user name' });
      const pass = s.auth.pass as unknown;
      const ok = typeof pass === 'object' && pass !== null && typeof (pass as SecretValue).reveal === 'function' && (pass as SecretValue).reveal().length > 0;
      // The value itself is never echoed.
      if (!ok) problems.push({ field: 'smtp.auth.pass', value: REDACTED, problem: 'must be a non-empty Secret' });
    }
  }
  if (!isEmailAddress(s.from)) problems.push({ field: 'smtp.from', value: s.from, problem: 'must be an email address' });
  if (!Array.isArray(s.to) || s.to.length === 0) problems.push({ field: 'smtp.to', value: s.to, problem: 'must list at least one email address' });
  else
    s.to.forEach((a, i) => {
      if (!isEmailAddress(a)) problems.push({ field: `smtp.to[${i}]`, value: a, problem: 'must be an email address' });
    });
  for (const key of ['connectMs', 'greetingMs', 'socketMs'] as const) {
    const v = s.timeouts?.[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 100 || v > 300_000)) problems.push({ field: `smtp.timeouts.${key}`, value: v, problem: 'must be whole milliseconds from 100 to 300000' });
  }
  if (s.requireTls !== undefined && typeof s.requireTls !== 'boolean') problems.push({ field: 'smtp.requireTls', value: s.requireTls, problem: 'must be true or false' });
  if (s.allowPlaintext !== undefined && typeof s.allowPlaintext !== 'boolean') problems.push({ field: 'smtp.allowPlaintext', value: s.allowPlaintext, problem: 'must be true or false' });
  if (s.allowPlaintext === true && s.requireTls === true) problems.push({ field: 'smtp.allowPlaintext', value: true, problem: 'cannot be true while smtp.requireTls is true' });
  if (problems.length > 0) throw new InvalidInput(problems, ErrorType.InvalidConfig);
  return s;
}

/** Adapts the worker's SMTP config shape (user and pass side by side) to SmtpSettings. */
export function smtpSettingsFrom(c: {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  pass: SecretValue | null;
  from: string;
  to: readonly string[];
  allowPlaintext?: boolean;
}): SmtpSettings {
  const auth = c.user === null && c.pass === null ? null : { user: c.user ?? '', pass: c.pass ?? { reveal: () => '' } };
  return { host: c.host, port: c.port, secure: c.secure, auth, from: c.from, to: c.to, allowPlaintext: c.allowPlaintext ?? false };
}

/** 127.0.0.0/8, ::1 and localhost: a relay on this machine, where nothing crosses the network. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** nodemailer's transport options for these settings (TLS required off this machine unless opted out). */
export function smtpTransportOptions(settings: SmtpSettings): SMTPTransport.Options {
  const s = validateSmtpSettings(settings);
  const loopback = isLoopbackHost(s.host);
  const options: SMTPTransport.Options = {
    host: s.host,
    port: s.port,
    secure: s.secure,
    // With secure the connection is TLS from the first byte; otherwise STARTTLS must succeed before AUTH.
    requireTLS: !s.secure && (s.requireTls ?? !(loopback || s.allowPlaintext === true)),
    connectionTimeout: s.timeouts?.connectMs ?? 10_000,
    greetingTimeout: s.timeouts?.greetingMs ?? 10_000,
    socketTimeout: s.timeouts?.socketMs ?? 30_000,
    logger: false,
    debug: false,
    // Only a relay on this machine may skip certificate checks (a test server's self-signed certificate).
    tls: { rejectUnauthorized: !loopback },
  };
  if (s.auth !== null) options.auth = { user: s.auth.user, pass: s.auth.pass.reveal() };
  return options;
}

/** An SMTP failure with the password scrubbed; `code`/`responseCode`/`command` are nodemailer's. */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly responseCode: number | null,
    readonly command: string | null,
  ) {
    super(message);
    this.name = 'MailDeliveryError';
  }
}

function scrubber(auth: SmtpSettings['auth']): (text: string) => string {
  if (auth === null) return (t) => t;
  const pass = auth.pass.reveal();
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');
  // AUTH LOGIN sends base64(pass); AUTH PLAIN sends base64("\0user\0pass").
  const forms = [pass, b64(pass), b64(`\u0000${auth.user}\u0000${pass}`), b64(`${auth.user}\u0000${auth.user}\u0000${pass}`)].filter((f) => f.length > 0);
  return (text) => forms.reduce((t, f) => t.split(f).join(REDACTED), text);
}

function toDeliveryError(e: unknown, scrub: (t: string) => string): MailDeliveryError {
  const o = (typeof e === 'object' && e !== null ? e : {}) as { message?: unknown; code?: unknown; responseCode?: unknown; command?: unknown };
  const message = typeof o.message === 'string' ? o.message : String(e);
  return new MailDeliveryError(
    scrub(`SMTP delivery failed: ${message}`),
    typeof o.code === 'string' ? o.code : null,
    typeof o.responseCode === 'number' ? o.responseCode : null,
    typeof o.command === 'string' ? scrub(o.command) : null,
  );
}

export interface SmtpMailer extends Mailer {
  /** Closes pooled connections (none are pooled; kept for symmetry with the worker's shutdown). */
  close(): void;
}

export function createSmtpMailer(settings: SmtpSettings): SmtpMailer {
  const s = validateSmtpSettings(settings);
  const scrub = scrubber(s.auth);
  const transport = nodemailer.createTransport(smtpTransportOptions(s));
  const to = [...s.to];
  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: s.from,
          to,
          subject: message.subject.replace(/[\r\n]+/g, ' '),
          text: message.text,
          ...(message.messageId ? { messageId: message.messageId } : {}),
        });
        return { messageId: info.messageId };
      } catch (e) {
        throw toDeliveryError(e, scrub);
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (e) {
        throw toDeliveryError(e, scrub);
      }
    },
    close() {
      transport.close();
    },
  };
}
