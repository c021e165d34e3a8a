/**
 * Read commands: orders, positions, P&L, execution quality, alerts and the operator journal.
 * They need the records only (no Temporal), print tables for people and `--json` for scripts.
 */
import type { Command } from 'commander';
import {
  listAlerts,
  listDailyPnl,
  listExecutions,
  listOpenOrders,
  listOperatorActions,
  listOrders,
  listPositions,
  positionHistoryOf,
  type AlertLevel,
  type DailyPnlView,
  type OperatorActionKind,
  type OrderRecord,
  type PositionView,
  type StoredAlert,
} from '../../db';
import { ALERT_LEVELS, OPERATOR_ACTIONS } from '../../db/schema';
import { addDays, endOfTradingDay, startOfDayIn } from '../../domain/calendar';
import { summarise, summariseByMarket, type ExecutionSummary } from '../../domain/execution-quality';
import { averagePrice, type Money } from '../../domain/money';
import { ORDER_STATES, type OrderState } from '../../domain/order';
import type { CliContext } from '../context';
import { ArgumentCheck, ExitCode } from '../exit-codes';
import { decimal, duration, fields, fixed, isoTime, json, money, percent, price, table, time } from '../format';
import { checkChoice, checkDay, checkMarket, checkStrategy, checkWhole, withJson } from './common';

const ACCOUNT = 'paper';

// ---- orders ----

export function averageFill(o: Pick<OrderRecord, 'filledQuantity' | 'fillNotional'>): number | null {
  return o.filledQuantity > 0 ? averagePrice(o.fillNotional, o.filledQuantity) : null;
}

export function orderJson(o: OrderRecord) {
  return {
    clientOrderId: o.clientOrderId,
    venueOrderId: o.venueOrderId,
    account: o.account,
    marketId: o.marketId,
    side: o.side,
    quantity: o.quantity,
    limitPrice: decimal(o.limitPrice),
    strategy: o.strategy,
    sessionId: o.sessionId,
    tradingDay: o.tradingDay,
    state: o.state,
    stateTimes: Object.fromEntries(Object.entries(o.stateTimes).map(([s, t]) => [s, isoTime(t)])),
    filledQuantity: o.filledQuantity,
    fillNotional: decimal(o.fillNotional),
    averageFillPrice: decimal(averageFill(o)),
    fees: decimal(o.fees),
    rejectReason: o.rejectReason,
    signal: o.signal === null ? null : { ...o.signal, price: decimal(o.signal.price), at: isoTime(o.signal.at) },
    createdAt: isoTime(o.createdAt),
    updatedAt: isoTime(o.updatedAt),
  };
}

interface OrdersOptions {
  state?: string;
  market?: string;
  strategy?: string;
  day?: string;
  open?: boolean;
  limit?: string;
  json?: boolean;
}

async function orders(ctx: CliContext, opts: OrdersOptions): Promise<number> {
  const check = new ArgumentCheck();
  let states: OrderState[] | undefined;
  if (opts.state !== undefined) {
    const wanted = opts.state.split(',').map((s) => s.trim().toUpperCase());
    const unknown = wanted.filter((s) => !(ORDER_STATES as readonly string[]).includes(s));
    if (unknown.length > 0 || wanted.length === 0) check.bad('--state', opts.state, `must be one or more of ${ORDER_STATES.join(', ')} (comma-separated)`);
    else states = wanted as OrderState[];
    if (opts.open) check.bad('--open', true, 'cannot be combined with --state');
  }
  const filter = {
    marketId: checkMarket(check, opts.market),
    strategy: checkStrategy(check, opts.strategy),
    tradingDay: checkDay(check, opts.day),
    limit: checkWhole(check, '--limit', opts.limit, 1, 100_000) ?? 100,
  };
  check.done();
  const db = await ctx.records();
  const rows = opts.open ? await listOpenOrders(db, filter) : await listOrders(db, { ...filter, ...(states ? { state: states } : {}) });
  if (opts.json) {
    ctx.out(json(rows.map(orderJson)));
    return ExitCode.OK;
  }
  ctx.out(
    table(
      [
        { header: 'created' },
        { header: 'client order ID' },
        { header: 'market' },
        { header: 'side' },
        { header: 'qty', align: 'right' },
        { header: 'limit', align: 'right' },
        { header: 'state' },
        { header: 'filled', align: 'right' },
        { header: 'avg fill', align: 'right' },
        { header: 'fees', align: 'right' },
        { header: 'strategy' },
      ],
      rows.map((o) => [time(o.createdAt), o.clientOrderId, o.marketId, o.side, String(o.quantity), price(o.limitPrice), o.state, String(o.filledQuantity), price(averageFill(o)), money(o.fees), o.strategy]),
    ),
  );
  if (rows.length === filter.limit) ctx.note(`(showing the newest ${filter.limit}; raise --limit for more)`);
  return ExitCode.OK;
}

