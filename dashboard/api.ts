/**
 * What each dashboard panel shows, read from the records (and, when given, live quotes). Every
 * money figure and price leaves here as an exact decimal string made from integer micros; the
 * page prints those strings as they are. Ratios (utilization, bps) are plain numbers.
 */
import { and, asc, desc, eq, gt, inArray } from 'drizzle-orm';
import {
  listAlerts,
  listBreakerEvents,
  listDailyPnl,
  listMarkets,
  listOpenOrders,
  listOperatorActions,
  listOrders,
  listPositions,
  listSessions,
  loadActiveTrips,
  type Db,
  type OrderRecord,
  type PositionView,
} from '../db';
import { fills, orders, positionHistory } from '../db/schema';
import { tradingDayIn } from '../domain/calendar';
import { slippageMicros } from '../domain/execution-quality';
import { orderWorkflowId } from '../domain/ids';
import { accountEquity, dailyPnlSinceOpen, emptyLedger, portfolioSummary, positionExposure, type Ledger } from '../domain/ledger';
import { markPrice, type Side } from '../domain/market';
import { bps, formatDecimal, type Money, type Price } from '../domain/money';
import { PORTFOLIO_PERCENT_DEFAULTS, type RequiredLimitField, type RiskLimits } from '../domain/risk-limits';
import { orderWorstCase } from '../domain/worst-case';

/** Latest quote of a market, from the venue; null prices when a side is empty. */
export interface Quote {
  marketId: string;
  ts: number;
  bid: Price | null;
  ask: Price | null;
  last: Price | null;
}

/** Live quotes for the freshness panel and marks; a market it cannot quote is left out. */
export type QuoteSource = (marketIds: readonly string[]) => Promise<Quote[]>;

