/** A real SMTP server on 127.0.0.1 (port 0) that accepts any login and keeps every message it receives. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Secret } from '../../activities/venue/credentials';
import { createSmtpMailer, type SmtpMailer } from '../../activities/mailer';

export interface CapturedMail {
  from: string;
  to: string[];
  user: string | null;
  raw: string;
  subject: string;
  messageId: string;
  /** The text part with quoted-printable soft breaks and escapes undone. */
  text: string;
}

export interface SmtpCapture {
  port: number;
  messages: CapturedMail[];
  /** Passwords the server was given (to prove AUTH happened; never compared to records except to check absence). */
  passwords: string[];
  /** Reject logins from now on (535). */
  rejectAuth(on: boolean): void;
  close(): Promise<void>;
}

export const SMTP_USER = 'alerts@example.com';
export const SMTP_PASSWORD = 'hunter2-Smtp-Pa55word-do-not-leak';

function header(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

function bodyText(raw: string): string {
  const at = raw.search(/\r?\n\r?\n/);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  if (!/quoted-printable/i.test(header(raw, 'Content-Transfer-Encoding'))) return body.replace(/\r\n/g, '\n');
  return body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\r\n/g, '\n');
}

/** `port`: listen there (a server brought back where its clients were told it is); default any free port. */
export async function startSmtpCapture(options: { port?: number } = {}): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const passwords: string[] = [];
  let reject = false;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      passwords.push(auth.password ?? '');
      if (reject) return cb(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : null,
          raw,
          subject: header(raw, 'Subject'),
          messageId: header(raw, 'Message-ID'),
          text: bodyText(raw),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    passwords,
    rejectAuth: (on) => {
      reject = on;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function captureMailer(port: number, password = SMTP_PASSWORD): SmtpMailer {
  return createSmtpMailer({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user: SMTP_USER, pass: new Secret(password) },
    from: 'trader@example.com',
    to: ['ops@example.com', 'oncall@example.com'],
    timeouts: { connectMs: 2_000, greetingMs: 2_000, socketMs: 5_000 },
  });
}

/** A port on 127.0.0.1 with nobody listening (a server started and closed again). */
export async function deadPort(): Promise<number> {
  const s = await startSmtpCapture();
  await s.close();
  return s.port;
}
