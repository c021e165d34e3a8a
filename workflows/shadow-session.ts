/**
 * The shadow session (`shadow-<strategy>-<tradingDay>`, docs/design.md "SHADOW"): LIVE's market
 * watch, strategy, sizing and risk on the real venue's market data, executed on the paper fill
 * model; no order is ever sent to the venue. Each decision is compared, as it is taken, with a
 * replay of the same quotes and with the venue's book (activities/shadow.ts), and written to the
 * records under a key made here. A decision's paper order then works over the quotes that follow
 * until it fills or its time-to-live passes (`orderTtlMs`, LIVE's; behind `shadow-working-orders`).
 * Three misalignments in a row (reference 003,
 * `max_misalignment_count=3`) halt the session: journaled, alerted, and the run ends HALTED.
 *
 * `ShadowSession` holds the state and runs against an environment of activities, so tests drive
 * it without a server; `shadowSessionWorkflow` wires it to Temporal. A workflow of its own: the
 * trading session's histories are untouched.
 */
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ShadowActivities, ShadowDecisionResult } from '../contracts/activities';
import { DomainError, InvalidInput } from '../domain/errors';
import { AlertKey, shadowDecisionKey, shadowRunKey, shadowWorkflowId, validateKey, validateTradingDay } from '../domain/ids';
import { DEFAULT_PAPER_ORDER_TTL_MS, MAX_MISALIGNMENTS_IN_A_ROW, NO_STREAK, noteAlignment, type AlignmentStreak } from '../domain/shadow';
import { SHADOW_ACTIVITY_OPTIONS } from './activity-options';
import { watchActivityTimeouts } from './session';
import { shadowStatusQuery, type ShadowSessionInput, type ShadowStatus } from './shadow-api';

const CONTINUE_AS_NEW_AT = 8_000;

/** patched() ids: histories recorded before these changes replay the old way. */
export const SHADOW_PATCHES = {
  /** A decision's paper order works over the following quotes until it fills or its TTL passes. Before: tried on its decision quote only. */
  workingOrders: 'shadow-working-orders',
} as const;

export interface ShadowEnv {
  acts: ShadowActivities;
  /** `<workflow ID>/<first run ID>` of this shadow run. */
  shadowRun: string;
  continueAsNewSuggested(): boolean;
  continueAsNew(next: () => ShadowSessionInput): Promise<never>;
  /** Temporal's patched(): false only while replaying a history recorded before the change. Default: true. */
  patched?(id: string): boolean;
}

export class ShadowSession {
  private strategyState: Record<string, unknown>;
  private sequence: number;
  private streak: AlignmentStreak;
  private lastAt: number;
  private lastDecision: ShadowDecisionResult | null;
  private mode: ShadowStatus['mode'] = 'WATCHING';
  private haltReason: string | null = null;
  readonly shadowRun: string;

  constructor(
    readonly input: ShadowSessionInput,
    private readonly env: ShadowEnv,
  ) {
    const c = input.carry;
    this.shadowRun = c?.shadowRun ?? env.shadowRun;
    this.strategyState = c?.strategyState ?? {};
    this.sequence = c?.sequence ?? 0;
    this.streak = c?.streak ?? NO_STREAK;
    this.lastAt = c?.lastAt ?? 0;
    this.lastDecision = c?.lastDecision ?? null;
  }

  status(): ShadowStatus {
    return { mode: this.mode, shadowRun: this.shadowRun, streak: this.streak, haltReason: this.haltReason, lastDecision: this.lastDecision };
  }

  async run(): Promise<ShadowStatus> {
    const { input, env } = this;
    const sessionId = shadowWorkflowId(input.strategy, input.tradingDay);
    while (this.lastAt < input.endOfDayAt) {
      if (env.continueAsNewSuggested()) {
        await env.continueAsNew(() => ({
          ...input,
          carry: { shadowRun: this.shadowRun, strategyState: this.strategyState, sequence: this.sequence, streak: this.streak, lastAt: this.lastAt, lastDecision: this.lastDecision },
        }));
      }
      const watched = await env.acts.watchShadow({
        shadowRun: this.shadowRun,
        strategy: input.strategy,
        strategyName: input.strategyName,
        strategyParams: input.strategyParams,
        strategyState: this.strategyState,
        marketIds: input.marketIds,
        untilMs: Math.min(input.endOfDayAt, this.lastAt + input.watchPeriodMs),
        pollIntervalMs: input.pollIntervalMs,
      });
      this.strategyState = watched.strategyState;
      this.lastAt = Math.max(this.lastAt, watched.at);
      if (watched.signal === null || watched.quotedAt === null) continue;

      const decisionKey = shadowDecisionKey(this.shadowRun, ++this.sequence);
      const working = env.patched?.(SHADOW_PATCHES.workingOrders) ?? true;
      const result = await env.acts.compareShadowDecision({
        decisionKey,
        shadowRun: this.shadowRun,
        sessionId,
        strategy: input.strategy,
        strategyName: input.strategyName,
        strategyParams: input.strategyParams,
        tradingDay: input.tradingDay,
        signal: watched.signal,
        quotedAt: watched.quotedAt,
        decidedAt: watched.at,
        fillModel: input.fillModel,
        toleranceMs: input.toleranceMs ?? input.pollIntervalMs,
        ...(working ? { orderTtlMs: input.orderTtlMs ?? DEFAULT_PAPER_ORDER_TTL_MS } : {}),
      });
      this.lastDecision = result;
      const noted = noteAlignment(this.streak, result.aligned, input.maxMisalignments ?? MAX_MISALIGNMENTS_IN_A_ROW);
      this.streak = noted.streak;
      if (noted.halt) {
        await this.halt(sessionId, decisionKey);
        return this.status();
      }
    }
    this.mode = 'ENDED';
    return this.status();
  }

