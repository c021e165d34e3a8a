import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../domain/errors';
import { usd, type Money } from '../../domain/money';
import { ORDER_STATES, TERMINAL_STATES } from '../../domain/order';
import {
  LOCAL_ORDER_PHASES,
  decideReconciliation,
  reconcile,
  type Discrepancy,
  type LocalAccountView,
  type LocalOrderView,
  type ReconciliationPolicy,
  type VenueAccountView,
  type VenueOrderStatus,
  type VenueOrderView,
} from '../../domain/reconciliation';

const tolerance = { cash: usd(0.01) };

function accounts(): { local: LocalAccountView; venue: VenueAccountView } {
  return {
    local: {
      positions: { A: 15, B: -10, FLAT: 0 },
      cash: usd(1000),
      openOrders: { 'o-1': { marketId: 'A', state: 'SUBMITTED', filledQuantity: 0 }, 'o-2': { marketId: 'B', state: 'PARTIALLY_FILLED', filledQuantity: 3 } },
    },
    venue: {
      positions: { A: 15, B: -10 },
      cash: usd(1000),
      openOrders: { 'o-1': { marketId: 'A', status: 'OPEN', filledQuantity: 0 }, 'o-2': { marketId: 'B', status: 'PARTIALLY_FILLED', filledQuantity: 3 } },
    },
  };
}

const lo = (state: string, filledQuantity = 0, marketId = 'A'): LocalOrderView => ({ marketId, state, filledQuantity });
const vo = (status: VenueOrderStatus, filledQuantity = 0, marketId = 'A'): VenueOrderView => ({ marketId, status, filledQuantity });

function only(ds: Discrepancy[]): Discrepancy {
  expect(ds).toHaveLength(1);
  return ds[0]!;
}

