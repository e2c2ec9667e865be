-- Sylius (Symfony / Doctrine ORM on PostgreSQL): sylius_order + sylius_order_item
--
-- Source: github.com/Sylius/Sylius @ 3466cbab1098367b7107e756714f9390bf5e4bf6 (branch 2.0, 2024-10-24,
--   "Merge branch '1.14' into 2.0"). Sylius 2.0 ships PostgreSQL migrations of its own beside the MySQL ones:
--   src/Sylius/Bundle/CoreBundle/Migrations/Version20160101084139.php (extends AbstractPostgreSQLMigration,
--     src/Sylius/Bundle/CoreBundle/Doctrine/Migrations/AbstractPostgreSQLMigration.php: skipped on other platforms)
--       CREATE SEQUENCE sylius_order_id_seq / sylius_order_item_id_seq (INCREMENT BY 1 MINVALUE 1 START 1)
--       CREATE TABLE sylius_order (...), CREATE TABLE sylius_order_item (...)  -- copied below, column for column
--       CREATE UNIQUE INDEX UNIQ_6196A1F996901F54 .. UNIQ_6196A1F979D0C0E4, IDX_6196A1F972F5A1AA .. IDX_6196A1F9A393D2FB43625D9F
--       CREATE INDEX IDX_77B587ED8D9F6D38 (order_id), IDX_77B587ED3B69A9AF (variant_id)
--       ALTER TABLE sylius_order_item ADD CONSTRAINT FK_77B587ED8D9F6D38 ... ON DELETE CASCADE
--   The later PostgreSQL migrations of that commit (Version20241020131432, ...131504, ...131533, ...131539,
--   ...131614) touch sylius_payment_request, users, images and variant option values: not these two tables.
--   Left out: the FKs of sylius_order to sylius_address (shipping/billing), sylius_channel, sylius_promotion_coupon,
--   sylius_customer and of sylius_order_item.variant_id to sylius_product_variant (tables not in this fixture).
--   Mapping: src/Sylius/Bundle/OrderBundle/Resources/config/doctrine/model/Order.orm.xml, OrderItem.orm.xml and
--   src/Sylius/Bundle/CoreBundle/Resources/config/doctrine/model/Order.orm.xml (currencyCode column="currency_code"
--   length="3"). Ids come from the sequences (Doctrine's SEQUENCE strategy on PostgreSQL): no column DEFAULT.
--
-- NOT indexed: checkout_completed_at (the only index with state leads with state: (state, updated_at)).
--
-- Time: checkout_completed_at TIMESTAMP(0) WITHOUT TIME ZONE, whole seconds. It is set by
--   Sylius\Component\Order\Model\Order::completeCheckout() (src/Sylius/Component/Order/Model/Order.php:
--   $this->checkoutCompletedAt = new \DateTime()) when the checkout's `complete` transition runs, and Doctrine's
--   datetime type stores the wall clock of that PHP DateTime, i.e. in PHP's date.timezone: UTC unless the
--   project sets date.timezone (Sylius's own docker php.ini takes it from PHP_DATE_TIMEZONE).
-- Money: integers in minor units (cents) for every currency (Sylius's MoneyFormatter divides by 100), one currency
--   per channel, copied onto each order (currency_code). total = items_total + adjustments_total (taxes, shipping,
--   promotions), Sylius\Component\Order\Model\Order::recalculateTotal().
--
-- States (src/Sylius/Component/Order/Model/OrderInterface.php, the sylius_order state machine in
--   src/Sylius/Bundle/OrderBundle/Resources/config/app/state_machine.yml and
--   src/Sylius/Bundle/CoreBundle/Resources/config/app/workflow/sylius_order.yaml):
--   cart -> new (create, when checkout completes) -> cancelled (cancel) | fulfilled (fulfill).
--   checkout_state (cart, addressed, shipping_selected, shipping_skipped, payment_selected, payment_skipped,
--   completed), payment_state (cart, awaiting_payment, partially_authorized, authorized, partially_paid,
--   cancelled, paid, partially_refunded, refunded) and shipping_state are separate columns.
--   Carts live in this same table (state 'cart', checkout_completed_at NULL).
-- The admin dashboard (src/Sylius/Component/Core/Statistics/Provider/BusinessActivitySummaryProvider.php,
--   OrdersTotals/DayBasedOrdersTotalProvider.php -> Sylius\Bundle\CoreBundle\Doctrine\ORM\OrderRepository
--   ::getTotalPaidSalesForChannelInPeriod / countPaidForChannelInPeriod) sums `total` of the orders of one channel
--   whose payment_state = 'paid', dated by checkout_completed_at: unpaid, partially paid, refunded and partially
--   refunded orders are not in it.

CREATE SEQUENCE sylius_order_id_seq INCREMENT BY 1 MINVALUE 1 START 1;
CREATE SEQUENCE sylius_order_item_id_seq INCREMENT BY 1 MINVALUE 1 START 1;

CREATE TABLE sylius_order (id INT NOT NULL, shipping_address_id INT DEFAULT NULL, billing_address_id INT DEFAULT NULL, channel_id INT DEFAULT NULL, promotion_coupon_id INT DEFAULT NULL, customer_id INT DEFAULT NULL, number VARCHAR(255) DEFAULT NULL, notes TEXT DEFAULT NULL, state VARCHAR(255) NOT NULL, checkout_completed_at TIMESTAMP(0) WITHOUT TIME ZONE DEFAULT NULL, items_total INT NOT NULL, adjustments_total INT NOT NULL, total INT NOT NULL, created_at TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL, updated_at TIMESTAMP(0) WITHOUT TIME ZONE DEFAULT NULL, currency_code VARCHAR(3) NOT NULL, locale_code VARCHAR(255) NOT NULL, checkout_state VARCHAR(255) NOT NULL, payment_state VARCHAR(255) NOT NULL, shipping_state VARCHAR(255) NOT NULL, created_by_guest BOOLEAN DEFAULT true NOT NULL, token_value VARCHAR(255) DEFAULT NULL, customer_ip VARCHAR(255) DEFAULT NULL, PRIMARY KEY(id));
CREATE UNIQUE INDEX UNIQ_6196A1F996901F54 ON sylius_order (number);
CREATE UNIQUE INDEX UNIQ_6196A1F9BEA95C75 ON sylius_order (token_value);
CREATE UNIQUE INDEX UNIQ_6196A1F94D4CFF2B ON sylius_order (shipping_address_id);
CREATE UNIQUE INDEX UNIQ_6196A1F979D0C0E4 ON sylius_order (billing_address_id);
CREATE INDEX IDX_6196A1F972F5A1AA ON sylius_order (channel_id);
CREATE INDEX IDX_6196A1F917B24436 ON sylius_order (promotion_coupon_id);
CREATE INDEX IDX_6196A1F99395C3F3 ON sylius_order (customer_id);
CREATE INDEX IDX_6196A1F9A393D2FB43625D9F ON sylius_order (state, updated_at);

CREATE TABLE sylius_order_item (id INT NOT NULL, order_id INT NOT NULL, variant_id INT NOT NULL, quantity INT NOT NULL, unit_price INT NOT NULL, original_unit_price INT DEFAULT NULL, units_total INT NOT NULL, adjustments_total INT NOT NULL, total INT NOT NULL, is_immutable BOOLEAN NOT NULL, product_name VARCHAR(255) DEFAULT NULL, variant_name VARCHAR(255) DEFAULT NULL, version INT DEFAULT 1 NOT NULL, PRIMARY KEY(id));
CREATE INDEX IDX_77B587ED8D9F6D38 ON sylius_order_item (order_id);
CREATE INDEX IDX_77B587ED3B69A9AF ON sylius_order_item (variant_id);

ALTER TABLE sylius_order_item ADD CONSTRAINT FK_77B587ED8D9F6D38 FOREIGN KEY (order_id) REFERENCES sylius_order (id) ON DELETE CASCADE NOT DEFERRABLE INITIALLY IMMEDIATE;
