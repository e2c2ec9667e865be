-- Spree (Rails / ActiveRecord, PostgreSQL adapter): spree_orders + spree_line_items, as of Spree 5.6.1
--
-- Source: github.com/spree/spree @ 95739365949b0c78dd3a8bde4d59f642b84f68e5 (tag v5.6.1, 2026-07-28), every migration
--   of spree/core/db/migrate that touches these two tables, in order (written from them; no Ruby here to run them):
--   20210914000000_spree_four_three.rb (ActiveRecord::Migration[5.2]): create_table "spree_orders" / "spree_line_items"
--       with every column, default, nullability and index below (the compressed history up to Spree 4.3)
--   20210915064321_add_metadata_to_spree_orders.rb, 20210915064324_add_metadata_to_spree_line_items.rb:
--       public_metadata / private_metadata jsonb
--   20220106230929_add_internal_note_to_spree_orders.rb: internal_note text
--   20250107220432_add_accept_marketing_and_signup_for_an_account_to_spree_orders.rb: two booleans DEFAULT false
--   20250506073057_create_spree_gift_cards_and_spree_gift_card_batches.rb: spree_orders.gift_card_id bigint + index
--   20251110120003_add_price_list_id_to_spree_line_items.rb: add_reference :price_list (bigint + index)
--   20260226000000_add_locale_to_spree_orders.rb: locale varchar
--   20260403000000_add_market_to_spree_orders.rb: add_reference :market, foreign_key: false, index: true
--   20260429000003_add_status_to_spree_orders.rb: status varchar + index_spree_orders_on_status
--   20260508204042_add_preferred_stock_location_to_spree_orders.rb, 20260508204043_add_channel_id_to_spree_orders.rb:
--       add_reference (bigint + index)
--   20260511000001_backfill_status_on_spree_orders.rb: status 'placed' for states complete/resumed/returned/
--       awaiting_return, 'canceled' for canceled/partially_canceled, 'draft' for the rest; DEFAULT 'draft', NOT NULL
--   No core migration adds a FOREIGN KEY between spree_line_items.order_id and spree_orders.id.
-- Rails -> PostgreSQL: create_table in Migration[5.2] => id bigserial PRIMARY KEY; t.string => character varying
--   (limit 32 => varchar(32)); t.decimal 10,2 => numeric(10,2); t.datetime without precision in a < 7.0 migration =>
--   timestamp without time zone; precision: 6 => timestamp(6); t.bigint / references => bigint; t.jsonb => jsonb.
--
-- Versions (what a preset must read in each):
--   Spree 4.x - 5.4: state (cart, address, delivery, payment, confirm, complete, canceled, resumed, awaiting_return,
--     returned), completed_at; no status column.
--   Spree 5.5 - 5.6 (this file): state and status (draft, placed, canceled), kept in step by
--     Spree::Order#finalize! (status 'placed'), #after_cancel (status 'canceled') and #after_resume (status 'placed')
--     in spree/core/app/models/spree/order.rb.
--   Spree 6.0 (main, @ cee28a23d9965d3c873955f2a567212450e4b335, version 6.0.0.alpha):
--     spree/core/db/migrate/20260729100001_add_checkout_columns_to_spree_carts.rb removes spree_orders.state
--     ("Order keeps only status"); carts move to spree_carts (20260728000003_create_spree_carts.rb, which also
--     renames payment_state -> payment_status and state_lock_version -> lock_version);
--     20260728000004_rename_shipping_to_fulfillment_and_delivery.rb renames shipment_state -> fulfillment_status,
--     shipment_total -> delivery_total; 20260729120001 renames promo_total -> discount_total, item_count ->
--     total_quantity. completed_at, canceled_at, total, currency stay.
--   canceled_at is no rule for any of them: Spree::Order#resume (4.x: after_resume; 5.x; 6.0
--     spree/core/app/workflows/spree/orders/resume.rb) puts the order back without clearing canceled_at, and in
--     4.x - 5.4 the state machine's `cancel` event sets no canceled_at (only #canceled_by does).
--
-- Time: completed_at is `timestamp without time zone` written in UTC by Rails (ActiveRecord.default_timezone :utc),
--   set by Spree::Order#finalize! (touch :completed_at). Indexed: index_spree_orders_on_completed_at.
-- Money: numeric(10,2) in major units; one currency per order (currency).
-- Spree's own dashboards count canceled orders: 5.x admin (spree/admin/app/controllers/spree/admin/
--   dashboard_controller.rb @ v5.6.1) sums `total` of store.orders.complete.where(currency:, completed_at: range);
--   6.0 (spree/api/app/serializers/spree/api/v3/admin/dashboard_analytics_serializer.rb) the same, grouped by
--   DATE(completed_at) (UTC days).

