-- Odoo Sales (odoo/odoo, PostgreSQL via Odoo's own ORM): sale_order, sale_order_line, res_currency
--
-- Odoo ships no SQL migrations: its ORM creates each table from the model's fields at module install
-- (odoo/models.py _auto_init: CREATE TABLE "t" (id SERIAL NOT NULL, PRIMARY KEY(id)), then one column per stored
-- field, the magic create_uid/create_date/write_uid/write_date, NOT NULL for required fields, a foreign key
-- "<table>_<column>_fkey" per Many2one, "<table>__<column>_index" per index=True, WHERE col IS NOT NULL for
-- index='btree_not_null', GIN gin_trgm_ops for index='trigram'). Types as the ORM maps them (odoo/fields.py
-- column_type): Many2one int4, Integer int4, Boolean bool, Char varchar (varchar(n) with size=n), Text/Html text,
-- Selection varchar, Date date, Datetime timestamp (without time zone), Monetary numeric, Float with digits numeric,
-- Float without digits float8, Json jsonb, translate=True Char jsonb. Written here from the fields, not dumped:
--   github.com/odoo/odoo, files as stored in the code index:
--     addons/sale/models/sale_order.py       @ 0009881bf15a2730faabb15a1bf5e36c0ca84fd7 (Odoo 18 era: SALE_ORDER_STATE
--       draft/sent/sale/cancel, `locked` Boolean, _sql_constraints date_order_conditional_required,
--       init(): create_index('sale_order_date_order_id_idx', 'sale_order', ["date_order desc", "id desc"]))
--     addons/sale/models/sale_order_line.py  @ 0056e0927f5c36db88a05229d217c5625529cce5 (Odoo 19 era: product_uom_id,
--       tax_ids, models.Constraint _accountable_required_fields / _non_accountable_null_fields)
--     odoo/addons/base/models/res_currency.py @ 00cf3e0163a0340e3228eea340529eee04d46417 (name Char(size=3) required,
--       _unique_name unique(name), _rounding_gt_zero CHECK (rounding>0))
--   Only the sale module's own stored fields are here (and the mixins' that store: portal.mixin access_token,
--   utm.mixin campaign/medium/source); sale_stock, website_sale, ... add more columns. The columns the preset
--   reads -- sale_order.state, date_order, amount_total, currency_id; sale_order_line.order_id, display_type,
--   is_downpayment; res_currency.id, name -- have these names and types in every Odoo from 14 to 19.
--   FKs to tables not in this fixture (res_company, res_partner, res_users, product_*, account_*, crm_team,
--   utm_*, uom_uom, ...) are left out; sale_order.currency_id -> res_currency and sale_order_line.order_id ->
--   sale_order are kept.
--
-- State: draft (Quotation), sent (Quotation Sent), sale (Sales Order), cancel (Cancelled). Odoo <= 16 also had
--   done ("Locked"); odoo/odoo PR #115871 ("[REF] sale,*: remove locked (done) SO state", commit
--   17bece3e797913bcba8dd7e07fc8541c0a45e3f7, released in 17.0) replaced it by the `locked` Boolean, and the
--   upgrade sets state = 'sale', locked = true where state = 'done'.
-- date_order: "Creation date of draft/sent orders, Confirmation date of confirmed orders": action_confirm writes
--   _prepare_confirmation_values() = {'state': 'sale', 'date_order': fields.Datetime.now()}, a naive UTC datetime
--   (Odoo stores every Datetime in UTC without zone). Indexed through sale_order_date_order_id_idx (leading column).
-- amount_total: Monetary (numeric), in the order's currency (currency_id -> res_currency.name, ISO 4217), computed by
--   _compute_amounts from the lines that are not sections/notes (display_type IS NULL).
-- Lines: display_type 'line_section' / 'line_subsection' / 'line_note' rows are layout, not sold lines;
--   is_downpayment rows are down payments invoiced in advance (no product, no quantity ordered).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE res_currency (
    id SERIAL NOT NULL,
    name varchar(3) NOT NULL,
    iso_numeric int4,
    full_name varchar,
    symbol varchar NOT NULL,
    rounding numeric,
    decimal_places int4,
    active bool,
    position varchar,
    currency_unit_label jsonb,
    currency_subunit_label jsonb,
    create_uid int4,
    create_date timestamp without time zone,
    write_uid int4,
    write_date timestamp without time zone,
    PRIMARY KEY (id),
    CONSTRAINT res_currency_unique_name UNIQUE (name),
    CONSTRAINT res_currency_rounding_gt_zero CHECK (rounding>0)
);