  /**
   * Journals the halt (under the shadow run: a shadow session started again the same day is a new
   * run) and raises one HIGH alert. HIGH, not the CRITICAL of reference 000's "trading halted due
   * to a risk limit": no money trades in SHADOW, but the strategy does not do live what it does in
   * replay, which must be looked at before any LIVE start.
   */
  private async halt(sessionId: string, decisionKey: string): Promise<void> {
    const { input } = this;
    const limit = input.maxMisalignments ?? MAX_MISALIGNMENTS_IN_A_ROW;
    this.mode = 'HALTED';
    this.haltReason = `${this.streak.misalignedInARow} shadow decisions in a row disagree with the replay (limit ${limit}); last ${decisionKey}`;
    await this.env.acts.recordOperatorAction({
      action: 'HALT',
      operator: 'shadow',
      reason: this.haltReason,
      workflowId: this.shadowRun,
      sequence: this.sequence,
      details: { sessionId, decisionKey, decisions: this.streak.decisions, aligned: this.streak.aligned, misalignedInARow: this.streak.misalignedInARow },
    });
    await this.env.acts.raiseAlert({
      level: 'HIGH',
      type: 'SHADOW_MISALIGNED',
      dedupeKey: AlertKey.shadowMisaligned(this.shadowRun),
      title: `Shadow session halted: ${input.strategy} disagrees with its replay`,
      body: `${this.haltReason}. ${this.streak.aligned} of ${this.streak.decisions} decisions aligned in ${this.shadowRun}; the comparisons are in shadow_comparisons.`,
    });
  }
}

function validateShadowInput(input: ShadowSessionInput): void {
  validateKey(input?.strategy, 'strategy');
  validateTradingDay(input?.tradingDay);
  const ttl = input?.orderTtlMs;
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl < 1_000 || ttl > 86_400_000)) throw InvalidInput.of('orderTtlMs', ttl, 'must be whole milliseconds between 1 second and 24 hours');
}

export async function shadowSessionWorkflow(input: ShadowSessionInput): Promise<ShadowStatus> {
  try {
    validateShadowInput(input);
    const t = watchActivityTimeouts(input);
    const watch = proxyActivities<Pick<ShadowActivities, 'watchShadow'>>({ startToCloseTimeout: t.startToCloseMs, heartbeatTimeout: t.heartbeatMs, retry: SHADOW_ACTIVITY_OPTIONS.watchRetry });
    const compare = proxyActivities<Pick<ShadowActivities, 'compareShadowDecision'>>(SHADOW_ACTIVITY_OPTIONS.comparison);
    const records = proxyActivities<Pick<ShadowActivities, 'recordOperatorAction'>>(SHADOW_ACTIVITY_OPTIONS.records);
    const alerts = proxyActivities<Pick<ShadowActivities, 'raiseAlert'>>(SHADOW_ACTIVITY_OPTIONS.alerts);
    const info = workflowInfo();
    const session = new ShadowSession(input, {
      acts: { watchShadow: watch.watchShadow, compareShadowDecision: compare.compareShadowDecision, recordOperatorAction: records.recordOperatorAction, raiseAlert: alerts.raiseAlert },
      shadowRun: shadowRunKey(info.workflowId, info.firstExecutionRunId),
      continueAsNewSuggested: () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.continueAsNewAtEvents ?? CONTINUE_AS_NEW_AT),
      continueAsNew: async (next) => {
        await condition(allHandlersFinished);
        return continueAsNew<typeof shadowSessionWorkflow>(next());
      },
      patched,
    });
    setHandler(shadowStatusQuery, () => session.status());
    return await session.run();
  } catch (e) {
    if (e instanceof DomainError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  }
}
