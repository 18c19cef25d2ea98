CREATE TABLE `day_tally` (
	`provider` text NOT NULL,
	`day` text NOT NULL,
	`counts` text NOT NULL,
	PRIMARY KEY(`provider`, `day`)
);
