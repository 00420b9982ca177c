ALTER TABLE "entitlements" ADD COLUMN "borrow_hours_max" integer;--> statement-breakpoint
ALTER TABLE "order_lines" ADD COLUMN "borrow_hours_max" integer;