/**
 * The daily report (`sendDailyReport`): P&L of the day in total and by market, orders and fill
 * rate, alerts and halts, gathered from the records and sent as a LOW alert once per account and
 * day. The text (`formatDailyReport`, pure) is kept under the alerts table's 10 000-character body
 * limit by listing the largest markets first.
 */
import { and, eq, sql } from 'drizzle-orm';
import { listAlerts, listBreakerEvents, listDailyPnl, listOperatorActions, listOrders } from '../db';
import { mapErrors } from '../db/repositories/common';
import { positionHistory } from '../db/schema';
import { addDays, startOfDayIn } from '../domain/calendar';
import { AlertKey, validateTradingDay } from '../domain/ids';
import { addQuantity, formatDecimal, parseMicros, parseSignedQuantity, type Money } from '../domain/money';
import type { OperationsActivities } from '../contracts/activities';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { ActivityServices } from './services';

export interface MarketDayLine {
  marketId: string;
  realizedPnl: Money;
  fees: Money;
  fills: number;
  contracts: number;
}

export interface DailyReportData {
  account: string;
  tradingDay: string;
  timeZone: string;
  realizedPnl: Money;
  /** Null when the day was never marked. */
  unrealizedPnl: Money | null;
  fees: Money;
  netPnl: Money;
  fillCount: number;
  contractsTraded: number;
  notionalTraded: Money;
  markets: MarketDayLine[];
  /** Orders of the day by state. */
  ordersByState: Record<string, number>;
  /** Orders that reached the venue (everything but CREATED and REJECTED before submission). */
  ordersPlaced: number;
  /** Of those, how many filled at least partly. */
  ordersFilled: number;
  contractsOrdered: number;
  contractsFilled: number;
  alertsByLevel: Record<string, number>;
  /** The day's CRITICAL and HIGH alerts, oldest first: time (ISO), level, title. */
  notableAlerts: { at: string; level: string; title: string }[];
  /** Breaker trips and operator halts, resumes and kill switches of the day. */
  halts: { at: string; what: string }[];
}

const MAX_BODY = 9_500;

const pct = (num: number, den: number): string => (den === 0 ? 'n/a' : `${((100 * num) / den).toFixed(1)}%`);

export function formatDailyReport(d: DailyReportData): { title: string; body: string } {
  const title = `Daily report ${d.tradingDay} (${d.account}): net ${formatDecimal(d.netPnl)}`;
  const head: string[] = [
    `Trading day ${d.tradingDay} (${d.timeZone}), account ${d.account}`,
    '',
    'P&L',
    `  realized (gross)  ${formatDecimal(d.realizedPnl)}`,
    `  unrealized        ${d.unrealizedPnl === null ? 'not marked' : formatDecimal(d.unrealizedPnl)}`,
    `  fees              ${formatDecimal(d.fees)}`,
    `  net               ${formatDecimal(d.netPnl)}`,
    `  fills ${d.fillCount}, contracts ${d.contractsTraded}, notional ${formatDecimal(d.notionalTraded)}`,
    '',
    'Orders',
    `  placed ${d.ordersPlaced}, filled at least partly ${d.ordersFilled} (fill rate ${pct(d.ordersFilled, d.ordersPlaced)})`,
    `  contracts ordered ${d.contractsOrdered}, filled ${d.contractsFilled} (${pct(d.contractsFilled, d.contractsOrdered)})`,
    `  by state: ${Object.keys(d.ordersByState).length === 0 ? 'none' : Object.entries(d.ordersByState).sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, n]) => `${s} ${n}`).join(', ')}`,
    '',
    'Alerts',
    `  ${(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const).map((l) => `${l} ${d.alertsByLevel[l] ?? 0}`).join(', ')}`,
    ...d.notableAlerts.slice(0, 20).map((a) => `  ${a.at} ${a.level} ${a.title}`),
    ...(d.notableAlerts.length > 20 ? [`  ... and ${d.notableAlerts.length - 20} more`] : []),
    '',
    'Halts',
    ...(d.halts.length === 0 ? ['  none'] : d.halts.slice(0, 30).map((h) => `  ${h.at} ${h.what}`)),
    ...(d.halts.length > 30 ? [`  ... and ${d.halts.length - 30} more`] : []),
    '',
    'P&L by market (realized gross, fees, fills, contracts)',
  ];
  const lines = [...d.markets].sort((a, b) => Math.abs(b.realizedPnl) - Math.abs(a.realizedPnl) || (a.marketId < b.marketId ? -1 : 1));
  let body = head.join('\n');
  if (lines.length === 0) body += '\n  none';
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!;
    const line = `\n  ${m.marketId}  ${formatDecimal(m.realizedPnl)}  fees ${formatDecimal(m.fees)}  fills ${m.fills}  contracts ${m.contracts}`;
    if (body.length + line.length > MAX_BODY) {
      body += `\n  ... and ${lines.length - i} more markets`;
      break;
    }
    body += line;
  }
  return { title, body: `${body}\n` };
}

