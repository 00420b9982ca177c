CREATE TABLE "accounts" (
	"site_number" text PRIMARY KEY NOT NULL,
	"company_name" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "allocations" (
	"allocation_id" text PRIMARY KEY NOT NULL,
	"line_id" text NOT NULL,
	"allocation_no" integer NOT NULL,
	"seats" integer NOT NULL,
	"expires_at" bigint,
	"created_at" bigint NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit" (
	"audit_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" bigint NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"site_number" text,
	"target" text,
	"detail" text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "entitlements" (
	"auth_code" text PRIMARY KEY NOT NULL,
	"product" text NOT NULL,
	"component" text,
	"version" text NOT NULL,
	"model" text NOT NULL,
	"seats" integer NOT NULL,
	"starts_at" bigint,
	"expires_at" bigint,
	"linger_seconds" integer NOT NULL,
	"hosts_per_user_max" integer NOT NULL,
	"order_number" text,
	"comment" text,
	"created_at" bigint NOT NULL,
	"site_number" text,
	"order_id" text,
	"line_id" text,
	"allocation_id" text,
	"activations_max" integer DEFAULT 1 NOT NULL,
	"rowid" bigint GENERATED ALWAYS AS IDENTITY (sequence name "entitlements_rowid_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1)
);
--> statement-breakpoint
CREATE TABLE "join_requests" (
	"request_id" text PRIMARY KEY NOT NULL,
	"site_number" text NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"order_number" text NOT NULL,
	"status" text NOT NULL,
	"created_at" bigint NOT NULL,
	"decided_at" bigint,
	"decided_by" text
);
--> statement-breakpoint
CREATE TABLE "license_keys" (
	"license_id" text PRIMARY KEY NOT NULL,
	"auth_code" text NOT NULL,
	"lock_codes" text NOT NULL,
	"host_description" text,
	"seats" integer NOT NULL,
	"key_text" text NOT NULL,
	"issued_at" bigint NOT NULL,
	"activation_no" integer,
	"seats_from_code" integer DEFAULT 0 NOT NULL,
	"supersedes" text,
	"site_number" text,
	"comment" text,
	"issued_by" text DEFAULT 'cli' NOT NULL,
	"rowid" bigint GENERATED ALWAYS AS IDENTITY (sequence name "license_keys_rowid_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1)
);
--> statement-breakpoint
CREATE TABLE "mail_outbox" (
	"mail_id" text PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"to_address" text NOT NULL,
	"subject" text NOT NULL,
	"text" text NOT NULL,
	"html" text,
	"attachments" text,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"claimed_until" bigint,
	"sent_at" bigint,
	"last_error" text,
	"rowid" bigint GENERATED ALWAYS AS IDENTITY (sequence name "mail_outbox_rowid_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1)
);
--> statement-breakpoint
CREATE TABLE "members" (
	"site_number" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	"added_at" bigint NOT NULL,
	"added_by" text NOT NULL,
	CONSTRAINT "members_site_number_user_id_pk" PRIMARY KEY("site_number","user_id")
);
--> statement-breakpoint
CREATE TABLE "order_lines" (
	"line_id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"site_number" text NOT NULL,
	"line_no" integer NOT NULL,
	"product" text NOT NULL,
	"version" text NOT NULL,
	"model" text NOT NULL,
	"quantity" integer NOT NULL,
	"components" text NOT NULL,
	"starts_at" bigint,
	"expires_at" bigint,
	"renews_line_id" text,
	"linger_seconds" integer NOT NULL,
	"hosts_per_user_max" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"order_id" text PRIMARY KEY NOT NULL,
	"site_number" text NOT NULL,
	"customer_order_number" text NOT NULL,
	"purchase_order_number" text,
	"contacts" text NOT NULL,
	"ordered_at" bigint NOT NULL,
	"created_by" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"bucket" text PRIMARY KEY NOT NULL,
	"window_start_ms" bigint NOT NULL,
	"count" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id_sha256" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"site_number" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "staff" (
	"name" text PRIMARY KEY NOT NULL,
	"token_sha256" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "staff_token_sha256_unique" UNIQUE("token_sha256")
);
--> statement-breakpoint
CREATE TABLE "user_tokens" (
	"token_sha256" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"purpose" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "users" (
	"user_id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text,
	"created_at" bigint NOT NULL,
	"password_changed_at" bigint,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
ALTER TABLE "allocations" ADD CONSTRAINT "allocations_line_id_order_lines_line_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."order_lines"("line_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "join_requests" ADD CONSTRAINT "join_requests_site_number_accounts_site_number_fk" FOREIGN KEY ("site_number") REFERENCES "public"."accounts"("site_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "license_keys" ADD CONSTRAINT "license_keys_auth_code_entitlements_auth_code_fk" FOREIGN KEY ("auth_code") REFERENCES "public"."entitlements"("auth_code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_site_number_accounts_site_number_fk" FOREIGN KEY ("site_number") REFERENCES "public"."accounts"("site_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_lines" ADD CONSTRAINT "order_lines_order_id_orders_order_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("order_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_site_number_accounts_site_number_fk" FOREIGN KEY ("site_number") REFERENCES "public"."accounts"("site_number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_tokens" ADD CONSTRAINT "user_tokens_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "allocations_line_no" ON "allocations" USING btree ("line_id","allocation_no");--> statement-breakpoint
CREATE INDEX "audit_site" ON "audit" USING btree ("site_number","at");--> statement-breakpoint
CREATE INDEX "entitlements_site" ON "entitlements" USING btree ("site_number");--> statement-breakpoint
CREATE INDEX "entitlements_line" ON "entitlements" USING btree ("line_id");--> statement-breakpoint
CREATE INDEX "join_requests_site" ON "join_requests" USING btree ("site_number","status");--> statement-breakpoint
CREATE INDEX "license_keys_auth_code" ON "license_keys" USING btree ("auth_code");--> statement-breakpoint
CREATE INDEX "license_keys_host" ON "license_keys" USING btree ("host_description");--> statement-breakpoint
CREATE INDEX "license_keys_site" ON "license_keys" USING btree ("site_number");--> statement-breakpoint
CREATE UNIQUE INDEX "license_keys_activation" ON "license_keys" USING btree ("auth_code","activation_no");--> statement-breakpoint
CREATE UNIQUE INDEX "license_keys_supersedes" ON "license_keys" USING btree ("supersedes");--> statement-breakpoint
CREATE INDEX "mail_outbox_due" ON "mail_outbox" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "members_user" ON "members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "order_lines_order" ON "order_lines" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "order_lines_site" ON "order_lines" USING btree ("site_number");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_site_number" ON "orders" USING btree ("site_number","customer_order_number");--> statement-breakpoint
CREATE INDEX "sessions_user" ON "sessions" USING btree ("user_id");