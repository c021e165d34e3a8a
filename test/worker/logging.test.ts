import { describe, expect, it } from 'vitest';
import { Secret } from '../../activities/venue/credentials';
import { buildConfig, describeConfig, secretsOf } from '../../runtime/config';
import { CapturedLines, CENSOR, createLogger, scrubSecrets, withIds } from '../../runtime/logging';

const ENV = {
  DATABASE_URL: 'postgres://trader:db-pw-7781@db:5432/trader',
  PAPER_EXCHANGE_URL: 'http://127.0.0.1:8080',
  PAPER_EXCHANGE_KEY_ID: 'key-1',
  PAPER_EXCHANGE_SECRET: 'paper-secret-55aa',
  SMTP_HOST: 'smtp.example.com',
  SMTP_USER: 'bot',
  SMTP_PASS: 'mail-pw-0042',
  ALERT_EMAIL_FROM: 'bot@example.com',
  ALERT_EMAIL_TO: 'ops@example.com',
};
const SECRETS = ['db-pw-7781', 'paper-secret-55aa', 'mail-pw-0042'];

function capture(level: 'info' | 'debug' = 'info') {
  const lines = new CapturedLines();
  const config = buildConfig(ENV);
  return { lines, config, log: createLogger({ level, destination: lines, secrets: secretsOf(config) }) };
}

describe('structured logs', () => {
  it('writes one JSON object per line with level, time, service and the message', () => {
    const { lines, log } = capture();
    log.info({ event: 'order', clientOrderId: 'mr-20261121-000001', state: 'SUBMITTED' }, 'order SUBMITTED');
    log.debug('not at info');
    expect(lines.raw).toHaveLength(1);
    expect(lines.lines[0]).toMatchObject({ level: 'info', service: 'durable-trader', event: 'order', clientOrderId: 'mr-20261121-000001', msg: 'order SUBMITTED' });
    expect(typeof lines.lines[0]!.time).toBe('string');
  });

  it('child loggers carry the order, session and workflow IDs on every line; empty IDs are left out', () => {
    const { lines, log } = capture();
    const child = withIds(log, { clientOrderId: 'mr-20261121-000007', sessionId: 'session-mr-2026-11-21', workflowId: 'order-mr-20261121-000007' });
    child.info({ event: 'fill', tradeId: 'T-1' }, 'fill recorded');
    withIds(log, { clientOrderId: null, sessionId: '' }).info({ event: 'signal' }, 'signal');
    expect(lines.lines[0]).toMatchObject({ clientOrderId: 'mr-20261121-000007', sessionId: 'session-mr-2026-11-21', workflowId: 'order-mr-20261121-000007', tradeId: 'T-1' });
    expect(lines.lines[1]).not.toHaveProperty('clientOrderId');
    expect(lines.lines[1]).not.toHaveProperty('sessionId');
  });

  it('redacts every secret-bearing field by name, at any of the first levels', () => {
    const { lines, log } = capture();
    log.info(
      {
        secret: 'a1',
        password: 'a2',
        token: 'a3',
        apiKey: 'a4',
        privateKeyPem: '-----BEGIN PRIVATE KEY-----a5',
        signature: 'a6',
        authorization: 'Bearer a7',
        request: { headers: { authorization: 'Bearer a8', 'x-paper-signature': 'a9', 'KALSHI-ACCESS-SIGNATURE': 'a10' }, adminToken: 'a11' },
        smtp: { pass: 'a12', settings: { password: 'a13', nested: { privateKey: 'a14' } } },
        keep: 'visible',
      },
      'credentials in fields',
    );
    const raw = lines.raw.join('\n');
    for (let i = 1; i <= 14; i++) expect(raw, `a${i}`).not.toMatch(new RegExp(`\\ba${i}\\b`));
    const line = lines.lines[0]!;
    expect(line.secret).toBe(CENSOR);
    expect((line.request as { headers: Record<string, unknown> }).headers['x-paper-signature']).toBe(CENSOR);
    expect(line.keep).toBe('visible');
  });

  it('scrubs the config secrets wherever they appear: messages, error text, unknown fields', () => {
    const { lines, log, config } = capture();
    log.info({ event: 'stage', config: describeConfig(config) }, 'configuration');
    log.error({ err: new Error('auth failed for postgres://trader:db-pw-7781@db/trader'), note: 'paper-secret-55aa' }, 'login with mail-pw-0042 refused');
    log.info({ wrapped: new Secret('paper-secret-55aa') }, 'a Secret prints as redacted');
    const raw = lines.raw.join('\n');
    for (const s of SECRETS) expect(raw).not.toContain(s);
    expect(lines.lines[1]!.msg).toBe(`login with ${CENSOR} refused`);
    expect(raw).toContain('smtp.example.com');
  });

  it('scrubSecrets replaces plain and JSON-escaped forms', () => {
    expect(scrubSecrets('a "quote\\"xx" b quote"xx', ['quote"xx'])).toBe(`a "${CENSOR}" b ${CENSOR}`);
    expect(scrubSecrets('nothing here', [''])).toBe('nothing here');
  });
});
