/**
 * One reconciliation run (on a Schedule every 5 minutes, and at session start): compare, report,
 * apply the policy. Under HALT_AND_ALERT a critical mismatch halts the running sessions and waits
 * durably for an operator's decision, reminding them until one comes. It never guesses: the
 * venue's figures are adopted only under TRUST_VENUE or on an operator's word.
 */
import type { OperationsActivities } from '../activities/types';
import type { OperatorRequest, ReconciliationDecisionRequest, ReconciliationStatus, ReconciliationWorkflowInput } from './api';
import { DomainError, InvalidInput } from './domain/errors';
import { validateOperatorRequest } from './validation';

export interface ReconciliationEnv {
  acts: OperationsActivities;
  waitFor(until: () => boolean, ms: number): Promise<boolean>;
  /** Signals a halt to a running session; false when it is no longer running. */
  haltSession(workflowId: string, request: OperatorRequest): Promise<boolean>;
}

export class ReconciliationRun {
  private phase: ReconciliationStatus['phase'] = 'CHECKING';
  private discrepancies = 0;
  private summary = '';
  private haltedSessions: string[] = [];
  private decision: ReconciliationDecisionRequest | null = null;
  private reminders = 0;
  private actionSequence = 0;
  readonly refusedSignals: string[] = [];

  constructor(
    readonly runId: string,
    readonly input: ReconciliationWorkflowInput,
    private readonly env: ReconciliationEnv,
  ) {}

  onDecision(payload: unknown): void {
    try {
      const req = validateOperatorRequest(payload, 'reconciliationDecision');
      const decision = (payload as { decision?: unknown }).decision;
      if (decision !== 'ADOPT_VENUE' && decision !== 'STAY_HALTED') {
        throw InvalidInput.of('reconciliationDecision.decision', decision, 'must be ADOPT_VENUE or STAY_HALTED');
      }
      if (this.phase === 'WAITING_FOR_OPERATOR' && this.decision === null) this.decision = { ...req, decision };
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      this.refusedSignals.push(e.message);
    }
  }

  status(): ReconciliationStatus {
    return {
      runId: this.runId,
      phase: this.phase,
      discrepancies: this.discrepancies,
      summary: this.summary,
      haltedSessions: this.haltedSessions,
      decision: this.decision,
      reminders: this.reminders,
    };
  }

  async run(): Promise<ReconciliationStatus> {
    const { acts } = this.env;
    const { policy } = this.input;
    const outcome = await acts.reconcileAccount({ runId: this.runId, policy });
    this.discrepancies = outcome.discrepancies.length;
    this.summary = outcome.decision.summary;
    if (outcome.decision.clean) {
      this.phase = 'CLEAN';
      return this.status();
    }
    const level = outcome.decision.alertLevel;
    if (level !== null) {
      await acts.raiseAlert({
        level,
        type: 'RECONCILIATION_MISMATCH',
        dedupeKey: `RECONCILIATION_MISMATCH:${this.runId}`,
        title: `Reconciliation mismatch (${policy})`,
        body: [outcome.decision.summary, ...outcome.discrepancies.map((d) => `${d.severity} ${d.kind}: ${d.message}`)].join('\n'),
      });
    }
    if (!outcome.decision.halt) {
      if (policy === 'TRUST_VENUE') {
        await acts.adoptVenueFigures({ runId: this.runId, operator: 'reconciliation', reason: `policy TRUST_VENUE: ${outcome.decision.summary}` });
      }
      this.phase = 'REPORTED';
      return this.status();
    }

    const reason = `reconciliation ${this.runId}: ${outcome.decision.summary}`;
    for (const session of await acts.listActiveSessions()) {
      if (await this.env.haltSession(session, { operator: 'reconciliation', reason })) this.haltedSessions.push(session);
    }
    this.phase = 'WAITING_FOR_OPERATOR';
    while (!(await this.env.waitFor(() => this.decision !== null, this.input.reminderMs))) {
      this.reminders++;
      await acts.raiseAlert({
        level: 'CRITICAL',
        type: 'RECONCILIATION_UNANSWERED',
        dedupeKey: `RECONCILIATION_UNANSWERED:${this.runId}:${this.reminders}`,
        title: 'Reconciliation mismatch still waits for a decision',
        body: `${reason}\nTrading stays halted. Send reconciliationDecision (ADOPT_VENUE or STAY_HALTED) to ${this.runId}.`,
      });
    }
    const decision = this.decision as ReconciliationDecisionRequest | null;
    if (decision === null) return this.status();
    await acts.recordOperatorAction({
      action: 'RECONCILIATION_DECISION',
      operator: decision.operator,
      reason: decision.reason,
      workflowId: this.runId,
      sequence: ++this.actionSequence,
      details: { decision: decision.decision },
    });
    if (decision.decision === 'ADOPT_VENUE') {
      await acts.adoptVenueFigures({ runId: this.runId, operator: decision.operator, reason: decision.reason });
    }
    this.phase = 'DECIDED';
    return this.status();
  }
}
