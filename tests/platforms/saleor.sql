-- =============================================================================
-- Saleor order tables: order_order, order_orderline (+ channel_channel, which
-- order_order.channel_id references).
--
-- Source: github.com/saleor/saleor, commit 723cd4eba87dfc72822ade45dc08a3caa548428d
--         (2026-08-21, "Make the tests not depend on the constant but rather the
--         function (#19688)"), version 3.24.0-a.0 per pyproject.toml.
--
-- How this DDL was produced (not hand-typed): that commit's own migrations were
-- run (`manage.py migrate`, settings=saleor.settings, Django 5.2.17 and the rest
-- pinned by uv.lock, Python 3.12) against an empty PostgreSQL 15.18 database;
-- `makemigrations --check order` reported no model changes pending; then
-- `pg_dump --schema-only -t channel_channel -t order_order -t order_orderline`.
-- The dump is reproduced below with the "public." prefixes and OWNER lines
-- removed, column order kept as physically created by the migration history.
-- Constraint/index names are the real ones (some still carry old column
-- names: "token" was renamed to "id", "order_token_id" to "order_id").
--
-- Files the tables, columns and indexes come from:
--   saleor/order/models.py          class Order (line 109, Meta.indexes line 373),
--                                   class OrderLine (line 542, Meta line 731)
--   saleor/core/models.py           ModelWithMetadata (metadata/private_metadata
--                                   jsonb, GIN indexes %(class)s_meta_idx and
--                                   %(class)s_p_meta_idx), ModelWithExternalReference
--   saleor/settings.py              DEFAULT_MAX_DIGITS=20, DEFAULT_DECIMAL_PLACES=3
--                                   (=> numeric(20,3)), DEFAULT_CURRENCY_CODE_LENGTH=3,
--                                   DEFAULT_AUTO_FIELD=AutoField, TIME_ZONE="UTC"
--   saleor/channel/models.py        class Channel (table channel_channel)
--   saleor/order/migrations/ (traced through Django's MigrationLoader):
--     order_order (created as Order in 0001_initial):
--       id uuid: 0127_add_order_number_and_alter_order_token (token), 0131_change_pk_to_uuid
--         (drops integer pkey, token becomes PK), 0133_rename_order_token_id (token -> id)
--       number + sequence order_order_number_seq: 0127, 0129_alter_order_number (RunSQL
--         CREATE SEQUENCE ... OWNED BY order_order.number; no column DEFAULT: the value
--         comes from Python, models.get_order_number() = SELECT nextval(...))
--       created_at: 0001_initial ("created"), renamed in 0136_auto_20220414_1025
--       status varchar(32): 0040_auto_20180210_0422, choices 0092_order_unconfirmed,
--         0097_auto_20210107_1148, 0164_auto_20230329_1200
--       currency: 0072_django_price_2, 0090_order_channel_listing
--       channel_id: 0090_order_channel_listing
--       total_net_amount 0004_order_total; total_gross_amount 0034_auto_20180221_1056;
--         renamed *_amount in 0072_django_price_2; numeric(20,3) since 0089_auto_20200902_1249
--         (re-altered 0196_alter_fulfillment_shipping_refund_amount_and_more)
--       shipping_price_{net,gross}_amount 0026/0037; undiscounted_total_* 0098_discounts_relation;
--       total_charged_amount 0105 (renamed 0148); total_authorized_amount, authorize_status,
--       charge_status 0148_auto_20220519_1118; base_shipping_price_amount 0157;
--       undiscounted_base_shipping_price_amount 0188/0191/0202; subtotal_* 0180 (RunSQL DEFAULT 0)
--       user_email 0001/0014; user_id 0001; voucher_id 0011; voucher_code 0175; language_code 0016;
--       tracking_client_id 0001; billing/shipping_address_id 0001; shipping_method_id 0044;
--       shipping_method_name 0040; display_gross_prices 0046; customer_note 0050_auto_20180803_0337;
--       weight (float) 0052; checkout_token 0068; metadata/private_metadata 0074/0078/0087/0201;
--       redirect_url 0091; shipping_tax_rate 0096/0159; origin 0106/0108/0167; original_id 0130/0132;
--       collection_point_id/_name 0114_auto_20210726_1116; search_document 0121; updated_at 0124/0126;
--       use_old_id 0127; search_vector 0151; should_refresh_prices 0155; tax_exemption 0156 (RunSQL
--       DEFAULT false); shipping_tax_class_* 0159; external_reference 0160; expired_at 0165;
--       tax_error 0183; draft_save_*_address 0197; lines_count 0203/0206;
--       shipping_method_{,private_}metadata 0206 (RunSQL DEFAULT '{}')
--     order_orderline (created as OrderedItem in 0001_initial, renamed 0020_auto_20171123_0609):
--       id uuid: 0138_add_orderline_token_old_id_created_at, 0143_update_orderline_pk; old_id and
--       created_at 0138/0140; order_id uuid: 0130, 0132_rewrite_order_relations; variant_id
--       0045_auto_20180329_0142 / 0064_auto_20181016_0819 (on_delete SET_NULL, null=True); quantity 0001/0062;
--       quantity_fulfilled 0040/0062; product_name 0001/0047; product_sku 0001/0075/0120;
--       unit_price_* 0001..0072/0089; total_price_* 0094; unit_discount_* 0098 (+0173);
--       undiscounted_* 0109; base_unit_price_amount 0137; is_gift_card 0119; product_variant_id 0120;
--       sale_id/voucher_code 0116_auto_20211207_0705; metadata 0154; tax_class_* 0159; is_gift 0182;
--       is_price_overridden 0173; draft_base_price_expire_at 0198; product_type_id 0209;
--       price_override_reason 0227
--     indexes: order_p_meta_idx/order_meta_idx 0101_auto_20210308_1213; order_search_gin and
--       order_email_search_gin 0121_order_search_document; order_tsearch 0151_auto_20220606_1431;
--       order_user_email_user_id_idx 0171_order_order_user_email_user_id_idx; idx_order_created_at
--       0174_order_idx_order_created_at; checkout_token_btree_idx 0174_order_checkout_token_btree_idx;
--       order_voucher_code_idx 0176_order_voucher_code_add_index; lines_count_idx 0208;
--       order_totalgrossamount_idx/order_totalnetamount_idx 0211_order_totalamount_indexes;
--       order_status_idx 0214_order_order_status_idx; orderline_meta_idx/orderline_p_meta_idx 0154;
--       product_type_id_btree_idx 0212; the *_<hash> indexes are Django's automatic ones for
--       ForeignKey / db_index=True fields (updated_at, authorize_status, charge_status,
--       external_reference), "_like" = varchar_pattern_ops twin Django adds for indexed varchars.
--     extensions: pg_trgm (saleor/product/migrations/0037_auto_20171124_0847.py) and btree_gin
--       (saleor/product/migrations/0038_auto_20171129_0616.py); needed by the trigram GIN indexes
--       and by GIN on varchar/integer (voucher_code; user_email,user_id).
--
-- Indexes on order_order (besides the PK on id and UNIQUE on number, external_reference):
--   created_at (idx_order_created_at), status (order_status_idx), channel_id, user_id, updated_at,
--   total_gross_amount, total_net_amount, lines_count, checkout_token, authorize_status(+_like),
--   charge_status(+_like), external_reference _like, billing_address_id, shipping_address_id,
--   shipping_method_id, shipping_tax_class_id, collection_point_id, original_id, voucher_id,
--   GIN: metadata, private_metadata, search_document trgm, user_email trgm, search_vector,
--   voucher_code, (user_email, user_id).
-- Indexes on order_orderline (besides PK on id, UNIQUE on old_id): order_id, variant_id,
--   tax_class_id, product_type_id, GIN metadata, GIN private_metadata. NOT indexed: created_at.
--
-- Order statuses (saleor/order/__init__.py, class OrderStatus, stored values):
--   'draft', 'unconfirmed', 'unfulfilled', 'partially fulfilled' (NOTE: a SPACE, not an
--   underscore), 'partially_returned', 'returned', 'fulfilled', 'canceled', 'expired'.
--   Model default: 'unfulfilled'. No CHECK constraint in the database.
--   OrderQueryset.non_draft() excludes 'draft'; .confirmed() excludes 'draft','unconfirmed'
--   (saleor/order/models.py lines 53-59).
--
-- What Saleor's own "sales" figure counts:
--   GraphQL Query.ordersTotal(period, channel) -> "Return the total sales amount from a
--   specific period" (saleor/graphql/order/schema.py line 186, deprecated; the
--   saleor-dashboard home query asks for salesToday: ordersTotal(period: TODAY, channel)
--   { gross } -- seen via code search, not pinned to a dashboard commit), resolved by
--   saleor/graphql/order/resolvers.py resolve_orders_total (line 58):
--     Order.objects.non_draft().exclude(status__in=[canceled, expired])
--          .filter(channel__slug=<channel>)  and  created_at >= start of period
--   i.e. it EXCLUDES 'draft', 'canceled', 'expired' and INCLUDES 'unconfirmed',
--   'returned', 'partially_returned'. Period start (saleor/graphql/utils/filters.py
--   reporting_period_to_date, line 17): TODAY = today 00:00 UTC (timezone.now(), TIME_ZONE
--   UTC), THIS_MONTH = 1st of month 00:00 UTC; no upper bound. Sum
--   (saleor/order/utils.py sum_order_totals, line 677) = SUM(total_net_amount),
--   SUM(total_gross_amount) of those orders, labelled with the channel's currency_code;
--   refunds are not subtracted. One channel at a time (default channel if none given).
--   reportProductSales (saleor/graphql/product/resolvers.py resolve_report_product_sales,
--   line 215) excludes the same three statuses: [DRAFT, CANCELED, EXPIRED] and sums
--   order_orderline.quantity per variant.
--
-- Deviations from the real database (fixture scope):
--   * FKs to tables not included here are omitted (listed as comments below): account_user,
--     account_address, discount_voucher, shipping_shippingmethod, tax_taxclass,
--     warehouse_warehouse, product_productvariant. Their columns and FK indexes are kept.
--     Kept: order_orderline.order_id -> order_order.id, order_order.channel_id ->
--     channel_channel.id, order_order.original_id -> order_order.id.
--   * Django's on_delete (CASCADE for lines, SET_NULL for variant_id) is applied by Django,
--     not the database: the real FKs are plain (NO ACTION) DEFERRABLE INITIALLY DEFERRED.
--   * Most Django "default=" values are Python-side only; the DB has DEFAULTs only where the
--     dump shows them. Inserts must supply every NOT NULL column without a DEFAULT.
--   * channel_channel.id is an identity column because a fresh migrate on Django >= 4.1 makes
--     AutoField "integer GENERATED BY DEFAULT AS IDENTITY"; databases migrated on older Django
--     have "serial" (integer + nextval default) instead.
--   * The pg_trgm/btree_gin extensions are created WITH SCHEMA public and the trigram opclass is
--     referenced as public.gin_trgm_ops, so this file can be loaded into several schemas;
--     everything else is unqualified.
-- =============================================================================

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

CREATE TABLE channel_channel (
    id integer NOT NULL,
    name character varying(250) NOT NULL,
    slug character varying(255) NOT NULL,
    is_active boolean NOT NULL,
    currency_code character varying(3) NOT NULL,
    default_country character varying(2) NOT NULL,
    allocation_strategy character varying(255) NOT NULL,
    automatically_confirm_all_new_orders boolean,
    automatically_fulfill_non_shippable_gift_card boolean,
    order_mark_as_paid_strategy character varying(255) DEFAULT 'payment_flow'::character varying NOT NULL,
    default_transaction_flow_strategy character varying(255) DEFAULT 'charge'::character varying NOT NULL,
    expire_orders_after integer,
    delete_expired_orders_after interval DEFAULT '60 days'::interval NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    private_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    allow_unpaid_orders boolean DEFAULT false NOT NULL,
    use_legacy_error_flow_for_checkout boolean DEFAULT true NOT NULL,
    include_draft_order_in_voucher_usage boolean DEFAULT false NOT NULL,
    automatically_complete_fully_paid_checkouts boolean DEFAULT false NOT NULL,
    draft_order_line_price_freeze_period integer DEFAULT 24,
    use_legacy_line_discount_propagation_for_order boolean DEFAULT true NOT NULL,
    checkout_release_funds_cut_off_date timestamp with time zone,
    checkout_ttl_before_releasing_funds interval DEFAULT '06:00:00'::interval NOT NULL,
    release_funds_for_expired_checkouts boolean DEFAULT false NOT NULL,
    automatic_completion_delay integer,
    automatic_completion_cut_off_date timestamp with time zone,
    allow_legacy_gift_card_use boolean DEFAULT true NOT NULL,
    CONSTRAINT channel_channel_draft_order_line_price_freeze_period_check CHECK ((draft_order_line_price_freeze_period >= 0))
);

ALTER TABLE channel_channel ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME channel_channel_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE order_order (
    created_at timestamp with time zone NOT NULL,
    tracking_client_id character varying(36) NOT NULL,
    user_email character varying(254) NOT NULL,
    id uuid NOT NULL,
    billing_address_id integer,
    shipping_address_id integer,
    user_id integer,
    total_net_amount numeric(20,3) NOT NULL,
    voucher_id integer,
    language_code character varying(35) NOT NULL,
    shipping_price_gross_amount numeric(20,3) NOT NULL,
    total_gross_amount numeric(20,3) NOT NULL,
    shipping_price_net_amount numeric(20,3) NOT NULL,
    status character varying(32) NOT NULL,
    shipping_method_name character varying(255),
    shipping_method_id integer,
    display_gross_prices boolean NOT NULL,
    customer_note text NOT NULL,
    weight double precision NOT NULL,
    checkout_token character varying(36) NOT NULL,
    currency character varying(3) NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    private_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    channel_id integer NOT NULL,
    redirect_url character varying(200),
    shipping_tax_rate numeric(5,4),
    undiscounted_total_gross_amount numeric(20,3) NOT NULL,
    undiscounted_total_net_amount numeric(20,3) NOT NULL,
    total_charged_amount numeric(20,3) NOT NULL,
    origin character varying(32) NOT NULL,
    collection_point_id uuid,
    collection_point_name character varying(255),
    search_document text NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    use_old_id boolean NOT NULL,
    number integer NOT NULL,
    original_id uuid,
    total_authorized_amount numeric(20,3) NOT NULL,
    authorize_status character varying(32) NOT NULL,
    charge_status character varying(32) NOT NULL,
    search_vector tsvector,
    should_refresh_prices boolean NOT NULL,
    tax_exemption boolean DEFAULT false NOT NULL,
    base_shipping_price_amount numeric(20,3) NOT NULL,
    shipping_tax_class_id integer,
    shipping_tax_class_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    shipping_tax_class_name character varying(255),
    shipping_tax_class_private_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    external_reference character varying(250),
    expired_at timestamp with time zone,
    voucher_code character varying(255),
    subtotal_gross_amount numeric(20,3) DEFAULT 0 NOT NULL,
    subtotal_net_amount numeric(20,3) DEFAULT 0 NOT NULL,
    tax_error character varying(255),
    undiscounted_base_shipping_price_amount numeric(20,3) NOT NULL,
    draft_save_billing_address boolean,
    draft_save_shipping_address boolean,
    lines_count integer NOT NULL,
    shipping_method_metadata jsonb DEFAULT '{}'::jsonb,
    shipping_method_private_metadata jsonb DEFAULT '{}'::jsonb,
    CONSTRAINT order_order_lines_count_check CHECK ((lines_count >= 0))
);

CREATE SEQUENCE order_order_number_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE order_order_number_seq OWNED BY order_order.number;

CREATE TABLE order_orderline (
    product_name character varying(386) NOT NULL,
    product_sku character varying(255),
    quantity integer NOT NULL,
    unit_price_net_amount numeric(20,3) NOT NULL,
    unit_price_gross_amount numeric(20,3) NOT NULL,
    is_shipping_required boolean NOT NULL,
    quantity_fulfilled integer NOT NULL,
    variant_id integer,
    tax_rate numeric(5,4),
    translated_product_name character varying(386) NOT NULL,
    currency character varying(3) NOT NULL,
    translated_variant_name character varying(255) NOT NULL,
    variant_name character varying(255) NOT NULL,
    total_price_gross_amount numeric(20,3) NOT NULL,
    total_price_net_amount numeric(20,3) NOT NULL,
    unit_discount_amount numeric(20,3) NOT NULL,
    unit_discount_value numeric(20,3) NOT NULL,
    unit_discount_reason text,
    unit_discount_type character varying(10) DEFAULT NULL::character varying,
    undiscounted_total_price_gross_amount numeric(20,3) NOT NULL,
    undiscounted_total_price_net_amount numeric(20,3) NOT NULL,
    undiscounted_unit_price_gross_amount numeric(20,3) NOT NULL,
    undiscounted_unit_price_net_amount numeric(20,3) NOT NULL,
    is_gift_card boolean NOT NULL,
    product_variant_id character varying(255),
    sale_id character varying(255),
    voucher_code character varying(255),
    order_id uuid NOT NULL,
    id uuid NOT NULL,
    old_id integer,
    created_at timestamp with time zone NOT NULL,
    base_unit_price_amount numeric(20,3) NOT NULL,
    undiscounted_base_unit_price_amount numeric(20,3) NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    private_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    tax_class_id integer,
    tax_class_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    tax_class_name character varying(255),
    tax_class_private_metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_gift boolean DEFAULT false NOT NULL,
    is_price_overridden boolean,
    draft_base_price_expire_at timestamp with time zone,
    product_type_id integer,
    price_override_reason character varying(255),
    CONSTRAINT order_orderline_old_id_check CHECK ((old_id >= 0))
);

ALTER TABLE ONLY channel_channel
    ADD CONSTRAINT channel_channel_pkey PRIMARY KEY (id);

ALTER TABLE ONLY channel_channel
    ADD CONSTRAINT channel_channel_slug_key UNIQUE (slug);

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_external_reference_key UNIQUE (external_reference);

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_number_49f06f1b_uniq UNIQUE (number);

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_token_ddb7fb7b_pk PRIMARY KEY (id);

ALTER TABLE ONLY order_orderline
    ADD CONSTRAINT order_orderline_old_id_1da97079_uniq UNIQUE (old_id);

ALTER TABLE ONLY order_orderline
    ADD CONSTRAINT order_orderline_token_47c4393d_pk PRIMARY KEY (id);

CREATE INDEX channel_channel_slug_91801cbf_like ON channel_channel USING btree (slug varchar_pattern_ops);

CREATE INDEX channel_meta_idx ON channel_channel USING gin (metadata);

CREATE INDEX channel_p_meta_idx ON channel_channel USING gin (private_metadata);

CREATE INDEX checkout_token_btree_idx ON order_order USING btree (checkout_token);

CREATE INDEX idx_order_created_at ON order_order USING btree (created_at);

CREATE INDEX lines_count_idx ON order_order USING btree (lines_count);

CREATE INDEX order_email_search_gin ON order_order USING gin (user_email public.gin_trgm_ops);

CREATE INDEX order_meta_idx ON order_order USING gin (metadata);

CREATE INDEX order_order_authorize_status_3d7fd7b0 ON order_order USING btree (authorize_status);

CREATE INDEX order_order_authorize_status_3d7fd7b0_like ON order_order USING btree (authorize_status varchar_pattern_ops);

CREATE INDEX order_order_billing_address_id_8fe537cf ON order_order USING btree (billing_address_id);

CREATE INDEX order_order_channel_id_4dacf8a4 ON order_order USING btree (channel_id);

CREATE INDEX order_order_charge_status_d96729ef ON order_order USING btree (charge_status);

CREATE INDEX order_order_charge_status_d96729ef_like ON order_order USING btree (charge_status varchar_pattern_ops);

CREATE INDEX order_order_collection_point_id_0762767b ON order_order USING btree (collection_point_id);

CREATE INDEX order_order_external_reference_8badbaae_like ON order_order USING btree (external_reference varchar_pattern_ops);

CREATE INDEX order_order_original_token_id_f061b357 ON order_order USING btree (original_id);

CREATE INDEX order_order_shipping_address_id_57e64931 ON order_order USING btree (shipping_address_id);

CREATE INDEX order_order_shipping_method_id_2a742834 ON order_order USING btree (shipping_method_id);

CREATE INDEX order_order_shipping_tax_class_id_ec0a5734 ON order_order USING btree (shipping_tax_class_id);

CREATE INDEX order_order_updated_at_6d31c2bd ON order_order USING btree (updated_at);

CREATE INDEX order_order_user_id_7cf9bc2b ON order_order USING btree (user_id);

CREATE INDEX order_order_voucher_id_0748ca22 ON order_order USING btree (voucher_id);

CREATE INDEX order_orderline_order_token_id_c8d256ee ON order_orderline USING btree (order_id);

CREATE INDEX order_orderline_tax_class_id_bc719d4f ON order_orderline USING btree (tax_class_id);

CREATE INDEX order_orderline_variant_id_866774cb ON order_orderline USING btree (variant_id);

CREATE INDEX order_p_meta_idx ON order_order USING gin (private_metadata);

CREATE INDEX order_search_gin ON order_order USING gin (search_document public.gin_trgm_ops);

CREATE INDEX order_status_idx ON order_order USING btree (status);

CREATE INDEX order_totalgrossamount_idx ON order_order USING btree (total_gross_amount);

CREATE INDEX order_totalnetamount_idx ON order_order USING btree (total_net_amount);

CREATE INDEX order_tsearch ON order_order USING gin (search_vector);

CREATE INDEX order_user_email_user_id_idx ON order_order USING gin (user_email, user_id);

CREATE INDEX order_voucher_code_idx ON order_order USING gin (voucher_code);

CREATE INDEX orderline_meta_idx ON order_orderline USING gin (metadata);

CREATE INDEX orderline_p_meta_idx ON order_orderline USING gin (private_metadata);

CREATE INDEX product_type_id_btree_idx ON order_orderline USING btree (product_type_id);

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_billing_address_id_8fe537cf_fk_userprofi FOREIGN KEY (billing_address_id) REFERENCES account_address(id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_channel_id_4dacf8a4_fk_channel_channel_id FOREIGN KEY (channel_id) REFERENCES channel_channel(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_collection_point_id_0762767b_fk_warehouse FOREIGN KEY (collection_point_id) REFERENCES warehouse_warehouse(id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_original_id_1dd680dd_fk_order_order_token FOREIGN KEY (original_id) REFERENCES order_order(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_shipping_address_id_57e64931_fk_userprofi FOREIGN KEY (shipping_address_id) REFERENCES account_address(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_shipping_method_id_2a742834_fk_shipping_ FOREIGN KEY (shipping_method_id) REFERENCES shipping_shippingmethod(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_shipping_tax_class_id_ec0a5734_fk_tax_taxclass_id FOREIGN KEY (shipping_tax_class_id) REFERENCES tax_taxclass(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_user_id_7cf9bc2b_fk_userprofile_user_id FOREIGN KEY (user_id) REFERENCES account_user(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_voucher_id_0748ca22_fk_discount_voucher_id FOREIGN KEY (voucher_id) REFERENCES discount_voucher(id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY order_orderline
    ADD CONSTRAINT order_orderline_order_id_eb04ec2d_fk_order_order_token FOREIGN KEY (order_id) REFERENCES order_order(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_orderline
-- omitted (table not in fixture): ADD CONSTRAINT order_orderline_tax_class_id_bc719d4f_fk_tax_taxclass_id FOREIGN KEY (tax_class_id) REFERENCES tax_taxclass(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_orderline
-- omitted (table not in fixture): ADD CONSTRAINT order_orderline_variant_id_866774cb_fk_product_p FOREIGN KEY (variant_id) REFERENCES product_productvariant(id) DEFERRABLE INITIALLY DEFERRED;
