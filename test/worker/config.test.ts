import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TASK_QUEUE } from '../../workflows/api';
import { CASE_STUDY_BREAKERS } from '../../domain/breakers';
import { InvalidInput } from '../../domain/errors';
import { CASE_STUDY_LIMITS } from '../../domain/risk-limits';
import { kalshiKeyPair, KALSHI_KEY_ID } from '../../testkit/venue-harness';
import { buildConfig, cronProblem, describeConfig, loadConfig, PROJECT_ROOT, secretsOf, type Env } from '../../runtime/config';

function problemsOf(fn: () => unknown): { field: string; value: unknown; problem: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  throw new Error('expected InvalidInput');
}

const KALSHI_DEMO: Env = { VENUE: 'kalshi', KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: kalshiKeyPair().privateKeyPem };

describe('worker config', () => {
  it('defaults to a local dev server, the case-study limits and timings', () => {
    const c = buildConfig({});
    expect(c.temporal).toEqual({ address: null, namespace: 'default', taskQueue: TASK_QUEUE, cliPath: null, uiPort: 8233, localPort: 7233, tls: null, apiKey: null, grpcMeta: {}, profile: null });
    expect(c.dataDir).toBe(join(PROJECT_ROOT, 'data'));
    expect(c.database.url).toBeNull();
    expect(c.paperExchange).toBeNull();
    expect(c.smtp).toBeNull();
    expect(c.timeZone).toBe('UTC');
    expect(c.dailyResetCron).toBe('0 0 * * *');
    expect(c.reconciliation).toEqual({ policy: 'HALT_AND_ALERT', everyMinutes: 5, reminderMinutes: 30 });
    expect(c.session).toMatchObject({ pollIntervalMs: 30_000, orderTtlMs: 600_000, markets: [] });
    expect(c.riskLimits).toBe(CASE_STUDY_LIMITS);
    expect(c.breakers).toBe(CASE_STUDY_BREAKERS);
    expect(c.stage).toBe('PAPER');
    expect(c.live).toEqual({ confirmed: false, capitalCap: null, rampSteps: [25, 50, 100], rampBaseline: null });
    expect(c.venue).toEqual({ kind: 'paper' });
    expect(c.metrics).toEqual({ host: '127.0.0.1', port: 9464, allowedHosts: [] });
    expect(c.logLevel).toBe('info');
  });

  it('reads the stage, the live guard, metrics and log level; the cap may come from the file', () => {
    const c = buildConfig({ TRADING_STAGE: 'live', ...KALSHI_DEMO, LIVE_CONFIRM: 'true', LIVE_CAPITAL_CAP: '500.00', METRICS_PORT: '9100', METRICS_HOST: '0.0.0.0', LOG_LEVEL: 'DEBUG' });
    expect(c.stage).toBe('LIVE');
    expect(c.live).toMatchObject({ confirmed: true, capitalCap: 500_000_000 });
    expect(c.metrics).toEqual({ host: '0.0.0.0', port: 9100, allowedHosts: [] });
    expect(c.logLevel).toBe('debug');
    expect(buildConfig({ METRICS_PORT: '0' }).metrics.port).toBeNull();
    const fromFile = buildConfig({}, { stage: 'SHADOW', live: { capitalCap: 750 }, metrics: { port: 9200 }, logLevel: 'warn' });
    expect(fromFile).toMatchObject({ stage: 'SHADOW', live: { confirmed: false, capitalCap: 750_000_000 }, metrics: { port: 9200 }, logLevel: 'warn' });
  });

  it('reports every bad stage, guard, metrics and log field at once; the confirmation is never taken from a file', () => {
    const problems = problemsOf(() =>
      buildConfig(
        { TRADING_STAGE: 'production', LIVE_CONFIRM: 'yes', LIVE_CAPITAL_CAP: '-5', METRICS_PORT: '7233', METRICS_HOST: 'not a host!', LOG_LEVEL: 'loud' },
        { live: { confirm: true } },
        'cfg.json',
      ),
    );
    const byField = new Map(problems.map((p) => [p.field, p]));
    expect([...byField.keys()].sort()).toEqual(['LIVE_CAPITAL_CAP', 'LIVE_CONFIRM', 'LOG_LEVEL', 'METRICS_HOST', 'METRICS_PORT', 'TRADING_STAGE', 'cfg.json live.confirm'].sort());
    expect(byField.get('TRADING_STAGE')).toMatchObject({ value: 'production', problem: expect.stringMatching(/BACKTEST, PAPER, SHADOW, LIVE/) });
    expect(byField.get('LIVE_CAPITAL_CAP')).toMatchObject({ value: '-5', problem: expect.stringMatching(/positive amount/) });
    expect(byField.get('METRICS_PORT')?.problem).toMatch(/must differ from the Temporal dev server ports/);
    expect(byField.get('cfg.json live.confirm')?.problem).toMatch(/environment only: set LIVE_CONFIRM/);
    expect(problemsOf(() => buildConfig({ LIVE_CAPITAL_CAP: '12.3456789' })).map((p) => p.field)).toEqual(['LIVE_CAPITAL_CAP']);
  });

  it('lists the secret values the config holds, for the log scrubber', () => {
    const c = buildConfig({
      DATABASE_URL: 'postgres://trader:p%40ss@db:5432/trader',
      PAPER_EXCHANGE_URL: 'http://127.0.0.1:8080',
      PAPER_EXCHANGE_KEY_ID: 'key-1',
      PAPER_EXCHANGE_SECRET: 's3cret-paper-secret-01',
      SMTP_HOST: 'smtp.example.com',
      SMTP_USER: 'bot',
      SMTP_PASS: 'mailpass',
      ALERT_EMAIL_FROM: 'bot@example.com',
      ALERT_EMAIL_TO: 'a@example.com',
    });
    expect(secretsOf(c).sort()).toEqual(['mailpass', 'p%40ss', 'p@ss', 's3cret-paper-secret-01'].sort());
    expect(secretsOf(buildConfig({}))).toEqual([]);
  });

  it('reads every setting from the environment', () => {
    const env: Env = {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'trading',
      TEMPORAL_CLI_PATH: '/opt/temporal',
      TEMPORAL_UI_PORT: '9000',
      DATA_DIR: '/var/lib/trader',
      DATABASE_URL: 'postgres://trader:hunter2@db:5432/trader',
      PAPER_EXCHANGE_URL: 'http://127.0.0.1:8080',
      PAPER_EXCHANGE_KEY_ID: 'key-1',
      PAPER_EXCHANGE_SECRET: 's3cret-paper-secret-01',
      SMTP_HOST: 'smtp.example.com',
      SMTP_PORT: '465',
      SMTP_USER: 'bot',
      SMTP_PASS: 'mailpass',
      ALERT_EMAIL_FROM: 'bot@example.com',
      ALERT_EMAIL_TO: 'a@example.com, b@example.com',
      TRADING_TIME_ZONE: 'America/New_York',
      DAILY_RESET_CRON: '0 0 * * 1-5',
      RECONCILIATION_POLICY: 'WARN_ONLY',
      RECONCILIATION_EVERY_MINUTES: '10',
      SESSION_STRATEGY: 'ema-live',
      SESSION_MARKETS: 'PRES-2028, KXFED-26JAN',
    };
    const c = buildConfig(env);
    expect(c.temporal.address).toBe('temporal.internal:7233');
    expect(c.temporal.namespace).toBe('trading');
    expect(c.temporal.cliPath).toBe('/opt/temporal');
    expect(c.paperExchange?.secret.reveal()).toBe('s3cret-paper-secret-01');
    expect(c.smtp).toMatchObject({ host: 'smtp.example.com', port: 465, secure: true, to: ['a@example.com', 'b@example.com'] });
    expect(c.smtp?.pass?.reveal()).toBe('mailpass');
    expect(c.timeZone).toBe('America/New_York');
    expect(c.reconciliation.policy).toBe('WARN_ONLY');
    expect(c.session.markets).toEqual(['PRES-2028', 'KXFED-26JAN']);
    const logged = JSON.stringify(describeConfig(c));
    expect(logged).not.toContain('s3cret-paper-secret-01');
    expect(logged).not.toContain('mailpass');
    expect(logged).not.toContain('hunter2');
  });

  it('reports every bad field at once, naming the variable and the value', () => {
    const problems = problemsOf(() =>
      buildConfig({
        TEMPORAL_ADDRESS: 'not an address',
        TEMPORAL_UI_PORT: '99999',
        TRADING_TIME_ZONE: 'Mars/Olympus',
        DAILY_RESET_CRON: '0 25 * * *',
        RECONCILIATION_POLICY: 'YOLO',
        RECONCILIATION_EVERY_MINUTES: '0',
        SESSION_STRATEGY: 'bad key!',
        SESSION_STRATEGY_NAME: 'martingale',
        SESSION_MARKETS: 'OK-1,bad market',
        SESSION_POLL_INTERVAL_MS: 'soon',
        SMTP_PORT: 'x',
      }),
    );
    const byField = new Map(problems.map((p) => [p.field, p]));
    expect([...byField.keys()].sort()).toEqual(
      [
        'DAILY_RESET_CRON',
        'RECONCILIATION_EVERY_MINUTES',
        'RECONCILIATION_POLICY',
        'SESSION_MARKETS',
        'SESSION_POLL_INTERVAL_MS',
        'SESSION_STRATEGY',
        'SESSION_STRATEGY_NAME',
        'SMTP_PORT',
        'TEMPORAL_ADDRESS',
        'TEMPORAL_UI_PORT',
        'TRADING_TIME_ZONE',
      ].sort(),
    );
    expect(byField.get('TRADING_TIME_ZONE')?.value).toBe('Mars/Olympus');
    expect(byField.get('SESSION_MARKETS')?.value).toBe('bad market');
    expect(byField.get('RECONCILIATION_POLICY')?.problem).toMatch(/HALT_AND_ALERT/);
  });

  it('never echoes a secret: bad secret values are shown as ***', () => {
    let message = '';
    const problems = problemsOf(() => {
      try {
        buildConfig({ DATABASE_URL: 'mysql://root:topsecret@db/x', PAPER_EXCHANGE_URL: 'http://x:1', PAPER_EXCHANGE_KEY_ID: 'k' });
      } catch (e) {
        message = (e as Error).message;
        throw e;
      }
    });
    expect(message).not.toContain('topsecret');
    expect(problems.find((p) => p.field === 'DATABASE_URL')?.value).toBe('***');
    expect(problems.find((p) => p.field === 'PAPER_EXCHANGE_SECRET')?.problem).toMatch(/required when PAPER_EXCHANGE_URL/);
  });

  it('refuses secrets, unknown keys and bad limits in the config file, all at once', () => {
    const problems = problemsOf(() =>
      buildConfig(
        {},
        {
          smtp: { host: 'h', pass: 'filepass' },
          database: { url: 'postgres://u:p@h/d' },
          colour: 'blue',
          riskLimits: { ...{ maxOrderSize: 0 } },
          breakers: { maxDrawdownFraction: 2 },
          session: { strategyParams: { entryThreshold: 'high' } },
        },
        'cfg.json',
      ),
    );
    const fields = problems.map((p) => p.field);
    expect(fields).toContain('cfg.json smtp.pass');
    expect(fields).toContain('cfg.json database');
    expect(fields).toContain('cfg.json colour');
    expect(fields).toContain('cfg.json riskLimits: maxOrderSize');
    expect(fields.some((f) => f.startsWith('cfg.json breakers: maxDrawdownFraction'))).toBe(true);
    expect(fields.some((f) => f.startsWith('cfg.json session.strategyParams'))).toBe(true);
    // smtp.host without from/to
    expect(fields).toContain('ALERT_EMAIL_FROM');
    expect(JSON.stringify(problems)).not.toContain('filepass');
    expect(JSON.stringify(problems)).not.toContain('u:p@');
  });

  it('lets a variable override the file, and reports an unreadable file by its variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ timeZone: 'Europe/London', reconciliation: { everyMinutes: 7 } }));
    const c = loadConfig({ DURABLE_TRADER_CONFIG: path, RECONCILIATION_EVERY_MINUTES: '3' });
    expect(c.timeZone).toBe('Europe/London');
    expect(c.reconciliation.everyMinutes).toBe(3);

    const missing = problemsOf(() => loadConfig({ DURABLE_TRADER_CONFIG: join(dir, 'absent.json'), TRADING_TIME_ZONE: 'Nowhere/X' }));
    expect(missing.map((p) => p.field)).toEqual(['DURABLE_TRADER_CONFIG', 'TRADING_TIME_ZONE']);
    writeFileSync(path, '{not json');
    expect(problemsOf(() => loadConfig({ DURABLE_TRADER_CONFIG: path }))[0]?.problem).toMatch(/not valid JSON/);
  });

  it('checks cron expressions field by field', () => {
    expect(cronProblem('0 0 * * *')).toBeNull();
    expect(cronProblem('*/15 9-16 * * 1-5')).toBeNull();
    expect(cronProblem('0 0 * *')).toMatch(/five fields/);
    expect(cronProblem('60 0 * * *')).toMatch(/outside 0-59/);
    expect(cronProblem('0 0 * * MON')).toMatch(/field 5/);
  });
});

