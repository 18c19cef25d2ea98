CREATE TABLE `keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`provider` text NOT NULL,
	`key` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`remark` text DEFAULT '' NOT NULL,
	`blocked_reason` text,
	`blocked_at` integer,
	`cooldowns` text DEFAULT '{}' NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `keys_provider_key` ON `keys` (`provider`,`key`);--> statement-breakpoint
CREATE INDEX `keys_provider_seq` ON `keys` (`provider`,`seq`);