CREATE TABLE "venue_cursors" (
	"account" text PRIMARY KEY NOT NULL,
	"venue" text NOT NULL,
	"fill_cursor" text NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
