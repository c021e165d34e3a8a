CREATE TABLE "live_capital_steps" (
	"account" text NOT NULL,
	"percent" integer NOT NULL,
	"capital_cap" numeric(20, 6) NOT NULL,
	"capital" numeric(20, 6) NOT NULL,
	"began_at" timestamp (3) with time zone NOT NULL,
	"reason" text NOT NULL,
	"recorded_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "live_capital_steps_pk" PRIMARY KEY("account","percent"),
	CONSTRAINT "live_capital_steps_percent_valid" CHECK (percent between 1 and 100)
);
