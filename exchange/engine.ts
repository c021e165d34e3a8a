/**
 * The in-process matching engine of the paper exchange: accounts (one per API key), orders
 * with a per-account client-order-ID index, fills with monotone trade IDs, positions, cash
 * reservations, synthetic markets and their resolution. Working orders fill against the
 * synthetic quote through the shared fill model (domain/fill-model.ts), from the moment the
 * model's simulated latency has carried them to the book; nothing
 * here does I/O, and time comes in as arguments.
 */
import { orderLatencyMs, predictionMarketFee, simulateFill } from '../domain/fill-model';
import type { Outcome, Side } from '../domain/market';
import { MICROS, averagePrice, mulDiv, type Money, type Price, type Quantity } from '../domain/money';
import { type EngineConfig, type MarketSpec, validateEngineConfig } from './config';
import { ExchangeError, notFound } from './errors';
import { type HistoryState, type QuotePoint, QuoteHistory } from './history';
import { CountingRandom, hash32, PriceProcess, type ProcessState } from './prices';

export type OrderStatus = 'OPEN' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED';
export type RejectReason = 'INSUFFICIENT_BALANCE' | 'MARKET_CLOSED';

export interface ExchangeOrder {
  venueOrderId: string;
  clientOrderId: string;
  keyId: string;
  marketId: string;
  side: Side;
  quantity: number;
  /** Micros; null for a market order. */
  limitPrice: number | null;
  filledQuantity: number;
  /** Sum of quantity × price over fills, micros. */
  filledNotional: number;
  status: OrderStatus;
  rejectReason: RejectReason | null;
  createdAt: number;
  updatedAt: number;
  /**
   * When the order reaches the book: placement plus the fill model's simulated latency. Absent
   * (state saved before latency existed) means at placement.
   */
  activeAt?: number;
  /** Cash reserved when placed, and what is still reserved for the unfilled rest. */
  reserveInitial: number;
  reserved: number;
}

export interface ExchangeFill {
  seq: number;
  tradeId: string;
  venueOrderId: string;
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: number;
  price: number;
  fee: number;
  ts: number;
}

export interface Settlement {
  seq: number;
  marketId: string;
  outcome: Outcome;
  quantity: number;
  payout: number;
  ts: number;
}

export interface PlaceOrder {
  clientOrderId: string;
  marketId: string;
  side: Side;
  quantity: number;
  limitPrice: number | null;
}

interface Account {
  keyId: string;
  cash: number;
  reservedOrders: number;
  positions: Map<string, number>;
  byClientId: Map<string, ExchangeOrder>;
  open: Map<string, ExchangeOrder>;
  fills: ExchangeFill[];
  settlements: Settlement[];
}

interface MarketRuntime {
  spec: MarketSpec;
  process: PriceProcess;
  outcome: Outcome | null;
  resolvedAt: number | null;
  open: Set<ExchangeOrder>;
  history: QuoteHistory;
}

export interface MarketView {
  marketId: string;
  title: string;
  category: string;
  tickSize: number;
  resolvesAt: number | null;
  outcome: Outcome | null;
  status: 'OPEN' | 'RESOLVED';
}

export interface SnapshotView {
  marketId: string;
  ts: number;
  bid: number | null;
  ask: number | null;
  last: number | null;
  bids: { price: number; quantity: number }[];
  asks: { price: number; quantity: number }[];
  volume24h: number;
  averageDailyVolume: number;
  intervalVolume: number;
  status: 'OPEN' | 'RESOLVED';
}

export interface BalanceView {
  cash: number;
  reserved: number;
  available: number;
}

/** Everything the engine needs to resume: written by the store, read back on restart. */
export interface EngineState {
  version: 1;
  seed: number;
  lastStepAt: number;
  orderSeq: number;
  tradeSeq: number;
  settlementSeq: number;
  fillRngDraws: number;
  markets: { spec: MarketSpec; process: ProcessState; outcome: Outcome | null; resolvedAt: number | null }[];
  accounts: {
    keyId: string;
    cash: number;
    positions: [string, number][];
    orders: ExchangeOrder[];
    fills: ExchangeFill[];
    settlements: Settlement[];
  }[];
}

const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set(['OPEN', 'PARTIALLY_FILLED']);
export const isOpen = (o: ExchangeOrder): boolean => OPEN_STATUSES.has(o.status);

