-- EverShop (node-postgres, its own migrations): "order" + order_item
--
-- Source: the published package @evershop/evershop 2.2.1 (npm registry; the repository github.com/evershop/evershop
--   could not be fetched here, and the package carries the same src/ tree). The state after running every
--   migration of the package on an empty database, in the order EverShop runs them (module by module, each
--   module's Version-x.y.z files by version):
--   src/modules/checkout/migration/Version-1.0.0.js  CREATE TABLE "order" (order_id INT GENERATED ALWAYS AS IDENTITY,
--       ... "status" varchar NOT NULL DEFAULT NULL, created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP, ...),
--       CREATE TABLE "order_item" (... FK_ORDER ... ON DELETE CASCADE), CREATE INDEX "FK_ORDER" ON order_item
--       (order_item_order_id), trigger TRIGGER_AFTER_INSERT_ORDER_ITEM (stock; left out here, see below)
--   ...checkout/migration/Version-1.0.4.js  order_item.sub_total, "order".sub_total_incl_tax (ADD IF NOT EXISTS: present)
--   ...checkout/migration/Version-1.0.6.js  order_item: RENAME sub_total TO line_total, total TO line_total_incl_tax;
--       "order".total_tax_amount decimal(12,4) (the other ADD IF NOT EXISTS columns are already there)
--   ...checkout/migration/Version-1.0.8.ts  "order".shipping_method_data jsonb
--   ...checkout/migration/Version-1.0.9.ts  DROP "order".shipping_method, shipping_method_name
--   src/modules/oms/migration/Version-1.0.0.js   "order".shipment_status / payment_status: DROP NOT NULL, DEFAULT NULL
--   ...oms/migration/Version-1.0.1.js   "order".status (ADD IF NOT EXISTS varchar DEFAULT NULL: an install older
--       than checkout 1.0.0's status column gets it nullable, and a status resolved from the payment and shipment
--       statuses, or NULL with a warning where none resolves)
--   ...oms/migration/Version-1.0.2.ts   order_item.no_shipping_required, "order".no_shipping_required (DEFAULT FALSE)
--   ...oms/migration/Version-1.0.9.ts   order_item.package_length/width/height decimal(12,2), package_weight decimal(12,4)
--   ...oms/migration/Version-1.0.10.ts  "order".meta_data jsonb NOT NULL DEFAULT '{}'
--   No other migration of the package touches these two tables. Left out: the stock trigger on order_item
--   (its function updates product_inventory, not in this fixture). order_item.product_id has NO foreign key: a
--   deleted product leaves its order lines as they are.
--
-- NOT indexed: "order".created_at.
-- Time: created_at timestamptz (DEFAULT CURRENT_TIMESTAMP at insert): an absolute instant.
-- Money: decimal(12,4) in major units; grand_total is the order's total; one currency per order ("order".currency,
--   the store's currency when the order was placed).
-- An "order" row exists only once placed: carts are the separate "cart" table, and
--   src/modules/checkout/services/orderCreator.ts inserts the order with the default status.
-- Status (src/modules/oms/bootstrap.ts, the default `oms.order` config): status new -> processing -> completed ->
--   closed, or canceled (src/modules/oms/services/cancelOrder.ts sets payment canceled, shipments canceled, status
--   'canceled'); payment_status pending / paid / canceled; shipment_status is the roll-up of the shipments
--   (pending, partially_shipped, shipped, partially_delivered, delivered, partially_canceled, canceled). Payment
--   extensions add payment statuses (e.g. refunded); status values are config, extensible.
-- The admin dashboard: src/modules/oms/api/salestatistic/loadData.js sums grand_total and counts every order
--   (canceled ones too, all currencies added together) by created_at between 'YYYY-MM-DD 00:00:00' and
--   'YYYY-MM-DD 23:59:59' read in the database session's TimeZone; api/lifetimesales/loadData.js adds the
--   grand_total of every order ever, canceled included, formatted in the store's currency.

CREATE TABLE "order" (
  "order_id" INT GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1) PRIMARY KEY,
  "uuid" UUID NOT NULL DEFAULT gen_random_uuid (),
  "integration_order_id" varchar DEFAULT NULL,
  "sid" varchar DEFAULT NULL,
  "order_number" varchar NOT NULL,
  "status" varchar NOT NULL DEFAULT NULL,
  "cart_id" INT NOT NULL,
  "currency" varchar NOT NULL,
  "customer_id" INT DEFAULT NULL,
  "customer_email" varchar DEFAULT NULL,
  "customer_full_name" varchar DEFAULT NULL,
  "user_ip" varchar DEFAULT NULL,
  "user_agent" varchar DEFAULT NULL,
  "coupon" varchar DEFAULT NULL,
  "shipping_fee_excl_tax" decimal(12,4) DEFAULT NULL,
  "shipping_fee_incl_tax" decimal(12,4) DEFAULT NULL,
  "discount_amount" decimal(12,4) DEFAULT NULL,
  "sub_total" decimal(12,4) NOT NULL,
  "sub_total_incl_tax" decimal(12,4) NOT NULL,
  "sub_total_with_discount" decimal(12,4) NOT NULL,
  "sub_total_with_discount_incl_tax" decimal(12,4) NOT NULL,
  "total_qty" INT NOT NULL,
  "total_weight" decimal(12,4) DEFAULT NULL,
  "tax_amount" decimal(12,4) NOT NULL,
  "tax_amount_before_discount" decimal(12,4) NOT NULL,
  "shipping_tax_amount" decimal(12,4) NOT NULL,
  "shipping_note" text DEFAULT NULL,
  "grand_total" decimal(12,4) NOT NULL,
  "shipping_address_id" INT DEFAULT NULL,
  "payment_method" varchar DEFAULT NULL,
  "payment_method_name" varchar DEFAULT NULL,
  "billing_address_id" INT DEFAULT NULL,
  "shipment_status" varchar DEFAULT NULL,
  "payment_status" varchar DEFAULT NULL,
  "created_at" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  "total_tax_amount" decimal(12,4),
  "shipping_method_data" jsonb,
  "no_shipping_required" boolean DEFAULT FALSE,
  "meta_data" jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT "ORDER_UUID_UNIQUE" UNIQUE ("uuid"),
  CONSTRAINT "ORDER_NUMBER_UNIQUE" UNIQUE ("order_number")
);

