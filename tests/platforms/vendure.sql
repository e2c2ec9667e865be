-- Vendure (TypeORM 0.3 on PostgreSQL, default config): "order", order_line, order_channels_channel
--
-- Source: github.com/vendure-ecommerce/vendure @ 1633446f4ee203e5e3fbca628bee952893bffa5b
--   (master, 2026-02-21, packages/core version 3.5.4, typeorm ^0.3.21). Vendure ships no core migrations:
--   the schema is what TypeORM generates from the entities, so it is derived from:
--   packages/core/src/entity/order/order.entity.ts            (@Entity() class Order -> table "order")
--   packages/core/src/entity/order-line/order-line.entity.ts  (@Entity() class OrderLine -> table order_line)
--   packages/core/src/entity/base/base.entity.ts              (id, "createdAt" @CreateDateColumn, "updatedAt" @UpdateDateColumn)
--   packages/core/src/entity/set-entity-id-strategy.ts + config/entity/auto-increment-id-strategy.ts
--       (default AutoIncrementIdStrategy: PrimaryGeneratedColumn('increment') => SERIAL; @EntityId => int)
--   packages/core/src/entity/set-money-strategy.ts + config/entity/default-money-strategy.ts
--       (@Money => Column({ type: 'int' }); BigIntMoneyStrategy would make them bigint)
--   packages/core/src/config/default-config.ts (entityIdStrategy: AutoIncrementIdStrategy, moneyStrategy: DefaultMoneyStrategy)
--   TypeORM rules (github.com/typeorm/typeorm @ 281bfba42a5813b106bcf5ba79bc7f7251bd1e73):
--     src/driver/postgres/PostgresDriver.ts: Date/"timestamp" => "timestamp without time zone";
--       createDate/updateDate => timestamp DEFAULT now(); string => character varying; number => integer;
--       simple-array / simple-json => text
--     src/naming-strategy/DefaultNamingStrategy.ts: PK_/FK_ = sha1(table_cols)[0:27], IDX_ = sha1(...)[0:26]
--       (the names below were recomputed and match a TypeORM-generated Vendure v3 baseline migration)
--     src/metadata-builder/JunctionEntityMetadataBuilder.ts: @ManyToMany @JoinTable FKs ON DELETE/UPDATE CASCADE
--   Columns that exist only with custom fields (customFields*) are not included (none by default).
--   FKs to tables not in this fixture are left out: "order"."customerId" -> customer,
--   order_line -> product_variant / tax_category / asset / channel ("sellerChannelId") / shipping_line,
--   order_channels_channel."channelId" -> channel. "taxZoneId" has no FK (plain @EntityId).
--   Other order join tables (order_promotions_promotion, order_fulfillments_fulfillment) are omitted.
--
-- Money: integers in minor units (DefaultMoneyStrategy: type 'int', precision 2), one currency per order
--   ("order"."currencyCode"). total = "subTotal" + shipping; totalWithTax = "subTotalWithTax" + "shippingWithTax"
--   (@Calculated getters in order.entity.ts; no total column is stored). Line money: "listPrice" (unit, minor
--   units, tax-inclusive iff "listPriceIncludesTax"), adjustments/taxLines are JSON text.
--
-- Timestamps: all "timestamp without time zone".
--   "createdAt"/"updatedAt": TypeORM inserts DEFAULT (now()) and updates with CURRENT_TIMESTAMP, i.e. the
--   PostgreSQL session's TimeZone wall-clock. "orderPlacedAt": set in JS (order.orderPlacedAt = new Date(),
--   packages/core/src/config/order/default-order-process.ts onTransitionEnd) and sent by node-postgres
--   (pg/lib/utils.js prepareValue -> dateToString, local time + offset; PostgreSQL drops the offset for a
--   zone-less column), i.e. the Node process's local wall-clock. dbConnectionOptions.timezone 'Z' in
--   default-config.ts is a MySQL option. With TZ=UTC (the usual container setup) all of them are UTC.
--
-- "order".state values (packages/core/src/config/order/default-order-process.ts transitions; OrderState in
--   packages/core/src/service/helpers/order-state-machine/order-state.ts): Created, Draft, AddingItems,
--   ArrangingPayment, PaymentAuthorized, PaymentSettled, PartiallyShipped, Shipped, PartiallyDelivered,
--   Delivered, Modifying, ArrangingAdditionalPayment, Cancelled (plus any custom OrderProcess states).
-- "order".type values (OrderType in packages/common/src/generated-types.ts): Regular (default), Aggregate,
--   Seller. Only when an OrderSellerStrategy splits an order (multi-vendor; DefaultOrderSellerStrategy never
--   splits) is the original set to Aggregate and Seller orders created with "aggregateOrderId" = its id,
--   orderPlacedAt = new Date(), channels = [seller channel, default channel]
--   (packages/core/src/service/helpers/order-splitter/order-splitter.ts createSellerOrders).
-- "placed": DefaultOrderPlacedStrategy (packages/core/src/config/order/default-order-placed-strategy.ts) sets
--   active = false and "orderPlacedAt" on ArrangingPayment -> PaymentAuthorized|PaymentSettled; until then
--   the order is an active cart with "orderPlacedAt" NULL. The dashboard Orders list
--   (packages/dashboard/src/app/routes/_authenticated/_orders/orders.tsx) sorts by orderPlacedAt, no filter.
--
-- What the admin dashboard's sales metrics count:
--   packages/dashboard/plugin/service/metrics.service.ts MetricsService.loadData (React dashboard, DashboardPlugin)
--   and packages/admin-ui-plugin/src/service/metrics.service.ts MetricsService.loadData (legacy Angular admin):
--     FROM "order" JOIN order_channels_channel ON "orderId" = order.id WHERE "channelId" = <active channel>
--     AND "orderPlacedAt" >= start [AND "orderPlacedAt" <= end]   -- nothing else: no state filter (Cancelled
--     orders are counted), no type filter (in the default channel Aggregate and Seller orders both appear).
--   OrderTotalMetric (packages/dashboard/plugin/config/metrics-strategies.ts) = sum of order.totalWithTax
--   ("subTotalWithTax" + "shippingWithTax", minor units), OrderCountMetric = count, AverageOrderValueMetric =
--   round(sum totalWithTax / count). Days are bucketed by new Date(orderPlacedAt).toISOString() (UTC date).

