CREATE TABLE `client_usage` (
	`client_id` integer NOT NULL,
	`period` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cached_tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`period`, `client_id`)
);
--> statement-breakpoint
CREATE TABLE `clients` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`key_hash` text,
	`key_hint` text NOT NULL,
	`allow` text,
	`expires_at` integer,
	`stored_objects` integer DEFAULT false NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`quotas` text DEFAULT '{}' NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `clients_key_hash` ON `clients` (`key_hash`);--> statement-breakpoint
CREATE INDEX `clients_seq` ON `clients` (`seq`);