/**
 * The venue per stage and the LIVE guards of the config (issue 13): VENUE, KALSHI_ENV,
 * KALSHI_BASE_URL against Kalshi's documented environments, the credentials (environment only,
 * PEM or a file), LIVE_CONFIRM for production, LIVE_RAMP_STEPS; and that no credential reaches
 * a log line or the described config.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { buildConfig, describeConfig, KALSHI_BASE_URLS, secretsOf, type Env } from '../../runtime/config';
import { CapturedLines, createLogger } from '../../runtime/logging';
import { openTradingVenue } from '../../worker/activity-deps';
import { MemoryOrderIdMap } from '../../testkit/order-id-map';
import { kalshiKeyPair, KALSHI_KEY_ID } from '../../testkit/venue-harness';

const PEM = kalshiKeyPair().privateKeyPem;
const KALSHI: Env = { VENUE: 'kalshi', KALSHI_API_KEY_ID: KALSHI_KEY_ID, KALSHI_PRIVATE_KEY_PEM: PEM };
const LIVE_DEMO: Env = { ...KALSHI, TRADING_STAGE: 'LIVE', LIVE_CAPITAL_CAP: '1000.00' };
const LIVE_PRODUCTION: Env = { ...LIVE_DEMO, KALSHI_ENV: 'production', KALSHI_BASE_URL: 'https://external-api.kalshi.com/trade-api/v2', LIVE_CONFIRM: 'true' };

function problemsOf(env: Env, file: Record<string, unknown> = {}): { field: string; value: unknown; problem: string }[] {
  try {
    buildConfig(env, file);
  } catch (e) {
    if (e instanceof InvalidInput) return e.problems;
    throw e;
  }
  throw new Error('expected InvalidInput');
}

describe('the venue per stage', () => {
  it('LIVE on Kalshi demo by default: the documented demo root, credentials from the environment', () => {
    const c = buildConfig(LIVE_DEMO);
    expect(c.venue).toMatchObject({ kind: 'kalshi', kalshi: { environment: 'demo', baseUrl: 'https://external-api.demo.kalshi.co/trade-api/v2', keyId: KALSHI_KEY_ID } });
    expect(KALSHI_BASE_URLS.demo).toContain('https://demo-api.kalshi.co/trade-api/v2');
    expect(openTradingVenue(c, new MemoryOrderIdMap())).toMatchObject({ account: 'kalshi-demo', venueName: 'kalshi' });
  });

  it('refuses LIVE with VENUE=paper or unset, saying LIVE needs the real venue', () => {
    for (const venue of ['paper', undefined]) {
      const [p, ...rest] = problemsOf({ ...LIVE_DEMO, VENUE: venue });
      expect(rest).toEqual([]);
      expect(p).toMatchObject({ field: 'VENUE', problem: expect.stringMatching(/must be kalshi when TRADING_STAGE=LIVE: LIVE trades on a real venue and the paper exchange is not one/) });
    }
  });

  it('refuses VENUE=kalshi for PAPER and BACKTEST, which always trade on the paper exchange; SHADOW may read Kalshi', () => {
    expect(problemsOf({ ...KALSHI, TRADING_STAGE: 'PAPER' })).toEqual([expect.objectContaining({ field: 'VENUE', value: 'kalshi', problem: expect.stringMatching(/applies to SHADOW and LIVE only/) })]);
    expect(problemsOf({ ...KALSHI, TRADING_STAGE: 'BACKTEST' }).map((p) => p.field)).toEqual(['VENUE']);
    const shadow = buildConfig({ ...KALSHI, TRADING_STAGE: 'SHADOW' });
    expect(shadow.venue.kind).toBe('kalshi');
    // SHADOW never sends an order to Kalshi: its trading venue is the paper exchange.
    expect(() => openTradingVenue(shadow, new MemoryOrderIdMap())).toThrow(/PAPER_EXCHANGE_URL: is required to trade in SHADOW/);
    expect(problemsOf({ VENUE: 'binance' })).toEqual([expect.objectContaining({ field: 'VENUE', value: 'binance', problem: 'must be one of paper, kalshi' })]);
  });

  it('LIVE against production needs LIVE_CONFIRM=true, named at configuration time', () => {
    expect(buildConfig(LIVE_PRODUCTION).venue).toMatchObject({ kind: 'kalshi', kalshi: { environment: 'production', baseUrl: 'https://external-api.kalshi.com/trade-api/v2' } });
    expect(problemsOf({ ...LIVE_PRODUCTION, LIVE_CONFIRM: undefined })).toEqual([
      expect.objectContaining({ field: 'LIVE_CONFIRM', problem: expect.stringMatching(/must be true for a LIVE start against Kalshi's production environment/) }),
    ]);
    expect(problemsOf({ ...LIVE_PRODUCTION, LIVE_CONFIRM: 'false' }).map((p) => p.field)).toEqual(['LIVE_CONFIRM']);
  });

  it('production needs its URL named explicitly, and only a documented one', () => {
    expect(problemsOf({ ...LIVE_PRODUCTION, KALSHI_BASE_URL: undefined })).toEqual([
      expect.objectContaining({ field: 'KALSHI_BASE_URL', problem: expect.stringMatching(/is required with KALSHI_ENV=production: name the production URL explicitly \(https:\/\/external-api.kalshi.com\/trade-api\/v2 or https:\/\/api.elections.kalshi.com\/trade-api\/v2\)/) }),
    ]);
    for (const url of ['https://api.kalshi.example/trade-api/v2', 'http://127.0.0.1:9999/trade-api/v2', 'https://external-api.kalshi.com/trade-api/v3']) {
      expect(problemsOf({ ...LIVE_PRODUCTION, KALSHI_BASE_URL: url })).toEqual([expect.objectContaining({ field: 'KALSHI_BASE_URL', value: url, problem: expect.stringMatching(/is not a documented Kalshi production URL/) })]);
    }
    expect(buildConfig({ ...LIVE_PRODUCTION, KALSHI_BASE_URL: 'https://api.elections.kalshi.com/trade-api/v2/' }).venue).toMatchObject({ kalshi: { baseUrl: 'https://api.elections.kalshi.com/trade-api/v2' } });
  });

  it('demo accepts another URL (a local double) but never a production host', () => {
    expect(buildConfig({ ...LIVE_DEMO, KALSHI_BASE_URL: 'http://127.0.0.1:4567/trade-api/v2' }).venue).toMatchObject({ kalshi: { environment: 'demo', baseUrl: 'http://127.0.0.1:4567/trade-api/v2' } });
    expect(problemsOf({ ...LIVE_DEMO, KALSHI_BASE_URL: 'https://api.elections.kalshi.com/trade-api/v2' })).toEqual([
      expect.objectContaining({ field: 'KALSHI_BASE_URL', problem: expect.stringMatching(/names Kalshi's production environment while KALSHI_ENV=demo/) }),
    ]);
    expect(problemsOf({ ...LIVE_DEMO, KALSHI_ENV: 'staging' })).toEqual([expect.objectContaining({ field: 'KALSHI_ENV', value: 'staging', problem: 'must be one of demo, production' })]);
  });

  it('needs a key ID and exactly one private key, from the environment or a file, never echoing the key', () => {
    const missing = problemsOf({ VENUE: 'kalshi', TRADING_STAGE: 'LIVE' });
    expect(missing.map((p) => p.field).sort()).toEqual(['KALSHI_API_KEY_ID', 'KALSHI_PRIVATE_KEY_PEM']);
    const bad = problemsOf({ ...LIVE_DEMO, KALSHI_PRIVATE_KEY_PEM: 'not-a-key-but-secret' });
    expect(bad).toEqual([{ field: 'KALSHI_PRIVATE_KEY_PEM', value: '***', problem: expect.stringMatching(/RSA private key in PEM form/) }]);
    const dir = mkdtempSync(join(tmpdir(), 'kalshi-key-'));
    writeFileSync(join(dir, 'key.pem'), PEM);
    writeFileSync(join(dir, 'junk.pem'), 'secret junk');
    const fromFile = buildConfig({ ...LIVE_DEMO, KALSHI_PRIVATE_KEY_PEM: undefined, KALSHI_PRIVATE_KEY_PATH: join(dir, 'key.pem') });
    expect(fromFile.venue.kind === 'kalshi' && fromFile.venue.kalshi.privateKeyPem.reveal()).toBe(PEM);
    const junk = problemsOf({ ...LIVE_DEMO, KALSHI_PRIVATE_KEY_PEM: undefined, KALSHI_PRIVATE_KEY_PATH: join(dir, 'junk.pem') });
    expect(junk).toEqual([expect.objectContaining({ field: 'KALSHI_PRIVATE_KEY_PATH', problem: expect.stringMatching(/names a file that is not an RSA private key/) })]);
    expect(JSON.stringify(junk)).not.toContain('secret junk');
    expect(problemsOf({ ...LIVE_DEMO, KALSHI_PRIVATE_KEY_PATH: join(dir, 'missing.pem') })[0]).toMatchObject({ field: 'KALSHI_PRIVATE_KEY_PEM', problem: expect.stringMatching(/both set/) });
    expect(problemsOf({ ...LIVE_DEMO, KALSHI_PRIVATE_KEY_PEM: undefined, KALSHI_PRIVATE_KEY_PATH: join(dir, 'missing.pem') })[0]).toMatchObject({ field: 'KALSHI_PRIVATE_KEY_PATH', problem: 'cannot be read (ENOENT)' });
    // The key never comes from a config file.
    expect(problemsOf(LIVE_DEMO, { venue: { kalshiPrivateKey: PEM } })).toEqual([expect.objectContaining({ value: '***', problem: expect.stringMatching(/environment only: set KALSHI_PRIVATE_KEY_PEM/) })]);
  });

  it('reads the ramp steps and reports a bad list by name', () => {
    expect(buildConfig({ ...LIVE_DEMO, LIVE_RAMP_STEPS: '10, 40%, 100' }).live.rampSteps).toEqual([10, 40, 100]);
    for (const bad of ['50,25,100', '25,50', '0,100', '25,50,150', 'quarter,100']) {
      expect(problemsOf({ ...LIVE_DEMO, LIVE_RAMP_STEPS: bad })).toEqual([expect.objectContaining({ field: 'LIVE_RAMP_STEPS', value: bad, problem: expect.stringMatching(/strictly increasing, ending at 100/) })]);
    }
  });

  it('never logs a credential: the key ID and every line of the key are scrubbed, the described config shows ***', () => {
    const c = buildConfig(LIVE_DEMO);
    const lines = new CapturedLines();
    const log = createLogger({ level: 'info', destination: lines, secrets: secretsOf(c) });
    log.info({ event: 'stage', config: describeConfig(c), leaked: PEM, key: KALSHI_KEY_ID, line: PEM.split('\n')[3] }, `starting with ${KALSHI_KEY_ID}`);
    const text = lines.raw.join('\n');
    expect(text).not.toContain(KALSHI_KEY_ID);
    for (const l of PEM.split('\n').filter((x) => x.length > 20 && !x.startsWith('-----'))) expect(text).not.toContain(l);
    expect(JSON.stringify(describeConfig(c))).not.toContain(PEM.split('\n')[2]!);
    expect(describeConfig(c).venue).toMatchObject({ kind: 'kalshi', kalshi: { keyId: '***', privateKeyPem: '***', environment: 'demo' } });
  });
});
