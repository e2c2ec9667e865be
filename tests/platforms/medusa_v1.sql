-- Medusa v1 (TypeORM, PostgreSQL): "order", line_item and the tables its order total is computed from
--   (line_item_adjustment, line_item_tax_line, shipping_method, shipping_method_tax_line, order_discounts, discount,
--   discount_rule, gift_card_transaction, region)
--
-- Source: github.com/medusajs/medusa @ d09630c558f585d40bcfde6ad8c74507a4ead493 (tag v1.20.10, 2024-09-16,
--   @medusajs/medusa 1.20.10, the last v1 release; branch v1.x). Produced, not hand-typed: every migration of
--   packages/medusa/src/migrations/*.ts (75 of them) transpiled as written (typescript 5, transpileModule) and run
--   in timestamp order, each in its own transaction, through node-postgres into an empty PostgreSQL 15.18 database,
--   the way Medusa's own runner does with its default feature flags: the flagged migrations of sales_channels and
--   analytics (default on) ran, those of tax_inclusive_pricing (default off: 1659501357661-tax_inclusive_pricing.ts,
--   which adds line_item / shipping_method.includes_tax) and medusa_v2 did not; then pg_dump --schema-only of these
--   tables, reproduced with the "public." prefixes, SET and OWNER lines removed. The country and currency rows that
--   1611063174563-countries_currencies.ts inserts were left out (data, no DDL).
--   Models: packages/medusa/src/models/order.ts (enums OrderStatus, FulfillmentStatus, PaymentStatus), line-item.ts,
--   line-item-adjustment.ts, line-item-tax-line.ts, shipping-method.ts, shipping-method-tax-line.ts, discount.ts,
--   discount-rule.ts, gift-card-transaction.ts, region.ts.
--   Left out: foreign keys to tables not in this fixture (cart, claim_order, swap, return, address, customer,
--   currency, draft_order, sales_channel, tax_provider, gift_card, product_variant, shipping_option, order_edit).
--
-- NOT indexed: "order".created_at (indexed: line_item.order_id, IDX_43a2b24495fe1d9fc2a9c835bc).
-- Time: every timestamp is timestamptz; "order".created_at is when the order was created from the completed cart
--   (or from a draft order marked paid): an absolute instant.
-- Money: integers in minor units (unit_price, price, amount; line_item_adjustment.amount numeric); rates real
--   (percent); currency codes lower case ("order".currency_code 'eur').
-- "order".status (order_status_enum): pending, completed, archived, canceled, requires_action. A v1 draft order is a
--   row of draft_order (with its cart), not of "order": only once registered ("mark as paid") does it become an
--   "order", with draft_order_id set, and then it is a placed order like any other.
-- No total is stored. The admin's order page shows OrderService.decorateTotals
--   (packages/medusa/src/services/order.ts), on NewTotalsService (services/new-totals.ts) and the
--   TaxCalculationStrategy (strategies/tax-calculation.ts):
--     total = subtotal + shipping_total + tax_total - (gift_card_total + round(discount_total))
--   over the order's own line items (line_item.order_id; swap and claim items are not in it) and shipping methods
--   (shipping_method.order_id); see orderreport/platforms/medusa-v1.toml for each term.
--
CREATE TYPE order_status_enum AS ENUM ('pending', 'completed', 'archived', 'canceled', 'requires_action');
CREATE TYPE order_fulfillment_status_enum AS ENUM ('not_fulfilled', 'partially_fulfilled', 'fulfilled', 'partially_shipped', 'shipped', 'partially_returned', 'returned', 'canceled', 'requires_action');
CREATE TYPE order_payment_status_enum AS ENUM ('not_paid', 'awaiting', 'captured', 'partially_refunded', 'refunded', 'canceled', 'requires_action');
CREATE TYPE discount_rule_type_enum AS ENUM ('fixed', 'percentage', 'free_shipping');
CREATE TYPE discount_rule_allocation_enum AS ENUM ('total', 'item');

CREATE TABLE discount (
    id character varying NOT NULL,
    code character varying NOT NULL,
    is_dynamic boolean NOT NULL,
    rule_id character varying,
    is_disabled boolean NOT NULL,
    parent_discount_id character varying,
    starts_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    ends_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    metadata jsonb,
    usage_limit integer,
    usage_count integer DEFAULT 0 NOT NULL,
    valid_duration character varying
);
CREATE TABLE discount_rule (
    id character varying NOT NULL,
    description character varying,
    type discount_rule_type_enum NOT NULL,
    value integer NOT NULL,
    allocation discount_rule_allocation_enum,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    metadata jsonb
);
CREATE TABLE gift_card_transaction (
    id character varying NOT NULL,
    gift_card_id character varying NOT NULL,
    order_id character varying NOT NULL,
    amount integer NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    is_taxable boolean,
    tax_rate real
);
CREATE TABLE line_item (
    id character varying NOT NULL,
    cart_id character varying,
    order_id character varying,
    swap_id character varying,
    title character varying NOT NULL,
    description character varying,
    thumbnail character varying,
    is_giftcard boolean DEFAULT false NOT NULL,
    should_merge boolean DEFAULT true NOT NULL,
    allow_discounts boolean DEFAULT true NOT NULL,
    has_shipping boolean,
    unit_price integer NOT NULL,
    variant_id character varying,
    quantity integer NOT NULL,
    fulfilled_quantity integer,
    returned_quantity integer,
    shipped_quantity integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb,
    claim_order_id character varying,
    is_return boolean DEFAULT false NOT NULL,
    original_item_id character varying,
    order_edit_id character varying,
    CONSTRAINT "CHK_0cd85e15610d11b553d5e8fda6" CHECK ((shipped_quantity <= fulfilled_quantity)),
    CONSTRAINT "CHK_64eef00a5064887634f1680866" CHECK ((quantity > 0)),
    CONSTRAINT "CHK_91f40396d847f6ecfd9f752bf8" CHECK ((returned_quantity <= quantity)),
    CONSTRAINT "CHK_c61716c68f5ad5de2834c827d3" CHECK ((fulfilled_quantity <= quantity))
);
CREATE TABLE line_item_adjustment (
    id character varying NOT NULL,
    item_id character varying NOT NULL,
    description character varying NOT NULL,
    discount_id character varying,
    amount numeric NOT NULL,
    metadata jsonb
);
CREATE TABLE line_item_tax_line (
    id character varying NOT NULL,
    rate real NOT NULL,
    name character varying NOT NULL,
    code character varying,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb,
    item_id character varying NOT NULL
);
CREATE TABLE "order" (
    id character varying NOT NULL,
    status order_status_enum DEFAULT 'pending'::order_status_enum NOT NULL,
    fulfillment_status order_fulfillment_status_enum DEFAULT 'not_fulfilled'::order_fulfillment_status_enum NOT NULL,
    payment_status order_payment_status_enum DEFAULT 'not_paid'::order_payment_status_enum NOT NULL,
    display_id integer NOT NULL,
    cart_id character varying,
    customer_id character varying NOT NULL,
    email character varying NOT NULL,
    billing_address_id character varying,
    shipping_address_id character varying,
    region_id character varying NOT NULL,
    currency_code character varying NOT NULL,
    tax_rate real,
    canceled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb,
    idempotency_key character varying,
    draft_order_id character varying,
    no_notification boolean,
    external_id character varying,
    sales_channel_id character varying
);
CREATE TABLE order_discounts (
    order_id character varying NOT NULL,
    discount_id character varying NOT NULL
);
CREATE SEQUENCE order_display_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE order_display_id_seq OWNED BY "order".display_id;
CREATE TABLE region (
    id character varying NOT NULL,
    name character varying NOT NULL,
    currency_code character varying NOT NULL,
    tax_rate real NOT NULL,
    tax_code character varying,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    metadata jsonb,
    gift_cards_taxable boolean DEFAULT true NOT NULL,
    automatic_taxes boolean DEFAULT true NOT NULL,
    tax_provider_id character varying
);
CREATE TABLE shipping_method (
    id character varying NOT NULL,
    shipping_option_id character varying NOT NULL,
    order_id character varying,
    cart_id character varying,
    swap_id character varying,
    return_id character varying,
    price integer NOT NULL,
    data jsonb NOT NULL,
    claim_order_id character varying,
    CONSTRAINT "CHK_64c6812fe7815be30d688df513" CHECK ((price >= 0)),
    CONSTRAINT "CHK_a7020b08665bbd64d84a6641cf" CHECK (((claim_order_id IS NOT NULL) OR (order_id IS NOT NULL) OR (cart_id IS NOT NULL) OR (swap_id IS NOT NULL) OR (return_id IS NOT NULL)))
);
CREATE TABLE shipping_method_tax_line (
    id character varying NOT NULL,
    rate real NOT NULL,
    name character varying NOT NULL,
    code character varying,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    metadata jsonb,
    shipping_method_id character varying NOT NULL
);
ALTER TABLE ONLY "order" ALTER COLUMN display_id SET DEFAULT nextval('order_display_id_seq'::regclass);
ALTER TABLE ONLY "order"
    ADD CONSTRAINT "PK_1031171c13130102495201e3e20" PRIMARY KEY (id);
ALTER TABLE ONLY line_item_adjustment
    ADD CONSTRAINT "PK_2b1360103753df2dc8257c2c8c3" PRIMARY KEY (id);
ALTER TABLE ONLY line_item_tax_line
    ADD CONSTRAINT "PK_4a0f4322fcd5ce4af85727f89a8" PRIMARY KEY (id);
ALTER TABLE ONLY shipping_method_tax_line
    ADD CONSTRAINT "PK_54c94f5908aacbd51cf0a73edb1" PRIMARY KEY (id);
ALTER TABLE ONLY region
    ADD CONSTRAINT "PK_5f48ffc3af96bc486f5f3f3a6da" PRIMARY KEY (id);
ALTER TABLE ONLY order_discounts
    ADD CONSTRAINT "PK_a7418714ffceebc125bf6d8fcfe" PRIMARY KEY (order_id, discount_id);
ALTER TABLE ONLY discount_rule
    ADD CONSTRAINT "PK_ac2c280de3701b2d66f6817f760" PRIMARY KEY (id);
ALTER TABLE ONLY shipping_method
    ADD CONSTRAINT "PK_b9b0adfad3c6b99229c1e7d4865" PRIMARY KEY (id);
ALTER TABLE ONLY line_item
    ADD CONSTRAINT "PK_cce6b13e67fa506d1d9618ac68b" PRIMARY KEY (id);
ALTER TABLE ONLY gift_card_transaction
    ADD CONSTRAINT "PK_cfb5b4ba5447a507aef87d73fe7" PRIMARY KEY (id);
ALTER TABLE ONLY discount
    ADD CONSTRAINT "PK_d05d8712e429673e459e7f1cddb" PRIMARY KEY (id);
ALTER TABLE ONLY shipping_method
    ADD CONSTRAINT "REL_1d9ad62038998c3a85c77a53cf" UNIQUE (return_id);
ALTER TABLE ONLY "order"
    ADD CONSTRAINT "REL_c99a206eb11ad45f6b7f04f2dc" UNIQUE (cart_id);
ALTER TABLE ONLY line_item_tax_line
    ADD CONSTRAINT "UQ_3c2af51043ed7243e7d9775a2ad" UNIQUE (item_id, code);
ALTER TABLE ONLY "order"
    ADD CONSTRAINT "UQ_727b872f86c7378474a8fa46147" UNIQUE (draft_order_id);
ALTER TABLE ONLY shipping_method_tax_line
    ADD CONSTRAINT "UQ_cd147fca71e50bc954139fa3104" UNIQUE (shipping_method_id, code);
ALTER TABLE ONLY gift_card_transaction
    ADD CONSTRAINT gcuniq UNIQUE (gift_card_id, order_id);
CREATE INDEX "IDX_0fc1ec4e3db9001ad60c19daf1" ON order_discounts USING btree (discount_id);
CREATE INDEX "IDX_118e3c48f09a7728f41023c94e" ON line_item USING btree (claim_order_id);
CREATE INDEX "IDX_19b0c6293443d1b464f604c331" ON "order" USING btree (shipping_address_id);
CREATE INDEX "IDX_1d9ad62038998c3a85c77a53cf" ON shipping_method USING btree (return_id);
CREATE INDEX "IDX_27283ee631862266d0f1c68064" ON line_item USING btree (cart_id);
CREATE INDEX "IDX_2f41b20a71f30e60471d7e3769" ON line_item_adjustment USING btree (discount_id);
CREATE INDEX "IDX_3fa354d8d1233ff81097b2fcb6" ON line_item USING btree (swap_id);
CREATE INDEX "IDX_43a2b24495fe1d9fc2a9c835bc" ON line_item USING btree (order_id);
CREATE INDEX "IDX_5077fa54b0d037e984385dfe8a" ON line_item_tax_line USING btree (item_id);
CREATE INDEX "IDX_5267705a43d547e232535b656c" ON shipping_method USING btree (order_id);
CREATE INDEX "IDX_5371cbaa3be5200f373d24e3d5" ON line_item USING btree (variant_id);
CREATE INDEX "IDX_5568d3b9ce9f7abeeb37511ecf" ON "order" USING btree (billing_address_id);
CREATE INDEX "IDX_579e01fb94f4f58db480857e05" ON "order" USING btree (display_id);
CREATE INDEX "IDX_926ca9f29014af8091722dede0" ON shipping_method_tax_line USING btree (shipping_method_id);
CREATE INDEX "IDX_ac2c280de3701b2d66f6817f76" ON discount USING btree (rule_id);
CREATE INDEX "IDX_be9aea2ccf3567007b6227da4d" ON line_item_adjustment USING btree (item_id);
CREATE UNIQUE INDEX "IDX_bf701b88d2041392a288785ada" ON line_item_adjustment USING btree (discount_id, item_id) WHERE (discount_id IS NOT NULL);
CREATE INDEX "IDX_c99a206eb11ad45f6b7f04f2dc" ON "order" USING btree (cart_id);
CREATE INDEX "IDX_cd7812c96209c5bdd48a6b858b" ON "order" USING btree (customer_id);
CREATE INDEX "IDX_d783a66d1c91c0858752c933e6" ON shipping_method USING btree (claim_order_id);
CREATE INDEX "IDX_d7d441b81012f87d4265fa57d2" ON gift_card_transaction USING btree (order_id);
CREATE INDEX "IDX_d92993a7d554d84571f4eea1d1" ON shipping_method USING btree (cart_id);
CREATE INDEX "IDX_e1fcce2b18dbcdbe0a5ba9a68b" ON "order" USING btree (region_id);
CREATE INDEX "IDX_e7b488cebe333f449398769b2c" ON order_discounts USING btree (order_id);
CREATE UNIQUE INDEX "IDX_f65bf52e2239ace276ece2b2f4" ON discount USING btree (code) WHERE (deleted_at IS NULL);
CREATE INDEX "IDX_fb94fa8d5ca940daa2a58139f8" ON shipping_method USING btree (swap_id);
CREATE INDEX "IDX_fc963e94854bff2714ca84cd19" ON shipping_method USING btree (shipping_option_id);
CREATE INDEX "IDX_order_currency_code" ON "order" USING btree (currency_code);
CREATE INDEX "IDX_region_currency_code" ON region USING btree (currency_code);
CREATE UNIQUE INDEX unique_li_original_item_id_order_edit_id ON line_item USING btree (order_edit_id, original_item_id) WHERE ((original_item_id IS NOT NULL) AND (order_edit_id IS NOT NULL));
ALTER TABLE ONLY order_discounts
    ADD CONSTRAINT "FK_0fc1ec4e3db9001ad60c19daf16" FOREIGN KEY (discount_id) REFERENCES discount(id) ON DELETE CASCADE;
ALTER TABLE ONLY discount
    ADD CONSTRAINT "FK_2250c5d9e975987ab212f61a663" FOREIGN KEY (parent_discount_id) REFERENCES discount(id);
ALTER TABLE ONLY line_item_adjustment
    ADD CONSTRAINT "FK_2f41b20a71f30e60471d7e3769c" FOREIGN KEY (discount_id) REFERENCES discount(id);
ALTER TABLE ONLY line_item
    ADD CONSTRAINT "FK_43a2b24495fe1d9fc2a9c835bc7" FOREIGN KEY (order_id) REFERENCES "order"(id);
ALTER TABLE ONLY line_item_tax_line
    ADD CONSTRAINT "FK_5077fa54b0d037e984385dfe8ad" FOREIGN KEY (item_id) REFERENCES line_item(id) ON DELETE CASCADE;
ALTER TABLE ONLY shipping_method
    ADD CONSTRAINT "FK_5267705a43d547e232535b656c2" FOREIGN KEY (order_id) REFERENCES "order"(id);
ALTER TABLE ONLY shipping_method_tax_line
    ADD CONSTRAINT "FK_926ca9f29014af8091722dede08" FOREIGN KEY (shipping_method_id) REFERENCES shipping_method(id);
ALTER TABLE ONLY discount
    ADD CONSTRAINT "FK_ac2c280de3701b2d66f6817f760" FOREIGN KEY (rule_id) REFERENCES discount_rule(id);
ALTER TABLE ONLY line_item_adjustment
    ADD CONSTRAINT "FK_be9aea2ccf3567007b6227da4d2" FOREIGN KEY (item_id) REFERENCES line_item(id) ON DELETE CASCADE;
ALTER TABLE ONLY gift_card_transaction
    ADD CONSTRAINT "FK_d7d441b81012f87d4265fa57d24" FOREIGN KEY (order_id) REFERENCES "order"(id);
ALTER TABLE ONLY "order"
    ADD CONSTRAINT "FK_e1fcce2b18dbcdbe0a5ba9a68b8" FOREIGN KEY (region_id) REFERENCES region(id);
ALTER TABLE ONLY order_discounts
    ADD CONSTRAINT "FK_e7b488cebe333f449398769b2cc" FOREIGN KEY (order_id) REFERENCES "order"(id) ON DELETE CASCADE;
ALTER TABLE ONLY line_item
    ADD CONSTRAINT line_item_original_item_fk FOREIGN KEY (original_item_id) REFERENCES line_item(id);
