CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`provider` text NOT NULL,
	`model` text,
	`key_id` integer,
	`masked_key` text,
	`reason` text,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alerts_kind_provider_at` ON `alerts` (`kind`,`provider`,`at`);--> statement-breakpoint
CREATE INDEX `alerts_at` ON `alerts` (`at`);