const pad = (n: number): string => String(n).padStart(12, '0');
/** Largest fee per contract for a coefficient: p × (1 − p) peaks at p = 0.5. */
const FEE_WORST_PRICE = MICROS / 2;

export class PaperEngine {
  private readonly markets = new Map<string, MarketRuntime>();
  private readonly accounts = new Map<string, Account>();
  private readonly byVenueId = new Map<string, ExchangeOrder>();
  private readonly fillRng: CountingRandom;
  private lastStepAt: number;
  private orderSeq = 0;
  private tradeSeq = 0;
  private settlementSeq = 0;
  /** Grows by one whenever a history point is taken (the store rewrites the history file then). */
  historyRevision = 0;
  /** Called after every state change (the store batches these into snapshots). */
  onChange: () => void = () => {};

  /**
   * A saved `state` resumes the exchange (with `history` when one was saved beside it); without
   * one the exchange is new and pre-rolls its price history before opening at `startAt`.
   */
  constructor(
    readonly config: EngineConfig,
    startAt: number,
    state?: EngineState,
    history?: HistoryState,
  ) {
    validateEngineConfig(config);
    this.lastStepAt = startAt;
    this.fillRng = new CountingRandom(hash32(config.seed, 0xf111), state?.fillRngDraws ?? 0);
    if (state) {
      this.restore(state, history);
    } else {
      config.markets.forEach((spec, i) => this.addMarket(spec, PriceProcess.create(spec, hash32(config.seed, i + 1))));
      this.preRoll(startAt);
    }
  }

  private addMarket(spec: MarketSpec, process: PriceProcess, outcome: Outcome | null = null, resolvedAt: number | null = null, history?: HistoryState): void {
    const settings = { intervalMs: this.config.historyIntervalMs, windowMs: this.config.historyWindowMs };
    const saved = history?.markets.find((h) => h.marketId === spec.marketId);
    this.markets.set(spec.marketId, { spec, process, outcome, resolvedAt, open: new Set(), history: new QuoteHistory(spec.marketId, settings, saved) });
  }

  /**
   * A new exchange opens with `preRollMs` of history behind it, as a listed market has: each
   * price process runs from startAt − preRollMs to startAt in steps of one history interval
   * (the OU transition is exact at any step length; no orders exist yet), drawing from its own
   * seeded source, so the same seed and markets give the same history whenever it starts.
   * `initialPrice` is therefore the mid at the start of the history, not at the opening.
   */
  private preRoll(startAt: number): void {
    const dt = this.config.historyIntervalMs;
    for (const m of this.markets.values()) {
      for (let at = startAt - this.config.preRollMs + dt; at <= startAt; at += dt) {
        if (m.spec.resolvesAt !== null && at >= m.spec.resolvesAt) break;
        m.history.addVolume(m.process.step(dt, at));
        this.sample(m, at);
      }
      m.history.startAt(startAt);
    }
  }

  private sample(m: MarketRuntime, at: number): void {
    if (m.history.offer(at, { ...m.process.quote(), last: m.process.state.last })) this.historyRevision++;
  }

  // ---- accounts -------------------------------------------------------------------------

  ensureAccount(keyId: string, cash = this.config.startingCash): void {
    if (this.accounts.has(keyId)) return;
    this.accounts.set(keyId, {
      keyId,
      cash,
      reservedOrders: 0,
      positions: new Map(),
      byClientId: new Map(),
      open: new Map(),
      fills: [],
      settlements: [],
    });
    this.onChange();
  }

  private account(keyId: string): Account {
    const a = this.accounts.get(keyId);
    if (!a) throw new ExchangeError(401, 'AUTH_UNKNOWN_KEY', 'unknown API key');
    return a;
  }

  hasAccount(keyId: string): boolean {
    return this.accounts.has(keyId);
  }

  private shortLock(a: Account): number {
    let lock = 0;
    for (const q of a.positions.values()) if (q < 0) lock += -q * MICROS;
    return lock;
  }

  balance(keyId: string): BalanceView {
    const a = this.account(keyId);
    const reserved = a.reservedOrders + this.shortLock(a);
    return { cash: a.cash, reserved, available: a.cash - reserved };
  }

