-- Medusa v2 Order Module (MikroORM, PostgreSQL): "order", order_summary, order_item, order_line_item
--
-- This is the state of those four tables after running every migration of packages/modules/order in order.
-- It was produced by replaying the migrations' SQL into PostgreSQL 15 and reading the result back (pg_dump).
-- Sources, repository github.com/medusajs/medusa:
--   git snapshot @ 59e6747800133e091d20c2c167f600981abc5c0d (develop, 2024-10-24, order module 2.0.0):
--     packages/modules/order/src/migrations/Migration20240219102530.ts  CREATE TABLE "order" / order_summary /
--       order_item / order_line_item, CREATE TYPE order_status_enum, display_id SERIAL then DROP NOT NULL
--       (generatePostgresAlterColummnIfExistStatement, packages/core/utils/src/common/alter-columns-helper.ts),
--       IDX_order_deleted_at, the FKs order_item -> "order"/order_line_item and order_line_item.totals_id -> order_item
--     ...Migration20240716081800.ts   order_line_item variant_id / product_id indexes
--     ...Migration20240821164505.ts   IDX_order_item_deleted_at, IDX_order_summary_deleted_at
--     ...Migration20240902195921.ts   order_line_item.is_custom_price
--     ...Migration20240913092514.ts   order_item.delivered_quantity / raw_delivered_quantity
--     ...Migration20240930122627.ts   order_item.unit_price / raw_unit_price
--     ...Migration20241014142943.ts   order_item.compare_at_unit_price / raw_compare_at_unit_price
--   later migrations, read from the file index of the same repository at the commit shown:
--     Migration20241106085223.ts (9af67e905a4077fc4b1d5cd80c8cc679fd8b0318) order_line_item.product_type_id
--     Migration20250326151554.ts (9af67e905a4077fc4b1d5cd80c8cc679fd8b0318) order_line_item.is_giftcard
--     Migration20250522181137.ts (9af67e905a4077fc4b1d5cd80c8cc679fd8b0318) order_summary_order_id_foreign
--     Migration20250910130000.ts (8f7d7d2b48b5c38ac8792cd011f812cc26f2fd36) re-creates all indexes
--       with WHERE deleted_at IS NULL (they had been IS NOT NULL)
--     Migration20251017155709.ts (8f7d7d2b48b5c38ac8792cd011f812cc26f2fd36) IDX_order_item_version -> IDX_order_item_order_id_version
--     Migration20251114100559.ts (8f7d7d2b48b5c38ac8792cd011f812cc26f2fd36) "order".custom_display_id + unique index,
--       order_item raw_*_quantity defaults '{"value":"0","precision":20}'
--     Migration20251210112909.ts (9af67e905a4077fc4b1d5cd80c8cc679fd8b0318) "order".locale
--     Migration20251210112924.ts (3b2a5b478d4b956944b8920aeb9ec53bfe4202d1) drops IDX_unique_order_item_version_item_id
--     Migration20251225120947.ts (3b2a5b478d4b956944b8920aeb9ec53bfe4202d1) shipping/billing address FKs ON DELETE SET NULL
--     (the newest migration seen, Migration20260729154253.ts @ 07d5f971ca3ff79b302bc0c26eecbdee22bcdada, and the
--      others in between only touch order_change, order_credit_line, order_address, adjustment/tax-line tables)
--   Models: packages/modules/order/src/models/order.ts, order-summary.ts, order-item.ts, line-item.ts.
--   Note: .snapshot-medusa-order.json lists "order".status as text with enumItems; the migrations actually
--   create the PostgreSQL enum type order_status_enum, which is what a migrated database has.
--   Left out: "order".shipping_address_id / billing_address_id FKs -> order_address(id) ON UPDATE CASCADE
--   ON DELETE SET NULL (order_address is not in this fixture). region_id, customer_id, sales_channel_id,
--   variant_id, product_id are ids of other modules (no FK across modules).
--
-- Money: numeric in MAJOR units (19.99, not 1999) with a raw_* jsonb twin {"value":"19.99","precision":20}
--   (MikroOrmBigNumberProperty; docs.medusajs.com/resources/lint/rules/prices-in-major-units: "Medusa stores
--   prices in major units"). One currency per order ("order".currency_code).
--   Quantities are numeric too (order_item.quantity).
-- Timestamps: timestamptz everywhere (created_at/updated_at DEFAULT now(), set by the app with new Date()
--   onCreate/onUpdate), i.e. absolute instants; "order".created_at is when the cart was completed
--   (core-flows cart/workflows/complete-cart.ts creates the order with status pending).
--
-- "order".status (enum OrderStatus, packages/core/utils/src/order/status.ts): pending, completed, draft,
--   archived, canceled, requires_action. Draft orders have is_draft_order = true.
-- Current version: an order is versioned; each confirmed order change bumps "order".version and writes new
--   order_item / order_summary (and order_shipping) rows for that version, older ones remain. The repository
--   (packages/modules/order/src/utils/base-repository-find.ts setFindMethods) loads
--     summary where order_summary.version = "order".version
--     items   where order_item.version = "order".version AND order_item.deleted_at IS NULL
--   and every find adds "order".deleted_at IS NULL. Undoing a change soft-deletes that version's rows and
--   decrements "order".version (order-module-service.ts undoLastChange_).
-- Totals: nothing on "order"; the module computes total from items + shipping methods (decorateCartTotals) and
--   stores the summary in order_summary.totals (jsonb): current_order_total, original_order_total,
--   transaction_total, pending_difference, difference_sum, paid_total, refunded_total plus raw_* twins
--   (packages/modules/order/src/utils/calculate-order-change.ts getSummary; order-module-service.ts createOrders).
--   So an order's current total = (order_summary.totals->>'current_order_total')::numeric of the summary row
--   with version = "order".version and deleted_at IS NULL; lines: order_item.quantity * order_item.unit_price
--   (falls back to order_line_item.unit_price when order_item.unit_price is NULL), excluding tax/discounts.
-- Admin "sales" figure: none. The admin dashboard home redirects to /orders
--   (packages/admin/dashboard/src/routes/home/home.tsx); the order list API forces is_draft_order: false
--   (packages/medusa/src/api/admin/orders/route.ts GET) and applies no status filter.

CREATE TYPE order_status_enum AS ENUM (
    'pending',
    'completed',
    'draft',
    'archived',
    'canceled',
    'requires_action'
);

CREATE TABLE "order" (
    "id" text NOT NULL,
    "region_id" text,
    "display_id" SERIAL,
    "customer_id" text,
    "version" integer DEFAULT 1 NOT NULL,
    "sales_channel_id" text,
    "status" order_status_enum DEFAULT 'pending' NOT NULL,
    "is_draft_order" boolean DEFAULT false NOT NULL,
    "email" text,
    "currency_code" text NOT NULL,
    "shipping_address_id" text,
    "billing_address_id" text,
    "no_notification" boolean,
    "metadata" jsonb,
    "created_at" timestamptz DEFAULT now() NOT NULL,
    "updated_at" timestamptz DEFAULT now() NOT NULL,
    "deleted_at" timestamptz,
    "canceled_at" timestamptz,
    "custom_display_id" text,
    "locale" text,
    CONSTRAINT "order_pkey" PRIMARY KEY ("id")
);
ALTER TABLE "order" ALTER COLUMN "display_id" DROP NOT NULL;

CREATE INDEX "IDX_order_deleted_at" ON "order" ("deleted_at");
CREATE INDEX "IDX_order_display_id" ON "order" ("display_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_region_id" ON "order" ("region_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_customer_id" ON "order" ("customer_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_sales_channel_id" ON "order" ("sales_channel_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_currency_code" ON "order" ("currency_code") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_shipping_address_id" ON "order" ("shipping_address_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_billing_address_id" ON "order" ("billing_address_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_is_draft_order" ON "order" ("is_draft_order") WHERE "deleted_at" IS NULL;
CREATE UNIQUE INDEX "IDX_order_custom_display_id" ON "order" ("custom_display_id") WHERE "deleted_at" IS NULL;

CREATE TABLE "order_summary" (
    "id" text NOT NULL,
    "order_id" text NOT NULL,
    "version" integer DEFAULT 1 NOT NULL,
    "totals" jsonb,
    "created_at" timestamptz DEFAULT now() NOT NULL,
    "updated_at" timestamptz DEFAULT now() NOT NULL,
    "deleted_at" timestamptz,
    CONSTRAINT "order_summary_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_order_summary_deleted_at" ON "order_summary" ("deleted_at") WHERE "deleted_at" IS NOT NULL;
CREATE INDEX "IDX_order_summary_order_id_version" ON "order_summary" ("order_id", "version") WHERE "deleted_at" IS NULL;

CREATE TABLE "order_item" (
    "id" text NOT NULL,
    "order_id" text NOT NULL,
    "version" integer NOT NULL,
    "item_id" text NOT NULL,
    "quantity" numeric NOT NULL,
    "raw_quantity" jsonb NOT NULL,
    "fulfilled_quantity" numeric NOT NULL,
    "raw_fulfilled_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "shipped_quantity" numeric NOT NULL,
    "raw_shipped_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "return_requested_quantity" numeric NOT NULL,
    "raw_return_requested_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "return_received_quantity" numeric NOT NULL,
    "raw_return_received_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "return_dismissed_quantity" numeric NOT NULL,
    "raw_return_dismissed_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "written_off_quantity" numeric NOT NULL,
    "raw_written_off_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "metadata" jsonb,
    "created_at" timestamptz DEFAULT now() NOT NULL,
    "updated_at" timestamptz DEFAULT now() NOT NULL,
    "deleted_at" timestamptz,
    "delivered_quantity" numeric DEFAULT 0 NOT NULL,
    "raw_delivered_quantity" jsonb DEFAULT '{"value":"0","precision":20}'::jsonb NOT NULL,
    "unit_price" numeric,
    "raw_unit_price" jsonb,
    "compare_at_unit_price" numeric,
    "raw_compare_at_unit_price" jsonb,
    CONSTRAINT "order_item_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_order_item_deleted_at" ON "order_item" ("deleted_at") WHERE "deleted_at" IS NOT NULL;
CREATE INDEX "IDX_order_item_item_id" ON "order_item" ("item_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_item_order_id" ON "order_item" ("order_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_item_order_id_version" ON "order_item" ("order_id", "version") WHERE "deleted_at" IS NULL;

CREATE TABLE "order_line_item" (
    "id" text NOT NULL,
    "totals_id" text,
    "title" text NOT NULL,
    "subtitle" text,
    "thumbnail" text,
    "variant_id" text,
    "product_id" text,
    "product_title" text,
    "product_description" text,
    "product_subtitle" text,
    "product_type" text,
    "product_collection" text,
    "product_handle" text,
    "variant_sku" text,
    "variant_barcode" text,
    "variant_title" text,
    "variant_option_values" jsonb,
    "requires_shipping" boolean DEFAULT true NOT NULL,
    "is_discountable" boolean DEFAULT true NOT NULL,
    "is_tax_inclusive" boolean DEFAULT false NOT NULL,
    "compare_at_unit_price" numeric,
    "raw_compare_at_unit_price" jsonb,
    "unit_price" numeric NOT NULL,
    "raw_unit_price" jsonb NOT NULL,
    "metadata" jsonb,
    "created_at" timestamptz DEFAULT now() NOT NULL,
    "updated_at" timestamptz DEFAULT now() NOT NULL,
    "deleted_at" timestamptz,
    "is_custom_price" boolean DEFAULT false NOT NULL,
    "product_type_id" text,
    "is_giftcard" boolean DEFAULT false NOT NULL,
    CONSTRAINT "order_line_item_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_order_line_item_product_id" ON "order_line_item" ("product_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_order_line_item_variant_id" ON "order_line_item" ("variant_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "IDX_line_item_product_type_id" ON "order_line_item" ("product_type_id") WHERE "deleted_at" IS NULL AND "product_type_id" IS NOT NULL;

ALTER TABLE "order_summary" ADD CONSTRAINT "order_summary_order_id_foreign" FOREIGN KEY ("order_id") REFERENCES "order" ("id") ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE "order_item" ADD CONSTRAINT "order_item_order_id_foreign" FOREIGN KEY ("order_id") REFERENCES "order" ("id") ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE "order_item" ADD CONSTRAINT "order_item_item_id_foreign" FOREIGN KEY ("item_id") REFERENCES "order_line_item" ("id") ON UPDATE CASCADE ON DELETE CASCADE;
-- legacy column from Migration20240219102530 (not in the line-item model any more)
ALTER TABLE "order_line_item" ADD CONSTRAINT "order_line_item_totals_id_foreign" FOREIGN KEY ("totals_id") REFERENCES "order_item" ("id") ON UPDATE CASCADE ON DELETE CASCADE;
