/**
 * Kelly sizing live: the production market watch (`watchForSignal`) with MODEL_PROBABILITIES
 * pointing at a file, on the paper exchange in-process. A model-edge signal is sized by half Kelly
 * on the account's equity, exactly as the backtest sizes the same signal (sizing.ts); a source
 * that cannot be used stops new entries for the watch, with one alert naming the problem.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { WatchInput } from '../../contracts/activities';
import { listAlerts } from '../../db';
import { MICROS, type Money } from '../../domain/money';
import { HALF_KELLY, kellyContracts, sizeByConfidence, sizeSignal } from '../../domain/sizing';
import { TEST_LIMITS, inActivity, makeDeps, startTestExchange, type TestExchange } from '../../testkit/activities-harness';
import { forEachBackend } from '../db/harness';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-probabilities-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LIMITS = { ...TEST_LIMITS, maxOrderSize: 100_000, maxPositionSize: 100_000 };

forEachBackend('Kelly sizing in the market watch', (backend) => {
  let exchange: TestExchange | null = null;
  afterEach(async () => {
    await exchange?.close();
    exchange = null;
  });

  async function world(file: string, content: string | null) {
    exchange = await startTestExchange();
    const path = join(dir, file);
    if (content !== null) await writeFile(path, content);
    const deps = makeDeps({ db: backend.db, venue: exchange.venue, config: { limits: LIMITS, modelProbabilities: { source: { kind: 'file', path } } } });
    const acts = createActivities(deps);
    const input = (): WatchInput => ({
      strategy: 'edge',
      strategyName: 'model-edge',
      strategyParams: {},
      strategyState: {},
      marketIds: [exchange!.market.marketId],
      untilMs: Date.now() + 600,
      pollIntervalMs: 50,
    });
    return { exchange, acts, path, watch: () => inActivity(() => acts.watchForSignal(input())) };
  }

  it('a model-edge entry is sized by half Kelly on equity: the backtest\'s size for the same signal and bankroll', async () => {
    const probe = await startTestExchange();
    const quote = await probe.venue.getMarketSnapshot(probe.market.marketId);
    await probe.close();
    const q = Math.min(0.95, Math.round(((quote.bid ?? 300_000) / MICROS + 0.2) * 100) / 100);
    const w = await world('good.json', '');
    await writeFile(w.path, JSON.stringify({ asOf: Date.now(), probabilities: { [w.exchange.market.marketId]: q } }));
    const result = await w.watch();
    expect(result.signal).not.toBeNull();
    const signal = result.signal!;
    expect(signal.intent).toBe('ENTER');
    expect(signal.metadata.modelProbability).toBe(q);
    const { cash } = await w.exchange.venue.getBalance();
    const bankroll = cash as Money;
    // The backtest's sizing (cli/backtest-cli.ts edge: kelly, half Kelly) for the same signal and bankroll.
    const backtestSize = sizeSignal(signal, 0, { kind: 'kelly', maxOrderSize: LIMITS.maxOrderSize, kellyMultiplier: HALF_KELLY, bankroll });
    expect(signal.quantity).toBe(backtestSize);
    expect(signal.quantity).toBe(kellyContracts({ side: signal.side, price: signal.price, probability: q, bankroll, kellyMultiplier: 0.5, maxOrderSize: LIMITS.maxOrderSize }));
    expect(signal.quantity).toBeGreaterThan(0);
    expect(signal.quantity).not.toBe(sizeByConfidence(signal.confidence, LIMITS.maxOrderSize));
    expect(await listAlerts(backend.db, { type: 'MODEL_PROBABILITIES_UNAVAILABLE' })).toHaveLength(0);
  });

  it('an invalid document: no entry this watch, one HIGH alert naming the field and value, the watch ends normally', async () => {
    const w = await world('bad.json', '');
    await writeFile(w.path, JSON.stringify({ asOf: Date.now(), probabilities: { [w.exchange.market.marketId]: 1.5 } }));
    const result = await w.watch();
    expect(result.signal).toBeNull();
    const alerts = await listAlerts(backend.db, { type: 'MODEL_PROBABILITIES_UNAVAILABLE' });
    expect(alerts.map((a) => a.level)).toEqual(['HIGH']);
    expect(alerts[0]!.body).toContain(`probabilities.${w.exchange.market.marketId}`);
    expect(alerts[0]!.body).toContain('1.5');
  });

  it('a missing file: no entry, the alert names the file; nothing crashes', async () => {
    const w = await world('missing.json', null);
    const result = await w.watch();
    expect(result.signal).toBeNull();
    const alerts = await listAlerts(backend.db, { type: 'MODEL_PROBABILITIES_UNAVAILABLE' });
    expect(alerts.some((a) => a.body.includes(w.path))).toBe(true);
  });
});
