CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"level" text NOT NULL,
	"type" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"raised_at" timestamp (3) with time zone NOT NULL,
	"delivery" text DEFAULT 'PENDING' NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"delivery_error" text,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alerts_level_valid" CHECK (level in ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW')),
	CONSTRAINT "alerts_delivery_valid" CHECK (delivery in ('PENDING', 'SENT', 'FAILED', 'SUPPRESSED'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"event_key" text NOT NULL,
	"kind" text NOT NULL,
	"client_order_id" text,
	"market_id" text,
	"strategy" text,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_log_kind_valid" CHECK (kind in ('SIGNAL', 'ORDER_CREATED', 'ORDER_EVENT', 'FILL', 'SETTLEMENT', 'RISK_DECISION', 'BREAKER', 'OPERATOR_ACTION', 'RECONCILIATION'))
);
--> statement-breakpoint
CREATE TABLE "breaker_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_key" text NOT NULL,
	"strategy" text NOT NULL,
	"trading_day" date NOT NULL,
	"change" text NOT NULL,
	"kind" text NOT NULL,
	"reason" text NOT NULL,
	"observed" text,
	"limit_value" text,
	"since" timestamp (3) with time zone NOT NULL,
	"operator" text,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "breaker_events_change_valid" CHECK (change in ('TRIPPED', 'LIFTED'))
);
--> statement-breakpoint
CREATE TABLE "daily_pnl" (
	"account" text NOT NULL,
	"trading_day" date NOT NULL,
	"realized_pnl" numeric(20, 6) NOT NULL,
	"fees" numeric(20, 6) NOT NULL,
	"unrealized_pnl" numeric(20, 6) NOT NULL,
	"fill_count" integer NOT NULL,
	"contracts_traded" bigint NOT NULL,
	"notional_traded" numeric(20, 6) NOT NULL,
	"marked_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_pnl_pk" PRIMARY KEY("account","trading_day")
);
--> statement-breakpoint
CREATE TABLE "execution_quality" (
	"client_order_id" text PRIMARY KEY NOT NULL,
	"market_id" text NOT NULL,
	"side" text NOT NULL,
	"intended_price" numeric(20, 6) NOT NULL,
	"order_quantity" bigint NOT NULL,
	"filled_quantity" bigint NOT NULL,
	"average_fill_price" numeric(20, 6),
	"slippage" numeric(20, 6),
	"fees" numeric(20, 6) NOT NULL,
	"signal_at" timestamp (3) with time zone NOT NULL,
	"submitted_at" timestamp (3) with time zone,
	"first_fill_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"final_state" text NOT NULL,
	"record" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "execution_quality_side_valid" CHECK (side in ('BUY', 'SELL')),
	CONSTRAINT "execution_quality_state_valid" CHECK (final_state in ('CREATED', 'PENDING_SUBMIT', 'SUBMITTED', 'SUBMIT_UNKNOWN', 'PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'REJECTED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"trade_id" text PRIMARY KEY NOT NULL,
	"client_order_id" text NOT NULL,
	"account" text DEFAULT 'paper' NOT NULL,
	"market_id" text NOT NULL,
	"side" text NOT NULL,
	"quantity" bigint NOT NULL,
	"price" numeric(20, 6) NOT NULL,
	"fee" numeric(20, 6) NOT NULL,
	"filled_at" timestamp (3) with time zone NOT NULL,
	"trading_day" date NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fills_side_valid" CHECK (side in ('BUY', 'SELL')),
	CONSTRAINT "fills_quantity_positive" CHECK (quantity > 0),
	CONSTRAINT "fills_price_valid" CHECK (price > 0 and price < 1),
	CONSTRAINT "fills_fee_valid" CHECK (fee >= 0)
);
--> statement-breakpoint
CREATE TABLE "markets" (
	"market_id" text PRIMARY KEY NOT NULL,
	"venue_id" text DEFAULT 'paper' NOT NULL,
	"title" text,
	"category" text NOT NULL,
	"tick_size" numeric(20, 6) NOT NULL,
	"resolves_at" timestamp (3) with time zone,
	"outcome" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "markets_outcome_valid" CHECK (outcome in ('YES', 'NO')),
	CONSTRAINT "markets_tick_size_valid" CHECK (tick_size > 0 and tick_size < 1)
);
--> statement-breakpoint
CREATE TABLE "operator_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"sequence" integer NOT NULL,
	"action" text NOT NULL,
	"operator" text NOT NULL,
	"reason" text NOT NULL,
	"details" jsonb NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "operator_actions_action_valid" CHECK (action in ('HALT', 'RESUME', 'KILL_SWITCH', 'DAILY_RESET', 'RECONCILIATION_DECISION', 'SIGNAL_REJECTED', 'OVERRIDE')),
	CONSTRAINT "operator_actions_operator_present" CHECK (length(operator) > 0),
	CONSTRAINT "operator_actions_reason_present" CHECK (length(reason) > 0)
);
--> statement-breakpoint
CREATE TABLE "order_events" (
	"client_order_id" text NOT NULL,
	"seq" integer NOT NULL,
	"event_type" text NOT NULL,
	"state" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"detail" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_events_pk" PRIMARY KEY("client_order_id","seq"),
	CONSTRAINT "order_events_state_valid" CHECK (state in ('CREATED', 'PENDING_SUBMIT', 'SUBMITTED', 'SUBMIT_UNKNOWN', 'PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'REJECTED', 'EXPIRED')),
	CONSTRAINT "order_events_seq_positive" CHECK (seq > 0)
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"client_order_id" text PRIMARY KEY NOT NULL,
	"venue_order_id" text,
	"account" text DEFAULT 'paper' NOT NULL,
	"market_id" text NOT NULL,
	"side" text NOT NULL,
	"quantity" bigint NOT NULL,
	"limit_price" numeric(20, 6),
	"strategy" text NOT NULL,
	"session_id" text,
	"trading_day" date NOT NULL,
	"signal" jsonb,
	"state" text NOT NULL,
	"state_times" jsonb NOT NULL,
	"last_event_seq" integer DEFAULT 0 NOT NULL,
	"filled_quantity" bigint DEFAULT 0 NOT NULL,
	"fill_notional" numeric(20, 6) DEFAULT 0 NOT NULL,
	"fees" numeric(20, 6) DEFAULT 0 NOT NULL,
	"reject_reason" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "orders_side_valid" CHECK (side in ('BUY', 'SELL')),
	CONSTRAINT "orders_state_valid" CHECK (state in ('CREATED', 'PENDING_SUBMIT', 'SUBMITTED', 'SUBMIT_UNKNOWN', 'PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELED', 'REJECTED', 'EXPIRED')),
	CONSTRAINT "orders_quantity_positive" CHECK (quantity > 0),
	CONSTRAINT "orders_limit_price_valid" CHECK (limit_price > 0 and limit_price < 1),
	CONSTRAINT "orders_filled_quantity_valid" CHECK (filled_quantity >= 0)
);
--> statement-breakpoint
CREATE TABLE "position_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account" text NOT NULL,
	"market_id" text NOT NULL,
	"trade_id" text NOT NULL,
	"cause" text NOT NULL,
	"trading_day" date NOT NULL,
	"quantity" bigint NOT NULL,
	"cost_basis" numeric(20, 6) NOT NULL,
	"realized_pnl" numeric(20, 6) NOT NULL,
	"fees" numeric(20, 6) NOT NULL,
	"realized_delta" numeric(20, 6) NOT NULL,
	"fee" numeric(20, 6) NOT NULL,
	"contracts_traded" bigint NOT NULL,
	"notional_traded" numeric(20, 6) NOT NULL,
	"changed_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "position_history_cause_valid" CHECK (cause in ('FILL', 'SETTLEMENT'))
);
--> statement-breakpoint
CREATE TABLE "positions" (
	"account" text NOT NULL,
	"market_id" text NOT NULL,
	"quantity" bigint DEFAULT 0 NOT NULL,
	"cost_basis" numeric(20, 6) DEFAULT 0 NOT NULL,
	"realized_pnl" numeric(20, 6) DEFAULT 0 NOT NULL,
	"fees" numeric(20, 6) DEFAULT 0 NOT NULL,
	"fill_count" integer DEFAULT 0 NOT NULL,
	"last_trade_id" text,
	"mark_price" numeric(20, 6),
	"marked_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "positions_pk" PRIMARY KEY("account","market_id"),
	CONSTRAINT "positions_mark_price_valid" CHECK (mark_price > 0 and mark_price < 1),
	CONSTRAINT "positions_fees_valid" CHECK (fees >= 0)
);
--> statement-breakpoint
CREATE TABLE "reconciliation_discrepancies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"discrepancy_key" text NOT NULL,
	"kind" text NOT NULL,
	"market_id" text,
	"client_order_id" text,
	"local" jsonb,
	"venue" jsonb,
	"resolution" text,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"account" text DEFAULT 'paper' NOT NULL,
	"status" text NOT NULL,
	"policy" text,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"summary" jsonb,
	CONSTRAINT "reconciliation_runs_status_valid" CHECK (status in ('RUNNING', 'CLEAN', 'DISCREPANCIES', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "risk_decisions" (
	"decision_id" text PRIMARY KEY NOT NULL,
	"client_order_id" text,
	"account" text DEFAULT 'paper' NOT NULL,
	"strategy" text NOT NULL,
	"market_id" text NOT NULL,
	"approved" boolean NOT NULL,
	"violations" jsonb NOT NULL,
	"request" jsonb NOT NULL,
	"decided_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "risk_decisions_violations_match" CHECK (approved = (jsonb_array_length(violations) = 0))
);
--> statement-breakpoint
CREATE TABLE "trading_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"strategy" text NOT NULL,
	"trading_day" date NOT NULL,
	"account" text DEFAULT 'paper' NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone,
	"summary" jsonb,
	CONSTRAINT "trading_sessions_mode_valid" CHECK (mode in ('PAPER', 'LIVE', 'SHADOW')),
	CONSTRAINT "trading_sessions_status_valid" CHECK (status in ('RUNNING', 'HALTED', 'STOPPED', 'COMPLETED'))
);
--> statement-breakpoint
CREATE TABLE "venues" (
	"venue_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_dedupe_key_idx" ON "alerts" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "alerts_level_type_idx" ON "alerts" USING btree ("level","type","raised_at");--> statement-breakpoint
CREATE INDEX "alerts_time_idx" ON "alerts" USING btree ("raised_at");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_event_key_idx" ON "audit_log" USING btree ("event_key");--> statement-breakpoint
CREATE INDEX "audit_log_order_idx" ON "audit_log" USING btree ("client_order_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_time_idx" ON "audit_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "breaker_events_key_idx" ON "breaker_events" USING btree ("event_key");--> statement-breakpoint
CREATE INDEX "breaker_events_strategy_idx" ON "breaker_events" USING btree ("strategy","kind","id");--> statement-breakpoint
CREATE INDEX "execution_quality_market_idx" ON "execution_quality" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "fills_order_idx" ON "fills" USING btree ("client_order_id");--> statement-breakpoint
CREATE INDEX "fills_position_idx" ON "fills" USING btree ("account","market_id");--> statement-breakpoint
CREATE INDEX "fills_day_idx" ON "fills" USING btree ("trading_day");--> statement-breakpoint
CREATE INDEX "markets_venue_idx" ON "markets" USING btree ("venue_id");--> statement-breakpoint
CREATE UNIQUE INDEX "operator_actions_key_idx" ON "operator_actions" USING btree ("workflow_id","sequence");--> statement-breakpoint
CREATE INDEX "operator_actions_time_idx" ON "operator_actions" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "orders_state_idx" ON "orders" USING btree ("state");--> statement-breakpoint
CREATE INDEX "orders_market_idx" ON "orders" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "orders_strategy_day_idx" ON "orders" USING btree ("strategy","trading_day");--> statement-breakpoint
CREATE INDEX "orders_day_idx" ON "orders" USING btree ("trading_day");--> statement-breakpoint
CREATE INDEX "orders_venue_order_idx" ON "orders" USING btree ("venue_order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "position_history_trade_idx" ON "position_history" USING btree ("trade_id");--> statement-breakpoint
CREATE INDEX "position_history_position_idx" ON "position_history" USING btree ("account","market_id","id");--> statement-breakpoint
CREATE INDEX "position_history_day_idx" ON "position_history" USING btree ("account","trading_day");--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliation_discrepancies_key_idx" ON "reconciliation_discrepancies" USING btree ("run_id","discrepancy_key");--> statement-breakpoint
CREATE INDEX "reconciliation_runs_time_idx" ON "reconciliation_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "risk_decisions_order_idx" ON "risk_decisions" USING btree ("client_order_id");--> statement-breakpoint
CREATE INDEX "risk_decisions_strategy_idx" ON "risk_decisions" USING btree ("strategy","decided_at");--> statement-breakpoint
CREATE INDEX "trading_sessions_day_idx" ON "trading_sessions" USING btree ("trading_day","strategy");