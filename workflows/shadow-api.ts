/**
 * The shadow session's input, status and query (workflows/shadow-session.ts). Sandbox-safe:
 * the worker and clients import it too.
 */
import { defineQuery } from '@temporalio/workflow';
import type { ShadowDecisionResult } from '../contracts/activities';
import type { FillModelParams } from '../domain/fill-model';
import type { AlignmentStreak } from '../domain/shadow';

export interface ShadowSessionInput {
  strategy: string;
  strategyName: string;
  strategyParams: Record<string, unknown>;
  tradingDay: string;
  marketIds: string[];
  /** Epoch ms (activity clock) at which the shadow day ends. */
  endOfDayAt: number;
  watchPeriodMs: number;
  pollIntervalMs: number;
  /** The paper fill model every decision executes on. */
  fillModel: FillModelParams;
  /** A decision's paper order works this long, as a LIVE order (config `orderTtlMs`; default domain/shadow.ts DEFAULT_PAPER_ORDER_TTL_MS). */
  orderTtlMs?: number;
  /** How far apart a decision and a replayed signal may be and still agree (default: one poll). */
  toleranceMs?: number;
  /** Misalignments in a row that halt the session (reference 003: 3). */
  maxMisalignments?: number;
  /** Hand over to a fresh run at this history length even if the server has not suggested it. */
  continueAsNewAtEvents?: number;
  carry?: ShadowCarry;
}

/** What a continued run takes over. */
export interface ShadowCarry {
  shadowRun: string;
  strategyState: Record<string, unknown>;
  sequence: number;
  streak: AlignmentStreak;
  lastAt: number;
  lastDecision: ShadowDecisionResult | null;
}

export interface ShadowStatus {
  mode: 'WATCHING' | 'HALTED' | 'ENDED';
  shadowRun: string;
  streak: AlignmentStreak;
  haltReason: string | null;
  lastDecision: ShadowDecisionResult | null;
}

export const shadowStatusQuery = defineQuery<ShadowStatus>('shadowStatus');