describe('reconcile', () => {
  it('matching books (a zero position counts as none) are clean', () => {
    const { local, venue } = accounts();
    expect(reconcile(local, venue, tolerance)).toEqual([]);
    const d = decideReconciliation([], 'HALT_AND_ALERT');
    expect(d).toMatchObject({ clean: true, halt: false, alertLevel: null, maxSeverity: null, adoptPositions: {}, adoptCash: null });
    expect(d.summary).toBe('reconciliation clean');
  });

  describe('positions: every difference is CRITICAL', () => {
    it('local only', () => {
      const { local, venue } = accounts();
      delete venue.positions.B;
      expect(only(reconcile(local, venue, tolerance))).toMatchObject({ kind: 'POSITION_LOCAL_ONLY', severity: 'CRITICAL', marketId: 'B', local: -10, venue: 0 });
    });

    it('venue only (including a venue position of a market local has at zero)', () => {
      const { local, venue } = accounts();
      venue.positions.FLAT = 4;
      const d = only(reconcile(local, venue, tolerance));
      expect(d).toMatchObject({ kind: 'POSITION_VENUE_ONLY', severity: 'CRITICAL', marketId: 'FLAT', local: 0, venue: 4 });
      expect(d.message).toContain('FLAT');
    });

    it('quantity mismatch, including a sign difference', () => {
      const { local, venue } = accounts();
      venue.positions.A = 12;
      venue.positions.B = 10;
      expect(reconcile(local, venue, tolerance).map((d) => [d.kind, d.marketId, d.local, d.venue, d.severity])).toEqual([
        ['POSITION_QUANTITY_MISMATCH', 'A', 15, 12, 'CRITICAL'],
        ['POSITION_QUANTITY_MISMATCH', 'B', -10, 10, 'CRITICAL'],
      ]);
    });
  });

  describe('cash', () => {
    const withCash = (venueCash: Money) => {
      const { local, venue } = accounts();
      venue.cash = venueCash;
      return reconcile(local, venue, { cash: usd(1), cashCritical: usd(5) });
    };

    it('within tolerance is no discrepancy', () => {
      expect(withCash(usd(1001))).toEqual([]);
      expect(withCash(usd(999))).toEqual([]);
    });

    it('beyond tolerance is a WARNING, beyond the critical band CRITICAL', () => {
      expect(only(withCash(usd(1001.000001)))).toMatchObject({ kind: 'CASH_MISMATCH', severity: 'WARNING', local: usd(1000), venue: usd(1001.000001), marketId: null });
      expect(only(withCash(usd(995)))).toMatchObject({ severity: 'WARNING' });
      expect(only(withCash(usd(994.99)))).toMatchObject({ severity: 'CRITICAL' });
    });

    it('the critical band defaults to ten times the tolerance', () => {
      const { local, venue } = accounts();
      venue.cash = usd(1000.1);
      expect(only(reconcile(local, venue, tolerance)).severity).toBe('WARNING');
      venue.cash = usd(1000.100001);
      expect(only(reconcile(local, venue, tolerance)).severity).toBe('CRITICAL');
    });

    it('a zero tolerance makes any difference CRITICAL', () => {
      const { local, venue } = accounts();
      venue.cash = usd(1000.000001);
      expect(only(reconcile(local, venue, { cash: usd(0) })).severity).toBe('CRITICAL');
    });
  });

  describe('orders', () => {
    const orders = (l: LocalOrderView | null, v: VenueOrderView | null) => {
      const { local, venue } = accounts();
      local.openOrders = l ? { x: l } : {};
      venue.openOrders = v ? { x: v } : {};
      return reconcile(local, venue, tolerance);
    };

    it('venue only and live is CRITICAL (unmanaged risk)', () => {
      expect(only(orders(null, vo('OPEN')))).toMatchObject({ kind: 'ORDER_VENUE_ONLY', severity: 'CRITICAL', clientOrderId: 'x', marketId: 'A', local: null, venue: 'OPEN' });
      expect(only(orders(null, vo('PARTIALLY_FILLED', 2))).severity).toBe('CRITICAL');
    });

    it('venue only and finished: WARNING with fills, INFO without', () => {
      expect(only(orders(null, vo('FILLED', 5))).severity).toBe('WARNING');
      expect(only(orders(null, vo('CANCELED', 2))).severity).toBe('WARNING');
      expect(only(orders(null, vo('REJECTED'))).severity).toBe('INFO');
      expect(only(orders(null, vo('EXPIRED'))).severity).toBe('INFO');
    });

    it('local only: INFO while submitting, WARNING when believed working, nothing when finished', () => {
      expect(only(orders(lo('PENDING_SUBMIT'), null))).toMatchObject({ kind: 'ORDER_LOCAL_ONLY', severity: 'INFO', local: 'PENDING_SUBMIT', venue: null });
      expect(only(orders(lo('SUBMIT_UNKNOWN'), null)).severity).toBe('INFO');
      expect(only(orders(lo('SUBMITTED'), null)).severity).toBe('WARNING');
      expect(only(orders(lo('PENDING_CANCEL', 1), null)).severity).toBe('WARNING');
      expect(orders(lo('FILLED', 5), null)).toEqual([]);
      expect(orders(lo('CANCELED'), null)).toEqual([]);
    });

    it('status: finished locally but live at the venue is CRITICAL', () => {
      expect(only(orders(lo('CANCELED'), vo('OPEN')))).toMatchObject({ kind: 'ORDER_STATUS_MISMATCH', severity: 'CRITICAL', local: 'CANCELED', venue: 'OPEN' });
    });

    it('status: working locally but finished at the venue is a WARNING', () => {
      expect(only(orders(lo('SUBMITTED'), vo('CANCELED')))).toMatchObject({ kind: 'ORDER_STATUS_MISMATCH', severity: 'WARNING' });
      expect(only(orders(lo('SUBMITTED'), vo('EXPIRED'))).severity).toBe('WARNING');
    });

    it('status: OPEN and PARTIALLY_FILLED are the same phase; the fill count is compared apart', () => {
      expect(orders(lo('PARTIALLY_FILLED', 2), vo('OPEN', 2))).toEqual([]);
      expect(orders(lo('SUBMITTED', 0), vo('PARTIALLY_FILLED', 0))).toEqual([]);
    });

    it('status: a cancel in flight matches a live or canceled venue order', () => {
      expect(orders(lo('PENDING_CANCEL'), vo('OPEN'))).toEqual([]);
      expect(orders(lo('PENDING_CANCEL'), vo('CANCELED'))).toEqual([]);
      expect(only(orders(lo('PENDING_CANCEL'), vo('EXPIRED'))).severity).toBe('INFO');
    });

    it('status: finished differently on both sides', () => {
      expect(only(orders(lo('CANCELED'), vo('EXPIRED')))).toMatchObject({ kind: 'ORDER_STATUS_MISMATCH', severity: 'INFO' });
      const ds = orders(lo('CANCELED', 0), vo('FILLED', 5));
      expect(ds.map((d) => [d.kind, d.severity])).toEqual([
        ['ORDER_STATUS_MISMATCH', 'WARNING'],
        ['ORDER_FILL_MISMATCH', 'WARNING'],
      ]);
    });

    it('status: still submitting locally is INFO whatever the venue says', () => {
      expect(only(orders(lo('SUBMIT_UNKNOWN'), vo('OPEN')))).toMatchObject({ kind: 'ORDER_STATUS_MISMATCH', severity: 'INFO' });
    });

    it('fills: venue ahead is a WARNING, local ahead is CRITICAL', () => {
      expect(only(orders(lo('PARTIALLY_FILLED', 2), vo('PARTIALLY_FILLED', 5)))).toMatchObject({ kind: 'ORDER_FILL_MISMATCH', severity: 'WARNING', local: 2, venue: 5 });
      expect(only(orders(lo('PARTIALLY_FILLED', 5), vo('PARTIALLY_FILLED', 2)))).toMatchObject({ kind: 'ORDER_FILL_MISMATCH', severity: 'CRITICAL', local: 5, venue: 2 });
    });

    it('the same client order ID in two markets is CRITICAL and nothing else is compared', () => {
      expect(only(orders(lo('SUBMITTED', 0, 'A'), vo('FILLED', 3, 'B')))).toMatchObject({ kind: 'ORDER_MARKET_MISMATCH', severity: 'CRITICAL', local: 'A', venue: 'B' });
    });

    it('order IDs named like Object.prototype members are ordinary IDs', () => {
      const { local, venue } = accounts();
      venue.openOrders = { ...venue.openOrders, constructor: vo('OPEN') };
      expect(only(reconcile(local, venue, tolerance))).toMatchObject({ kind: 'ORDER_VENUE_ONLY', clientOrderId: 'constructor' });
    });
  });

  it('lists positions, then cash, then orders, each sorted', () => {
    const { local, venue } = accounts();
    venue.positions = { B: -10, Z: 1, A: 14 };
    venue.cash = usd(0);
    venue.openOrders = { 'o-9': vo('OPEN'), ...venue.openOrders };
    expect(reconcile(local, venue, tolerance).map((d) => d.kind)).toEqual(['POSITION_QUANTITY_MISMATCH', 'POSITION_VENUE_ONLY', 'CASH_MISMATCH', 'ORDER_VENUE_ONLY']);
  });

  it('every state of the order state machine has a phase; its terminal states are finished', () => {
    for (const s of ORDER_STATES) expect(LOCAL_ORDER_PHASES[s], s).toBeDefined();
    for (const s of TERMINAL_STATES) expect(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED']).toContain(LOCAL_ORDER_PHASES[s]);
  });

  it('bad input names every bad field', () => {
    const { local, venue } = accounts();
    local.positions.A = 1.505;
    venue.cash = NaN as Money;
    local.openOrders['o-1'] = lo('DANCING');
    venue.openOrders['o-2'] = { marketId: 'B', status: 'LOST' as VenueOrderStatus, filledQuantity: -1 };
    try {
      reconcile(local, venue, { cash: usd(-1) });
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInput);
      expect((e as InvalidInput).problems.map((p) => p.field)).toEqual([
        'local.positions.A',
        'venue.cash',
        'local.openOrders.o-1.state',
        'venue.openOrders.o-2.filledQuantity',
        'venue.openOrders.o-2.status',
        'tolerance.cash',
      ]);
    }
    expect(() => reconcile(accounts().local, accounts().venue, { cash: usd(5), cashCritical: usd(1) })).toThrow(/tolerance.cashCritical/);
  });

  it('a caller can extend the local state names', () => {
    const { local, venue } = accounts();
    local.openOrders['o-1'] = lo('LIVE');
    expect(() => reconcile(local, venue, tolerance)).toThrow(InvalidInput);
    expect(reconcile(local, venue, tolerance, { ...LOCAL_ORDER_PHASES, LIVE: 'WORKING' })).toEqual([]);
  });
});

