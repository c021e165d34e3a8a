/**
 * Reconciliation against the venue (`reconcileAccount`), idempotent on the run ID: a finished run
 * answers with its recorded outcome.
 *
 * Before comparing it records the venue fills the ledger has not seen yet (the shared fill sync)
 * and settles markets the venue reports resolved: both are lag, not differences, and would
 * otherwise halt trading until the next order poll or resolution run.
 *
 * Local cash. The records keep fills, positions and settlements, not a cash balance. By the
 * ledger's identity (domain/ledger.ts `positionsNetCashFlow`) the cash that trading moved is,
 * summed over every position,
 *   net cash flow = realizedPnl - costBasis - fees
 * so local cash = baseline + net cash flow, where the baseline is the venue's cash minus the
 * net cash flow at the account's FIRST reconciliation run (recorded in that run's summary and
 * carried into each later one). The first run therefore cannot find a cash difference; every
 * later one finds any cash the venue moved that the records do not explain (deposits, fees not
 * recorded, a fill never synced). Adopting the venue's figures moves the baseline (adoption.ts).
 */
import { finishReconciliationRun, getOrder, listOpenOrders, listPositions, recordDiscrepancies, startReconciliationRun } from '../db';
import { InvalidInput, type FieldProblem } from '../domain/errors';
import { positionsNetCashFlow } from '../domain/ledger';
import type { Money } from '../domain/money';
import { decideReconciliation, reconcile, RECONCILIATION_POLICIES, type Discrepancy, type LocalOrderView, type VenueOrderView } from '../domain/reconciliation';
import type { OperationsActivities, ReconciliationOutcome } from '../contracts/activities';
import type { VenueOrder } from '../contracts/venue';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import { CASH_DERIVATION, getRun, latestAnchor, POSITION_KINDS, validText, type RunSummary } from './reconciliation-runs';
import { settleResolved } from './resolution';
import { syncSettlements } from './settlement-sync';
import type { ActivityServices } from './services';

function discrepancyKey(d: Discrepancy): string {
  if (d.kind === 'CASH_MISMATCH') return 'CASH';
  if (POSITION_KINDS.has(d.kind)) return `POSITION:${d.marketId}`;
  return `${d.kind}:${d.clientOrderId}`;
}

const ORDER_LOOKUP_CAP = 50;

async function reconcileAccount(deps: ActivityDeps, services: ActivityServices, input: { runId: string; policy: (typeof RECONCILIATION_POLICIES)[number] }): Promise<ReconciliationOutcome> {
  const { db, venue, config, clock } = deps;
  const account = config.account;
  const problems: FieldProblem[] = [];
  if (!validText(input?.runId, 200)) problems.push({ field: 'runId', value: input?.runId, problem: 'must be a workflow ID of 1-200 characters' });
  if (!RECONCILIATION_POLICIES.includes(input?.policy)) problems.push({ field: 'policy', value: input?.policy, problem: `must be one of ${RECONCILIATION_POLICIES.join(', ')}` });
  if (problems.length > 0) throw new InvalidInput(problems);
  const { runId, policy } = input;

  const prior = await getRun(db, runId);
  if (prior && prior.account !== account) throw InvalidInput.of('runId', runId, `is a run of account ${prior.account}, not ${account}`);
  const recorded = (prior?.summary as RunSummary | null)?.outcome;
  if (prior && prior.status !== 'RUNNING' && recorded) return recorded;

  await startReconciliationRun(db, { runId, account, policy, startedAt: clock() });
  // Fills the venue reported and resolutions it paid out are lag, not differences: bring the
  // records up to date with both first (each idempotent), then compare.
  // Settlements before resolutions: the venue's own settlement books the position it removed and
  // the cash it credited; a market it has not settled yet is still settled from its outcome.
  const synced = await services.fills.sync();
  const settlements = await syncSettlements(deps, services);
  await settleResolved(deps, services);

  const venuePositions = await venue.getPositions();
  const { cash: venueCash } = await venue.getBalance();
  const venueOpen = await venue.listOpenOrders();

  const recordedPositions = await listPositions(db, { account });
  const localOpen = await listOpenOrders(db, { account, limit: 100_000 });

  const venueOrders: Record<string, VenueOrderView> = {};
  const view = (o: VenueOrder): VenueOrderView => ({ marketId: o.marketId, status: o.status, filledQuantity: o.filledQuantity });
  for (const o of venueOpen) venueOrders[o.clientOrderId] = view(o);
  // Orders open here but no longer open there: ask the venue what became of them.
  let lookups = 0;
  for (const o of localOpen) {
    if (venueOrders[o.clientOrderId] || lookups >= ORDER_LOOKUP_CAP) continue;
    lookups++;
    const found = await venue.getOrderByClientId(o.clientOrderId);
    if (found) venueOrders[o.clientOrderId] = view(found);
  }
  const localOrders: Record<string, LocalOrderView> = {};
  for (const o of localOpen) localOrders[o.clientOrderId] = { marketId: o.marketId, state: o.state, filledQuantity: o.filledQuantity };
  // Orders live there and finished (or unknown) here.
  for (const o of venueOpen) {
    if (localOrders[o.clientOrderId]) continue;
    const mine = await getOrder(db, o.clientOrderId);
    if (mine && mine.account === account) localOrders[o.clientOrderId] = { marketId: mine.marketId, state: mine.state, filledQuantity: mine.filledQuantity };
  }

  const flow = positionsNetCashFlow(recordedPositions);
  const anchor = await latestAnchor(db, account, runId);
  const baseline = anchor ? anchor.baseline : ((venueCash - flow) as Money);
  const now = clock();
  const cash = {
    baseline,
    at: anchor ? anchor.at : now,
    source: anchor ? ('CARRIED' as const) : ('FIRST_RUN' as const),
    local: (baseline + flow) as Money,
    venue: venueCash,
    netCashFlow: flow,
    derivation: CASH_DERIVATION,
  };

  const discrepancies = reconcile(
    {
      positions: Object.fromEntries(recordedPositions.filter((p) => p.quantity !== 0).map((p) => [p.marketId, p.quantity])),
      cash: cash.local,
      openOrders: localOrders,
    },
    { positions: Object.fromEntries(venuePositions.filter((p) => p.quantity !== 0).map((p) => [p.marketId, p.quantity])), cash: venueCash, openOrders: venueOrders },
    { cash: config.reconciliation.cashTolerance as Money },
  );
  const decision = decideReconciliation(discrepancies, policy);
  const outcome: ReconciliationOutcome = { runId, discrepancies, decision, at: now };
  await recordDiscrepancies(
    db,
    runId,
    discrepancies.map((d) => ({
      key: discrepancyKey(d),
      kind: d.kind,
      marketId: d.marketId,
      clientOrderId: d.clientOrderId,
      local: d.local,
      venue: d.venue,
      resolution: `${d.severity}: ${d.message}`,
    })),
    now,
  );
  const summary: RunSummary = { outcome, cash, fillsSynced: synced.fillsInserted, settlementsBooked: settlements.settlementsBooked };
  await finishReconciliationRun(db, runId, { status: decision.clean ? 'CLEAN' : 'DISCREPANCIES', finishedAt: now, summary: summary as Record<string, unknown> });
  return outcome;
}

export function createReconciliationActivities(deps: ActivityDeps, services: ActivityServices): Pick<OperationsActivities, 'reconcileAccount'> {
  return {
    reconcileAccount: (input) => runActivity(() => reconcileAccount(deps, services, input)),
  };
}
