CREATE TABLE "strategy_states" (
	"account" text NOT NULL,
	"strategy" text NOT NULL,
	"market_id" text NOT NULL,
	"strategy_name" text NOT NULL,
	"params" jsonb NOT NULL,
	"state" jsonb NOT NULL,
	"quoted_at" timestamp (3) with time zone NOT NULL,
	"trading_day" date NOT NULL,
	"session_id" text NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "strategy_states_pk" PRIMARY KEY("account","strategy","market_id")
);
