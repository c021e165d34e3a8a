/**
 * Every activity the workflows may call, built once from the worker's dependencies
 * (STYLE.md: activities come from a factory that receives them). The object is what the worker
 * registers; its type is checked against the interfaces the workflows proxy.
 */
import { createAlertActivities } from './alerts';
import type { ActivityDeps } from './deps';
import { createOperationsActivities } from './operations';
import { createOrderActivities } from './orders';
import { createSessionActivities } from './session';
import { runActivity } from './errors';
import type { AlertRequest, OperationsActivities, OrderActivities, SessionActivities } from '../contracts/activities';

export type AllActivities = OrderActivities & SessionActivities & OperationsActivities;

export function createActivities(deps: ActivityDeps) {
  const alerts = createAlertActivities(deps);
  const orders = createOrderActivities(deps);
  const session = createSessionActivities(deps);
  const operations = createOperationsActivities(deps, alerts);
  return {
    ...orders,
    ...session,
    ...operations,
    // Both the session and the operations workflows journal operator actions; one implementation serves both.
    recordOperatorAction: session.recordOperatorAction,
    raiseAlert: (alert: AlertRequest) => runActivity(() => alerts.raiseAlert(alert)),
  } satisfies AllActivities;
}

export type { ActivityDeps } from './deps';