  positions(keyId: string): { marketId: string; quantity: number }[] {
    const a = this.account(keyId);
    return [...a.positions.entries()]
      .filter(([, q]) => q !== 0)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([marketId, quantity]) => ({ marketId, quantity }));
  }

  // ---- markets --------------------------------------------------------------------------

  hasMarket(marketId: string): boolean {
    return this.markets.has(marketId);
  }

  tickSize(marketId: string): number | null {
    return this.markets.get(marketId)?.spec.tickSize ?? null;
  }

  private market(marketId: string): MarketRuntime {
    const m = this.markets.get(marketId);
    if (!m) throw notFound('MARKET_NOT_FOUND', 'market', marketId);
    return m;
  }

  listMarkets(): MarketView[] {
    return [...this.markets.values()].map((m) => ({
      marketId: m.spec.marketId,
      title: m.spec.title,
      category: m.spec.category,
      tickSize: m.spec.tickSize,
      resolvesAt: m.spec.resolvesAt,
      outcome: m.outcome,
      status: m.outcome === null ? 'OPEN' : 'RESOLVED',
    }));
  }

  snapshot(marketId: string, depth: number): SnapshotView {
    const m = this.market(marketId);
    const p = m.process;
    const resolved = m.outcome !== null;
    const q = resolved ? { bid: null, ask: null } : p.quote();
    const book = resolved ? { bids: [], asks: [] } : p.depth(depth);
    return {
      marketId,
      ts: m.resolvedAt ?? this.lastStepAt,
      bid: q.bid,
      ask: q.ask,
      last: p.state.last,
      bids: book.bids,
      asks: book.asks,
      volume24h: p.volume24h(this.lastStepAt),
      averageDailyVolume: m.spec.averageDailyVolume,
      intervalVolume: p.state.intervalVolume,
      status: resolved ? 'RESOLVED' : 'OPEN',
    };
  }

  averageDailyVolume(marketId: string): number {
    return this.market(marketId).spec.averageDailyVolume;
  }

  /** Recorded quotes of a market after `sinceMs`, oldest first (resolved markets keep theirs). */
  history(marketId: string, sinceMs: number): QuotePoint[] {
    return this.market(marketId).history.since(sinceMs);
  }

  /** The market clock: the time of the latest engine step. */
  get now(): number {
    return this.lastStepAt;
  }

  // ---- time -----------------------------------------------------------------------------

  /** Runs every whole step between the last one and `now`: prices move, orders match, markets resolve. */
  advanceTo(now: number): void {
    const stepMs = this.config.stepMs;
    let n = Math.floor((now - this.lastStepAt) / stepMs);
    if (n <= 0) return;
    if (n > this.config.maxCatchUpSteps) {
      const gap = (n - this.config.maxCatchUpSteps) * stepMs;
      this.stepAll(this.lastStepAt + gap, gap);
      n = this.config.maxCatchUpSteps;
    }
    for (let i = 0; i < n; i++) this.stepAll(this.lastStepAt + stepMs, stepMs);
    this.onChange();
  }

  private stepAll(at: number, dtMs: number): void {
    for (const m of this.markets.values()) {
      if (m.outcome !== null) continue;
      if (m.spec.resolvesAt !== null && at >= m.spec.resolvesAt) {
        const outcome: Outcome = m.process.rng.next() < m.process.fairProbability() ? 'YES' : 'NO';
        m.process.state.rngDraws = m.process.rng.draws;
        this.settle(m, outcome, m.spec.resolvesAt);
        continue;
      }
      m.history.addVolume(m.process.step(dtMs, at));
      for (const order of [...m.open]) {
        if (order.limitPrice === null && at - order.createdAt >= this.config.marketOrderTtlMs) {
          this.close(order, 'EXPIRED', at);
          continue;
        }
        if (at >= (order.activeAt ?? order.createdAt)) this.match(m, order, at);
      }
      this.sample(m, at);
    }
    this.lastStepAt = at;
  }

  private match(m: MarketRuntime, order: ExchangeOrder, at: number): void {
    const q = m.process.quote();
    const sim = simulateFill(
      { side: order.side, limitPrice: order.limitPrice as Price | null, remaining: (order.quantity - order.filledQuantity) as Quantity },
      { bid: q.bid, ask: q.ask, intervalVolume: m.process.state.intervalVolume as Quantity },
      this.config.fillModel,
      m.spec.tickSize,
      this.fillRng,
    );
    if (sim) this.applyFill(m, order, sim.quantity, sim.price, sim.fee, at);
  }

  private applyFill(m: MarketRuntime, order: ExchangeOrder, qty: number, price: number, fee: number, at: number): void {
    const a = this.account(order.keyId);
    this.tradeSeq++;
    const fill: ExchangeFill = {
      seq: this.tradeSeq,
      tradeId: `trd-${pad(this.tradeSeq)}`,
      venueOrderId: order.venueOrderId,
      clientOrderId: order.clientOrderId,
      marketId: order.marketId,
      side: order.side,
      quantity: qty,
      price,
      fee,
      ts: at,
    };
    a.fills.push(fill);
    const notional = qty * price;
    a.cash += order.side === 'BUY' ? -notional - fee : notional - fee;
    a.positions.set(order.marketId, (a.positions.get(order.marketId) ?? 0) + (order.side === 'BUY' ? qty : -qty));
    order.filledQuantity += qty;
    order.filledNotional += notional;
    order.updatedAt = at;
    this.setReserve(a, order, mulDiv(order.reserveInitial, order.quantity - order.filledQuantity, order.quantity));
    m.process.state.last = price;
    m.process.recordVolume(at, qty);
    m.history.addVolume(qty);
    if (order.filledQuantity >= order.quantity) this.close(order, 'FILLED', at);
    else order.status = 'PARTIALLY_FILLED';
  }

  private setReserve(a: Account, order: ExchangeOrder, reserved: number): void {
    a.reservedOrders += reserved - order.reserved;
    order.reserved = reserved;
  }

  private close(order: ExchangeOrder, status: 'FILLED' | 'CANCELED' | 'EXPIRED', at: number): void {
    const a = this.account(order.keyId);
    order.status = status;
    order.updatedAt = at;
    this.setReserve(a, order, 0);
    a.open.delete(order.venueOrderId);
    this.markets.get(order.marketId)?.open.delete(order);
  }

  private settle(m: MarketRuntime, outcome: Outcome, at: number): void {
    m.outcome = outcome;
    m.resolvedAt = at;
    for (const order of [...m.open]) this.close(order, 'EXPIRED', at);
    for (const a of this.accounts.values()) {
      const q = a.positions.get(m.spec.marketId) ?? 0;
      if (q === 0) continue;
      const payout = outcome === 'YES' ? q * MICROS : 0;
      a.cash += payout;
      a.positions.delete(m.spec.marketId);
      this.settlementSeq++;
      a.settlements.push({ seq: this.settlementSeq, marketId: m.spec.marketId, outcome, quantity: q, payout, ts: at });
    }
  }

  // ---- orders ---------------------------------------------------------------------------

  /** Cash an order must have available: see API.md "Balance rule". */
  private reserveFor(a: Account, m: MarketRuntime, req: PlaceOrder): number {
    const feeBound = predictionMarketFee(this.config.fillModel.feeCoefficientPpm, req.quantity, FEE_WORST_PRICE);
    const tick = m.spec.tickSize;
    if (req.side === 'BUY') return req.quantity * (req.limitPrice ?? MICROS - tick) + feeBound;
    let committedSells = 0;
    for (const o of m.open) if (o.keyId === a.keyId && o.side === 'SELL') committedSells += o.quantity - o.filledQuantity;
    const freeLong = Math.max(0, (a.positions.get(m.spec.marketId) ?? 0) - committedSells);
    const short = Math.max(0, req.quantity - freeLong);
    return short * (MICROS - (req.limitPrice ?? tick)) + feeBound;
  }

  /**
   * Places an order, idempotent by client order ID per key: the same ID with the same
   * parameters returns the existing order (`created: false`); with different parameters it
   * throws a 409 carrying the existing order.
   */
  placeOrder(keyId: string, req: PlaceOrder, at = this.lastStepAt): { order: ExchangeOrder; created: boolean } {
    const a = this.account(keyId);
    const existing = a.byClientId.get(req.clientOrderId);
    if (existing) {
      const same =
        existing.marketId === req.marketId && existing.side === req.side && existing.quantity === req.quantity && existing.limitPrice === req.limitPrice;
      if (same) return { order: existing, created: false };
      throw new ExchangeError(
        409,
        'DUPLICATE_CLIENT_ORDER_ID',
        `clientOrderId ${JSON.stringify(req.clientOrderId)} already names order ${existing.venueOrderId} with different parameters`,
        'clientOrderId',
        req.clientOrderId,
        { existing },
      );
    }
    const m = this.markets.get(req.marketId);
    if (!m) throw new ExchangeError(400, 'UNKNOWN_MARKET', `unknown market ${JSON.stringify(req.marketId)}`, 'marketId', req.marketId);
    if (req.limitPrice !== null && (req.limitPrice <= 0 || req.limitPrice >= MICROS || req.limitPrice % m.spec.tickSize !== 0)) {
      throw ExchangeError.invalid('limitPrice', req.limitPrice, 'must be on the tick grid inside (0, 1)');
    }
    this.orderSeq++;
    const order: ExchangeOrder = {
      venueOrderId: `ord-${pad(this.orderSeq)}`,
      clientOrderId: req.clientOrderId,
      keyId,
      marketId: req.marketId,
      side: req.side,
      quantity: req.quantity,
      limitPrice: req.limitPrice,
      filledQuantity: 0,
      filledNotional: 0,
      status: 'OPEN',
      rejectReason: null,
      createdAt: at,
      updatedAt: at,
      reserveInitial: 0,
      reserved: 0,
    };
    a.byClientId.set(order.clientOrderId, order);
    this.byVenueId.set(order.venueOrderId, order);

    const closed = m.outcome !== null || (m.spec.resolvesAt !== null && at >= m.spec.resolvesAt);
    const reserve = closed ? 0 : this.reserveFor(a, m, req);
    const available = a.cash - a.reservedOrders - this.shortLock(a);
    if (closed || reserve > available) {
      order.status = 'REJECTED';
      order.rejectReason = closed ? 'MARKET_CLOSED' : 'INSUFFICIENT_BALANCE';
    } else {
      order.reserveInitial = reserve;
      this.setReserve(a, order, reserve);
      a.open.set(order.venueOrderId, order);
      m.open.add(order);
      const latency = orderLatencyMs(this.config.fillModel, this.fillRng);
      if (latency > 0) order.activeAt = at + latency;
      else this.match(m, order, at);
    }
    this.onChange();
    return { order, created: true };
  }

  findOrder(keyId: string, ref: { clientOrderId: string } | { venueOrderId: string }): ExchangeOrder | null {
    const a = this.account(keyId);
    if ('clientOrderId' in ref) return a.byClientId.get(ref.clientOrderId) ?? null;
    const o = this.byVenueId.get(ref.venueOrderId);
    return o && o.keyId === keyId ? o : null;
  }

  /** Cancels an open order; a terminal order is returned unchanged (cancel is idempotent). */
  cancelOrder(keyId: string, ref: { clientOrderId: string } | { venueOrderId: string }, at = this.lastStepAt): ExchangeOrder {
    const order = this.findOrder(keyId, ref);
    if (!order) throw notFound('ORDER_NOT_FOUND', 'order', 'clientOrderId' in ref ? ref.clientOrderId : ref.venueOrderId);
    if (isOpen(order)) {
      this.close(order, 'CANCELED', at);
      this.onChange();
    }
    return order;
  }

  openOrders(keyId: string, marketId?: string): ExchangeOrder[] {
    const a = this.account(keyId);
    const all = [...a.open.values()];
    return marketId === undefined ? all : all.filter((o) => o.marketId === marketId);
  }

  /** Fills with sequence above `afterSeq`, oldest first, at most `limit`. */
  fillsAfter(keyId: string, afterSeq: number, limit: number): { fills: ExchangeFill[]; lastSeq: number; hasMore: boolean } {
    const fills = this.account(keyId).fills;
    let lo = 0;
    let hi = fills.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fills[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    const page = fills.slice(lo, lo + limit);
    return { fills: page, lastSeq: page.length > 0 ? page[page.length - 1]!.seq : afterSeq, hasMore: lo + limit < fills.length };
  }

  settlementsAfter(keyId: string, afterSeq: number): { settlements: Settlement[]; lastSeq: number } {
    const list = this.account(keyId).settlements.filter((s) => s.seq > afterSeq);
    return { settlements: list, lastSeq: list.length > 0 ? list[list.length - 1]!.seq : afterSeq };
  }

  /** Average fill price of an order, rounded to the micro; null before any fill. */
  static averageFillPrice(o: ExchangeOrder): number | null {
    return o.filledQuantity > 0 ? averagePrice(o.filledNotional as Money, o.filledQuantity as Quantity) : null;
  }

  // ---- admin ----------------------------------------------------------------------------

  /** A venue-side position change the client does not know about: no cash, no fill. */
  adjustPosition(keyId: string, marketId: string, delta: number): { marketId: string; quantity: number } {
    const a = this.account(keyId);
    this.market(marketId);
    const q = (a.positions.get(marketId) ?? 0) + delta;
    if (q === 0) a.positions.delete(marketId);
    else a.positions.set(marketId, q);
    this.onChange();
    return { marketId, quantity: q };
  }

  adjustCash(keyId: string, delta: number): BalanceView {
    this.account(keyId).cash += delta;
    this.onChange();
    return this.balance(keyId);
  }

  /** Resolves a market now (before its scheduled time) and settles every position in it. */
  resolveMarket(marketId: string, outcome: Outcome, at = this.lastStepAt): MarketView {
    const m = this.market(marketId);
    if (m.outcome !== null) throw new ExchangeError(409, 'MARKET_RESOLVED', `market ${JSON.stringify(marketId)} already resolved ${m.outcome}`, 'marketId', marketId);
    this.settle(m, outcome, at);
    this.onChange();
    return this.listMarkets().find((v) => v.marketId === marketId)!;
  }

  // ---- persistence ----------------------------------------------------------------------

  toState(): EngineState {
    return {
      version: 1,
      seed: this.config.seed,
      lastStepAt: this.lastStepAt,
      orderSeq: this.orderSeq,
      tradeSeq: this.tradeSeq,
      settlementSeq: this.settlementSeq,
      fillRngDraws: this.fillRng.draws,
      markets: [...this.markets.values()].map((m) => ({ spec: m.spec, process: m.process.state, outcome: m.outcome, resolvedAt: m.resolvedAt })),
      accounts: [...this.accounts.values()].map((a) => ({
        keyId: a.keyId,
        cash: a.cash,
        positions: [...a.positions.entries()],
        orders: [...a.byClientId.values()],
        fills: a.fills,
        settlements: a.settlements,
      })),
    };
  }

  toHistoryState(): HistoryState {
    return { version: 1, markets: [...this.markets.values()].map((m) => m.history.toState()) };
  }

  private restore(s: EngineState, history: HistoryState | undefined): void {
    if (s.version !== 1) throw new ExchangeError(500, 'STATE_VERSION', `unsupported state version ${String(s.version)}`);
    this.lastStepAt = s.lastStepAt;
    this.orderSeq = s.orderSeq;
    this.tradeSeq = s.tradeSeq;
    this.settlementSeq = s.settlementSeq;
    const savedHistory = history?.version === 1 ? history : undefined;
    s.markets.forEach((m, i) => this.addMarket(m.spec, new PriceProcess(m.spec, hash32(s.seed, i + 1), m.process), m.outcome, m.resolvedAt, savedHistory));
    const open: ExchangeOrder[] = [];
    for (const sa of s.accounts) {
      const a: Account = {
        keyId: sa.keyId,
        cash: sa.cash,
        reservedOrders: 0,
        positions: new Map(sa.positions),
        byClientId: new Map(),
        open: new Map(),
        fills: sa.fills,
        settlements: sa.settlements,
      };
      this.accounts.set(a.keyId, a);
      for (const o of sa.orders) {
        a.byClientId.set(o.clientOrderId, o);
        this.byVenueId.set(o.venueOrderId, o);
        if (isOpen(o)) {
          a.open.set(o.venueOrderId, o);
          a.reservedOrders += o.reserved;
          open.push(o);
        }
      }
    }
    // Matching visits orders in placement order, as before the restart.
    open.sort((x, y) => (x.venueOrderId < y.venueOrderId ? -1 : 1));
    for (const o of open) this.markets.get(o.marketId)?.open.add(o);
  }
}