// ---- positions ----

export function positionJson(p: PositionView) {
  return {
    account: p.account,
    marketId: p.marketId,
    quantity: p.quantity,
    costBasis: decimal(p.costBasis),
    averageEntryPrice: decimal(p.averageEntryPrice),
    mark: decimal(p.mark),
    markedAt: isoTime(p.markedAt),
    realizedPnl: decimal(p.realizedPnl),
    unrealizedPnl: decimal(p.unrealizedPnl),
    fees: decimal(p.fees),
    totalPnl: decimal(p.totalPnl),
    fillCount: p.fillCount,
    updatedAt: isoTime(p.updatedAt),
  };
}

async function positions(ctx: CliContext, opts: { all?: boolean; json?: boolean }): Promise<number> {
  const db = await ctx.records();
  const rows = await listPositions(db, { account: ACCOUNT, openOnly: !opts.all });
  if (opts.json) {
    ctx.out(json(rows.map(positionJson)));
    return ExitCode.OK;
  }
  ctx.out(
    table(
      [
        { header: 'market' },
        { header: 'qty', align: 'right' },
        { header: 'avg entry', align: 'right' },
        { header: 'mark', align: 'right' },
        { header: 'marked at' },
        { header: 'realized', align: 'right' },
        { header: 'unrealized', align: 'right' },
        { header: 'fees', align: 'right' },
        { header: 'total P&L', align: 'right' },
      ],
      rows.map((p) => [p.marketId, String(p.quantity), price(p.averageEntryPrice), price(p.mark), time(p.markedAt), money(p.realizedPnl), money(p.unrealizedPnl), money(p.fees), money(p.totalPnl)]),
    ),
  );
  return ExitCode.OK;
}

// ---- P&L ----

export interface MarketPnl {
  marketId: string;
  realizedPnl: Money;
  fees: Money;
  fills: number;
  contractsTraded: number;
  /** The open position now, at its last mark. */
  quantity: number;
  unrealizedPnl: Money;
  netPnl: Money;
}

/** Realized P&L and fees per market over [from, to] from position history; unrealized from the open position's last mark. */
export async function pnlByMarket(ctx: CliContext, from: string, to: string): Promise<MarketPnl[]> {
  const db = await ctx.records();
  const out: MarketPnl[] = [];
  for (const p of await listPositions(db, { account: ACCOUNT })) {
    const rows = (await positionHistoryOf(db, ACCOUNT, p.marketId)).filter((h) => h.tradingDay >= from && h.tradingDay <= to);
    if (rows.length === 0 && p.quantity === 0) continue;
    const realized = rows.reduce((s, h) => s + h.realizedDelta, 0) as Money;
    const fees = rows.reduce((s, h) => s + h.fee, 0) as Money;
    out.push({
      marketId: p.marketId,
      realizedPnl: realized,
      fees,
      fills: rows.filter((h) => h.cause === 'FILL').length,
      contractsTraded: rows.reduce((s, h) => s + Math.abs(h.contractsTraded), 0),
      quantity: p.quantity,
      unrealizedPnl: p.unrealizedPnl,
      netPnl: (realized - fees + p.unrealizedPnl) as Money,
    });
  }
  return out;
}

const dayJson = (d: DailyPnlView) => ({
  tradingDay: d.tradingDay,
  realizedPnl: decimal(d.realizedPnl),
  unrealizedPnl: decimal(d.unrealizedPnl),
  openingUnrealizedPnl: decimal(d.openingUnrealizedPnl),
  unrealizedChange: decimal(d.unrealizedChange),
  fees: decimal(d.fees),
  netPnl: decimal(d.netPnl),
  fills: d.fillCount,
  contractsTraded: d.contractsTraded,
  notionalTraded: decimal(d.notionalTraded),
  markedAt: isoTime(d.markedAt),
});

