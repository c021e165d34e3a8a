CREATE TABLE "venue_order_ids" (
	"venue" text NOT NULL,
	"venue_order_id" text NOT NULL,
	"client_order_id" text NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "venue_order_ids_pk" PRIMARY KEY("venue","venue_order_id")
);
--> statement-breakpoint
CREATE TABLE "venue_settlements" (
	"account" text NOT NULL,
	"venue" text NOT NULL,
	"settlement_id" text NOT NULL,
	"market_id" text NOT NULL,
	"result" text NOT NULL,
	"quantity" numeric(20, 2) NOT NULL,
	"cash" numeric(20, 6) NOT NULL,
	"fee" numeric(20, 6) NOT NULL,
	"settled_at" timestamp (3) with time zone NOT NULL,
	"local_quantity" numeric(20, 2) NOT NULL,
	"realized_delta" numeric(20, 6) NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "venue_settlements_pk" PRIMARY KEY("account","venue","settlement_id"),
	CONSTRAINT "venue_settlements_result_valid" CHECK (result in ('YES', 'NO', 'VOID')),
	CONSTRAINT "venue_settlements_fee_valid" CHECK (fee >= 0)
);
--> statement-breakpoint
CREATE INDEX "venue_order_ids_client_idx" ON "venue_order_ids" USING btree ("client_order_id");--> statement-breakpoint
CREATE INDEX "venue_settlements_market_idx" ON "venue_settlements" USING btree ("account","market_id");