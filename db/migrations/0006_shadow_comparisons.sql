CREATE TABLE "shadow_comparisons" (
	"decision_key" text PRIMARY KEY NOT NULL,
	"shadow_run" text NOT NULL,
	"session_id" text NOT NULL,
	"strategy" text NOT NULL,
	"trading_day" date NOT NULL,
	"market_id" text NOT NULL,
	"side" text NOT NULL,
	"quantity" numeric(20, 2) NOT NULL,
	"limit_price" numeric(20, 6),
	"decided_at" timestamp (3) with time zone NOT NULL,
	"quoted_at" timestamp (3) with time zone NOT NULL,
	"touch" numeric(20, 6),
	"risk_approved" boolean NOT NULL,
	"aligned" boolean NOT NULL,
	"paper_filled" numeric(20, 2) NOT NULL,
	"paper_price" numeric(20, 6),
	"paper_fee" numeric(20, 6) NOT NULL,
	"book_filled" numeric(20, 2) NOT NULL,
	"book_price" numeric(20, 6),
	"modelled_slippage" numeric(20, 6),
	"observed_slippage" numeric(20, 6),
	"detail" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shadow_comparisons_side_valid" CHECK (side in ('BUY', 'SELL'))
);
--> statement-breakpoint
CREATE TABLE "shadow_quotes" (
	"shadow_run" text NOT NULL,
	"market_id" text NOT NULL,
	"kind" text NOT NULL,
	"quoted_at" timestamp (3) with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shadow_quotes_shadow_run_market_id_kind_quoted_at_pk" PRIMARY KEY("shadow_run","market_id","kind","quoted_at"),
	CONSTRAINT "shadow_quotes_kind_valid" CHECK (kind in ('WARM', 'QUOTE'))
);
--> statement-breakpoint
CREATE INDEX "shadow_comparisons_run_idx" ON "shadow_comparisons" USING btree ("shadow_run","decided_at");--> statement-breakpoint
CREATE INDEX "shadow_comparisons_strategy_idx" ON "shadow_comparisons" USING btree ("strategy","trading_day");