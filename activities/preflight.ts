/**
 * Pre-flight, the go/no-go before a session trades: venue reachable, market data fresh, risk
 * config valid, the records reconciled with the venue, alerting reachable. Each check says what
 * it saw; a check that throws fails with the error as its detail.
 */
import { listOpenOrders, listPositions } from '../db';
import { parseBreakerConfig, type BreakerConfig } from '../domain/breakers';
import { InvalidInput, describeValue } from '../domain/errors';
import { validateKey } from '../domain/ids';
import { validateMarketId } from '../domain/market';
import { formatDecimal, toNumericString, type Money } from '../domain/money';
import { decideReconciliation, reconcile, type LocalAccountView, type VenueAccountView } from '../domain/reconciliation';
import { parseRiskLimits, type RiskLimits } from '../domain/risk-limits';
import type { PreflightCheck, SessionActivities } from '../contracts/activities';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import type { ActivityServices } from './services';
import { describeError } from './venue-reads';

/** Orders open in the records but not at the venue that pre-flight looks up one by one, at most. */
const PREFLIGHT_ORDER_LOOKUPS = 50;

const MONEY_LIMITS: readonly (keyof RiskLimits)[] = ['maxPositionValue', 'maxDailyLoss', 'maxPortfolioExposure', 'maxCategoryExposure', 'fatFingerNotional', 'maxPriceDeviation', 'maxSpread'];

/** Typed values back into the config form the parsers read (micros as exact decimal strings). */
function asDecimal(v: unknown): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) ? toNumericString(v) : `${describeValue(v)} (not integer micros)`;
}

export function riskLimitsAsConfig(limits: RiskLimits): Record<string, unknown> {
  const out: Record<string, unknown> = { ...limits };
  for (const k of MONEY_LIMITS) if (k in out) out[k] = asDecimal(out[k]);
  return out;
}

export function breakersAsConfig(b: BreakerConfig): Record<string, unknown> {
  return { ...b, maxDailyLoss: asDecimal(b.maxDailyLoss) };
}

type Finding = { ok: boolean; detail: string };

async function check(name: PreflightCheck['name'], run: () => Promise<Finding>): Promise<PreflightCheck> {
  try {
    return { name, ...(await run()) };
  } catch (e) {
    return { name, ok: false, detail: describeError(e) };
  }
}

