/**
 * Bare baseline workflows for bench/orchestration.bench.ts: the same Temporal work as an order
 * lifecycle (activities, local activities, timers) with no-op bodies, and a single activity call.
 * Bench-only: registered by the bench worker through bench/workflows/index.ts, never by the
 * production worker. Sandbox code like workflows/: no I/O, no clock, no randomness.
 */
import { ApplicationFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';

/** The no-op activities the bare workflows call; each returns the activity's wall clock (epoch ms). */
export interface BareActivities {
  benchStamp(): Promise<number>;
}

/** The Temporal work of one order lifecycle, as counted from a completed order's history. */
export interface LifecycleShape {
  /** Activities run through the server (ActivityTaskScheduled events). */
  activities: number;
  /** Local activities (risk check), recorded as markers. */
  localActivities: number;
  /** Timers awaited to completion (the wait before the first poll). */
  awaitedTimers: number;
  /** Timers started and never awaited (the order's time-to-live). */
  idleTimers: number;
  /** Length of each awaited timer, ms. */
  timerMs: number;
  /** Length of each idle timer, ms; they outlive the workflow, which never waits for them. */
  idleTimerMs: number;
}

const stamps = proxyActivities<BareActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 3 } });
const localStamps = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });

/** A bad shape is a bug in the bench: fail the workflow at once instead of retrying the task. */
function checkWhole(field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw ApplicationFailure.nonRetryable(`${field} must be a whole number from 0 to ${max}, got ${String(value)}`, 'InvalidInput');
  }
  return value;
}

/**
 * Local activities first (the risk check comes first in an order), then half the activities, the
 * timers, the other half: the order's sequence of server round trips without its bodies.
 * Returns the number of activity calls made.
 */
export async function bareLifecycleWorkflow(shape: LifecycleShape): Promise<number> {
  const locals = checkWhole('localActivities', shape.localActivities, 100);
  const remote = checkWhole('activities', shape.activities, 100);
  const awaited = checkWhole('awaitedTimers', shape.awaitedTimers, 10);
  const idle = checkWhole('idleTimers', shape.idleTimers, 10);
  const timerMs = checkWhole('timerMs', shape.timerMs, 60_000);
  const idleTimerMs = checkWhole('idleTimerMs', shape.idleTimerMs, 86_400_000);
  let calls = 0;
  for (let i = 0; i < locals; i++, calls++) await localStamps.benchStamp();
  const before = Math.ceil(remote / 2);
  for (let i = 0; i < before; i++, calls++) await stamps.benchStamp();
  for (let i = 0; i < idle; i++) void sleep(Math.max(1, idleTimerMs));
  for (let i = 0; i < awaited; i++) await sleep(Math.max(1, timerMs));
  for (let i = before; i < remote; i++, calls++) await stamps.benchStamp();
  return calls;
}

/** One activity call; returns the activity's wall clock, the moment the work was done. */
export async function bareOneActivityWorkflow(): Promise<number> {
  return stamps.benchStamp();
}
