CREATE TABLE `key_pages` (
	`provider` text NOT NULL,
	`page` integer NOT NULL,
	`keys` text NOT NULL,
	PRIMARY KEY(`provider`, `page`)
);
--> statement-breakpoint
CREATE INDEX `keys_provider_dynamic` ON `keys` (`provider`) WHERE status = 'blocked' OR cooldown_next IS NOT NULL;