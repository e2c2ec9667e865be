-- Solidus (Rails / ActiveRecord, PostgreSQL adapter): spree_orders + spree_line_items
--
-- Source: github.com/solidusio/solidus @ 1f5bf5c638f5fe9fbda4d480bdb7ebcfa39a9a5e (main, 2026-08-19)
--   core/db/migrate/20160101010000_solidus_one_four.rb   (ActiveRecord::Migration[5.0])
--       create_table "spree_orders"      (every column, defaults, nullability and the 9 indexes below)
--       create_table "spree_line_items"  (every column, and the order_id / variant_id indexes)
--   core/db/migrate/20161009141333_remove_currency_from_line_items.rb
--       remove_column :spree_line_items, :currency        (so spree_line_items has no currency column)
--   core/db/migrate/20250129061658_add_metadata_to_spree_resources.rb  (Migration[7.0])
--       t.jsonb :customer_metadata, default: {} / t.jsonb :admin_metadata, default: {}  on both tables
--   No other core/db/migrate file touches these two tables. No core migration adds a FOREIGN KEY
--   between spree_line_items.order_id and spree_orders.id: the link is only the index
--   index_spree_line_items_on_order_id (belongs_to :order in core/app/models/spree/line_item.rb).
--   The optional solidus_promotions gem (promotions/db/migrate/20231104135812_add_managed_by_order_benefit_to_line_items.rb)
--   would add spree_line_items.managed_by_order_benefit_id (bigint, indexed, FK to solidus_promotions_benefits);
--   it is not part of core and is left out here.
--
-- Rails -> PostgreSQL type mapping used (rails activerecord/lib/active_record/migration/compatibility.rb):
--   Migration[5.0] create_table => id is "serial" integer PRIMARY KEY (V5_0#create_table: options[:id] = :integer)
--   t.string => character varying (limit: 32 => varchar(32));  t.decimal precision 10 scale 2 => numeric(10,2)
--   t.datetime with no precision in a <7.0 migration => "timestamp without time zone" (V6_1/V5_2: precision nil)
--   t.datetime precision: 6 => timestamp(6) without time zone;  t.integer => integer;  t.jsonb => jsonb
--
-- Time zone: Rails' default ActiveRecord.default_timezone = :utc, so every timestamp column holds UTC
--   wall-clock time in a zone-less column. completed_at is set by Spree::Order#finalize ("touch :completed_at",
--   core/app/models/spree/order.rb) when the order enters state "complete".
-- Money: major units (e.g. 19.99) in numeric(10,2), one currency per order (spree_orders.currency, NULL
--   means Spree::Config[:currency], see Spree::Order#currency). total = item_total + shipment_total +
--   adjustment_total (Spree::OrderUpdater#recalculate_order_total, core/app/models/spree/order_updater.rb);
--   item_total = sum of line_items amount (price * quantity).
--
-- spree_orders.state values (state_machine, core/app/models/spree/core/state_machines/order/class_methods.rb
--   + checkout_flow in core/app/models/spree/order.rb): cart (initial), address, delivery, payment (only if
--   payment_required?), confirm, complete, canceled (cancel, from complete), resumed (resume, from canceled),
--   awaiting_return (authorize_return, from complete), returned (return, from complete/awaiting_return).
--   (payment_state and shipment_state are separate columns: balance_due/paid/credit_owed/failed/void/...,
--   pending/ready/shipped/partial/backorder/canceled.)
--
-- Which orders count as sales:
--   Spree::Order.complete  = where.not(completed_at: nil)           (core/app/models/spree/order.rb, def self.complete)
--   Spree::Order.not_canceled = where.not(state: "canceled")        (same file, def self.not_canceled)
--   Admin "Sales Total" report (Spree::Admin::ReportsController#sales_total; in core backend until commit
--   825077c29ea05269351882b24e642802dfbdcda9 moved it to github.com/solidusio-contrib/solidus_reports
--   @ 99d3c1bab821fbc52bdf772d54fa415758b7b675, app/controllers/spree/admin/reports_controller.rb):
--     Order.complete.not_canceled.ransack(completed_at_gt: start.beginning_of_day, completed_at_lt: end.end_of_day)
--     and sums, per order.currency, display_item_total, display_adjustment_total and display_total (= total).
--   So: completed_at IS NOT NULL AND state <> 'canceled', dated by completed_at, grouped by currency.
--   (Default range: Time.current.beginning_of_month; days are taken in Rails' Time.zone.)
--   The new solidus_admin orders list defaults to the same scope: admin/app/controllers/solidus_admin/orders_controller.rb
--   search_scope(:completed, default: true) { _1.complete.order(completed_at: :desc) }.

CREATE TABLE spree_orders (
    id serial NOT NULL PRIMARY KEY,
    number character varying(32),
    item_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    total numeric(10,2) DEFAULT 0.0 NOT NULL,
    state character varying,
    adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    user_id integer,
    completed_at timestamp without time zone,
    bill_address_id integer,
    ship_address_id integer,
    payment_total numeric(10,2) DEFAULT 0.0,
    shipment_state character varying,
    payment_state character varying,
    email character varying,
    special_instructions text,
    created_at timestamp(6) without time zone,
    updated_at timestamp(6) without time zone,
    currency character varying,
    last_ip_address character varying,
    created_by_id integer,
    shipment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    additional_tax_total numeric(10,2) DEFAULT 0.0,
    promo_total numeric(10,2) DEFAULT 0.0,
    channel character varying DEFAULT 'spree',
    included_tax_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    item_count integer DEFAULT 0,
    approver_id integer,
    approved_at timestamp without time zone,
    confirmation_delivered boolean DEFAULT false,
    guest_token character varying,
    canceled_at timestamp without time zone,
    canceler_id integer,
    store_id integer,
    approver_name character varying,
    frontend_viewable boolean DEFAULT true NOT NULL,
    customer_metadata jsonb DEFAULT '{}'::jsonb,
    admin_metadata jsonb DEFAULT '{}'::jsonb
);

CREATE INDEX index_spree_orders_on_approver_id ON spree_orders USING btree (approver_id);
CREATE INDEX index_spree_orders_on_bill_address_id ON spree_orders USING btree (bill_address_id);
CREATE INDEX index_spree_orders_on_completed_at ON spree_orders USING btree (completed_at);
CREATE INDEX index_spree_orders_on_created_by_id ON spree_orders USING btree (created_by_id);
CREATE INDEX index_spree_orders_on_guest_token ON spree_orders USING btree (guest_token);
CREATE INDEX index_spree_orders_on_number ON spree_orders USING btree (number);
CREATE INDEX index_spree_orders_on_ship_address_id ON spree_orders USING btree (ship_address_id);
CREATE INDEX index_spree_orders_on_user_id_and_created_by_id ON spree_orders USING btree (user_id, created_by_id);
CREATE INDEX index_spree_orders_on_user_id ON spree_orders USING btree (user_id);

CREATE TABLE spree_line_items (
    id serial NOT NULL PRIMARY KEY,
    variant_id integer,
    order_id integer,
    quantity integer NOT NULL,
    price numeric(10,2) NOT NULL,
    created_at timestamp(6) without time zone,
    updated_at timestamp(6) without time zone,
    cost_price numeric(10,2),
    tax_category_id integer,
    adjustment_total numeric(10,2) DEFAULT 0.0,
    additional_tax_total numeric(10,2) DEFAULT 0.0,
    promo_total numeric(10,2) DEFAULT 0.0,
    included_tax_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    customer_metadata jsonb DEFAULT '{}'::jsonb,
    admin_metadata jsonb DEFAULT '{}'::jsonb
);

CREATE INDEX index_spree_line_items_on_order_id ON spree_line_items USING btree (order_id);
CREATE INDEX index_spree_line_items_on_variant_id ON spree_line_items USING btree (variant_id);
