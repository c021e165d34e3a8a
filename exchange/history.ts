/**
 * A market's quote history as the venue keeps it: one point every `intervalMs` (the quote of the
 * first engine step at least that long after the previous point), retained for `windowMs`. A
 * point carries the contracts traded since the point before it, so a client can read it as a
 * snapshot whose `intervalVolume` means what it means live. Time comes in as arguments; nothing
 * here does I/O. When the exchange was offline the history has a gap, as a real venue's would.
 */

export interface QuotePoint {
  ts: number;
  bid: number | null;
  ask: number | null;
  last: number | null;
  /** Contracts traded since the previous point (synthetic flow and fills). */
  volume: number;
}

export interface HistorySettings {
  intervalMs: number;
  windowMs: number;
}

/** What the store keeps of one market's history between restarts. */
export interface MarketHistoryState {
  marketId: string;
  /** Time of the newest point, or of the opening when none has been taken yet; null before either. */
  lastSampleAt: number | null;
  /** Contracts traded since the newest point. */
  pendingVolume: number;
  points: QuotePoint[];
}

export interface HistoryState {
  version: 1;
  markets: MarketHistoryState[];
}

export class QuoteHistory {
  private lastSampleAt: number | null;
  private pendingVolume: number;
  private readonly points: QuotePoint[];

  constructor(
    readonly marketId: string,
    readonly settings: HistorySettings,
    saved?: MarketHistoryState,
  ) {
    this.lastSampleAt = saved?.lastSampleAt ?? null;
    this.pendingVolume = saved?.pendingVolume ?? 0;
    this.points = saved ? [...saved.points] : [];
  }

  /** Starts the sampling clock without taking a point (an exchange opening without pre-roll). */
  startAt(at: number): void {
    if (this.lastSampleAt === null) this.lastSampleAt = at;
  }

  addVolume(quantity: number): void {
    this.pendingVolume += quantity;
  }

  /** Takes `quote` as a point when an interval has passed since the previous one; true when it did. */
  offer(at: number, quote: { bid: number | null; ask: number | null; last: number | null }): boolean {
    if (this.lastSampleAt !== null && at - this.lastSampleAt < this.settings.intervalMs) return false;
    this.points.push({ ts: at, bid: quote.bid, ask: quote.ask, last: quote.last, volume: this.pendingVolume });
    this.pendingVolume = 0;
    this.lastSampleAt = at;
    const horizon = at - this.settings.windowMs;
    let drop = 0;
    while (drop < this.points.length && this.points[drop]!.ts <= horizon) drop++;
    if (drop > 0) this.points.splice(0, drop);
    return true;
  }

  /** Points strictly after `sinceMs`, oldest first. */
  since(sinceMs: number): QuotePoint[] {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]!.ts <= sinceMs) lo = mid + 1;
      else hi = mid;
    }
    return this.points.slice(lo);
  }

  get size(): number {
    return this.points.length;
  }

  toState(): MarketHistoryState {
    return { marketId: this.marketId, lastSampleAt: this.lastSampleAt, pendingVolume: this.pendingVolume, points: [...this.points] };
  }
}
