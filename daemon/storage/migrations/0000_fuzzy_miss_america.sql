CREATE TABLE `raft_log` (
	`idx` integer PRIMARY KEY NOT NULL,
	`term` integer NOT NULL,
	`kind` integer NOT NULL,
	`data` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `raft_snapshot` (
	`id` integer PRIMARY KEY NOT NULL,
	`snap_index` integer NOT NULL,
	`snap_term` integer NOT NULL,
	`conf_state` text NOT NULL,
	`data` blob NOT NULL
);
--> statement-breakpoint
CREATE TABLE `raft_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`term` integer NOT NULL,
	`vote` text NOT NULL,
	`commit_index` integer NOT NULL,
	`base_index` integer NOT NULL,
	`base_term` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`log_index` integer NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`feature` text NOT NULL,
	`version` text NOT NULL,
	`user` text NOT NULL,
	`host` text NOT NULL,
	`client_id` text NOT NULL,
	`count` integer NOT NULL,
	`lease_id` text NOT NULL,
	`waited_ms` integer NOT NULL,
	`code` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `usage_events_at` ON `usage_events` (`at`);--> statement-breakpoint
CREATE INDEX `usage_events_feature_at` ON `usage_events` (`feature`,`at`);