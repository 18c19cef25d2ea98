ALTER TABLE `keys` ADD `key_group` text;--> statement-breakpoint
ALTER TABLE `keys` ADD `weight` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `keys` ADD `tier` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `keys_provider_group` ON `keys` (`provider`,`key_group`) WHERE key_group IS NOT NULL;