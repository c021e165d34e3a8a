import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSecret, parseCliArgs } from '../../exchange/cli';
import { ManualClock } from '../../exchange/config';
import { InvalidInput } from '../../domain/errors';
import { startPaperExchange } from '../../exchange/server';
import { call, orderOf, TEST_KEY } from './client';

const T0 = 1_767_225_600_000;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'paper-exchange-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const fast = { fillModel: { fillProbability: 1, partialFillProbability: 0.3, participationRate: 0.2, slippageStd: 2_000, feeCoefficientPpm: 70_000 } };

describe('persistence across restarts', () => {
  it('restores orders, fills, positions, balances, the fill cursor and the client-order-ID index', async () => {
    const dataDir = tempDir();
    const clock = new ManualClock(T0);
    const ex1 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir, engine: fast });
    const filled = orderOf(await call(ex1, 'POST', '/v1/orders', { clientOrderId: 'p-1', marketId: 'PX-POL-1', side: 'BUY', quantity: 40, limitPrice: '0.99' }));
    const resting = orderOf(await call(ex1, 'POST', '/v1/orders', { clientOrderId: 'p-2', marketId: 'PX-POL-1', side: 'BUY', quantity: 3, limitPrice: '0.01' }));
    await call(ex1, 'POST', '/v1/orders', { clientOrderId: 'p-3', marketId: 'PX-ECO-2', side: 'BUY', quantity: 3, limitPrice: '0.01' });
    await call(ex1, 'DELETE', '/v1/orders/by-client-id/p-3');
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      ex1.admin.advance();
    }
    const fills1 = await call(ex1, 'GET', '/v1/fills?limit=2');
    const all1 = await call(ex1, 'GET', '/v1/fills');
    const view = async (ex: typeof ex1) => ({
      balance: (await call(ex, 'GET', '/v1/balance')).body,
      positions: (await call(ex, 'GET', '/v1/positions')).body,
      open: (await call(ex, 'GET', '/v1/orders?status=open')).body,
      fills: (await call(ex, 'GET', '/v1/fills')).body,
      p1: (await call(ex, 'GET', `/v1/orders/${filled.venueOrderId}`)).body,
      p3: (await call(ex, 'GET', '/v1/orders/by-client-id/p-3')).body,
      snapshot: (await call(ex, 'GET', '/v1/markets/PX-POL-1/snapshot')).body,
    });
    const before = await view(ex1);
    expect((all1.body.fills as unknown[]).length).toBeGreaterThan(2);
    await ex1.close();
    expect(existsSync(join(dataDir, 'state.json'))).toBe(true);
    expect(existsSync(join(dataDir, 'state.json.tmp'))).toBe(false);
    expect(() => JSON.parse(readFileSync(join(dataDir, 'state.json'), 'utf8')) as unknown).not.toThrow();

    const ex2 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir, engine: fast });
    try {
      expect(await view(ex2)).toEqual(before);
      // The cursor from before the restart still pages on from the same place.
      const rest = await call(ex2, 'GET', `/v1/fills?cursor=${fills1.body.cursor as string}`);
      expect(rest.body.fills).toEqual((all1.body.fills as unknown[]).slice(2));
      // The client-order-ID index survived: same ID returns the same order.
      const again = await call(ex2, 'POST', '/v1/orders', { clientOrderId: 'p-2', marketId: 'PX-POL-1', side: 'BUY', quantity: 3, limitPrice: '0.01' });
      expect(again.status).toBe(200);
      expect(orderOf(again).venueOrderId).toBe(resting.venueOrderId);
      // New IDs continue after the old ones.
      const next = orderOf(await call(ex2, 'POST', '/v1/orders', { clientOrderId: 'p-4', marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: '0.01' }));
      expect(next.venueOrderId > resting.venueOrderId).toBe(true);
    } finally {
      await ex2.close();
    }
  });

  it('a restarted exchange continues exactly as one that never stopped', async () => {
    const script = async (restartAt: number | null) => {
      const dataDir = tempDir();
      const clock = new ManualClock(T0);
      let ex = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir, engine: fast });
      await call(ex, 'POST', '/v1/orders', { clientOrderId: 'd-1', marketId: 'PX-POL-1', side: 'BUY', quantity: 500, limitPrice: '0.99' });
      await call(ex, 'POST', '/v1/orders', { clientOrderId: 'd-2', marketId: 'PX-SPO-3', side: 'SELL', quantity: 50, limitPrice: '0.01' });
      for (let i = 1; i <= 30; i++) {
        clock.advance(1_000);
        ex.admin.advance();
        if (i === restartAt) {
          await ex.close();
          ex = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir, engine: fast });
        }
      }
      const state = ex.engine.toState();
      await ex.close();
      return state;
    };
    expect(await script(12)).toEqual(await script(null));
  });

  it('answers a mutation only after it is on disk', async () => {
    const dataDir = tempDir();
    const ex = await startPaperExchange({ keys: [TEST_KEY], clock: new ManualClock(T0).now, dataDir });
    try {
      const o = orderOf(await call(ex, 'POST', '/v1/orders', { clientOrderId: 'w-1', marketId: 'PX-POL-1', side: 'BUY', quantity: 1, limitPrice: '0.01' }));
      const saved = readFileSync(join(dataDir, 'state.json'), 'utf8');
      expect(saved).toContain(o.venueOrderId);
    } finally {
      await ex.close();
    }
  });
});

describe('CLI arguments and secrets', () => {
  it('parses the documented flags', () => {
    expect(parseCliArgs(['--port', '8787', '--seed', '5', '--data-dir', 'x', '--faults', '{"errorRate":0.1}'])).toMatchObject({
      port: 8787,
      seed: 5,
      dataDir: 'x',
      host: '127.0.0.1',
      faults: { errorRate: 0.1 },
    });
  });

  it('reports every bad argument at once', () => {
    try {
      parseCliArgs(['--port', 'abc', '--seed', '1.5', '--what', '--faults', '{"hangProbability":3}', '--data-dir']);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual(['--port', '--seed', '--what', '--faults.hangProbability', '--data-dir']);
    }
  });

  it('generates a secret once into a 0600 file and reuses it; the environment wins', () => {
    const dir = tempDir();
    const a = loadOrCreateSecret(undefined, dir, 'dev-key.secret');
    expect(statSync(join(dir, 'dev-key.secret')).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(undefined, dir, 'dev-key.secret').secret).toBe(a.secret);
    expect(loadOrCreateSecret('from-the-environment-123', dir, 'dev-key.secret')).toEqual({ secret: 'from-the-environment-123', source: 'environment' });
    expect(a.source).not.toContain(a.secret);
  });
});
