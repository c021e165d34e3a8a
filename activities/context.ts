/**
 * The running activity's Temporal context, optional: the same functions run inside a worker,
 * in MockActivityEnvironment, and called directly (in-memory workflows, scripts), where there is
 * no attempt number, nothing to heartbeat and nothing to cancel.
 */
import { Context } from '@temporalio/activity';

export function currentContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** 1 on the first execution; higher when Temporal retries the activity. */
export const currentAttempt = (): number => currentContext()?.info.attempt ?? 1;

/** What the previous attempt heartbeated last, or undefined. */
export const lastHeartbeat = (): unknown => currentContext()?.info.heartbeatDetails;

export function heartbeat(details: unknown): void {
  currentContext()?.heartbeat(details);
}

/** Throws the cancellation (a CancelledFailure) if the activity has been cancelled. */
export function throwIfCancelled(): void {
  const ctx = currentContext();
  if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
}

/** Waits `ms`; inside an activity the wait ends early with a CancelledFailure on cancellation. */
export async function sleepUnlessCancelled(ms: number): Promise<void> {
  const ctx = currentContext();
  if (ctx) return ctx.sleep(Math.max(0, ms));
  await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
