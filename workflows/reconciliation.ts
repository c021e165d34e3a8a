/**
 * One reconciliation run (on a Schedule every 5 minutes, and at session start): compare, report,
 * apply the policy. Under HALT_AND_ALERT a critical mismatch halts the running sessions, then
 * alerts, and waits durably for an operator's decision, reminding them until one comes. It never
 * guesses: the venue's figures are adopted only under TRUST_VENUE or on an operator's word.
 *
 * Acting comes before telling: a halt must not wait on the mail server. Alerts have bounded
 * retries (env.alert); one that cannot be delivered is listed in `undeliveredAlerts` (the alert
 * row stays on the dashboard as FAILED) and the run carries on. A decision is kept from whenever
 * it arrives (even while the comparison still runs) and applied once the run waits for it.
 */
import type { AlertRequest, OperationsActivities, ReconciliationOutcome } from '../contracts/activities';
import type { OperatorRequest, ReconciliationDecisionAnswer, ReconciliationDecisionRequest, ReconciliationStatus, ReconciliationWorkflowInput } from './api';
import { DomainError, InvalidInput } from '../domain/errors';
import { AlertKey } from '../domain/ids';
import { validateOperatorRequest } from './validation';

/** patched() ids: histories recorded before these changes replay the old way. */
export const RECONCILIATION_PATCHES = {
  /** Halt the sessions, then alert (alerts bounded and never failing the run). Before: alert, then halt. */
  haltBeforeAlert: 'recon-halt-before-alert',
  /** Apply a decision that arrived before the run waited. Before: such a decision was dropped. */
  keepEarlyDecision: 'recon-keep-early-decision',
} as const;

export interface ReconciliationEnv {
  acts: OperationsActivities;
  waitFor(until: () => boolean, ms: number): Promise<boolean>;
  /** Signals a halt to a running session; false when it is no longer running. */
  haltSession(workflowId: string, request: OperatorRequest): Promise<boolean>;
  /**
   * Raises an alert with bounded retries. Resolves to null once delivered (or recorded), else to
   * why it was not; never rejects for a failed delivery. Default: acts.raiseAlert, failures caught.
   */
  alert?(alert: AlertRequest): Promise<string | null>;
  /** Temporal's patched(): false only while replaying a history recorded before the change. Default: true. */
  patched?(id: string): boolean;
}

const TERMINAL: ReadonlySet<ReconciliationStatus['phase']> = new Set(['CLEAN', 'REPORTED', 'DECIDED']);

export class ReconciliationRun {
  private phase: ReconciliationStatus['phase'] = 'CHECKING';
  private discrepancies = 0;
  private summary = '';
  private haltedSessions: string[] = [];
  private decision: ReconciliationDecisionRequest | null = null;
  /** The phase the decision arrived in: before WAITING_FOR_OPERATOR it was early. */
  private decisionArrivedIn: ReconciliationStatus['phase'] | null = null;
  private reminders = 0;
  private actionSequence = 0;
  private readonly undeliveredAlerts: string[] = [];
  readonly refusedSignals: string[] = [];

  constructor(
    readonly runId: string,
    readonly input: ReconciliationWorkflowInput,
    private readonly env: ReconciliationEnv,
  ) {}

  /** Checks a decision without keeping it (the update's validator); throws a DomainError saying why it is refused. */
  checkDecision(payload: unknown): ReconciliationDecisionRequest {
    const req = validateOperatorRequest(payload, 'reconciliationDecision');
    const decision = (payload as { decision?: unknown }).decision;
    if (decision !== 'ADOPT_VENUE' && decision !== 'STAY_HALTED') {
      throw InvalidInput.of('reconciliationDecision.decision', decision, 'must be ADOPT_VENUE or STAY_HALTED');
    }
    if (this.decision !== null) {
      throw InvalidInput.of('reconciliationDecision', decision, `refused: the run already has the decision ${this.decision.decision} from ${this.decision.operator}`);
    }
    if (TERMINAL.has(this.phase)) throw InvalidInput.of('reconciliationDecision', decision, `refused: the run ended ${this.phase} and needs no decision`);
    return { ...req, decision };
  }

  /** Keeps a valid decision (from the update, after its validator ran, or from the signal). */
  acceptDecision(payload: unknown): ReconciliationDecisionAnswer {
    const decision = this.checkDecision(payload);
    this.decision = decision;
    this.decisionArrivedIn = this.phase;
    return { accepted: true, runId: this.runId, decision: decision.decision, phase: this.phase };
  }

