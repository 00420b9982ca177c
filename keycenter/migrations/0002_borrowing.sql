ALTER TABLE `entitlements` ADD `borrow_hours_max` integer;--> statement-breakpoint
ALTER TABLE `order_lines` ADD `borrow_hours_max` integer;