-- Each sink's delivery of one alert (activities/alerts.ts, issue 15): a retry re-sends only to the
-- sinks whose delivery failed.
CREATE TABLE "alert_deliveries" (
	"dedupe_key" text NOT NULL,
	"sink" text NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"error" text,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_deliveries_pk" PRIMARY KEY("dedupe_key","sink"),
	CONSTRAINT "alert_deliveries_sink_valid" CHECK (sink in ('EMAIL', 'WEBHOOK')),
	CONSTRAINT "alert_deliveries_state_valid" CHECK (state in ('PENDING', 'SENT', 'FAILED'))
);
