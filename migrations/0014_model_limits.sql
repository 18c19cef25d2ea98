CREATE TABLE `model_limits` (
	`provider` text NOT NULL,
	`model` text NOT NULL,
	`group_name` text DEFAULT '' NOT NULL,
	`requests_per_minute` integer,
	`tokens_per_minute` integer,
	`requests_per_day` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`provider`, `model`, `group_name`)
);
