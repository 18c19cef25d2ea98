ALTER TABLE `keys` ADD `fingerprint` text;--> statement-breakpoint
CREATE UNIQUE INDEX `keys_provider_fingerprint` ON `keys` (`provider`,`fingerprint`);--> statement-breakpoint
CREATE INDEX `keys_unsealed` ON `keys` (`id`) WHERE fingerprint IS NULL AND status != 'deleted';