  /** The signal: a refused decision is only noted (the update answers the sender instead). */
  onDecision(payload: unknown): void {
    try {
      this.acceptDecision(payload);
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
      undeliveredAlerts: [...this.undeliveredAlerts],
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
    if (!this.patched(RECONCILIATION_PATCHES.haltBeforeAlert)) return this.alertThenHalt(outcome);

    if (!outcome.decision.halt) {
      if (policy === 'TRUST_VENUE') {
        await acts.adoptVenueFigures({ runId: this.runId, operator: 'reconciliation', reason: `policy TRUST_VENUE: ${outcome.decision.summary}` });
      }
      if (outcome.decision.alertLevel !== null) await this.alert(this.mismatchAlert(outcome, outcome.decision.alertLevel));
      this.phase = 'REPORTED';
      return this.status();
    }

    const reason = this.haltReason(outcome);
    await this.haltSessions(reason);
    this.phase = 'WAITING_FOR_OPERATOR';
    this.dropEarlyDecisionOnOldHistory();
    // The alerts go out while the run waits: a decision never waits on the mail server.
    const alerts: Promise<void>[] = [];
    if (outcome.decision.alertLevel !== null) alerts.push(this.alert(this.mismatchAlert(outcome, outcome.decision.alertLevel)));
    while (!(await this.env.waitFor(() => this.decision !== null, this.input.reminderMs))) {
      this.reminders++;
      alerts.push(this.alert(this.reminderAlert(reason)));
    }
    await this.applyDecision();
    await Promise.all(alerts);
    return this.status();
  }

  /** The order before RECONCILIATION_PATCHES.haltBeforeAlert, kept for histories recorded with it. */
  private async alertThenHalt(outcome: ReconciliationOutcome): Promise<ReconciliationStatus> {
    const { acts } = this.env;
    const level = outcome.decision.alertLevel;
    if (level !== null) await acts.raiseAlert(this.mismatchAlert(outcome, level));
    if (!outcome.decision.halt) {
      if (this.input.policy === 'TRUST_VENUE') {
        await acts.adoptVenueFigures({ runId: this.runId, operator: 'reconciliation', reason: `policy TRUST_VENUE: ${outcome.decision.summary}` });
      }
      this.phase = 'REPORTED';
      return this.status();
    }
    const reason = this.haltReason(outcome);
    await this.haltSessions(reason);
    this.phase = 'WAITING_FOR_OPERATOR';
    this.dropEarlyDecisionOnOldHistory();
    while (!(await this.env.waitFor(() => this.decision !== null, this.input.reminderMs))) {
      this.reminders++;
      await acts.raiseAlert(this.reminderAlert(reason));
    }
    await this.applyDecision();
    return this.status();
  }

  private patched(id: string): boolean {
    return this.env.patched ? this.env.patched(id) : true;
  }

  /** Before RECONCILIATION_PATCHES.keepEarlyDecision a decision that came before the wait was ignored. */
  private dropEarlyDecisionOnOldHistory(): void {
    if (this.decision === null || this.decisionArrivedIn === 'WAITING_FOR_OPERATOR') return;
    if (this.patched(RECONCILIATION_PATCHES.keepEarlyDecision)) return;
    this.refusedSignals.push(`reconciliationDecision: ${this.decision.decision} from ${this.decision.operator} arrived before the run waited (ignored by this run's version)`);
    this.decision = null;
    this.decisionArrivedIn = null;
  }

  private haltReason(outcome: ReconciliationOutcome): string {
    return `reconciliation ${this.runId}: ${outcome.decision.summary}`;
  }

  private async haltSessions(reason: string): Promise<void> {
    for (const session of await this.env.acts.listActiveSessions()) {
      if (await this.env.haltSession(session, { operator: 'reconciliation', reason })) this.haltedSessions.push(session);
    }
  }

  private async applyDecision(): Promise<void> {
    const decision = this.decision;
    if (decision === null) return;
    await this.env.acts.recordOperatorAction({
      action: 'RECONCILIATION_DECISION',
      operator: decision.operator,
      reason: decision.reason,
      workflowId: this.runId,
      sequence: ++this.actionSequence,
      details: { decision: decision.decision },
    });
    if (decision.decision === 'ADOPT_VENUE') {
      await this.env.acts.adoptVenueFigures({ runId: this.runId, operator: decision.operator, reason: decision.reason });
    }
    this.phase = 'DECIDED';
  }

  private async alert(request: AlertRequest): Promise<void> {
    const problem = this.env.alert
      ? await this.env.alert(request)
      : await this.env.acts.raiseAlert(request).then(
          () => null,
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
    if (problem !== null) this.undeliveredAlerts.push(`${request.dedupeKey}: ${problem}`);
  }

  private mismatchAlert(outcome: ReconciliationOutcome, level: AlertRequest['level']): AlertRequest {
    return {
      level,
      type: 'RECONCILIATION_MISMATCH',
      dedupeKey: AlertKey.reconciliationMismatch(this.runId),
      title: `Reconciliation mismatch (${this.input.policy})`,
      body: [outcome.decision.summary, ...outcome.discrepancies.map((d) => `${d.severity} ${d.kind}: ${d.message}`)].join('\n'),
    };
  }

  private reminderAlert(reason: string): AlertRequest {
    return {
      level: 'CRITICAL',
      type: 'RECONCILIATION_UNANSWERED',
      dedupeKey: AlertKey.reconciliationUnanswered(this.runId, this.reminders),
      title: 'Reconciliation mismatch still waits for a decision',
      body: `${reason}\nTrading stays halted. Send reconciliationDecision (ADOPT_VENUE or STAY_HALTED) to ${this.runId}.`,
    };
  }
}
