CREATE TABLE `usage_batches` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`hour` integer NOT NULL,
	`entries` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_batches_hour` ON `usage_batches` (`hour`);--> statement-breakpoint
ALTER TABLE `keys` ADD `cooldown_next` integer;--> statement-breakpoint
ALTER TABLE `keys` ADD `checked_at` integer;--> statement-breakpoint
CREATE INDEX `keys_cooldown_next` ON `keys` (`cooldown_next`) WHERE cooldown_next IS NOT NULL;--> statement-breakpoint
CREATE INDEX `keys_blocked_checked` ON `keys` (`checked_at`) WHERE status = 'blocked';