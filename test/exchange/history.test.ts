import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, defaultEngineConfig, defaultMarkets, type EngineConfig, ManualClock, validateEngineConfig } from '../../exchange/config';
import { PaperEngine } from '../../exchange/engine';
import { startPaperExchange } from '../../exchange/server';
import { HISTORY_FILE, STATE_FILE } from '../../exchange/store';
import { InvalidInput } from '../../domain/errors';
import { call, TEST_KEY } from './client';

const T0 = 1_767_225_600_000;
const HOUR = 3_600_000;
const FIVE_MIN = 300_000;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function engine(seed: number, startAt: number, over: Partial<EngineConfig> = {}): PaperEngine {
  return new PaperEngine({ ...defaultEngineConfig(seed, startAt), ...over }, startAt);
}

/** A market's history with timestamps made relative to the start, to compare runs started at different times. */
const relative = (e: PaperEngine, marketId: string, startAt: number) => e.history(marketId, 0).map((p) => ({ ...p, ts: p.ts - startAt }));

describe('pre-rolled history', () => {
  it('a new exchange opens with 96 h of five-minute points ending at the opening quote', () => {
    const e = engine(1, T0);
    for (const m of defaultMarkets(1, T0)) {
      const h = e.history(m.marketId, 0);
      expect(h).toHaveLength(96 * 12);
      expect(h[0]!.ts).toBe(T0 - 96 * HOUR + FIVE_MIN);
      expect(h.at(-1)!.ts).toBe(T0);
      const s = e.snapshot(m.marketId, 1);
      expect({ bid: h.at(-1)!.bid, ask: h.at(-1)!.ask, last: h.at(-1)!.last }).toEqual({ bid: s.bid, ask: s.ask, last: s.last });
      expect(h.every((p) => p.bid !== null && p.ask !== null && p.ask > p.bid && Number.isInteger(p.volume))).toBe(true);
    }
  });

  it('is the same for the same seed whenever the exchange starts, and differs for another seed', () => {
    const a = relative(engine(5, T0), 'PX-POL-1', T0);
    const b = relative(engine(5, T0 + 12_345_678), 'PX-POL-1', T0 + 12_345_678);
    expect(b).toEqual(a);
    expect(relative(engine(6, T0), 'PX-POL-1', T0)).not.toEqual(a);
  });

  it('moves: the mid is not flat over four days, and volume flows every interval', () => {
    const h = engine(1, T0).history('PX-ECO-2', 0);
    const mids = new Set(h.map((p) => (p.bid! + p.ask!) / 2));
    expect(mids.size).toBeGreaterThan(20);
    // About ADV / 288 contracts per five minutes (1 000 000 a day).
    const mean = h.reduce((n, p) => n + p.volume, 0) / h.length;
    expect(mean).toBeGreaterThan(2_000);
    expect(mean).toBeLessThan(5_000);
  });

  it('preRollMs 0 opens with no history; the first point comes one interval after the opening', () => {
    const clock = new ManualClock(T0);
    const e = engine(1, T0, { preRollMs: 0 });
    expect(e.history('PX-POL-1', 0)).toEqual([]);
    for (let i = 1; i <= 600; i++) e.advanceTo(clock.advance(1_000));
    expect(e.history('PX-POL-1', 0).map((p) => p.ts)).toEqual([T0 + FIVE_MIN, T0 + 2 * FIVE_MIN]);
  });
});

