CREATE TABLE `entitlements` (
	`auth_code` text PRIMARY KEY NOT NULL,
	`product` text NOT NULL,
	`component` text,
	`version` text NOT NULL,
	`model` text NOT NULL,
	`seats` integer NOT NULL,
	`starts_at` integer,
	`expires_at` integer,
	`linger_seconds` integer NOT NULL,
	`hosts_per_user_max` integer NOT NULL,
	`order_number` text,
	`comment` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `license_keys` (
	`license_id` text PRIMARY KEY NOT NULL,
	`auth_code` text NOT NULL,
	`lock_codes` text NOT NULL,
	`host_description` text,
	`seats` integer NOT NULL,
	`key_text` text NOT NULL,
	`issued_at` integer NOT NULL,
	FOREIGN KEY (`auth_code`) REFERENCES `entitlements`(`auth_code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `license_keys_auth_code` ON `license_keys` (`auth_code`);--> statement-breakpoint
CREATE INDEX `license_keys_host` ON `license_keys` (`host_description`);