CREATE TABLE "order" (
    "createdAt" TIMESTAMP NOT NULL DEFAULT now(),
    "updatedAt" TIMESTAMP NOT NULL DEFAULT now(),
    "type" character varying NOT NULL DEFAULT 'Regular',
    "code" character varying NOT NULL,
    "state" character varying NOT NULL,
    "active" boolean NOT NULL DEFAULT true,
    "orderPlacedAt" TIMESTAMP,
    "couponCodes" text NOT NULL,
    "shippingAddress" text NOT NULL,
    "billingAddress" text NOT NULL,
    "currencyCode" character varying NOT NULL,
    "id" SERIAL NOT NULL,
    "aggregateOrderId" integer,
    "customerId" integer,
    "taxZoneId" integer,
    "subTotal" integer NOT NULL,
    "subTotalWithTax" integer NOT NULL,
    "shipping" integer NOT NULL DEFAULT '0',
    "shippingWithTax" integer NOT NULL DEFAULT '0',
    CONSTRAINT "PK_1031171c13130102495201e3e20" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_73a78d7df09541ac5eba620d18" ON "order" ("aggregateOrderId");
CREATE UNIQUE INDEX "IDX_729b3eea7ce540930dbb706949" ON "order" ("code");
CREATE INDEX "IDX_af13739f4962eab899bdff34be" ON "order" ("orderPlacedAt");
CREATE INDEX "IDX_124456e637cca7a415897dce65" ON "order" ("customerId");

CREATE TABLE "order_line" (
    "createdAt" TIMESTAMP NOT NULL DEFAULT now(),
    "updatedAt" TIMESTAMP NOT NULL DEFAULT now(),
    "quantity" integer NOT NULL,
    "orderPlacedQuantity" integer NOT NULL DEFAULT '0',
    "listPriceIncludesTax" boolean NOT NULL,
    "adjustments" text NOT NULL,
    "taxLines" text NOT NULL,
    "id" SERIAL NOT NULL,
    "sellerChannelId" integer,
    "shippingLineId" integer,
    "productVariantId" integer NOT NULL,
    "taxCategoryId" integer,
    "initialListPrice" integer,
    "listPrice" integer NOT NULL,
    "featuredAssetId" integer,
    "orderId" integer,
    CONSTRAINT "PK_01a7c973d9f30479647e44f9892" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_6901d8715f5ebadd764466f7bd" ON "order_line" ("sellerChannelId");
CREATE INDEX "IDX_dc9ac68b47da7b62249886affb" ON "order_line" ("shippingLineId");
CREATE INDEX "IDX_cbcd22193eda94668e84d33f18" ON "order_line" ("productVariantId");
CREATE INDEX "IDX_77be94ce9ec650446617946227" ON "order_line" ("taxCategoryId");
CREATE INDEX "IDX_9f065453910ea77d4be8e92618" ON "order_line" ("featuredAssetId");
CREATE INDEX "IDX_239cfca2a55b98b90b6bef2e44" ON "order_line" ("orderId");

-- Order.channels: @ManyToMany(type => Channel) @JoinTable() (order.entity.ts); used by the dashboard metrics.
CREATE TABLE "order_channels_channel" (
    "orderId" integer NOT NULL,
    "channelId" integer NOT NULL,
    CONSTRAINT "PK_39853134b20afe9dfb25de18292" PRIMARY KEY ("orderId", "channelId")
);
CREATE INDEX "IDX_0d8e5c204480204a60e151e485" ON "order_channels_channel" ("orderId");
CREATE INDEX "IDX_d0d16db872499e83b15999f8c7" ON "order_channels_channel" ("channelId");

-- Order.aggregateOrder: @ManyToOne(type => Order) (no onDelete) ; OrderLine.order: onDelete 'CASCADE'
ALTER TABLE "order" ADD CONSTRAINT "FK_73a78d7df09541ac5eba620d181" FOREIGN KEY ("aggregateOrderId") REFERENCES "order"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;
ALTER TABLE "order_line" ADD CONSTRAINT "FK_239cfca2a55b98b90b6bef2e44f" FOREIGN KEY ("orderId") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE NO ACTION;
ALTER TABLE "order_channels_channel" ADD CONSTRAINT "FK_0d8e5c204480204a60e151e4853" FOREIGN KEY ("orderId") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE CASCADE;
