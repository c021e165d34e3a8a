/**
 * Every activity the workflows may call, built once from the worker's dependencies
 * (activities come from a factory that receives them). The shared services (market
 * cache, fill sync, request window, last cash, alerts) are built here once and handed to each
 * factory; each factory holds one job. The object is what the worker registers; its type is
 * checked against the interfaces the workflows proxy, so a registered name cannot drift.
 */
import { createAdoptionActivities } from './adoption';
import { createDailyReportActivities } from './daily-report';
import { createDailyResetActivities } from './daily-reset';
import type { ActivityDeps } from './deps';
import { runActivity } from './errors';
import { createFillSyncActivities } from './fill-sync';
import { createKillSwitchActivities } from './kill-switch';
import { createMarketWatchActivities } from './market-watch';
import { createOrderActivities } from './orders';
import { createPreflightActivities } from './preflight';
import { createReconciliationActivities } from './reconciliation';
import { createResolutionActivities } from './resolution';
import { createServices } from './services';
import { createSettlementSyncActivities } from './settlement-sync';
import { createSessionRecordActivities } from './session-records';
import { createSessionSnapshotActivities } from './session-snapshot';
import { createShadowActivities } from './shadow';
import type { AlertRequest, OperationsActivities, OrderActivities, SessionActivities, ShadowActivities } from '../contracts/activities';

export type AllActivities = OrderActivities & SessionActivities & OperationsActivities & ShadowActivities;

export function createActivities(deps: ActivityDeps) {
  const services = createServices(deps);
  return {
    ...createOrderActivities(deps, services),
    ...createPreflightActivities(deps, services),
    ...createMarketWatchActivities(deps, services),
    ...createFillSyncActivities(services.fills),
    ...createSessionSnapshotActivities(deps, services),
    ...createKillSwitchActivities(deps, services),
    ...createSessionRecordActivities(deps, services),
    ...createReconciliationActivities(deps, services),
    ...createAdoptionActivities(deps),
    ...createResolutionActivities(deps, services),
    ...createSettlementSyncActivities(deps, services),
    ...createDailyResetActivities(deps),
    ...createDailyReportActivities(deps, services),
    ...createShadowActivities(deps, services),
    raiseAlert: (alert: AlertRequest) => runActivity(() => services.alerts.raiseAlert(alert)),
  } satisfies AllActivities;
}

export type { ActivityDeps } from './deps';
export type { ActivityServices } from './services';
