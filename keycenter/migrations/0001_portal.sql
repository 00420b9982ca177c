CREATE TABLE `accounts` (
	`site_number` text PRIMARY KEY NOT NULL,
	`company_name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `allocations` (
	`allocation_id` text PRIMARY KEY NOT NULL,
	`line_id` text NOT NULL,
	`allocation_no` integer NOT NULL,
	`seats` integer NOT NULL,
	`expires_at` integer,
	`created_at` integer NOT NULL,
	`created_by` text NOT NULL,
	FOREIGN KEY (`line_id`) REFERENCES `order_lines`(`line_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `allocations_line_no` ON `allocations` (`line_id`,`allocation_no`);--> statement-breakpoint
CREATE TABLE `audit` (
	`audit_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`site_number` text,
	`target` text,
	`detail` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_site` ON `audit` (`site_number`,`at`);--> statement-breakpoint
CREATE TABLE `join_requests` (
	`request_id` text PRIMARY KEY NOT NULL,
	`site_number` text NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`order_number` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	FOREIGN KEY (`site_number`) REFERENCES `accounts`(`site_number`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `join_requests_site` ON `join_requests` (`site_number`,`status`);--> statement-breakpoint
CREATE TABLE `mail_outbox` (
	`mail_id` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`to_address` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text,
	`attachments` text,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`claimed_until` integer,
	`sent_at` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `mail_outbox_due` ON `mail_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `members` (
	`site_number` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`added_at` integer NOT NULL,
	`added_by` text NOT NULL,
	PRIMARY KEY(`site_number`, `user_id`),
	FOREIGN KEY (`site_number`) REFERENCES `accounts`(`site_number`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `members_user` ON `members` (`user_id`);--> statement-breakpoint
CREATE TABLE `order_lines` (
	`line_id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`site_number` text NOT NULL,
	`line_no` integer NOT NULL,
	`product` text NOT NULL,
	`version` text NOT NULL,
	`model` text NOT NULL,
	`quantity` integer NOT NULL,
	`components` text NOT NULL,
	`starts_at` integer,
	`expires_at` integer,
	`renews_line_id` text,
	`linger_seconds` integer NOT NULL,
	`hosts_per_user_max` integer NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`order_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `order_lines_order` ON `order_lines` (`order_id`);--> statement-breakpoint
CREATE INDEX `order_lines_site` ON `order_lines` (`site_number`);--> statement-breakpoint
CREATE TABLE `orders` (
	`order_id` text PRIMARY KEY NOT NULL,
	`site_number` text NOT NULL,
	`customer_order_number` text NOT NULL,
	`purchase_order_number` text,
	`contacts` text NOT NULL,
	`ordered_at` integer NOT NULL,
	`created_by` text NOT NULL,
	FOREIGN KEY (`site_number`) REFERENCES `accounts`(`site_number`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_site_number` ON `orders` (`site_number`,`customer_order_number`);--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`bucket` text PRIMARY KEY NOT NULL,
	`window_start_ms` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id_sha256` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`site_number` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `staff` (
	`name` text PRIMARY KEY NOT NULL,
	`token_sha256` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `staff_token_sha256_unique` ON `staff` (`token_sha256`);--> statement-breakpoint
CREATE TABLE `user_tokens` (
	`token_sha256` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`purpose` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `users` (
	`user_id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`password_hash` text,
	`created_at` integer NOT NULL,
	`password_changed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
ALTER TABLE `entitlements` ADD `site_number` text;--> statement-breakpoint
ALTER TABLE `entitlements` ADD `order_id` text;--> statement-breakpoint
ALTER TABLE `entitlements` ADD `line_id` text;--> statement-breakpoint
ALTER TABLE `entitlements` ADD `allocation_id` text;--> statement-breakpoint
ALTER TABLE `entitlements` ADD `activations_max` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `entitlements_site` ON `entitlements` (`site_number`);--> statement-breakpoint
CREATE INDEX `entitlements_line` ON `entitlements` (`line_id`);--> statement-breakpoint
ALTER TABLE `license_keys` ADD `activation_no` integer;--> statement-breakpoint
ALTER TABLE `license_keys` ADD `seats_from_code` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `license_keys` ADD `supersedes` text;--> statement-breakpoint
ALTER TABLE `license_keys` ADD `site_number` text;--> statement-breakpoint
ALTER TABLE `license_keys` ADD `comment` text;--> statement-breakpoint
ALTER TABLE `license_keys` ADD `issued_by` text DEFAULT 'cli' NOT NULL;--> statement-breakpoint
-- Keys issued before this migration: each took all its seats from its code, numbered in issue order.
UPDATE `license_keys` SET `seats_from_code` = `seats`, `activation_no` = (SELECT COUNT(*) FROM `license_keys` AS `earlier` WHERE `earlier`.`auth_code` = `license_keys`.`auth_code` AND `earlier`.`rowid` <= `license_keys`.`rowid`);--> statement-breakpoint
CREATE INDEX `license_keys_site` ON `license_keys` (`site_number`);--> statement-breakpoint
CREATE UNIQUE INDEX `license_keys_activation` ON `license_keys` (`auth_code`,`activation_no`);--> statement-breakpoint
CREATE UNIQUE INDEX `license_keys_supersedes` ON `license_keys` (`supersedes`);