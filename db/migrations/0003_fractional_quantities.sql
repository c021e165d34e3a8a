ALTER TABLE "daily_pnl" ALTER COLUMN "contracts_traded" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "execution_quality" ALTER COLUMN "order_quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "execution_quality" ALTER COLUMN "filled_quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "fills" ALTER COLUMN "quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "filled_quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "filled_quantity" SET DEFAULT 0;--> statement-breakpoint
ALTER TABLE "position_history" ALTER COLUMN "quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "position_history" ALTER COLUMN "contracts_traded" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "positions" ALTER COLUMN "quantity" SET DATA TYPE numeric(20, 2);--> statement-breakpoint
ALTER TABLE "positions" ALTER COLUMN "quantity" SET DEFAULT 0;