describe('monitoring settings', () => {
  it('default to the alert table and the deployment guide: cancel after an outage, 1 minute, 1 s, 1%', () => {
    expect(buildConfig({}).monitoring).toEqual({ connectionLostPolicy: 'cancel', connectionLostAlertMs: 60_000, quoteStalenessAlertMs: 1_000, rejectionRateAlertPercent: 1 });
    const keep = buildConfig({ CONNECTION_LOST_POLICY: 'KEEP', CONNECTION_LOST_ALERT_MS: '120000', QUOTE_STALENESS_ALERT_MS: '2000', REJECTION_RATE_ALERT_PERCENT: '5' });
    expect(keep.monitoring).toEqual({ connectionLostPolicy: 'keep', connectionLostAlertMs: 120_000, quoteStalenessAlertMs: 2_000, rejectionRateAlertPercent: 5 });
    expect(buildConfig({}, { monitoring: { connectionLostPolicy: 'keep' } }).monitoring.connectionLostPolicy).toBe('keep');
  });

  it('reports every bad monitoring field at once, with its value', () => {
    const problems = problemsOf(() => buildConfig({ CONNECTION_LOST_POLICY: 'panic', CONNECTION_LOST_ALERT_MS: '10', QUOTE_STALENESS_ALERT_MS: 'soon', REJECTION_RATE_ALERT_PERCENT: '0' }));
    expect(problems.map((p) => [p.field, p.value])).toEqual([
      ['CONNECTION_LOST_POLICY', 'panic'],
      ['CONNECTION_LOST_ALERT_MS', '10'],
      ['QUOTE_STALENESS_ALERT_MS', 'soon'],
      ['REJECTION_RATE_ALERT_PERCENT', '0'],
    ]);
    expect(problems[0]!.problem).toBe('must be one of cancel, keep');
  });
});