export function createPreflightActivities(deps: ActivityDeps, services: ActivityServices): Pick<SessionActivities, 'preflight'> {
  const { db, venue, mailer, config, clock } = deps;
  const account = config.account;

  async function venueReachable(): Promise<Finding> {
    const cash = await services.cash.read();
    const health = venue.health();
    return { ok: true, detail: `${venue.name} answered; cash ${formatDecimal(cash)}${health && health.consecutiveFailures > 0 ? `; ${health.consecutiveFailures} recent connection failures` : ''}` };
  }

  async function marketDataFresh(marketIds: readonly string[]): Promise<Finding> {
    if (marketIds.length === 0) return { ok: true, detail: 'no markets to watch' };
    const quotes = await Promise.all(marketIds.map((m) => venue.getMarketSnapshot(m)));
    const now = clock();
    const ages = quotes.map((q) => ({ marketId: q.marketId, age: now - q.ts, twoSided: q.bid !== null && q.ask !== null }));
    const stale = ages.filter((a) => a.age > config.maxQuoteAgeMs);
    const oneSided = ages.filter((a) => !a.twoSided).map((a) => a.marketId);
    const list = (xs: typeof ages) => xs.map((a) => `${a.marketId} ${a.age} ms`).join(', ');
    if (stale.length > 0) return { ok: false, detail: `quotes older than ${config.maxQuoteAgeMs} ms: ${list(stale)}` };
    return { ok: true, detail: `quote ages ${list(ages)}${oneSided.length > 0 ? `; one-sided: ${oneSided.join(', ')}` : ''}` };
  }

  async function riskConfigValid(): Promise<Finding> {
    const problems: string[] = [];
    for (const parse of [() => parseRiskLimits(riskLimitsAsConfig(config.limits)), () => parseBreakerConfig(breakersAsConfig(config.breakers))]) {
      try {
        parse();
      } catch (e) {
        if (!(e instanceof InvalidInput)) throw e;
        problems.push(e.message);
      }
    }
    if (!Number.isSafeInteger(config.maxQuoteAgeMs) || config.maxQuoteAgeMs <= 0) problems.push(`maxQuoteAgeMs: must be positive milliseconds (got ${describeValue(config.maxQuoteAgeMs)})`);
    return problems.length === 0 ? { ok: true, detail: 'risk limits and breaker settings valid' } : { ok: false, detail: problems.join('; ') };
  }

  /**
   * Venue positions and open orders against the records, after bringing the ledger up to date.
   * Cash is taken as agreeing: the records keep no cash balance, and the cash comparison (with
   * its recorded baseline) is the reconciliation workflow's. Fails when the configured policy
   * would halt on what it found.
   */
  async function reconciliationClean(): Promise<Finding> {
    await services.fills.sync();
    const [venuePositions, balance, venueOpen, positions, localOpen] = await Promise.all([
      venue.getPositions(),
      venue.getBalance(),
      venue.listOpenOrders(),
      listPositions(db, { account, openOnly: true }),
      listOpenOrders(db, { account }),
    ]);
    const local: LocalAccountView = {
      positions: Object.fromEntries(positions.map((p) => [p.marketId, p.quantity])),
      cash: balance.cash,
      openOrders: Object.fromEntries(localOpen.map((o) => [o.clientOrderId, { marketId: o.marketId, state: o.state, filledQuantity: o.filledQuantity }])),
    };
    const remoteOrders: VenueAccountView['openOrders'] = Object.fromEntries(
      venueOpen.map((o) => [o.clientOrderId, { marketId: o.marketId, status: o.status, filledQuantity: o.filledQuantity }]),
    );
    // Open here, no longer open there (filled or canceled while no workflow polled): ask the venue.
    const unknown = localOpen.filter((o) => !remoteOrders[o.clientOrderId]).slice(0, PREFLIGHT_ORDER_LOOKUPS);
    for (const found of await Promise.all(unknown.map((o) => venue.getOrderByClientId(o.clientOrderId)))) {
      if (found) remoteOrders[found.clientOrderId] = { marketId: found.marketId, status: found.status, filledQuantity: found.filledQuantity };
    }
    const remote: VenueAccountView = {
      positions: Object.fromEntries(venuePositions.map((p) => [p.marketId, p.quantity])),
      cash: balance.cash,
      openOrders: remoteOrders,
    };
    const found = reconcile(local, remote, { cash: config.reconciliation.cashTolerance as Money });
    if (found.length === 0) return { ok: true, detail: 'positions and open orders agree with the venue (cash is not kept in the records)' };
    const decision = decideReconciliation(found, config.reconciliation.policy);
    const shown = found.slice(0, 5).map((d) => `${d.severity} ${d.message}`);
    if (found.length > shown.length) shown.push(`and ${found.length - shown.length} more`);
    return { ok: !decision.halt, detail: `${decision.summary}: ${shown.join('; ')}` };
  }

  /**
   * A worker without SMTP still trades on paper: alerts are recorded and shown, not emailed, and
   * the check passes with that said. A configured server that does not answer fails the check.
   */
  async function alertingReachable(): Promise<Finding> {
    if (mailer === null) return { ok: true, detail: 'SMTP not configured: alerts are recorded but not emailed' };
    await mailer.verify();
    return { ok: true, detail: 'SMTP server answered' };
  }

  return {
    preflight: (input: { strategy: string; marketIds: string[] }): Promise<PreflightCheck[]> =>
      runActivity(async () => {
        validateKey(input?.strategy, 'strategy');
        const marketIds = Array.isArray(input.marketIds) ? input.marketIds.map((m, i) => validateMarketId(m, `marketIds[${i}]`)) : [];
        return Promise.all([
          check('VENUE_REACHABLE', venueReachable),
          check('MARKET_DATA_FRESH', () => marketDataFresh(marketIds)),
          check('RISK_CONFIG_VALID', riskConfigValid),
          check('RECONCILIATION_CLEAN', reconciliationClean),
          check('ALERTING_REACHABLE', alertingReachable),
        ]);
      }),
  };
}