const sum = <T>(rows: readonly T[], pick: (r: T) => number | null): Money => rows.reduce((s, r) => s + (pick(r) ?? 0), 0) as Money;

async function pnl(ctx: CliContext, opts: { days?: string; by?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const days = checkWhole(check, '--days', opts.days, 1, 3_660) ?? 7;
  const by = checkChoice(check, '--by', opts.by, ['DAY', 'MARKET'] as const) ?? 'DAY';
  check.done();
  const to = ctx.today();
  const from = addDays(to, -(days - 1));
  if (by === 'MARKET') {
    const rows = await pnlByMarket(ctx, from, to);
    if (opts.json) {
      ctx.out(
        json({
          from,
          to,
          markets: rows.map((r) => ({ ...r, realizedPnl: decimal(r.realizedPnl), fees: decimal(r.fees), unrealizedPnl: decimal(r.unrealizedPnl), netPnl: decimal(r.netPnl) })),
          total: { realizedPnl: decimal(sum(rows, (r) => r.realizedPnl)), fees: decimal(sum(rows, (r) => r.fees)), unrealizedPnl: decimal(sum(rows, (r) => r.unrealizedPnl)), netPnl: decimal(sum(rows, (r) => r.netPnl)) },
        }),
      );
      return ExitCode.OK;
    }
    ctx.out(`P&L by market, ${from} .. ${to} (unrealized: open positions at their last mark)\n`);
    const body = rows.map((r) => [r.marketId, money(r.realizedPnl), money(r.fees), money(r.unrealizedPnl), money(r.netPnl), String(r.fills), String(r.quantity)]);
    if (rows.length > 0) body.push(['TOTAL', money(sum(rows, (r) => r.realizedPnl)), money(sum(rows, (r) => r.fees)), money(sum(rows, (r) => r.unrealizedPnl)), money(sum(rows, (r) => r.netPnl)), String(rows.reduce((s, r) => s + r.fills, 0)), '']);
    ctx.out(
      table(
        [{ header: 'market' }, { header: 'realized', align: 'right' }, { header: 'fees', align: 'right' }, { header: 'unrealized', align: 'right' }, { header: 'net', align: 'right' }, { header: 'fills', align: 'right' }, { header: 'position', align: 'right' }],
        body,
      ),
    );
    return ExitCode.OK;
  }
  const rows = await listDailyPnl(await ctx.records(), { account: ACCOUNT, from, to });
  if (opts.json) {
    ctx.out(
      json({
        from,
        to,
        days: rows.map(dayJson),
        total: { realizedPnl: decimal(sum(rows, (r) => r.realizedPnl)), unrealizedChange: decimal(sum(rows, (r) => r.unrealizedChange)), fees: decimal(sum(rows, (r) => r.fees)), netPnl: decimal(sum(rows, (r) => r.netPnl)) },
      }),
    );
    return ExitCode.OK;
  }
  // A day's net is its realized P&L less fees plus the change in unrealized over the day (from its
  // opening marks), so the TOTAL row is exact; the cumulative unrealized at the close is shown beside it.
  ctx.out(`P&L by day, ${from} .. ${to} (unrealized Δ: change since the day's opening marks)\n`);
  const body = rows.map((d) => [d.tradingDay, money(d.realizedPnl), money(d.unrealizedChange), money(d.unrealizedPnl), money(d.fees), money(d.netPnl), String(d.fillCount), String(d.contractsTraded)]);
  if (rows.length > 0) body.push(['TOTAL', money(sum(rows, (r) => r.realizedPnl)), money(sum(rows, (r) => r.unrealizedChange)), '', money(sum(rows, (r) => r.fees)), money(sum(rows, (r) => r.netPnl)), String(rows.reduce((s, r) => s + r.fillCount, 0)), '']);
  ctx.out(
    table(
      [{ header: 'day' }, { header: 'realized', align: 'right' }, { header: 'unrealized Δ', align: 'right' }, { header: 'unrealized', align: 'right' }, { header: 'fees', align: 'right' }, { header: 'net', align: 'right' }, { header: 'fills', align: 'right' }, { header: 'contracts', align: 'right' }],
      body,
    ),
  );
  return ExitCode.OK;
}

// ---- execution quality ----

export function summaryJson(s: ExecutionSummary) {
  return {
    ...s,
    fillNotional: decimal(s.fillNotional),
    fees: decimal(s.fees),
    slippage: { ...s.slippage, cost: decimal(s.slippage.cost), costWithFees: decimal(s.slippage.costWithFees) },
    implementationShortfall: {
      ...s.implementationShortfall,
      paperPnl: decimal(s.implementationShortfall.paperPnl),
      actualPnl: decimal(s.implementationShortfall.actualPnl),
      shortfall: decimal(s.implementationShortfall.shortfall),
    },
  };
}

async function execution(ctx: CliContext, opts: { day?: string; market?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const day = checkDay(check, opts.day);
  const marketId = checkMarket(check, opts.market);
  check.done();
  const tradingDay = day ?? ctx.today();
  const { timeZone } = ctx.config();
  const [start, end] = [startOfDayIn(tradingDay, timeZone), endOfTradingDay(tradingDay, timeZone)];
  const records = (await listExecutions(await ctx.records(), { ...(marketId ? { marketId } : {}), since: start, limit: 100_000 })).filter((r) => r.signalAt < end);
  const overall = summarise(records);
  const perMarket = summariseByMarket(records);
  if (opts.json) {
    ctx.out(json({ tradingDay, marketId: marketId ?? null, overall: summaryJson(overall), byMarket: Object.fromEntries(Object.entries(perMarket).map(([m, s]) => [m, summaryJson(s)])) }));
    return ExitCode.OK;
  }
  const s = overall;
  ctx.out(`Execution quality, ${tradingDay}${marketId ? `, ${marketId}` : ''} (signals in ${timeZone})\n`);
  ctx.out(
    fields([
      ['Orders', `${s.orders} (${s.submitted} sent, ${s.pending} pending)`],
      ['Fill rate', `${percent(s.fillRate)} any fill, ${percent(s.fullFillRate)} complete`],
      ['Filled', `${s.filledQuantity} contracts, notional ${money(s.fillNotional)}, fees ${money(s.fees)}`],
      [
        'Slippage',
        `mean ${fixed(s.slippage.meanBpsPerExecution)} bps per execution, ${fixed(s.slippage.meanBps)} bps per contract (${s.slippage.meanMicros === null ? '-' : price(Math.round(s.slippage.meanMicros))} per contract); cost ${money(s.slippage.cost)}, with fees ${money(s.slippage.costWithFees)}`,
      ],
      ['Signal to submit', `median ${duration(s.latencyMs.signalToSubmit?.median)}, p95 ${duration(s.latencyMs.signalToSubmit?.p95)}`],
      ['Signal to first fill', `median ${duration(s.latencyMs.signalToFirstFill?.median)}, p95 ${duration(s.latencyMs.signalToFirstFill?.p95)}`],
      ['Implementation shortfall', `${money(s.implementationShortfall.shortfall)} (${percent(s.implementationShortfall.ratio, 2)} of paper P&L ${money(s.implementationShortfall.paperPnl)})`],
    ]),
  );
  ctx.out('\nBy market\n');
  ctx.out(
    table(
      [
        { header: 'market' },
        { header: 'orders', align: 'right' },
        { header: 'fill rate', align: 'right' },
        { header: 'filled', align: 'right' },
        { header: 'slippage bps', align: 'right' },
        { header: 'slippage cost', align: 'right' },
        { header: 'fees', align: 'right' },
        { header: 'signal->fill p50', align: 'right' },
        { header: 'shortfall', align: 'right' },
      ],
      Object.entries(perMarket).map(([m, x]) => [
        m,
        String(x.orders),
        percent(x.fillRate),
        String(x.filledQuantity),
        fixed(x.slippage.meanBps),
        money(x.slippage.cost),
        money(x.fees),
        duration(x.latencyMs.signalToFirstFill?.median),
        money(x.implementationShortfall.shortfall),
      ]),
    ),
  );
  return ExitCode.OK;
}

// ---- alerts and the journal ----

export const alertJson = (a: StoredAlert) => ({ ...a, raisedAt: isoTime(a.raisedAt), sentAt: isoTime(a.sentAt), recordedAt: isoTime(a.recordedAt) });

async function alerts(ctx: CliContext, opts: { level?: string; type?: string; limit?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const level = checkChoice<AlertLevel>(check, '--level', opts.level, ALERT_LEVELS);
  const limit = checkWhole(check, '--limit', opts.limit, 1, 10_000) ?? 50;
  if (opts.type !== undefined && !/^[A-Z0-9_]{1,64}$/.test(opts.type)) check.bad('--type', opts.type, 'must be an alert type such as RECONCILIATION_MISMATCH');
  check.done();
  const rows = await listAlerts(await ctx.records(), { ...(level ? { level } : {}), ...(opts.type ? { type: opts.type } : {}), limit });
  if (opts.json) {
    ctx.out(json(rows.map(alertJson)));
    return ExitCode.OK;
  }
  ctx.out(
    table(
      [{ header: 'raised' }, { header: 'level' }, { header: 'type' }, { header: 'title' }, { header: 'delivery' }],
      rows.map((a) => [time(a.raisedAt), a.level, a.type, a.title, a.deliveryError ? `${a.delivery} (${a.deliveryError})` : a.delivery]),
    ),
  );
  return ExitCode.OK;
}

async function journal(ctx: CliContext, opts: { action?: string; limit?: string; json?: boolean }): Promise<number> {
  const check = new ArgumentCheck();
  const action = checkChoice<OperatorActionKind>(check, '--action', opts.action, OPERATOR_ACTIONS);
  const limit = checkWhole(check, '--limit', opts.limit, 1, 10_000) ?? 50;
  check.done();
  const rows = await listOperatorActions(await ctx.records(), { ...(action ? { action } : {}), limit });
  if (opts.json) {
    ctx.out(json(rows.map((r) => ({ ...r, occurredAt: isoTime(r.occurredAt), recordedAt: isoTime(r.recordedAt) }))));
    return ExitCode.OK;
  }
  ctx.out(
    table(
      [{ header: 'when' }, { header: 'action' }, { header: 'operator' }, { header: 'reason' }, { header: 'key' }, { header: 'outcome' }, { header: 'details' }],
      rows.map((r) => {
        // The answer a surface added after acting (OPERATOR_OUTCOME_KEYS) has a column of its own; a row without one was written by a workflow or before outcomes existed.
        const { outcome, ...details } = r.details;
        return [time(r.occurredAt), r.action, r.operator, r.reason, `${r.workflowId}#${r.sequence}`, outcome === undefined || outcome === null ? '-' : String(outcome), JSON.stringify(details)];
      }),
    ),
  );
  return ExitCode.OK;
}

export function registerReadCommands(program: Command, ctx: CliContext): void {
  withJson(program.command('orders'))
    .description('orders from the records, newest first')
    .option('--state <states>', `only these states, comma-separated (${ORDER_STATES.join(', ')})`)
    .option('--open', 'only orders not yet in a final state (oldest first)')
    .option('--market <id>', 'only this market')
    .option('--strategy <key>', 'only this strategy')
    .option('--day <YYYY-MM-DD>', 'only this trading day')
    .option('--limit <n>', 'at most this many (default 100)')
    .action((opts: OrdersOptions) => ctx.run(() => orders(ctx, opts)));

  withJson(program.command('positions'))
    .description('open positions with average entry, last mark and P&L')
    .option('--all', 'include closed positions (realized P&L only)')
    .action((opts) => ctx.run(() => positions(ctx, opts)));

  withJson(program.command('pnl'))
    .description('P&L by trading day (default) or by market over the last days')
    .option('--days <n>', 'how many trading days back, today included (default 7)')
    .option('--by <day|market>', 'group by day or by market (default day)')
    .action((opts) => ctx.run(() => pnl(ctx, opts)));

  withJson(program.command('execution'))
    .description('execution-quality report: fill rate, slippage, latency, implementation shortfall, per market')
    .option('--day <YYYY-MM-DD>', 'trading day of the signals (default: today)')
    .option('--market <id>', 'only this market')
    .action((opts) => ctx.run(() => execution(ctx, opts)));

  withJson(program.command('alerts'))
    .description('recent alerts, newest first, with their delivery state')
    .option('--level <level>', `only this level (${ALERT_LEVELS.join(', ')})`)
    .option('--type <type>', 'only this alert type, e.g. RECONCILIATION_MISMATCH')
    .option('--limit <n>', 'at most this many (default 50)')
    .action((opts) => ctx.run(() => alerts(ctx, opts)));

  withJson(program.command('journal'))
    .description('the operator-actions journal: who did what, when and why, newest first')
    .option('--action <kind>', `only this action (${OPERATOR_ACTIONS.join(', ')})`)
    .option('--limit <n>', 'at most this many (default 50)')
    .action((opts) => ctx.run(() => journal(ctx, opts)));
}