/** Live quotes from a venue; a market whose quote fails is left out (its freshness shows it). */
export function venueQuotes(venue: { getMarketSnapshot(marketId: string): Promise<Quote> }): QuoteSource {
  return async (ids) => (await Promise.allSettled(ids.map((id) => venue.getMarketSnapshot(id)))).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

export interface DashboardData {
  db: Db;
  limits: RiskLimits;
  /** Account in the records; 'paper' on the paper venue. */
  account: string;
  /** IANA zone of the trading day (for today's loss). */
  timeZone: string;
  temporalUiUrl: string;
  namespace: string;
  quotes: QuoteSource | null;
  /**
   * The account's cash at the venue, the base of equity for the percent-of-equity limits
   * (cash + positions at their marks, ledger.ts accountEquity); absent or null: those limits show unmeasured.
   */
  cash?: (() => Promise<Money | null>) | null;
  clock: () => number;
}

/** Money and prices as exact decimals with at least two places ("12.5" -> "12.50"). */
export const dec = (micros: number): string => formatDecimal(micros, 2);
const decOrNull = (micros: number | null): string | null => (micros === null ? null : dec(micros));

export const orderWorkflowUrl = (d: Pick<DashboardData, 'temporalUiUrl' | 'namespace'>, clientOrderId: string): string =>
  `${d.temporalUiUrl}/namespaces/${encodeURIComponent(d.namespace)}/workflows/${encodeURIComponent(orderWorkflowId(clientOrderId))}`;

export const sessionWorkflowUrl = (d: Pick<DashboardData, 'temporalUiUrl' | 'namespace'>, workflowId: string): string =>
  `${d.temporalUiUrl}/namespaces/${encodeURIComponent(d.namespace)}/workflows/${encodeURIComponent(workflowId)}`;

const MAX_QUOTED_MARKETS = 40;
const CURVE_POINTS = 400;
const CURVE_ROWS = 100_000;
const QUOTE_MEMO_MS = 1_000;

export function createDashboardApi(d: DashboardData) {
  let memo: { at: number; key: string; quotes: Promise<Map<string, Quote>> } | null = null;

  /** One venue round per second at most, however many panels ask. */
  function quotesFor(marketIds: readonly string[]): Promise<Map<string, Quote>> {
    const ids = [...new Set(marketIds)].sort().slice(0, MAX_QUOTED_MARKETS);
    if (d.quotes === null || ids.length === 0) return Promise.resolve(new Map());
    const key = ids.join(',');
    const now = d.clock();
    if (memo && memo.key === key && now - memo.at < QUOTE_MEMO_MS) return memo.quotes;
    const source = d.quotes;
    const quotes = source(ids).then(
      (qs) => new Map(qs.map((q) => [q.marketId, q])),
      () => new Map<string, Quote>(),
    );
    memo = { at: now, key, quotes };
    return quotes;
  }

  /** Positions with live marks where a quote is available, else the last stored mark. */
  async function markedPositions(): Promise<{ positions: PositionView[]; quotes: Map<string, Quote> }> {
    const stored = await listPositions(d.db, { account: d.account });
    const quotes = await quotesFor(stored.filter((p) => p.quantity !== 0).map((p) => p.marketId));
    const marks: Record<string, Price | null> = {};
    for (const [id, q] of quotes) {
      const m = markPrice(q);
      if (m !== null) marks[id] = m;
    }
    if (Object.keys(marks).length === 0) return { positions: stored, quotes };
    const live = await listPositions(d.db, { account: d.account, marks });
    return { positions: live.map((p) => (p.markedAt === null && quotes.has(p.marketId) ? { ...p, markedAt: quotes.get(p.marketId)!.ts } : p)), quotes };
  }

  async function positions() {
    const { positions: all } = await markedPositions();
    const sorted = [...all].sort((a, b) => Number(b.quantity !== 0) - Number(a.quantity !== 0) || (a.marketId < b.marketId ? -1 : 1));
    const sum = (f: (p: PositionView) => number) => all.reduce((s, p) => s + f(p), 0);
    return {
      positions: sorted.map((p) => ({
        marketId: p.marketId,
        quantity: p.quantity,
        side: p.quantity > 0 ? 'LONG' : p.quantity < 0 ? 'SHORT' : 'FLAT',
        averageEntryPrice: decOrNull(p.averageEntryPrice),
        mark: decOrNull(p.mark),
        markedAt: p.markedAt,
        costBasis: dec(p.costBasis),
        unrealizedPnl: dec(p.unrealizedPnl),
        realizedPnl: dec(p.realizedPnl),
        fees: dec(p.fees),
        totalPnl: dec(p.totalPnl),
        fillCount: p.fillCount,
      })),
      totals: {
        openPositions: all.filter((p) => p.quantity !== 0).length,
        unrealizedPnl: dec(sum((p) => p.unrealizedPnl)),
        realizedPnl: dec(sum((p) => p.realizedPnl)),
        fees: dec(sum((p) => p.fees)),
        totalPnl: dec(sum((p) => p.totalPnl)),
      },
    };
  }

  /**
   * Cumulative P&L after each recorded fill or resolution: realized - fees + every open position
   * valued at its market's latest traded price so far, then a last point at the current marks.
   * Each history row carries its position's whole state, so the sum is exact at every step.
   */
  async function pnl() {
    const rows = await d.db
      .select({
        marketId: positionHistory.marketId,
        quantity: positionHistory.quantity,
        costBasis: positionHistory.costBasis,
        realizedPnl: positionHistory.realizedPnl,
        fees: positionHistory.fees,
        contractsTraded: positionHistory.contractsTraded,
        notionalTraded: positionHistory.notionalTraded,
        changedAt: positionHistory.changedAt,
      })
      .from(positionHistory)
      .where(eq(positionHistory.account, d.account))
      .orderBy(asc(positionHistory.id))
      .limit(CURVE_ROWS);
    const state = new Map<string, { quantity: number; costBasis: number; realizedPnl: number; fees: number; lastPrice: number | null }>();
    let total = 0;
    const contribution = (s: { quantity: number; costBasis: number; realizedPnl: number; fees: number; lastPrice: number | null }) =>
      s.realizedPnl - s.fees + (s.quantity === 0 ? 0 : s.lastPrice === null ? 0 : s.quantity * s.lastPrice - s.costBasis);
    const points: { t: number; pnl: number }[] = [];
    for (const r of rows) {
      const before = state.get(r.marketId);
      if (before) total -= contribution(before);
      const price = r.contractsTraded > 0 ? Math.round(r.notionalTraded / r.contractsTraded) : (before?.lastPrice ?? null);
      const after = { quantity: r.quantity, costBasis: r.costBasis, realizedPnl: r.realizedPnl, fees: r.fees, lastPrice: price };
      state.set(r.marketId, after);
      total += contribution(after);
      points.push({ t: r.changedAt, pnl: total });
    }
    const current = (await positions()).totals;
    // The last point is now, at the current marks rather than at the last traded prices.
    const nowPoint = points.length > 0 || current.openPositions > 0 ? [{ t: d.clock(), pnl: current.totalPnl }] : [];
    const days = await listDailyPnl(d.db, { account: d.account, limit: 30 });
    return {
      points: [...thin(points, CURVE_POINTS).map((p) => ({ t: p.t, pnl: dec(p.pnl) })), ...nowPoint],
      current: current.totalPnl,
      days: days.map((day) => ({
        tradingDay: day.tradingDay,
        realizedPnl: dec(day.realizedPnl),
        fees: dec(day.fees),
        unrealizedPnl: decOrNull(day.unrealizedPnl),
        unrealizedChange: decOrNull(day.unrealizedChange),
        netPnl: dec(day.netPnl),
        fillCount: day.fillCount,
      })),
    };
  }

  const orderView = (o: OrderRecord, now: number) => ({
    clientOrderId: o.clientOrderId,
    marketId: o.marketId,
    side: o.side,
    quantity: o.quantity,
    filledQuantity: o.filledQuantity,
    limitPrice: decOrNull(o.limitPrice),
    averageFillPrice: o.filledQuantity > 0 ? dec(Math.round(o.fillNotional / o.filledQuantity)) : null,
    state: o.state,
    strategy: o.strategy,
    sessionId: o.sessionId,
    rejectReason: o.rejectReason,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    ageMs: Math.max(0, now - o.createdAt),
    workflowUrl: orderWorkflowUrl(d, o.clientOrderId),
  });

  async function openOrders() {
    const now = d.clock();
    const [open, recent] = await Promise.all([listOpenOrders(d.db, { account: d.account, limit: 200 }), listOrders(d.db, { account: d.account, limit: 20 })]);
    return { open: open.map((o) => orderView(o, now)), recent: recent.map((o) => orderView(o, now)) };
  }

  /** Newest fills, each with the price its order's signal wanted and the slippage against it. */
  async function recentFills(limit = 50) {
    const rows = await d.db.select().from(fills).where(eq(fills.account, d.account)).orderBy(desc(fills.filledAt), desc(fills.tradeId)).limit(limit);
    const ids = [...new Set(rows.map((r) => r.clientOrderId))];
    const owners = ids.length === 0 ? [] : await d.db.select().from(orders).where(inArray(orders.clientOrderId, ids));
    const byId = new Map(owners.map((o) => [o.clientOrderId, o]));
    return {
      fills: rows.map((r) => {
        const o = byId.get(r.clientOrderId);
        const intended = (o?.signal?.price ?? o?.limitPrice ?? null) as Price | null;
        const slip = intended === null ? null : slippageMicros(r.side as Side, intended, r.price);
        return {
          tradeId: r.tradeId,
          clientOrderId: r.clientOrderId,
          marketId: r.marketId,
          side: r.side,
          quantity: r.quantity,
          price: dec(r.price),
          fee: dec(r.fee),
          intendedPrice: decOrNull(intended),
          /** Per contract, positive = worse than intended. */
          slippage: slip === null ? null : dec(slip),
          slippageBps: slip === null || intended === null ? null : Math.round(bps(slip, intended) * 10) / 10,
          filledAt: r.filledAt,
          workflowUrl: orderWorkflowUrl(d, r.clientOrderId),
        };
      }),
    };
  }

  /** The venue's cash, or null when there is no source or it does not answer (the percent limits then show unmeasured). */
  async function cash(): Promise<Money | null> {
    if (!d.cash) return null;
    try {
      return await d.cash();
    } catch {
      return null;
    }
  }

  /**
   * Each limit beside how much of it the book uses now. Per-order limits show the largest open order.
   * `equity` overrides the one measured from the cash source (a caller that knows it from a live session).
   */
  async function risk(options: { equity?: Money | null } = {}) {
    const now = d.clock();
    const [{ positions: held, quotes }, marketRows, open, recentOrders, today, cashNow] = await Promise.all([
      markedPositions(),
      listMarkets(d.db),
      listOpenOrders(d.db, { account: d.account, limit: 1_000 }),
      d.db.select({ createdAt: orders.createdAt }).from(orders).where(and(eq(orders.account, d.account), gt(orders.createdAt, now - 60_000))),
      listDailyPnl(d.db, { account: d.account, from: tradingDayIn(now, d.timeZone), to: tradingDayIn(now, d.timeZone) }),
      options.equity === undefined ? cash() : Promise.resolve(null),
    ]);
    const categories: Record<string, { category: string }> = Object.fromEntries(marketRows.map((m) => [m.marketId, { category: m.category }]));
    const ledger: Ledger = emptyLedger();
    const marks: Record<string, Price | null> = {};
    for (const p of held) {
      if (p.quantity === 0) continue;
      ledger.positions[p.marketId] = { marketId: p.marketId, quantity: p.quantity, costBasis: p.costBasis, realizedPnl: p.realizedPnl, fees: p.fees };
      marks[p.marketId] = p.mark;
      categories[p.marketId] ??= { category: 'uncategorised' };
    }
    const summary = portfolioSummary(ledger, marks, categories);
    const largestCategory = Object.entries(summary.exposureByCategory).sort((a, b) => b[1] - a[1])[0] ?? null;
    const day = today[0];
    // Today's P&L from the day's opening marks (ledger.ts dailyPnlSinceOpen), as the breaker measures it.
    const dayPnl = dailyPnlSinceOpen({ realizedPnl: day?.realizedPnl ?? 0, fees: day?.fees ?? 0, unrealizedPnl: summary.unrealizedPnl, openingUnrealizedPnl: day?.openingUnrealizedPnl ?? 0 });
    const largestPosition = held.reduce<PositionView | null>((m, p) => (Math.abs(p.quantity) > Math.abs(m?.quantity ?? 0) ? p : m), null);
    const positionValue = held
      .filter((p) => p.quantity !== 0)
      .map((p) => ({ marketId: p.marketId, value: positionExposure(p, p.mark) }))
      .sort((a, b) => b.value - a.value)[0];
    const largestOrder = open.reduce<OrderRecord | null>((m, o) => (o.quantity > (m?.quantity ?? 0) ? o : m), null);
    const largestNotional = open
      .filter((o) => o.limitPrice !== null)
      .map((o) => ({ clientOrderId: o.clientOrderId, notional: orderWorstCase(o.side === 'BUY', o.quantity, o.limitPrice, held.find((p) => p.marketId === o.marketId)?.quantity ?? 0) }))
      .sort((a, b) => b.notional - a.notional)[0];
    const watched = [...quotes.values()];
    const widest = watched.filter((q) => q.bid !== null && q.ask !== null).sort((a, b) => b.ask! - b.bid! - (a.ask! - a.bid!))[0];
    const oldest = watched.sort((a, b) => a.ts - b.ts)[0];
    const L = d.limits;
    const equity = options.equity !== undefined ? options.equity : cashNow === null ? null : accountEquity(cashNow, held, marks);
    // The notes' portfolio limits (risk.ts POSITION_PERCENT, TOTAL_EXPOSURE_PERCENT): the limit in money is that share of equity.
    const percentOfEquity = (name: 'maxPositionPercent' | 'maxTotalExposurePercent', label: string, used: number, detail: string) => {
      const pct = L[name] ?? PORTFOLIO_PERCENT_DEFAULTS[name];
      const allowed = equity === null || equity <= 0 ? null : Math.floor((equity * pct) / 100);
      return {
        name,
        label: `${label} (${pct}% of equity)`,
        unit: 'USD' as Unit,
        limit: allowed === null ? `${pct}% of equity` : dec(allowed),
        used: dec(used),
        utilization: allowed === null || allowed <= 0 ? null : Math.max(0, used) / allowed,
        detail: `${detail}; equity ${equity === null ? 'unknown (no cash figure from the venue)' : dec(equity)}`,
      };
    };

    type Unit = 'USD' | 'contracts' | 'price' | 'ratio' | 'ms' | 'count';
    const money = (name: RequiredLimitField, label: string, used: number | null, detail: string) => entry(name, label, 'USD', L[name], used, detail, dec);
    const count = (name: RequiredLimitField, label: string, unit: Unit, used: number | null, detail: string) => entry(name, label, unit, L[name], used, detail, String);
    function entry(name: keyof RiskLimits, label: string, unit: Unit, limit: number, used: number | null, detail: string, show: (n: number) => string) {
      return { name, label, unit, limit: show(limit), used: used === null ? null : show(used), utilization: used === null || limit <= 0 ? null : Math.max(0, used) / limit, detail };
    }
    return {
      limits: [
        money('maxDailyLoss', 'Daily loss', Math.max(0, -dayPnl), `today's P&L ${dec(dayPnl)} (realized - fees + change in unrealized since the day's opening marks)`),
        money('maxPortfolioExposure', 'Portfolio exposure', summary.exposure, `${summary.openPositions} open positions, worst case at their marks (a short at 1 - p)`),
        money('maxCategoryExposure', 'Category exposure', largestCategory ? largestCategory[1] : 0, largestCategory ? `largest: ${largestCategory[0]}` : 'no open positions'),
        money('maxPositionValue', 'Position value', positionValue ? positionValue.value : 0, positionValue ? `largest: ${positionValue.marketId}` : 'no open positions'),
        percentOfEquity('maxPositionPercent', 'Position', positionValue ? positionValue.value : 0, positionValue ? `worst case of the largest: ${positionValue.marketId}` : 'no open positions'),
        percentOfEquity('maxTotalExposurePercent', 'Portfolio exposure', summary.exposure, 'worst case of every open position at its mark'),
        count('maxPositionSize', 'Position size', 'contracts', largestPosition ? Math.abs(largestPosition.quantity) : 0, largestPosition ? `largest: ${largestPosition.marketId}` : 'no open positions'),
        count('maxOpenPositions', 'Open positions', 'count', summary.openPositions, 'markets with a non-zero position'),
        count('maxOrdersPerMinute', 'Orders per minute', 'count', recentOrders.length, 'orders created in the last 60 s'),
        count('maxOrderSize', 'Order size', 'contracts', largestOrder ? largestOrder.quantity : 0, largestOrder ? `largest open order: ${largestOrder.clientOrderId}` : 'no open orders'),
        money('fatFingerNotional', 'Order notional', largestNotional ? largestNotional.notional : 0, largestNotional ? `largest open order: ${largestNotional.clientOrderId}` : 'no open orders'),
        entry('maxSpread', 'Spread', 'price', L.maxSpread, widest ? widest.ask! - widest.bid! : null, widest ? `widest quoted: ${widest.marketId}` : 'no live quotes', dec),
        count('maxQuoteAgeMs', 'Quote age (ms)', 'ms', oldest ? Math.max(0, now - oldest.ts) : null, oldest ? `oldest quote: ${oldest.marketId}` : 'no live quotes'),
        entry('maxPriceDeviation', 'Price deviation', 'price', L.maxPriceDeviation, null, 'checked on each order against its quote', dec),
        { name: 'maxVolumeFraction', label: 'Share of daily volume', unit: 'ratio' as Unit, limit: String(L.maxVolumeFraction), used: null, utilization: null, detail: 'checked on each order against its quote' },
      ],
    };
  }

  async function halts() {
    const [sessions, events, journal] = await Promise.all([
      listSessions(d.db, { limit: 20 }),
      listBreakerEvents(d.db, { limit: 20 }),
      listOperatorActions(d.db, { limit: 20 }),
    ]);
    const strategies = [...new Set([...sessions.map((s) => s.strategy), ...events.map((e) => e.strategy)])];
    const trips = new Map(await Promise.all(strategies.map(async (s) => [s, await loadActiveTrips(d.db, s)] as const)));
    const active = strategies.flatMap((s) => (trips.get(s) ?? []).map((t) => ({ strategy: s, ...t })));
    return {
      halted: active.length > 0,
      trips: active.map((t) => ({ strategy: t.strategy, kind: t.kind, reason: t.reason, since: t.since, operator: t.operator, observed: t.observed, limit: t.limit })),
      sessions: sessions.map((s) => ({
        sessionId: s.sessionId,
        strategy: s.strategy,
        tradingDay: s.tradingDay,
        mode: s.mode,
        status: s.status,
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        halted: (trips.get(s.strategy) ?? []).length > 0,
        workflowUrl: sessionWorkflowUrl(d, s.sessionId),
      })),
      breakerEvents: events.map((e) => ({ strategy: e.strategy, change: e.change, kind: e.kind, reason: e.reason, operator: e.operator, at: e.occurredAt })),
      journal: journal.map((a) => ({ action: a.action, operator: a.operator, reason: a.reason, workflowId: a.workflowId, details: a.details, at: a.occurredAt })),
    };
  }

  async function alerts() {
    const rows = await listAlerts(d.db, { limit: 30 });
    return { alerts: rows.map((a) => ({ level: a.level, type: a.type, title: a.title, body: a.body, raisedAt: a.raisedAt, delivery: a.delivery })) };
  }

  /** Age of the newest quote per market (live, when a quote source is configured) and of the last stored mark. */
  async function freshness() {
    const now = d.clock();
    const [marketRows, held, open] = await Promise.all([listMarkets(d.db), listPositions(d.db, { account: d.account }), listOpenOrders(d.db, { account: d.account, limit: 1_000 })]);
    const ids = [...new Set([...held.filter((p) => p.quantity !== 0).map((p) => p.marketId), ...open.map((o) => o.marketId), ...marketRows.filter((m) => m.outcome === null).map((m) => m.marketId)])].slice(0, MAX_QUOTED_MARKETS);
    const quotes = await quotesFor(ids);
    const marked = new Map(held.map((p) => [p.marketId, p.markedAt]));
    return {
      maxQuoteAgeMs: d.limits.maxQuoteAgeMs,
      live: d.quotes !== null,
      markets: ids.map((marketId) => {
        const q = quotes.get(marketId) ?? null;
        const ageMs = q === null ? null : Math.max(0, now - q.ts);
        const markedAt = marked.get(marketId) ?? null;
        return {
          marketId,
          quoteAt: q?.ts ?? null,
          ageMs,
          bid: decOrNull(q?.bid ?? null),
          ask: decOrNull(q?.ask ?? null),
          markedAt,
          markAgeMs: markedAt === null ? null : Math.max(0, now - markedAt),
          status: ageMs === null ? 'NO QUOTE' : ageMs > d.limits.maxQuoteAgeMs ? 'STALE' : 'FRESH',
        };
      }),
    };
  }

  async function state() {
    const [p, curve, o, f, r, h, a, fr] = await Promise.all([positions(), pnl(), openOrders(), recentFills(), risk(), halts(), alerts(), freshness()]);
    return { at: d.clock(), tradingDay: tradingDayIn(d.clock(), d.timeZone), positions: p, pnl: curve, orders: o, fills: f, risk: r, halts: h, alerts: a, freshness: fr };
  }

  return { positions, pnl, orders: openOrders, fills: recentFills, risk, halts, alerts, freshness, state };
}

export type DashboardApi = ReturnType<typeof createDashboardApi>;

/** At most `max` points, always keeping the first and the last. */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]!);
}
