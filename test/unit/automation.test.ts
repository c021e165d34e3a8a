/** Levels of automation, the pure parts: parsing the settings, when a level is journaled, late decisions, and the order state changes they use. */
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_OUTCOMES,
  automationLevelChanged,
  describeProposedOrder,
  lateDecisionOutcome,
  parseApprovalTimeout,
  parseAutomationLevel,
  validateAutomationSettings,
} from '../../domain/automation';
import { applyOrderEvent, createOrder, isTerminal, transitionTarget } from '../../domain/order';

describe('automation settings', () => {
  it('reads the three levels, case and spaces aside, and refuses anything else naming the field and value', () => {
    expect(parseAutomationLevel(' Semi-Auto ', 'AUTOMATION_LEVEL')).toBe('semi-auto');
    expect(parseAutomationLevel('alerts-only', 'AUTOMATION_LEVEL')).toBe('alerts-only');
    expect(() => parseAutomationLevel('manual', 'AUTOMATION_LEVEL')).toThrow('AUTOMATION_LEVEL: must be one of alerts-only, semi-auto, full (got "manual")');
  });

  it('reads approval timeouts as durations within 1 s .. 24 h', () => {
    expect(parseApprovalTimeout('5m', 'APPROVAL_TIMEOUT')).toBe(300_000);
    expect(parseApprovalTimeout('90s', 'APPROVAL_TIMEOUT')).toBe(90_000);
    expect(parseApprovalTimeout('1h', 'APPROVAL_TIMEOUT')).toBe(3_600_000);
    expect(parseApprovalTimeout('2500', 'APPROVAL_TIMEOUT')).toBe(2_500);
    for (const bad of ['0s', '25h', '5 minutes', '-5m', '1.5m', '', 'm']) {
      expect(() => parseApprovalTimeout(bad, 'APPROVAL_TIMEOUT'), bad).toThrow(/^APPROVAL_TIMEOUT: must be a duration/);
    }
  });

  it('checks the settings a workflow input carries, every bad field at once', () => {
    expect(validateAutomationSettings({ level: 'full', approvalTimeoutMs: 1_000 }, 'automation')).toEqual({ level: 'full', approvalTimeoutMs: 1_000 });
    expect(() => validateAutomationSettings({ level: 'x', approvalTimeoutMs: 0.5 }, 'automation')).toThrow(/automation\.level.*automation\.approvalTimeoutMs/);
    expect(() => validateAutomationSettings('full', 'automation')).toThrow(/^automation: must be an object/);
  });

  it('a level is journaled when it differs from the last journaled one; with none journaled, full (the default) is not', () => {
    expect(automationLevelChanged('full', null)).toBe(false);
    expect(automationLevelChanged('semi-auto', null)).toBe(true);
    expect(automationLevelChanged('semi-auto', 'semi-auto')).toBe(false);
    expect(automationLevelChanged('full', 'semi-auto')).toBe(true);
  });

  it('a late decision answers what happened first', () => {
    expect(lateDecisionOutcome('EXPIRED')).toBe('EXPIRED');
    expect(lateDecisionOutcome('APPROVED')).toBe('ALREADY_DECIDED');
    expect(lateDecisionOutcome('STOPPED')).toBe('ALREADY_DECIDED');
    expect(lateDecisionOutcome('NOT_REQUIRED')).toBe('NOT_AWAITING');
    expect(APPROVAL_OUTCOMES).toContain('REFUSED_BY_RISK');
  });

  it('a proposal tells the order it would place and the strategy reason', () => {
    const text = describeProposedOrder({ clientOrderId: 'ema-20261121-000003', marketId: 'PRES-2028', side: 'SELL', quantity: 25, limitPrice: 430_000, intent: 'EXIT', confidence: 0.7, metadata: { z: -2.1 } });
    expect(text).toContain('SELL 25 PRES-2028 at 0.43');
    expect(text).toContain('client order ID it would use: ema-20261121-000003');
    expect(text).toContain("strategy's reason: EXIT, confidence 0.7 (z=-2.1)");
  });
});

describe('order state changes of an unsent semi-automatic order', () => {
  const created = () => createOrder({ clientOrderId: 'ema-20261121-000001', marketId: 'PRES-2028', side: 'BUY', quantity: 10, limitPrice: 430_000, ts: 1_000 });

  it('expires from CREATED (unapproved past the deadline): terminal, nothing filled, no venue order', () => {
    const o = applyOrderEvent(created(), { type: 'OrderExpired', ts: 301_000 });
    expect(o).toMatchObject({ state: 'EXPIRED', venueOrderId: null, filledQuantity: 0, timestamps: { CREATED: 1_000, EXPIRED: 301_000 } });
    expect(isTerminal(o)).toBe(true);
    expect(() => applyOrderEvent(o, { type: 'OrderSubmitRequested', ts: 302_000 })).toThrow(/OrderSubmitRequested is not allowed in state EXPIRED/);
  });

  it('is rejected from CREATED (operator, risk at approval, halt) with the reason kept', () => {
    const o = applyOrderEvent(created(), { type: 'OrderRejected', reason: 'rejected by bo: news pending', ts: 2_000 });
    expect(o).toMatchObject({ state: 'REJECTED', rejectReason: 'rejected by bo: news pending' });
    expect(transitionTarget('CREATED', 'OrderSubmitRequested')).toBe('PENDING_SUBMIT');
  });
});
