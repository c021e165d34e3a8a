/**
 * SMTP over the network without TLS sends the password in the clear. A non-loopback SMTP host
 * must offer TLS (STARTTLS, or SMTP_SECURE from the first byte) unless the operator opts out with
 * SMTP_ALLOW_PLAINTEXT=true; a relay on this machine may stay plain.
 */
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer, smtpSettingsFrom, smtpTransportOptions, validateSmtpSettings, type SmtpSettings } from '../../activities/mailer';
import { Secret } from '../../activities/venue/credentials';
import { loadConfig } from '../../runtime/config';

const PASSWORD = 'smtp-tls-test-Pa55word-0123';

/** This machine's first non-loopback IPv4 address: a host the mailer must treat as the network. */
function networkAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this test needs a non-loopback IPv4 interface');
}

interface PlainServer {
  host: string;
  port: number;
  passwords: string[];
  messages: number;
  close(): Promise<void>;
}

/** An SMTP server that offers no STARTTLS and accepts AUTH in the clear. */
async function plainServer(host: string): Promise<PlainServer> {
  const state = { passwords: [] as string[], messages: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _s, cb) {
      state.passwords.push(auth.password ?? '');
      cb(null, { user: auth.username });
    },
    onData(stream, _s, cb) {
      stream.resume();
      stream.on('end', () => {
        state.messages += 1;
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    host,
    port,
    get passwords() {
      return state.passwords;
    },
    get messages() {
      return state.messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let remote: PlainServer;
let local: PlainServer;

beforeAll(async () => {
  remote = await plainServer(networkAddress());
  local = await plainServer('127.0.0.1');
});

afterAll(async () => {
  await remote?.close();
  await local?.close();
});

const settings = (host: string, port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host,
  port,
  secure: false,
  auth: { user: 'alerts@example.com', pass: new Secret(PASSWORD) },
  from: 'alerts@example.com',
  to: ['ops@example.com'],
  timeouts: { connectMs: 2_000, greetingMs: 2_000, socketMs: 2_000 },
  ...extra,
});

describe('SMTP requires TLS off this machine', () => {
  it('refuses to log in to a network host that offers no STARTTLS: the password never leaves', async () => {
    const mailer = createSmtpMailer(settings(remote.host, remote.port));
    await expect(mailer.send({ subject: 'halt', text: 'x' })).rejects.toThrow(/STARTTLS|TLS/i);
    mailer.close();
    expect(remote.passwords).toEqual([]);
    expect(remote.messages).toBe(0);
  });

  it('sends in the clear to a network host only when the operator opted out', async () => {
    const before = remote.messages;
    const mailer = createSmtpMailer(settings(remote.host, remote.port, { allowPlaintext: true }));
    await mailer.send({ subject: 'halt', text: 'x' });
    mailer.close();
    expect(remote.messages).toBe(before + 1);
  });

  it('a relay on loopback may stay plain', async () => {
    const mailer = createSmtpMailer(settings('127.0.0.1', local.port));
    await mailer.send({ subject: 'halt', text: 'x' });
    mailer.close();
    expect(local.messages).toBe(1);
  });

  it('the transport requires TLS for every network host unless secure from the first byte or opted out', () => {
    expect(smtpTransportOptions(settings('smtp.example.com', 587)).requireTLS).toBe(true);
    expect(smtpTransportOptions(settings('10.1.2.3', 25)).requireTLS).toBe(true);
    expect(smtpTransportOptions(settings('smtp.example.com', 587, { allowPlaintext: true })).requireTLS).toBe(false);
    expect(smtpTransportOptions(settings('smtp.example.com', 465, { secure: true }))).toMatchObject({ secure: true });
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.53']) expect(smtpTransportOptions(settings(host, 25)).requireTLS, host).toBe(false);
    expect(() => validateSmtpSettings(settings('smtp.example.com', 587, { allowPlaintext: true, requireTls: true }))).toThrow(/smtp.allowPlaintext/);
  });

  it('SMTP_ALLOW_PLAINTEXT is read, checked and carried to the mailer', () => {
    const env = { SMTP_HOST: 'smtp.example.com', ALERT_EMAIL_FROM: 'a@example.com', ALERT_EMAIL_TO: 'b@example.com' };
    const plain = loadConfig({ ...env, SMTP_ALLOW_PLAINTEXT: 'true' }).smtp!;
    expect(plain.allowPlaintext).toBe(true);
    expect(smtpSettingsFrom(plain).allowPlaintext).toBe(true);
    expect(loadConfig(env).smtp!.allowPlaintext).toBe(false);
    expect(() => loadConfig({ ...env, SMTP_ALLOW_PLAINTEXT: 'perhaps' })).toThrow(/SMTP_ALLOW_PLAINTEXT/);
  });
});
