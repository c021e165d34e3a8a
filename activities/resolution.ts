/**
 * Settling resolved markets: each open position in a market the venue reports resolved is
 * realized at 1 (YES) or 0 (NO), once per market (the records lock and key it), with a LOW alert.
 * The reconciliation runs it before comparing, so a resolution is never taken for a difference.
 */
import { listPositions, settleMarketPosition } from '../db';
import { tradingDayIn } from '../domain/calendar';
import { AlertKey } from '../domain/ids';
import type { Outcome } from '../domain/market';
import { MICROS, type Money } from '../domain/money';
import type { OperationsActivities } from '../contracts/activities';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { ActivityServices } from './services';

export async function settleResolved(deps: ActivityDeps, services: ActivityServices): Promise<{ marketId: string; outcome: Outcome; realizedPnl: Money }[]> {
  const { db, venue, config, clock } = deps;
  const account = config.account;
  const resolved = new Map<string, Outcome>();
  for (const m of await venue.listMarkets()) if (m.outcome === 'YES' || m.outcome === 'NO') resolved.set(m.marketId, m.outcome);
  if (resolved.size === 0) return [];
  const open = await listPositions(db, { account, openOnly: true });
  const settled: { marketId: string; outcome: Outcome; realizedPnl: Money }[] = [];
  for (const p of open) {
    const outcome = resolved.get(p.marketId);
    if (outcome === undefined) continue;
    const at = clock();
    const r = await settleMarketPosition(db, { account, marketId: p.marketId, outcome, at, tradingDay: tradingDayIn(at, config.timeZone) });
    if (!r.settled || r.position === null) continue;
    const realizedPnl = (r.position.realizedPnl - p.realizedPnl) as Money;
    settled.push({ marketId: p.marketId, outcome, realizedPnl });
    await services.alerts.raiseAlert({
      level: 'LOW',
      type: 'MARKET_SETTLED',
      dedupeKey: AlertKey.marketSettled(account, p.marketId),
      title: `${p.marketId} resolved ${outcome}`,
      body: `${p.quantity} contracts settled at ${outcome === 'YES' ? '1' : '0'}; realized ${realizedPnl / MICROS}`,
    });
  }
  return settled;
}

export function createResolutionActivities(deps: ActivityDeps, services: ActivityServices): Pick<OperationsActivities, 'settleResolvedMarkets'> {
  return {
    settleResolvedMarkets: () => runActivity(async () => ({ settled: await settleResolved(deps, services) })),
  };
}