CREATE TABLE "order_item" (
  "order_item_id" INT GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1) PRIMARY KEY,
  "uuid" UUID NOT NULL DEFAULT gen_random_uuid (),
  "order_item_order_id" INT NOT NULL,
  "product_id" INT NOT NULL,
  "referer" INT DEFAULT NULL,
  "product_sku" varchar NOT NULL,
  "product_name" text NOT NULL,
  "thumbnail" varchar DEFAULT NULL,
  "product_weight" decimal(12,4) DEFAULT NULL,
  "product_price" decimal(12,4) NOT NULL,
  "product_price_incl_tax" decimal(12,4) NOT NULL,
  "qty" INT NOT NULL,
  "final_price" decimal(12,4) NOT NULL,
  "final_price_incl_tax" decimal(12,4) NOT NULL,
  "tax_percent" decimal(12,4) NOT NULL,
  "tax_amount" decimal(12,4) NOT NULL,
  "tax_amount_before_discount" decimal(12,4) NOT NULL,
  "discount_amount" decimal(12,4) NOT NULL,
  "line_total" decimal(12,4) NOT NULL,
  "line_total_with_discount" decimal(12,4) NOT NULL,
  "line_total_incl_tax" decimal(12,4) NOT NULL,
  "line_total_with_discount_incl_tax" decimal(12,4) NOT NULL,
  "variant_group_id" INT DEFAULT NULL,
  "variant_options" text DEFAULT NULL,
  "product_custom_options" text DEFAULT NULL,
  "requested_data" text DEFAULT NULL,
  "no_shipping_required" boolean DEFAULT FALSE,
  "package_length" decimal(12,2),
  "package_width" decimal(12,2),
  "package_height" decimal(12,2),
  "package_weight" decimal(12,4),
  CONSTRAINT "ORDER_ITEM_UUID_UNIQUE" UNIQUE ("uuid"),
  CONSTRAINT "FK_ORDER" FOREIGN KEY ("order_item_order_id") REFERENCES "order" ("order_id") ON DELETE CASCADE
);
CREATE INDEX "FK_ORDER" ON "order_item" ("order_item_order_id");
