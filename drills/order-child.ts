/**
 * Drill 1's worker stand-in: one order lifecycle in a process of its own, on the real
 * activities, the real records and the exchange over HTTP. The parent kills it with SIGKILL and
 * starts it again with the same input. It reports where it is on stdout ("POINT <name>") and,
 * when told to (`pauseAt`), stops at that point for the parent's kill to land exactly there.
 * Its last line is "DONE <status json>" or "FAILED <message>".
 *
 * The history: every activity outcome (after its retries) is appended to a file before the
 * lifecycle sees it, as the Temporal server appends ActivityTaskCompleted/Failed to the
 * workflow's history. A restarted process replays the recorded outcomes in order and executes
 * from the first call the history does not hold: the activity the killed worker was inside is
 * executed again, completed ones are not. (`replay: false` executes everything again.)
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { OrderActivities } from '../contracts/activities';
import { openDatabase, type DatabaseConfig } from '../db/client';
import type { OrderWorkflowInput } from '../workflows/api';
import { CapturingMailer, makeDeps } from '../testkit/activities-harness';
import { createActivities } from '../activities/index';
import { orderRules, runLifecycle, withRetryPolicies } from './controllers';
import { DRILL_LIMITS, venueAt } from './world';

export interface OrderChildSpec {
  db: DatabaseConfig;
  venueUrl: string;
  input: OrderWorkflowInput;
  /** Stop (and wait to be killed) on reaching this point. */
  pauseAt: string | null;
  /** Give up after this long. */
  timeoutMs: number;
  /** The run's history file (JSON lines). */
  historyFile: string;
  /** Replay recorded outcomes on a restart (Temporal's behaviour); false: execute every activity again. */
  replay: boolean;
}

type HistoryEvent = { seq: number; activity: string; result: unknown } | { seq: number; activity: string; failure: { type: string | null; message: string; nonRetryable: boolean } };

/** Records each outcome before returning it; on a restart returns the recorded ones in order. */
function withHistory(acts: OrderActivities, spec: OrderChildSpec): OrderActivities {
  const recorded: HistoryEvent[] =
    spec.replay && existsSync(spec.historyFile)
      ? readFileSync(spec.historyFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as HistoryEvent)
      : [];
  let seq = 0;
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(acts)) {
    out[name] = async (...args: unknown[]) => {
      const n = ++seq;
      const past = recorded.find((e) => e.seq === n);
      if (past) {
        if (past.activity !== name) throw new Error(`nondeterminism: history has ${past.activity} at ${n}, the lifecycle called ${name}`);
        if ('failure' in past) throw ApplicationFailure.create({ message: past.failure.message, type: past.failure.type ?? undefined, nonRetryable: past.failure.nonRetryable });
        return past.result;
      }
      let event: HistoryEvent;
      let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
      try {
        const value: unknown = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        event = { seq: n, activity: name, result: value ?? null };
        outcome = { ok: true, value };
      } catch (e) {
        const failure = e instanceof ApplicationFailure ? { type: e.type ?? null, message: e.message, nonRetryable: e.nonRetryable === true } : null;
        if (failure === null) throw e;
        event = { seq: n, activity: name, failure };
        outcome = { ok: false, error: e };
      }
      appendFileSync(spec.historyFile, `${JSON.stringify(event)}\n`);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    };
  }
  return out as unknown as OrderActivities;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function point(spec: OrderChildSpec, name: string): Promise<void> {
  say(`POINT ${name}`);
  if (spec.pauseAt !== name) return;
  setInterval(() => {}, 1_000);
  await new Promise<never>(() => {});
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.DRILL_ORDER_CHILD ?? 'null') as OrderChildSpec | null;
  if (!spec) throw new Error('DRILL_ORDER_CHILD is not set');
  const database = await openDatabase(spec.db, { migrate: false });
  const deps = makeDeps({ db: database.db, venue: venueAt(spec.venueUrl), mailer: new CapturingMailer(), config: { limits: DRILL_LIMITS } });
  const raw = createActivities(deps);
  const quantity = spec.input.order.quantity;
  const hooked: OrderActivities = {
    ...raw,
    submitOrder: async (order) => {
      await point(spec, 'before-submit');
      say('POINT submit-sending');
      const r = await raw.submitOrder(order);
      say(`POINT submit-answered ${r.outcome}`);
      return r;
    },
    pollOrder: async (clientOrderId, options) => {
      const progress = await raw.pollOrder(clientOrderId, options);
      const filled = progress.fills.reduce((n, f) => n + f.quantity, 0);
      if (filled > 0 && filled < quantity) await point(spec, 'between-fills');
      return progress;
    },
  };
  const acts = withHistory(withRetryPolicies(hooked, orderRules, { deadline: Date.now() + spec.timeoutMs }), spec);
  say('POINT start');
  const run = runLifecycle(acts, spec.input);
  const outcome = await run.outcome;
  if ('error' in outcome) {
    say(`FAILED ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`);
    await database.close();
    process.exit(1);
  }
  say(`DONE ${JSON.stringify({ state: outcome.status.state, filled: outcome.status.filledQuantity, venueOrderId: outcome.status.venueOrderId, submitAttempts: outcome.status.submitAttempts })}`);
  await database.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  say(`FAILED ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
