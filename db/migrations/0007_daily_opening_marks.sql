ALTER TABLE "daily_pnl" ADD COLUMN "opening_unrealized_pnl" numeric(20, 6);--> statement-breakpoint
ALTER TABLE "daily_pnl" ADD COLUMN "opened_at" timestamp (3) with time zone;