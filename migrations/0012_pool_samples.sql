CREATE TABLE `pool_samples` (
	`at` integer PRIMARY KEY NOT NULL,
	`counts` text NOT NULL
);