describe('live history', () => {
  it('takes a point every interval, counts the volume traded since the last one, fills included', () => {
    const clock = new ManualClock(T0);
    const e = engine(2, T0, { preRollMs: 0 });
    e.ensureAccount('k');
    e.placeOrder('k', { clientOrderId: 'x-1', marketId: 'PX-POL-1', side: 'BUY', quantity: 40, limitPrice: 990_000 });
    let traded = 0;
    for (let i = 1; i <= 300; i++) {
      e.advanceTo(clock.advance(1_000));
      traded += e.snapshot('PX-POL-1', 1).intervalVolume;
    }
    const filled = e.fillsAfter('k', 0, 1_000).fills.reduce((n, f) => n + f.quantity, 0);
    expect(filled).toBeGreaterThan(0);
    const [point] = e.history('PX-POL-1', 0);
    expect(point!.ts).toBe(T0 + FIVE_MIN);
    // The fill at placement (if any) happened at T0 and belongs to this first interval too.
    expect(point!.volume).toBe(traded + filled);
  });

  it('keeps only the window', () => {
    const clock = new ManualClock(T0);
    const e = engine(3, T0, { stepMs: 60_000, historyWindowMs: 6 * HOUR, preRollMs: 6 * HOUR });
    expect(e.history('PX-POL-1', 0)).toHaveLength(72);
    for (let i = 0; i < 10 * 60; i++) e.advanceTo(clock.advance(60_000));
    const h = e.history('PX-POL-1', 0);
    expect(h).toHaveLength(72);
    expect(h[0]!.ts).toBe(clock.now() - 6 * HOUR + FIVE_MIN);
    expect(h.at(-1)!.ts).toBe(clock.now());
  });

  it('an offline gap stays a gap: one point after it, none invented inside it', () => {
    const clock = new ManualClock(T0);
    const e = engine(4, T0, { maxCatchUpSteps: 100, markets: defaultMarkets(4, T0).map((m) => ({ ...m, resolvesAt: null })) });
    e.advanceTo(clock.advance(2 * DAY_MS));
    const after = e.history('PX-POL-1', T0);
    // The gap is crossed in one jump, then the last 100 whole steps run: the point is the jump's end.
    expect(after.map((p) => p.ts)).toEqual([T0 + 2 * DAY_MS - 100 * 1_000]);
    // The window still bounds what is kept.
    expect(e.history('PX-POL-1', 0)[0]!.ts).toBeGreaterThan(after[0]!.ts - 96 * HOUR);
  });

  it('a resolved market keeps its history but adds no points', () => {
    const clock = new ManualClock(T0);
    const e = engine(1, T0);
    e.resolveMarket('PX-POL-1', 'YES');
    const before = e.history('PX-POL-1', 0);
    for (let i = 0; i < 700; i++) e.advanceTo(clock.advance(1_000));
    expect(e.history('PX-POL-1', 0)).toEqual(before);
    expect(e.history('PX-ECO-2', T0)).toHaveLength(2);
  });
});

describe('history configuration', () => {
  it('reports every bad history field at once', () => {
    const bad = { ...defaultEngineConfig(1, T0), historyIntervalMs: 10, historyWindowMs: -1, preRollMs: 7 };
    try {
      validateEngineConfig(bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field).sort()).toEqual(['historyIntervalMs', 'historyWindowMs', 'preRollMs']);
    }
    expect(() => validateEngineConfig({ ...defaultEngineConfig(1, T0), preRollMs: 97 * HOUR })).toThrow(/preRollMs/);
    expect(() => validateEngineConfig({ ...defaultEngineConfig(1, T0), historyWindowMs: 10_001 * FIVE_MIN })).toThrow(/historyWindowMs/);
  });
});

describe('history across restarts', () => {
  it('is kept in its own file, restored on restart, and continues', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paper-history-'));
    dirs.push(dataDir);
    const clock = new ManualClock(T0);
    const ex1 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir });
    for (let i = 0; i < 300; i++) {
      clock.advance(1_000);
      ex1.admin.advance();
    }
    const before = (await call(ex1, 'GET', '/v1/markets/PX-SPO-3/history')).body.history as { ts: number }[];
    expect(before.at(-1)!.ts).toBe(T0 + FIVE_MIN);
    await ex1.close();
    const state = readFileSync(join(dataDir, STATE_FILE), 'utf8');
    expect(state).not.toContain('"points"');
    expect(JSON.parse(readFileSync(join(dataDir, HISTORY_FILE), 'utf8'))).toMatchObject({ version: 1 });

    const ex2 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir });
    try {
      expect((await call(ex2, 'GET', '/v1/markets/PX-SPO-3/history')).body.history).toEqual(before);
      for (let i = 0; i < 300; i++) {
        clock.advance(1_000);
        ex2.admin.advance();
      }
      const after = (await call(ex2, 'GET', `/v1/markets/PX-SPO-3/history?since=${T0 + FIVE_MIN}`)).body.history as { ts: number }[];
      expect(after.map((p) => p.ts)).toEqual([T0 + 2 * FIVE_MIN]);
    } finally {
      await ex2.close();
    }
  });

  it('a data dir saved before history was kept restarts without one and starts sampling', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'paper-history-'));
    dirs.push(dataDir);
    const clock = new ManualClock(T0);
    const ex1 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir });
    await ex1.close();
    rmSync(join(dataDir, HISTORY_FILE));
    const ex2 = await startPaperExchange({ keys: [TEST_KEY], clock: clock.now, dataDir });
    try {
      expect((await call(ex2, 'GET', '/v1/markets/PX-POL-1/history')).body.history).toEqual([]);
      clock.advance(1_000);
      ex2.admin.advance();
      expect(((await call(ex2, 'GET', '/v1/markets/PX-POL-1/history')).body.history as unknown[]).length).toBe(1);
    } finally {
      await ex2.close();
    }
  });
});
