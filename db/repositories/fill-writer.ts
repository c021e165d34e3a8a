/**
 * Group commit for fills. Callers that record fills at the same time (several order workflows'
 * poll activities in one worker) share commits: while one is in flight, newly arriving fills
 * queue, and the next records them all through `recordFills` (one statement, one round trip, for
 * the whole batch), which keeps every per-fill guarantee (idempotent by trade ID, position change
 * in the same commit).
 *
 * A failing batch is retried fill by fill, so one bad or conflicting fill fails only its own caller.
 */
import type { Executor } from '../client';
import type { Fill } from '../../domain/fill';
import { recordFills, type AccountPosition, type FillBook } from './fills';

interface Pending {
  fill: Fill;
  resolve: (r: { inserted: boolean; position: AccountPosition | null }) => void;
  reject: (e: unknown) => void;
}

export interface FillWriter {
  /** Resolves once the fill (and its position change) is committed, or was already recorded. */
  record(fill: Fill): Promise<{ inserted: boolean; position: AccountPosition | null }>;
  /** Resolves when everything queued so far is committed or failed. */
  flush(): Promise<void>;
}

/** A writer for the fills of one book (account and trading-day zone). */
export function createFillWriter(ex: Executor, options: { maxBatch?: number; book?: FillBook } = {}): FillWriter {
  const maxBatch = options.maxBatch ?? 200;
  const book = options.book ?? {};
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer (got ${maxBatch})`);
  let queue: Pending[] = [];
  let running: Promise<void> | null = null;
  let scheduled = false;

  async function commit(batch: Pending[]): Promise<void> {
    const { outcomes, positions } = await recordFills(
      ex,
      batch.map((p) => p.fill),
      book,
    );
    const byMarket = new Map(positions.map((p) => [`${p.account}\u0000${p.marketId}`, p]));
    batch.forEach((p, i) => {
      const position = byMarket.get(`${book.account ?? 'paper'}\u0000${p.fill.marketId}`) ?? null;
      p.resolve({ inserted: outcomes[i]!.inserted, position });
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        await commit(batch);
      } catch (err) {
        if (batch.length === 1) {
          batch[0]!.reject(err);
          continue;
        }
        for (const p of batch) {
          try {
            await commit([p]);
          } catch (e) {
            p.reject(e);
          }
        }
      }
    }
  }

  function start(): Promise<void> {
    running ??= drain().finally(() => {
      running = null;
      if (queue.length > 0) void start();
    });
    return running;
  }

  return {
    record(fill) {
      return new Promise((resolve, reject) => {
        queue.push({ fill, resolve, reject });
        // Start on the next microtask, so callers in the same tick share the first transaction too.
        if (!running && !scheduled) {
          scheduled = true;
          queueMicrotask(() => {
            scheduled = false;
            void start();
          });
        }
      });
    },
    async flush() {
      while (running || queue.length > 0) await (running ?? start());
    },
  };
}