CREATE TABLE spree_orders (
    id bigserial PRIMARY KEY,
    number character varying(32),
    item_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    total numeric(10,2) DEFAULT 0.0 NOT NULL,
    state character varying,
    adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    user_id bigint,
    completed_at timestamp without time zone,
    bill_address_id bigint,
    ship_address_id bigint,
    payment_total numeric(10,2) DEFAULT 0.0,
    shipment_state character varying,
    payment_state character varying,
    email character varying,
    special_instructions text,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    currency character varying,
    last_ip_address character varying,
    created_by_id bigint,
    shipment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    additional_tax_total numeric(10,2) DEFAULT 0.0,
    promo_total numeric(10,2) DEFAULT 0.0,
    channel character varying DEFAULT 'spree',
    included_tax_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    item_count integer DEFAULT 0,
    approver_id bigint,
    approved_at timestamp without time zone,
    confirmation_delivered boolean DEFAULT false,
    considered_risky boolean DEFAULT false,
    token character varying,
    canceled_at timestamp without time zone,
    canceler_id bigint,
    store_id bigint,
    state_lock_version integer DEFAULT 0 NOT NULL,
    taxable_adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    non_taxable_adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    store_owner_notification_delivered boolean,
    public_metadata jsonb,
    private_metadata jsonb,
    internal_note text,
    accept_marketing boolean DEFAULT false,
    signup_for_an_account boolean DEFAULT false,
    gift_card_id bigint,
    locale character varying,
    market_id bigint,
    status character varying DEFAULT 'draft' NOT NULL,
    preferred_stock_location_id bigint,
    channel_id bigint
);
CREATE INDEX index_spree_orders_on_approver_id ON spree_orders USING btree (approver_id);
CREATE INDEX index_spree_orders_on_bill_address_id ON spree_orders USING btree (bill_address_id);
CREATE INDEX index_spree_orders_on_canceler_id ON spree_orders USING btree (canceler_id);
CREATE INDEX index_spree_orders_on_completed_at ON spree_orders USING btree (completed_at);
CREATE INDEX index_spree_orders_on_confirmation_delivered ON spree_orders USING btree (confirmation_delivered);
CREATE INDEX index_spree_orders_on_considered_risky ON spree_orders USING btree (considered_risky);
CREATE INDEX index_spree_orders_on_created_by_id ON spree_orders USING btree (created_by_id);
CREATE UNIQUE INDEX index_spree_orders_on_number ON spree_orders USING btree (number);
CREATE INDEX index_spree_orders_on_ship_address_id ON spree_orders USING btree (ship_address_id);
CREATE INDEX index_spree_orders_on_store_id ON spree_orders USING btree (store_id);
CREATE INDEX index_spree_orders_on_token ON spree_orders USING btree (token);
CREATE INDEX index_spree_orders_on_user_id_and_created_by_id ON spree_orders USING btree (user_id, created_by_id);
CREATE INDEX index_spree_orders_on_gift_card_id ON spree_orders USING btree (gift_card_id);
CREATE INDEX index_spree_orders_on_market_id ON spree_orders USING btree (market_id);
CREATE INDEX index_spree_orders_on_status ON spree_orders USING btree (status);
CREATE INDEX index_spree_orders_on_preferred_stock_location_id ON spree_orders USING btree (preferred_stock_location_id);
CREATE INDEX index_spree_orders_on_channel_id ON spree_orders USING btree (channel_id);

CREATE TABLE spree_line_items (
    id bigserial PRIMARY KEY,
    variant_id bigint,
    order_id bigint,
    quantity integer NOT NULL,
    price numeric(10,2) NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    currency character varying,
    cost_price numeric(10,2),
    tax_category_id bigint,
    adjustment_total numeric(10,2) DEFAULT 0.0,
    additional_tax_total numeric(10,2) DEFAULT 0.0,
    promo_total numeric(10,2) DEFAULT 0.0,
    included_tax_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    pre_tax_amount numeric(12,4) DEFAULT 0.0 NOT NULL,
    taxable_adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    non_taxable_adjustment_total numeric(10,2) DEFAULT 0.0 NOT NULL,
    public_metadata jsonb,
    private_metadata jsonb,
    price_list_id bigint
);
CREATE INDEX index_spree_line_items_on_order_id ON spree_line_items USING btree (order_id);
CREATE INDEX index_spree_line_items_on_tax_category_id ON spree_line_items USING btree (tax_category_id);
CREATE INDEX index_spree_line_items_on_variant_id ON spree_line_items USING btree (variant_id);
CREATE INDEX index_spree_line_items_on_price_list_id ON spree_line_items USING btree (price_list_id);