CREATE TABLE sale_order (
    id SERIAL NOT NULL,
    campaign_id int4,
    source_id int4,
    medium_id int4,
    company_id int4 NOT NULL,
    partner_id int4 NOT NULL,
    journal_id int4,
    partner_invoice_id int4 NOT NULL,
    partner_shipping_id int4 NOT NULL,
    fiscal_position_id int4,
    payment_term_id int4,
    pricelist_id int4,
    currency_id int4,
    user_id int4,
    team_id int4,
    create_uid int4,
    write_uid int4,
    access_token varchar,
    name varchar NOT NULL,
    state varchar,
    client_order_ref varchar,
    origin varchar,
    reference varchar,
    signed_by varchar,
    invoice_status varchar,
    validity_date date,
    note text,
    currency_rate numeric,
    amount_untaxed numeric,
    amount_tax numeric,
    amount_total numeric,
    locked bool,
    require_signature bool,
    require_payment bool,
    create_date timestamp without time zone,
    commitment_date timestamp without time zone,
    date_order timestamp without time zone NOT NULL,
    signed_on timestamp without time zone,
    write_date timestamp without time zone,
    prepayment_percent float8,
    PRIMARY KEY (id),
    CONSTRAINT sale_order_date_order_conditional_required
        CHECK ((state = 'sale' AND date_order IS NOT NULL) OR state != 'sale'),
    CONSTRAINT sale_order_currency_id_fkey FOREIGN KEY (currency_id)
        REFERENCES res_currency (id) ON DELETE RESTRICT
);
CREATE INDEX sale_order__company_id_index ON sale_order (company_id);
CREATE INDEX sale_order__partner_id_index ON sale_order (partner_id);
CREATE INDEX sale_order__state_index ON sale_order (state);
CREATE INDEX sale_order__create_date_index ON sale_order (create_date);
CREATE INDEX sale_order__user_id_index ON sale_order (user_id);
CREATE INDEX sale_order__partner_invoice_id_index ON sale_order (partner_invoice_id) WHERE partner_invoice_id IS NOT NULL;
CREATE INDEX sale_order__partner_shipping_id_index ON sale_order (partner_shipping_id) WHERE partner_shipping_id IS NOT NULL;
CREATE INDEX sale_order__name_index ON sale_order USING gin (name gin_trgm_ops);
CREATE INDEX sale_order_date_order_id_idx ON sale_order (date_order DESC, id DESC);

CREATE TABLE sale_order_line (
    id SERIAL NOT NULL,
    order_id int4 NOT NULL,
    sequence int4,
    company_id int4,
    currency_id int4,
    order_partner_id int4,
    salesman_id int4,
    product_id int4,
    product_uom_id int4,
    linked_line_id int4,
    combo_item_id int4,
    create_uid int4,
    write_uid int4,
    state varchar,
    display_type varchar,
    virtual_id varchar,
    linked_virtual_id varchar,
    qty_delivered_method varchar,
    invoice_status varchar,
    analytic_distribution jsonb,
    extra_tax_data jsonb,
    name text NOT NULL,
    product_uom_qty numeric NOT NULL,
    price_unit numeric NOT NULL,
    discount numeric,
    price_subtotal numeric,
    price_total numeric,
    price_reduce_taxexcl numeric,
    price_reduce_taxinc numeric,
    qty_delivered numeric,
    qty_invoiced numeric,
    qty_to_invoice numeric,
    untaxed_amount_invoiced numeric,
    untaxed_amount_to_invoice numeric,
    is_downpayment bool,
    is_expense bool,
    collapse_prices bool,
    collapse_composition bool,
    create_date timestamp without time zone,
    write_date timestamp without time zone,
    technical_price_unit float8,
    price_tax float8,
    customer_lead float8 NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT sale_order_line_accountable_required_fields
        CHECK (display_type IS NOT NULL OR is_downpayment OR (product_id IS NOT NULL AND product_uom_id IS NOT NULL)),
    CONSTRAINT sale_order_line_non_accountable_null_fields
        CHECK (display_type IS NULL OR (product_id IS NULL AND price_unit = 0 AND product_uom_qty = 0 AND product_uom_id IS NULL AND customer_lead = 0)),
    CONSTRAINT sale_order_line_order_id_fkey FOREIGN KEY (order_id)
        REFERENCES sale_order (id) ON DELETE CASCADE
);
CREATE INDEX sale_order_line__order_id_index ON sale_order_line (order_id);
CREATE INDEX sale_order_line__company_id_index ON sale_order_line (company_id);
CREATE INDEX sale_order_line__order_partner_id_index ON sale_order_line (order_partner_id);
CREATE INDEX sale_order_line__product_id_index ON sale_order_line (product_id) WHERE product_id IS NOT NULL;
CREATE INDEX sale_order_line__linked_line_id_index ON sale_order_line (linked_line_id);
