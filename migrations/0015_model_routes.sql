CREATE TABLE `model_routes` (
	`name` text PRIMARY KEY NOT NULL,
	`targets` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`seq` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `model_routes_seq` ON `model_routes` (`seq`);