describe('decideReconciliation', () => {
  const position: Discrepancy = { kind: 'POSITION_QUANTITY_MISMATCH', severity: 'CRITICAL', marketId: 'A', clientOrderId: null, local: 15, venue: 12, message: '' };
  const localOnly: Discrepancy = { kind: 'POSITION_LOCAL_ONLY', severity: 'CRITICAL', marketId: 'B', clientOrderId: null, local: -3, venue: 0, message: '' };
  const cashWarn: Discrepancy = { kind: 'CASH_MISMATCH', severity: 'WARNING', marketId: null, clientOrderId: null, local: usd(10), venue: usd(10.5), message: '' };
  const venueOrder: Discrepancy = { kind: 'ORDER_VENUE_ONLY', severity: 'CRITICAL', marketId: 'A', clientOrderId: 'x', local: null, venue: 'OPEN', message: '' };
  const fillBehind: Discrepancy = { kind: 'ORDER_FILL_MISMATCH', severity: 'WARNING', marketId: 'A', clientOrderId: 'y', local: 1, venue: 3, message: '' };
  const info: Discrepancy = { kind: 'ORDER_LOCAL_ONLY', severity: 'INFO', marketId: 'A', clientOrderId: 'z', local: 'PENDING_SUBMIT', venue: null, message: '' };

  const decide = (ds: Discrepancy[], p: ReconciliationPolicy) => decideReconciliation(ds, p);

  it('WARN_ONLY never halts or adopts; the alert follows the worst severity', () => {
    expect(decide([position, cashWarn], 'WARN_ONLY')).toMatchObject({ clean: false, halt: false, alertLevel: 'CRITICAL', maxSeverity: 'CRITICAL', adoptPositions: {}, adoptCash: null });
    expect(decide([cashWarn], 'WARN_ONLY')).toMatchObject({ halt: false, alertLevel: 'MEDIUM' });
    expect(decide([info], 'WARN_ONLY')).toMatchObject({ clean: false, halt: false, alertLevel: 'LOW' });
  });

  it('HALT_AND_ALERT halts on WARNING or CRITICAL with a CRITICAL alert, never adopts', () => {
    expect(decide([position], 'HALT_AND_ALERT')).toMatchObject({ halt: true, alertLevel: 'CRITICAL', adoptPositions: {}, adoptCash: null });
    expect(decide([cashWarn], 'HALT_AND_ALERT')).toMatchObject({ halt: true, alertLevel: 'CRITICAL', adoptCash: null });
    expect(decide([info], 'HALT_AND_ALERT')).toMatchObject({ halt: false, alertLevel: 'LOW' });
  });

  it('TRUST_VENUE adopts the venue positions and cash with a HIGH alert', () => {
    const d = decide([position, localOnly, cashWarn, fillBehind], 'TRUST_VENUE');
    expect(d).toMatchObject({ halt: false, alertLevel: 'HIGH', adoptPositions: { A: 12, B: 0 }, adoptCash: usd(10.5) });
    expect(d.counts).toEqual({ INFO: 0, WARNING: 2, CRITICAL: 2 });
    expect(d.summary).toContain('adopting venue positions');
  });

  it('TRUST_VENUE still halts on a CRITICAL order discrepancy it cannot adopt', () => {
    expect(decide([position, venueOrder], 'TRUST_VENUE')).toMatchObject({ halt: true, alertLevel: 'CRITICAL', adoptPositions: { A: 12 } });
  });

  it('TRUST_VENUE with nothing to adopt alerts as WARN_ONLY would', () => {
    expect(decide([fillBehind], 'TRUST_VENUE')).toMatchObject({ halt: false, alertLevel: 'MEDIUM', adoptPositions: {}, adoptCash: null });
  });

  it('the summary counts by severity', () => {
    expect(decide([position, cashWarn, info], 'HALT_AND_ALERT').summary).toBe('3 discrepancies (1 CRITICAL, 1 WARNING, 1 INFO); policy HALT_AND_ALERT: trading halted');
  });

  it('an unknown policy is InvalidInput', () => {
    expect(() => decide([], 'TRUST_BROKER' as ReconciliationPolicy)).toThrow(InvalidInput);
  });

  it('end to end: a missed fill under each policy', () => {
    const { local, venue } = accounts();
    venue.positions.A = 20;
    venue.openOrders['o-1'] = vo('FILLED', 5);
    venue.cash = usd(997.85);
    const ds = reconcile(local, venue, tolerance);
    expect(ds.map((d) => `${d.kind}:${d.severity}`)).toEqual([
      'POSITION_QUANTITY_MISMATCH:CRITICAL',
      'CASH_MISMATCH:CRITICAL',
      'ORDER_STATUS_MISMATCH:WARNING',
      'ORDER_FILL_MISMATCH:WARNING',
    ]);
    expect(decideReconciliation(ds, 'WARN_ONLY')).toMatchObject({ halt: false, adoptPositions: {} });
    expect(decideReconciliation(ds, 'HALT_AND_ALERT')).toMatchObject({ halt: true, adoptPositions: {} });
    expect(decideReconciliation(ds, 'TRUST_VENUE')).toMatchObject({ halt: false, alertLevel: 'HIGH', adoptPositions: { A: 20 }, adoptCash: usd(997.85) });
  });
});
