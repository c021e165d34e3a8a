/**
 * Issue 14, "Execution quality per the chapter": the chapter's mean slippage in bps is the plain
 * mean over executions (`statistics.mean(slippages_bps)`, one ExecutionRecord per filled order),
 * offered beside the quantity-weighted mean, each labelled; its 95th percentile of latency is
 * `sorted(latencies)[int(0.95 * len(latencies))]` (the first value when there is one).
 */
import { describe, expect, it } from 'vitest';
import { summarise, summariseDistribution, type ExecutionFill, type ExecutionRecord } from '../../domain/execution-quality';
import type { Money, Price, Quantity } from '../../domain/money';

const fill = (quantity: number, price: number, ts: number): ExecutionFill => ({ quantity: quantity as Quantity, price: price as Price, fee: 0 as Money, ts });

function filled(id: string, quantity: number, intended: number, price: number, latencyMs: number): ExecutionRecord {
  return {
    clientOrderId: id,
    marketId: 'M1',
    side: 'BUY',
    intendedPrice: intended as Price,
    orderQuantity: quantity as Quantity,
    fills: [fill(quantity, price, latencyMs)],
    signalAt: 0,
    submittedAt: 0,
    firstFillAt: latencyMs,
    completedAt: latencyMs,
    finalState: 'FILLED',
  };
}

describe('mean slippage in bps, both ways', () => {
  // 90 contracts 1 cent worse at 0.50 (200 bps); 10 contracts 1 cent better at 0.50 (−200 bps).
  const s = summarise([filled('A', 90, 500_000, 510_000, 100), filled('B', 10, 500_000, 490_000, 100)]);

  it('plain mean over executions, as the chapter averages: (200 − 200) / 2 = 0', () => {
    expect(s.slippage.meanBpsPerExecution).toBeCloseTo(0, 9);
  });

  it('quantity-weighted mean: (90 × 200 − 10 × 200) / 100 = 160', () => {
    expect(s.slippage.meanBps).toBeCloseTo(160, 9);
  });
});

describe("the 95th percentile with the chapter's rank rule", () => {
  it('is sorted[floor(0.95 n)]: of 1..20 ms it is 20, where nearest rank would give 19', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(summariseDistribution(values)?.p95).toBe(20);
    expect(summariseDistribution(Array.from({ length: 40 }, (_, i) => i + 1))?.p95).toBe(39);
    expect(summariseDistribution([7])?.p95).toBe(7);
  });

  it('is what the latency summary reports', () => {
    const book = Array.from({ length: 20 }, (_, i) => filled(`O${i}`, 1, 500_000, 500_000, (i + 1) * 10));
    expect(summarise(book).latencyMs.signalToFirstFill?.p95).toBe(200);
  });
});
