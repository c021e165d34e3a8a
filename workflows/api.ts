/**
 * Names shared by workflows, the worker and clients: task queue, workflow inputs, signals,
 * queries and search attributes. Sandbox-safe: clients import it too (STYLE.md, Temporal samples).
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { OrderContext, OrderIntent } from '../activities/types';
import type { Price, Quantity, Money } from './domain/money';
import type { OrderState, RecordedFill } from './domain/order';

export const TASK_QUEUE = 'durable-trader';

/** Custom search attributes for the Web UI; used only when the worker could register them. */
export const SA_MARKET = defineSearchAttributeKey('TradingMarket', SearchAttributeType.KEYWORD);
export const SA_STRATEGY = defineSearchAttributeKey('TradingStrategy', SearchAttributeType.KEYWORD);
export const SA_SIDE = defineSearchAttributeKey('TradingSide', SearchAttributeType.KEYWORD);
export const SA_ORDER_STATE = defineSearchAttributeKey('TradingOrderState', SearchAttributeType.KEYWORD);
export const ORDER_SEARCH_ATTRIBUTES = [SA_MARKET, SA_STRATEGY, SA_SIDE, SA_ORDER_STATE] as const;

/** Operator identity and reason carried by every control signal; both are required. */
export interface OperatorRequest {
  operator: string;
  reason: string;
}

// ---- order lifecycle ----

export interface OrderWorkflowInput {
  order: OrderIntent;
  context: OrderContext;
  /** Cancel an unfilled or partly filled order after this long (case study: 10 minutes). */
  ttlMs: number;
  halted: string | null;
  ordersInLastMinute: number;
  /** Set by the starter when the server accepted the custom search attributes. */
  searchAttributes: boolean;
}

export interface OrderTimings {
  riskCheckedAt: number | null;
  submittedAt: number | null;
  acknowledgedAt: number | null;
  firstFillAt: number | null;
  completedAt: number | null;
}

export interface OrderStatus {
  clientOrderId: string;
  marketId: string;
  side: 'BUY' | 'SELL';
  state: OrderState;
  quantity: Quantity;
  filledQuantity: Quantity;
  averageFillPrice: Price | null;
  fees: Money;
  venueOrderId: string | null;
  rejectReason: string | null;
  cancelRequested: OperatorRequest | null;
  fills: readonly RecordedFill[];
  timings: OrderTimings;
  submitAttempts: number;
  polls: number;
}

export const cancelOrderSignal = defineSignal<[OperatorRequest]>('cancel');
export const orderStatusQuery = defineQuery<OrderStatus>('orderStatus');
