/**
 * The daily report's text (pure): P&L of the day in total and by market, orders and fill rate,
 * alerts and halts. Gathered from the records by `sendDailyReport` (operations.ts); kept under
 * the alerts table's 10 000-character body limit by listing the largest markets first.
 */
import { formatDecimal, type Money } from '../domain/money';

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