async function sendDailyReport(deps: ActivityDeps, services: ActivityServices, input: { tradingDay: string }): Promise<void> {
  const { db, config } = deps;
  const account = config.account;
  const day = validateTradingDay(input?.tradingDay);
  const from = startOfDayIn(day, config.timeZone);
  const to = startOfDayIn(addDays(day, 1), config.timeZone);
  const iso = (ms: number) => new Date(ms).toISOString();

  const [pnl] = await listDailyPnl(db, { account, from: day, to: day });
  const byMarket = await mapErrors(
    db
      .select({
        marketId: positionHistory.marketId,
        realized: sql<string>`sum(${positionHistory.realizedDelta})::text`,
        fees: sql<string>`sum(${positionHistory.fee})::text`,
        fills: sql<string>`count(*) filter (where ${positionHistory.cause} = 'FILL')::text`,
        contracts: sql<string>`sum(${positionHistory.contractsTraded})::text`,
      })
      .from(positionHistory)
      .where(and(eq(positionHistory.account, account), eq(positionHistory.tradingDay, day)))
      .groupBy(positionHistory.marketId),
  );
  const markets: MarketDayLine[] = byMarket.map((r) => ({
    marketId: r.marketId,
    realizedPnl: parseMicros(r.realized, 'realized') as Money,
    fees: parseMicros(r.fees, 'fees') as Money,
    fills: Number(r.fills),
    contracts: parseSignedQuantity(r.contracts, 'contracts_traded'),
  }));

  const orders = await listOrders(db, { account, tradingDay: day, limit: 100_000 });
  const ordersByState: Record<string, number> = {};
  let ordersPlaced = 0;
  let ordersFilled = 0;
  let contractsOrdered = 0;
  let contractsFilled = 0;
  for (const o of orders) {
    ordersByState[o.state] = (ordersByState[o.state] ?? 0) + 1;
    const reachedVenue = o.venueOrderId !== null || o.filledQuantity > 0 || (o.state !== 'CREATED' && o.state !== 'REJECTED');
    if (!reachedVenue) continue;
    ordersPlaced++;
    contractsOrdered = addQuantity(contractsOrdered, o.quantity);
    contractsFilled = addQuantity(contractsFilled, o.filledQuantity);
    if (o.filledQuantity > 0) ordersFilled++;
  }

  const dayAlerts = (await listAlerts(db, { since: from, limit: 10_000 })).filter((a) => a.raisedAt < to && a.type !== 'DAILY_REPORT');
  const alertsByLevel: Record<string, number> = {};
  for (const a of dayAlerts) alertsByLevel[a.level] = (alertsByLevel[a.level] ?? 0) + 1;
  const notableAlerts = dayAlerts
    .filter((a) => a.level === 'CRITICAL' || a.level === 'HIGH')
    .sort((a, b) => a.raisedAt - b.raisedAt)
    .map((a) => ({ at: iso(a.raisedAt), level: a.level, title: a.title }));

  const breakers = (await listBreakerEvents(db, { since: from, limit: 10_000 })).filter((e) => e.occurredAt < to);
  const actions = (await listOperatorActions(db, { from, to, limit: 10_000 })).filter((a) => a.action === 'HALT' || a.action === 'RESUME' || a.action === 'KILL_SWITCH');
  const halts = [
    ...breakers.map((e) => ({ t: e.occurredAt, what: `${e.strategy} ${e.change} ${e.kind}: ${e.reason}` })),
    ...actions.map((a) => ({ t: a.occurredAt, what: `${a.action} by ${a.operator}: ${a.reason}` })),
  ]
    .sort((a, b) => a.t - b.t)
    .map((h) => ({ at: iso(h.t), what: h.what }));

  const report = formatDailyReport({
    account,
    tradingDay: day,
    timeZone: config.timeZone,
    realizedPnl: pnl?.realizedPnl ?? (0 as Money),
    unrealizedPnl: pnl?.unrealizedPnl ?? null,
    fees: pnl?.fees ?? (0 as Money),
    netPnl: pnl?.netPnl ?? (0 as Money),
    fillCount: pnl?.fillCount ?? 0,
    contractsTraded: pnl?.contractsTraded ?? 0,
    notionalTraded: pnl?.notionalTraded ?? (0 as Money),
    markets,
    ordersByState,
    ordersPlaced,
    ordersFilled,
    contractsOrdered,
    contractsFilled,
    alertsByLevel,
    notableAlerts,
    halts,
  });
  await services.alerts.raiseAlert({ level: 'LOW', type: 'DAILY_REPORT', dedupeKey: AlertKey.dailyReport(account, day), title: report.title, body: report.body });
}

export function createDailyReportActivities(deps: ActivityDeps, services: ActivityServices): Pick<OperationsActivities, 'sendDailyReport'> {
  return {
    sendDailyReport: (input) => runActivity(() => sendDailyReport(deps, services, input)),
  };
}
