-- =============================================================================
-- Django Oscar order tables: order_order, order_line.
--
-- Source: github.com/django-oscar/django-oscar, commit cdbfc4412c87dd9037d62b04755780b76490373c
--         (2026-08-20, "docs: remove broken enforcing_stock_rules howto page (#4615)"),
--         VERSION (4, 2, 0, "final") per src/oscar/__init__.py.
--
-- How this DDL was produced (not hand-typed): that commit was installed (pip install -e .,
-- Django 5.2.19) and its own migrations were run (`django-admin migrate`) with the sandbox's
-- INSTALLED_APPS (sandbox/settings.py line 258) and the sandbox's
-- DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField' (sandbox/settings.py line 117) against an
-- empty PostgreSQL 15.18 database; `makemigrations --check order` reported no pending model
-- changes; then `pg_dump --schema-only -t order_order -t order_line`. Reproduced below with the
-- "public." prefixes and OWNER lines removed; real constraint/index names and physical column
-- order kept.
--
-- Files the tables, columns and indexes come from:
--   src/oscar/apps/order/abstract_models.py  AbstractOrder (line 29, Meta line 340:
--                                            ordering -date_placed, no Meta.indexes),
--                                            AbstractLine (line 514, Meta line 639)
--   src/oscar/apps/order/models.py           concrete Order (line 14) / Line (line 62)
--   src/oscar/apps/order/migrations/ (traced through Django's MigrationLoader):
--     0001_initial.py   both tables; every column except the ones below. Note line 11:
--                       models_AutoField = import_string(settings.DEFAULT_AUTO_FIELD), so the id
--                       type follows the PROJECT's setting: BigAutoField (sandbox, used here) ->
--                       bigint identity; Django's default AutoField -> integer identity; on
--                       Django < 4.1 the same migration made serial / bigserial instead.
--                       number: CharField(max_length=128, unique=True, db_index=True)
--                       -> UNIQUE constraint + "_like" varchar_pattern_ops index.
--     0002_auto_20141007_2032.py  order.currency (varchar(12), default from settings)
--     0003_auto_20150113_1629.py  order.date_placed DateTimeField(db_index=True) (drops auto_now_add)
--     0005_update_email_length.py order.guest_email varchar(254)
--     0010_auto_20200724_0909.py  line: removes unit_cost_price, unit_retail_price, est_dispatch_date
--     0014_tax_code.py            order.shipping_tax_code, line.tax_code varchar(64) NULL
--     0016_line_allocation_cancelled_line_num_allocated.py, 0018_alter_line_num_allocated.py
--                                 line.allocation_cancelled, line.num_allocated (NOT NULL)
--     0019_order_analytics_tracked.py, 0020_alter_order_analytics_tracked.py  order.analytics_tracked
--   FK target id types: user_id and site_id are integer because django.contrib.auth (auth_user) and
--   django.contrib.sites (django_site) declare AutoField themselves; basket/address/partner/
--   product/stockrecord ids are bigint (Oscar models under BigAutoField).
--
-- Indexes on order_order: PK(id); UNIQUE(number) + number varchar_pattern_ops (_like);
--   date_placed (db_index=True, "Index added to this field for reporting"); and Django's automatic
--   FK indexes on basket_id, billing_address_id, shipping_address_id, site_id, user_id.
--   NOT indexed: status, total_incl_tax, currency.
-- Indexes on order_line: PK(id); FK indexes on order_id, partner_id, product_id, stockrecord_id.
--   NOT indexed: status.
--
-- Order statuses: free text, status varchar(100) NOT NULL, blank allowed ('' is valid), no DB
--   default, no CHECK. Oscar itself ships NO default pipeline: OSCAR_ORDER_STATUS_PIPELINE is read
--   with getattr(settings, ..., {}) (abstract_models.py line 122; docs/source/ref/settings.rst line
--   167: "Default: {}"); OrderCreator uses OSCAR_INITIAL_ORDER_STATUS only if it is set
--   (src/oscar/apps/order/utils.py line 68), else status stays ''.
--   The sandbox (sandbox/settings.py lines 390-407): OSCAR_INITIAL_ORDER_STATUS = 'Pending';
--   OSCAR_ORDER_STATUS_PIPELINE = {'Pending': ('Being processed','Cancelled'),
--   'Being processed': ('Complete','Cancelled'), 'Cancelled': (), 'Complete': ()};
--   OSCAR_ORDER_STATUS_CASCADE (line statuses) = {'Being processed': 'Being processed',
--   'Cancelled': 'Cancelled', 'Complete': 'Shipped'}; initial line status 'Pending'.
--   (The docs' example pipeline uses 'Processed' instead of 'Complete'.)
--
-- What Oscar's own dashboard "sales" figures count:
--   src/oscar/apps/dashboard/views.py IndexView.get_stats (line 111): orders = Order.objects.all()
--   -- NO status filter, so 'Cancelled' (and any other status) orders are counted;
--   orders_last_day = orders with date_placed > now() - 24 hours (rolling 24h, not a calendar day);
--   total_revenue_last_day = SUM(total_incl_tax), average_order_costs = AVG(total_incl_tax),
--   total_orders_last_day = COUNT; total_revenue = SUM(total_incl_tax) over all orders ever.
--   Amounts are summed across currencies without grouping. For non-staff (partner) users the
--   orders are first limited to those with a line whose partner_id is one of the user's partners
--   (.distinct()). get_hourly_report (line 58) sums total_incl_tax in 2-hour buckets,
--   date_placed >= start AND < end, over the last 24 hours.
--   The "Orders placed" report (src/oscar/apps/order/reports.py OrderReportGenerator, line 42,
--   date_range_field_name = "date_placed") also takes all statuses, with date_placed >= start_date
--   00:00 and <= end_date 23:59:59.999999 in the site's TIME_ZONE
--   (src/oscar/apps/dashboard/reports/reports.py filter_with_date_range, line 68).
--
-- Deviations from the real database (fixture scope):
--   * FKs to tables not included here are omitted (listed as comments below): basket_basket,
--     order_billingaddress, order_shippingaddress, django_site, auth_user, partner_partner,
--     catalogue_product, partner_stockrecord. Their columns and FK indexes are kept.
--     Kept: order_line.order_id -> order_order.id.
--   * Django's on_delete (CASCADE for lines; SET_NULL for product_id, partner_id, stockrecord_id,
--     user_id, site_id, ...) is applied by Django, not the database: the real FKs are plain
--     (NO ACTION) DEFERRABLE INITIALLY DEFERRED.
--   * Django "default=" values (currency, shipping_*, quantity=1, analytics_tracked=False,
--     allocation_cancelled=False) are Python-side only: the database has no DEFAULTs, so inserts
--     must supply every NOT NULL column.
-- =============================================================================

CREATE TABLE order_order (
    id bigint NOT NULL,
    number character varying(128) NOT NULL,
    currency character varying(12) NOT NULL,
    total_incl_tax numeric(12,2) NOT NULL,
    total_excl_tax numeric(12,2) NOT NULL,
    shipping_incl_tax numeric(12,2) NOT NULL,
    shipping_excl_tax numeric(12,2) NOT NULL,
    shipping_method character varying(128) NOT NULL,
    shipping_code character varying(128) NOT NULL,
    status character varying(100) NOT NULL,
    guest_email character varying(254) NOT NULL,
    date_placed timestamp with time zone NOT NULL,
    basket_id bigint,
    billing_address_id bigint,
    shipping_address_id bigint,
    site_id integer,
    user_id integer,
    shipping_tax_code character varying(64),
    analytics_tracked boolean NOT NULL
);

ALTER TABLE order_order ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME order_order_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE order_line (
    id bigint NOT NULL,
    partner_name character varying(128) NOT NULL,
    partner_sku character varying(128) NOT NULL,
    partner_line_reference character varying(128) NOT NULL,
    partner_line_notes text NOT NULL,
    title character varying(255) NOT NULL,
    upc character varying(128),
    quantity integer NOT NULL,
    line_price_incl_tax numeric(12,2) NOT NULL,
    line_price_excl_tax numeric(12,2) NOT NULL,
    line_price_before_discounts_incl_tax numeric(12,2) NOT NULL,
    line_price_before_discounts_excl_tax numeric(12,2) NOT NULL,
    unit_price_incl_tax numeric(12,2),
    unit_price_excl_tax numeric(12,2),
    status character varying(255) NOT NULL,
    order_id bigint NOT NULL,
    partner_id bigint,
    product_id bigint,
    stockrecord_id bigint,
    tax_code character varying(64),
    allocation_cancelled boolean NOT NULL,
    num_allocated integer NOT NULL,
    CONSTRAINT order_line_num_allocated_check CHECK ((num_allocated >= 0)),
    CONSTRAINT order_line_quantity_check CHECK ((quantity >= 0))
);

ALTER TABLE order_line ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME order_line_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY order_line
    ADD CONSTRAINT order_line_pkey PRIMARY KEY (id);

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_number_key UNIQUE (number);

ALTER TABLE ONLY order_order
    ADD CONSTRAINT order_order_pkey PRIMARY KEY (id);

CREATE INDEX order_line_order_id_b9148391 ON order_line USING btree (order_id);

CREATE INDEX order_line_partner_id_258a2fb9 ON order_line USING btree (partner_id);

CREATE INDEX order_line_product_id_e620902d ON order_line USING btree (product_id);

CREATE INDEX order_line_stockrecord_id_1d65aff5 ON order_line USING btree (stockrecord_id);

CREATE INDEX order_order_basket_id_8b0acbb2 ON order_order USING btree (basket_id);

CREATE INDEX order_order_billing_address_id_8fe537cf ON order_order USING btree (billing_address_id);

CREATE INDEX order_order_date_placed_506a9365 ON order_order USING btree (date_placed);

CREATE INDEX order_order_number_49f06f1b_like ON order_order USING btree (number varchar_pattern_ops);

CREATE INDEX order_order_shipping_address_id_57e64931 ON order_order USING btree (shipping_address_id);

CREATE INDEX order_order_site_id_e27f3526 ON order_order USING btree (site_id);

CREATE INDEX order_order_user_id_7cf9bc2b ON order_order USING btree (user_id);

ALTER TABLE ONLY order_line
    ADD CONSTRAINT order_line_order_id_b9148391_fk_order_order_id FOREIGN KEY (order_id) REFERENCES order_order(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_line
-- omitted (table not in fixture): ADD CONSTRAINT order_line_partner_id_258a2fb9_fk_partner_partner_id FOREIGN KEY (partner_id) REFERENCES partner_partner(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_line
-- omitted (table not in fixture): ADD CONSTRAINT order_line_product_id_e620902d_fk_catalogue_product_id FOREIGN KEY (product_id) REFERENCES catalogue_product(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_line
-- omitted (table not in fixture): ADD CONSTRAINT order_line_stockrecord_id_1d65aff5_fk_partner_stockrecord_id FOREIGN KEY (stockrecord_id) REFERENCES partner_stockrecord(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_basket_id_8b0acbb2_fk_basket_basket_id FOREIGN KEY (basket_id) REFERENCES basket_basket(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_billing_address_id_8fe537cf_fk_order_bil FOREIGN KEY (billing_address_id) REFERENCES order_billingaddress(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_shipping_address_id_57e64931_fk_order_shi FOREIGN KEY (shipping_address_id) REFERENCES order_shippingaddress(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_site_id_e27f3526_fk_django_site_id FOREIGN KEY (site_id) REFERENCES django_site(id) DEFERRABLE INITIALLY DEFERRED;

-- omitted (table not in fixture): ALTER TABLE ONLY order_order
-- omitted (table not in fixture): ADD CONSTRAINT order_order_user_id_7cf9bc2b_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user(id) DEFERRABLE INITIALLY DEFERRED;
