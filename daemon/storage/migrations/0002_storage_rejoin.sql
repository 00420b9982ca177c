ALTER TABLE `raft_state` ADD `rejoining` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `raft_state` ADD `storage_id` text DEFAULT '' NOT NULL;