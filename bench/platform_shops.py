"""The platform bench's shops: each preset platform's own DDL, filled set-based, kept.

A shop is the platform's DDL (tests/platforms/<name>.sql, loaded as the platform tests load
it) in schema `public` of a database of its own, filled by a few `INSERT … SELECT … FROM
generate_series` statements: 365 days of `per_day` orders each (Europe/Moscow days, from
2025-01-01), evenly spread over each day, in two currencies, with the mix of statuses the
platform really has (orders that count, drafts or carts, cancelled ones, and whatever
else its rule must leave out), 1-4 lines per order (2.5 on average), amounts with a third
or fourth decimal where the column has one. Everything is a function of the order's
number g (a multiplicative hash of it picks the status, lines, currency and amount), so
a shop is the same whatever the server or the run.

The load follows PostgreSQL's "Populating a Database": the DDL is run, the filled tables'
keys, indexes and foreign keys are read from the catalog and dropped, the rows are
inserted, and the same keys, indexes and foreign keys are made again from their own
definitions (in one transaction). Then VACUUM (ANALYZE),
and `orderreport migrate --build-indexes`, which builds the index orderreport advises where
the platform has none on its placed-at column (Medusa, Sylius, EverShop and Medusa v1 have
none). The platform's own indexes are all kept.

A database is marked unfinished when it is created and, once its shop is complete, with
what it holds (its COMMENT names the platform, the size, this generator's version and the
digests of the DDL and of the statements that filled it): later runs use it as it is. One
marked unfinished or holding another bench shop is dropped and made again; a database of
that name that is not the bench's is refused, never overwritten.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from psycopg import sql
from sqlalchemy.engine import URL

from bench import shops
from bench.shops import BenchError
from orderreport.config import sources

REPO = Path(__file__).resolve().parent.parent
DDL_DIR = REPO / "tests" / "platforms"
GENERATOR = "3"  # bump when the rows a shop is made of change: cached shops are remade
MARK = "orderreport bench platform shop"
DAYS = 365
FIRST = date(2025, 1, 1)
START = "2025-01-01 00:00:00+03"  # FIRST's midnight in Europe/Moscow (shops.TZ)
DAY = FIRST + timedelta(days=DAYS // 2)  # the day measured: 2025-07-02, mid-range


@dataclass(frozen=True)
class Shape:
    """A shop's size: DAYS days of `per_day` orders each."""

    name: str
    per_day: int

    @property
    def orders(self) -> int:
        return self.per_day * DAYS

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


SHAPES = {"1M": Shape("1M", 2740), "tiny": Shape("tiny", 10)}


def shape(text: str) -> Shape:
    """A size: 1M, tiny, or a number of orders (300000, 300k), rounded down to whole days."""
    if text in SHAPES:
        return SHAPES[text]
    found = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not found:
        raise ValueError(f"not a size: {text!r} (1M, tiny, or a number of orders: 300k)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[found.group(2).lower()]
    per_day = int(found.group(1)) * scale // DAYS
    if per_day < 1:
        raise ValueError(f"{text}: fewer than one order a day")
    return Shape(text, per_day)


# -- the rows ---------------------------------------------------------------------------------
# Every order is a function of g, 1..orders: h a multiplicative hash of g; `bucket` (0-19, 5 %
# each) the status; `lines` 1-4; `usd` a third of the orders; `cents` 5.00-504.99; `mills`
# and `flag` two more digits (a third decimal; which orders were edited, have a deleted
# product, a section row ...). Orders are placed in g's order, per_day to a local day.
def _orders(per_day: int, orders: int) -> str:
    return f"""generate_series(1, {orders}) AS g
    CROSS JOIN LATERAL (SELECT (g::bigint * 2654435761) % 4294967296 AS h) AS r
    CROSS JOIN LATERAL (
        SELECT r.h % 20 AS bucket, 1 + (r.h / 20) % 4 AS lines, (r.h / 80) % 3 = 0 AS usd,
               500 + (r.h / 240) % 50000 AS cents, (r.h / 7) % 10 AS mills,
               (r.h / 11) % 10 AS flag,
               TIMESTAMPTZ '{START}' + INTERVAL '1 second' * ((g - 1) * 86400.0 / {per_day})
                   AS placed) AS x"""


def _lines(per_day: int, orders: int, count: str = "x.lines") -> str:
    """Every order's rows again, one per line k in 1..`count`."""
    return f"{_orders(per_day, orders)}\n    CROSS JOIN LATERAL generate_series(1, {count}) AS k"


UTC = "AT TIME ZONE 'UTC'"  # a naive column written in UTC (Rails, Doctrine, TypeORM, Odoo)
CUR = "CASE WHEN x.usd THEN 'USD' ELSE 'EUR' END"

# The day's bounds for the hand-written queries: local midnights of %(day)s in the
# session's TimeZone, as the raw column's own kind, so its index serves them.
LO = "CAST(%(day)s AS date)::timestamptz"
HI = "(CAST(%(day)s AS date) + 1)::timestamptz"
LO_UTC = f"({LO} {UTC})"
HI_UTC = f"({HI} {UTC})"


@dataclass(frozen=True)
class Spec:
    """A platform of the bench: its preset and DDL, how its shop is filled, and the
    hand-written per-order query of its rule for one day (currency, amount rounded to
    cents, lines), on the raw placed-at column, relations named with their schema."""

    name: str  # the preset's name
    tables: tuple[str, ...]  # the tables `fill` writes (their keys and indexes are rebuilt)
    fill: tuple[str, ...]  # statements, {o} the orders' FROM, {l} the lines' FROM
    reference: str
    query: str | None = None  # a query source for "query source vs mapping"
    query_zone: str | None = None  # its placed_at_zone

    @property
    def ddl(self) -> Path:
        return DDL_DIR / f"{self.name.replace('-', '_')}.sql"

    @property
    def slug(self) -> str:
        return self.name.replace("-", "_")

    def statements(self, size: Shape) -> list[str]:
        o = _orders(size.per_day, size.orders)
        fills = {"o": o, "l": _lines(size.per_day, size.orders)}
        fills["l_extra"] = _lines(size.per_day, size.orders, "x.lines + (x.flag < 2)::int")
        fills["l_medusa"] = (
            f"{o}\n    CROSS JOIN LATERAL generate_series(1, 1 + (x.flag = 0)::int) AS v"
            "\n    CROSS JOIN LATERAL generate_series(1, x.lines + (x.flag = 0)::int) AS k"
        )
        return [s.format(**fills) for s in self.fill]


def _count(lines: str, key: str, extra: str = "") -> str:
    return f"(SELECT count(*) FROM {lines} l WHERE l.{key}{extra}) AS lines"


SALEOR = Spec(
    "saleor",
    ("channel_channel", "order_order", "order_orderline"),
    (
        """INSERT INTO channel_channel (id, name, slug, is_active, currency_code, default_country,
               allocation_strategy)
           VALUES (1, 'Channel EUR', 'channel-eur', true, 'EUR', 'DE',
                   'prioritize-sorting-order'),
                  (2, 'Channel USD', 'channel-usd', true, 'USD', 'US',
                   'prioritize-sorting-order')""",
        """INSERT INTO order_order (id, number, created_at, updated_at, status, origin, channel_id,
               currency, total_net_amount, total_gross_amount, undiscounted_total_net_amount,
               undiscounted_total_gross_amount, shipping_price_net_amount,
               shipping_price_gross_amount, base_shipping_price_amount,
               undiscounted_base_shipping_price_amount, total_charged_amount,
               total_authorized_amount, authorize_status, charge_status, tracking_client_id,
               user_email, language_code, display_gross_prices, customer_note, weight,
               checkout_token, search_document, use_old_id, should_refresh_prices, expired_at,
               lines_count)
           SELECT md5(g::text)::uuid, g, x.placed, x.placed, s.status,
                  CASE WHEN s.status = 'draft' THEN 'draft' ELSE 'checkout' END,
                  CASE WHEN x.usd THEN 2 ELSE 1 END, """
        + CUR
        + """, m.gross / 1.19, m.gross, m.gross / 1.19, m.gross, 0, 0, 0, 0,
                  CASE WHEN s.paid THEN m.gross ELSE 0 END, 0,
                  CASE WHEN s.paid THEN 'full' ELSE 'none' END,
                  CASE WHEN s.paid THEN 'full' ELSE 'none' END, '',
                  'customer' || g % 50000 || '@example.com', 'en', true, '', 0.5,
                  CASE WHEN s.status = 'draft' THEN '' ELSE md5('checkout' || g) END,
                  'customer' || g % 50000 || '@example.com', false, s.status = 'draft',
                  CASE WHEN s.status = 'expired' THEN x.placed + INTERVAL '1 day' END, x.lines
           FROM {o}
           CROSS JOIN LATERAL (SELECT (x.cents * 10 + x.mills) / 1000.0 AS gross) AS m
           CROSS JOIN LATERAL (
               SELECT CASE WHEN x.bucket = 0 THEN 'draft' WHEN x.bucket = 1 THEN 'canceled'
                           WHEN x.bucket = 2 THEN 'expired' WHEN x.bucket = 3 THEN 'unconfirmed'
                           WHEN x.bucket < 8 THEN 'unfulfilled'
                           WHEN x.bucket < 10 THEN 'partially fulfilled'
                           WHEN x.bucket = 17 THEN 'returned'
                           WHEN x.bucket = 18 THEN 'partially_returned'
                           ELSE 'fulfilled' END AS status,
                      x.bucket > 3 AS paid) AS s""",
        """INSERT INTO order_orderline (id, order_id, variant_id, product_name, product_sku,
               variant_name, translated_product_name, translated_variant_name, quantity,
               quantity_fulfilled, is_shipping_required, is_gift_card, currency,
               unit_price_net_amount, unit_price_gross_amount, total_price_net_amount,
               total_price_gross_amount, undiscounted_total_price_net_amount,
               undiscounted_total_price_gross_amount, undiscounted_unit_price_net_amount,
               undiscounted_unit_price_gross_amount, base_unit_price_amount,
               undiscounted_base_unit_price_amount, unit_discount_amount, unit_discount_value,
               created_at)
           SELECT md5(g || '-' || k)::uuid, md5(g::text)::uuid,
                  CASE WHEN x.flag = 0 AND k = 1 THEN NULL ELSE k END,
                  'Saleor Beanie', 'BEANIE-' || k, 'M', '', '', 1, 0, true, false, """
        + CUR
        + """, 8.395, 9.990, 8.395, 9.990, 8.395, 9.990, 8.395, 9.990, 9.990, 9.990, 0, 0, x.placed
           FROM {l}""",
    ),
    f"""SELECT o.currency, round(o.total_gross_amount, 2) AS amount,
               {_count("public.order_orderline", "order_id = o.id")}
        FROM public.order_order o
        WHERE o.created_at >= {LO} AND o.created_at < {HI}
          AND o.status NOT IN ('draft', 'canceled', 'expired')""",
    query="""SELECT o.id AS order_id, o.created_at AS placed_at, o.total_gross_amount AS amount,
       o.currency,
       (SELECT count(*) FROM {schema}.order_orderline l WHERE l.order_id = o.id) AS lines
FROM {schema}.order_order o WHERE o.status NOT IN ('draft', 'canceled', 'expired')""",
)

OSCAR = Spec(
    "oscar",
    ("order_order", "order_line"),
    (
        """INSERT INTO order_order (id, number, currency, total_incl_tax, total_excl_tax,
               shipping_incl_tax, shipping_excl_tax, shipping_method, shipping_code, status,
               guest_email, date_placed, site_id, user_id, analytics_tracked)
           SELECT g, g::text, """
        + CUR
        + """, x.cents / 100.0, round(x.cents / 120.0, 2), 0, 0,
                  'Free shipping', 'free-shipping',
                  CASE WHEN x.bucket = 0 THEN 'Cancelled' WHEN x.bucket < 4 THEN 'Pending'
                       WHEN x.bucket < 7 THEN 'Being processed' WHEN x.bucket = 7 THEN ''
                       ELSE 'Complete' END,
                  '', x.placed, 1, 1 + g % 50000, true
           FROM {o}""",
        """INSERT INTO order_line (id, partner_name, partner_sku, partner_line_reference,
               partner_line_notes, title, quantity, line_price_incl_tax, line_price_excl_tax,
               line_price_before_discounts_incl_tax, line_price_before_discounts_excl_tax,
               unit_price_incl_tax, unit_price_excl_tax, status, order_id, partner_id,
               product_id, stockrecord_id, allocation_cancelled, num_allocated)
           SELECT (g - 1) * 4 + k, 'Oscar Partner', 'SKU' || k, '', '', 'Oscar T-shirt', 1,
                  9.99, 8.33, 9.99, 8.33, 9.99, 8.33,
                  CASE WHEN x.bucket = 0 THEN 'Cancelled' ELSE 'Pending' END, g, 1,
                  CASE WHEN x.flag = 0 AND k = 1 THEN NULL ELSE k END, k, false, 0
           FROM {l}""",
    ),
    f"""SELECT o.currency, round(o.total_incl_tax, 2) AS amount,
               {_count("public.order_line", "order_id = o.id")}
        FROM public.order_order o
        WHERE o.date_placed >= {LO} AND o.date_placed < {HI}
          AND o.status IS DISTINCT FROM 'Cancelled'""",
)

# Solidus and Spree: carts and checkouts (no completed_at), canceled ones (completed_at
# kept), returned and resumed ones (they count).
_SPREE_STATE = """CASE WHEN x.bucket < 2 THEN 'cart' WHEN x.bucket = 2 THEN 'address'
                       WHEN x.bucket = 3 THEN 'payment' WHEN x.bucket = 4 THEN 'canceled'
                       WHEN x.bucket = 5 THEN '{partial}' WHEN x.bucket = 6 THEN 'returned'
                       WHEN x.bucket = 7 THEN 'resumed' ELSE 'complete' END"""

SOLIDUS = Spec(
    "solidus",
    ("spree_orders", "spree_line_items"),
    (
        """INSERT INTO spree_orders (id, number, item_total, total, state, completed_at,
               payment_state, shipment_state, email, created_at, updated_at, currency,
               guest_token, store_id, item_count, canceled_at)
           SELECT g, 'R' || lpad(g::text, 9, '0'), x.cents / 100.0, x.cents / 100.0, s.state,
                  CASE WHEN x.bucket > 3 THEN x.placed AT TIME ZONE 'UTC' END,
                  CASE WHEN x.bucket > 3 THEN 'paid' END, CASE WHEN x.bucket > 3 THEN 'ready' END,
                  'customer@example.com', (x.placed - INTERVAL '20 minutes') AT TIME ZONE 'UTC',
                  x.placed AT TIME ZONE 'UTC', """
        + CUR
        + """, md5('tok' || g), 1, x.lines,
                  CASE WHEN s.state IN ('canceled', 'resumed')
                       THEN (x.placed + INTERVAL '1 hour') AT TIME ZONE 'UTC' END
           FROM {o}
           CROSS JOIN LATERAL (SELECT """
        + _SPREE_STATE.replace("{partial}", "awaiting_return")
        + """ AS state) AS s""",
        """INSERT INTO spree_line_items (id, variant_id, order_id, quantity, price, created_at,
               updated_at)
           SELECT (g - 1) * 4 + k, CASE WHEN x.flag = 0 AND k = 1 THEN NULL ELSE k END, g,
                  1 + k % 2, 9.99, x.placed AT TIME ZONE 'UTC', x.placed AT TIME ZONE 'UTC'
           FROM {l}""",
    ),
    f"""SELECT o.currency, round(o.total, 2) AS amount,
               {_count("public.spree_line_items", "order_id = o.id")}
        FROM public.spree_orders o
        WHERE o.completed_at >= {LO_UTC} AND o.completed_at < {HI_UTC}
          AND o.state <> 'canceled'""",
    query="""SELECT o.id AS order_id, o.completed_at AS placed_at, o.total AS amount, o.currency,
       (SELECT count(*) FROM {schema}.spree_line_items i WHERE i.order_id = o.id) AS lines
FROM {schema}.spree_orders o WHERE o.completed_at IS NOT NULL AND o.state <> 'canceled'""",
    query_zone="UTC",
)

VENDURE = Spec(
    "vendure",
    ("order", "order_line"),
    (
        """INSERT INTO "order" ("createdAt", "updatedAt", code, state, active, "orderPlacedAt",
               "couponCodes", "shippingAddress", "billingAddress", "currencyCode", id,
               "customerId", "taxZoneId", "subTotal", "subTotalWithTax", shipping,
               "shippingWithTax")
           SELECT (x.placed - INTERVAL '20 minutes') AT TIME ZONE 'UTC',
                  x.placed AT TIME ZONE 'UTC', 'K' || lpad(g::text, 15, '0'),
                  CASE WHEN x.bucket < 2 THEN 'AddingItems'
                       WHEN x.bucket = 2 THEN 'ArrangingPayment'
                       WHEN x.bucket = 3 THEN 'Cancelled'
                       WHEN x.bucket = 4 THEN 'PaymentAuthorized'
                       WHEN x.bucket < 7 THEN 'PaymentSettled'
                       WHEN x.bucket < 10 THEN 'Shipped' ELSE 'Delivered' END,
                  x.bucket < 3, CASE WHEN x.bucket >= 3 THEN x.placed AT TIME ZONE 'UTC' END,
                  '', '{{"countryCode":"DE"}}', '{{}}', """
        + CUR
        + """, g, 1 + g % 50000, 1,
                  x.cents * 100 / 119, x.cents, s.ship * 100 / 119, s.ship
           FROM {o}
           CROSS JOIN LATERAL (SELECT CASE WHEN x.flag < 5 THEN 495 ELSE 0 END AS ship) AS s""",
        """INSERT INTO order_line ("createdAt", "updatedAt", quantity, "orderPlacedQuantity",
               "listPriceIncludesTax", adjustments, "taxLines", id, "productVariantId",
               "taxCategoryId", "listPrice", "orderId")
           SELECT x.placed AT TIME ZONE 'UTC', x.placed AT TIME ZONE 'UTC', 1,
                  CASE WHEN x.bucket >= 3 THEN 1 ELSE 0 END, true, '[]',
                  '[{{"description":"VAT","taxRate":19}}]', (g - 1) * 4 + k, 10 + k, 1, 1999, g
           FROM {l}""",
    ),
    f"""SELECT o."currencyCode" AS currency,
               round((o."subTotalWithTax" + o."shippingWithTax") / 100.0, 2) AS amount,
               {_count("public.order_line", '"orderId" = o.id')}
        FROM public."order" o
        WHERE o."orderPlacedAt" >= {LO_UTC} AND o."orderPlacedAt" < {HI_UTC}
          AND o.state <> 'Cancelled'""",
)

# Medusa v2: a tenth of the orders edited (version 2: summary and items of both versions),
# and every edited order's versions have one item undone (soft-deleted).
_MEDUSA_VERSION = "1 + (x.flag = 0)::int"
MEDUSA = Spec(
    "medusa",
    ("order", "order_summary", "order_line_item", "order_item"),
    (
        """INSERT INTO "order" (id, region_id, display_id, customer_id, version, sales_channel_id,
               status, is_draft_order, email, currency_code, created_at, updated_at, deleted_at,
               canceled_at)
           SELECT 'order_' || g, 'reg_01', g, 'cus_' || g % 50000, """
        + _MEDUSA_VERSION
        + """, 'sc_01',
                  CAST(CASE WHEN x.bucket = 0 THEN 'draft' WHEN x.bucket = 1 THEN 'canceled'
                            WHEN x.bucket = 3 THEN 'requires_action'
                            WHEN x.bucket < 8 THEN 'pending' WHEN x.bucket = 19 THEN 'archived'
                            ELSE 'completed' END AS order_status_enum),
                  x.bucket = 0, 'customer@example.com',
                  CASE WHEN x.usd THEN 'usd' ELSE 'eur' END, x.placed, x.placed,
                  CASE WHEN x.bucket = 2 THEN x.placed + INTERVAL '1 day' END,
                  CASE WHEN x.bucket = 1 THEN x.placed + INTERVAL '1 hour' END
           FROM {o}""",
        """INSERT INTO order_summary (id, order_id, version, totals, created_at, updated_at)
           SELECT 'ordsum_' || g || '_' || v, 'order_' || g, v,
                  jsonb_build_object('current_order_total', t.total,
                                     'original_order_total', t.total, 'paid_total', 0,
                                     'refunded_total', 0),
                  x.placed, x.placed
           FROM {o}
           CROSS JOIN LATERAL generate_series(1, """
        + _MEDUSA_VERSION
        + """) AS v
           CROSS JOIN LATERAL (
               SELECT round((x.cents * 10 + x.mills + (v - 1) * 10000) / 1000.0, 3)
                          AS total) AS t""",
        """INSERT INTO order_line_item (id, title, variant_id, product_id, product_title,
               unit_price, raw_unit_price, created_at, updated_at)
           SELECT 'ordli_' || g || '_' || v || '_' || k, 'Medusa Mug',
                  CASE WHEN x.flag = 1 AND k = 1 THEN NULL ELSE 'variant_' || k END, 'prod_01',
                  'Medusa Mug', 10, '{{"value":"10","precision":20}}', x.placed, x.placed
           FROM {l_medusa}""",
        """INSERT INTO order_item (id, order_id, version, item_id, quantity, raw_quantity,
               fulfilled_quantity, shipped_quantity, return_requested_quantity,
               return_received_quantity, return_dismissed_quantity, written_off_quantity,
               unit_price, raw_unit_price, created_at, updated_at, deleted_at)
           SELECT 'orditem_' || g || '_' || v || '_' || k, 'order_' || g, v,
                  'ordli_' || g || '_' || v || '_' || k, 1, '{{"value":"1","precision":20}}',
                  0, 0, 0, 0, 0, 0, 10, '{{"value":"10","precision":20}}', x.placed, x.placed,
                  CASE WHEN k > x.lines THEN x.placed + INTERVAL '2 hours' END
           FROM {l_medusa}""",
    ),
    f"""SELECT o.currency_code AS currency,
               round((SELECT (s.totals ->> 'current_order_total')::numeric
                      FROM public.order_summary s
                      WHERE s.order_id = o.id AND s.version = o.version
                        AND s.deleted_at IS NULL), 2) AS amount,
               {
        _count(
            "public.order_item",
            "order_id = o.id",
            " AND l.version = o.version AND l.deleted_at IS NULL",
        )
    }
        FROM public."order" o
        WHERE o.created_at >= {LO} AND o.created_at < {HI}
          AND NOT o.is_draft_order AND o.deleted_at IS NULL AND o.status <> 'canceled'""",
    query="""SELECT o.id AS order_id, o.created_at AS placed_at,
       (SELECT (s.totals ->> 'current_order_total')::numeric FROM {schema}.order_summary s
        WHERE s.order_id = o.id AND s.version = o.version AND s.deleted_at IS NULL) AS amount,
       o.currency_code AS currency,
       (SELECT count(*) FROM {schema}.order_item l
        WHERE l.order_id = o.id AND l.version = o.version AND l.deleted_at IS NULL) AS lines
FROM {schema}."order" o
WHERE NOT o.is_draft_order AND o.deleted_at IS NULL AND o.status <> 'canceled'""",
)

SYLIUS = Spec(
    "sylius",
    ("sylius_order", "sylius_order_item"),
    (
        """INSERT INTO sylius_order (id, channel_id, customer_id, number, state,
               checkout_completed_at, items_total, adjustments_total, total, created_at,
               updated_at, currency_code, locale_code, checkout_state, payment_state,
               shipping_state, token_value)
           SELECT g, CASE WHEN x.usd THEN 2 ELSE 1 END, 1 + g % 50000,
                  CASE WHEN x.bucket >= 3 THEN lpad(g::text, 9, '0') END,
                  CASE WHEN x.bucket < 3 THEN 'cart' WHEN x.bucket = 3 THEN 'cancelled'
                       WHEN x.bucket < 10 THEN 'new' ELSE 'fulfilled' END,
                  CASE WHEN x.bucket >= 3 THEN x.placed AT TIME ZONE 'UTC' END,
                  x.cents, 0, x.cents, (x.placed - INTERVAL '20 minutes') AT TIME ZONE 'UTC',
                  x.placed AT TIME ZONE 'UTC', """
        + CUR
        + """, 'en_US',
                  CASE WHEN x.bucket < 3 THEN 'cart' ELSE 'completed' END,
                  CASE WHEN x.bucket < 3 THEN 'cart' WHEN x.bucket = 3 THEN 'cancelled'
                       WHEN x.bucket < 8 THEN 'awaiting_payment' ELSE 'paid' END,
                  CASE WHEN x.bucket < 3 THEN 'cart' WHEN x.bucket = 3 THEN 'cancelled'
                       ELSE 'ready' END,
                  md5('tok' || g)
           FROM {o}""",
        """INSERT INTO sylius_order_item (id, order_id, variant_id, quantity, unit_price,
               units_total, adjustments_total, total, is_immutable, product_name, variant_name)
           SELECT (g - 1) * 4 + k, g, CASE WHEN x.flag = 0 AND k = 1 THEN 404 ELSE k END, 1,
                  x.cents / x.lines, x.cents / x.lines, 0, x.cents / x.lines, x.bucket >= 3,
                  'Sylius Mug', 'Blue'
           FROM {l}""",
    ),
    f"""SELECT o.currency_code AS currency, round(o.total / 100.0, 2) AS amount,
               {_count("public.sylius_order_item", "order_id = o.id")}
        FROM public.sylius_order o
        WHERE o.checkout_completed_at >= {LO_UTC} AND o.checkout_completed_at < {HI_UTC}
          AND o.state NOT IN ('cart', 'cancelled')""",
)

# Odoo: quotations (draft, sent) and cancelled orders share the table; a tenth of the
# orders have a section row, another tenth a down payment row (neither is a sold line).
_ODOO_STATE = """CASE WHEN x.bucket = 0 THEN 'draft' WHEN x.bucket = 1 THEN 'sent'
                      WHEN x.bucket = 2 THEN 'cancel' WHEN x.bucket = 3 THEN 'done'
                      ELSE 'sale' END"""
ODOO = Spec(
    "odoo",
    ("res_currency", "sale_order", "sale_order_line"),
    (
        """INSERT INTO res_currency (id, name, full_name, symbol, rounding, decimal_places,
               active, position)
           VALUES (1, 'EUR', 'Euro', '€', 0.01, 2, true, 'after'),
                  (2, 'USD', 'United States dollar', '$', 0.01, 2, true, 'before')""",
        """INSERT INTO sale_order (id, company_id, partner_id, partner_invoice_id,
               partner_shipping_id, pricelist_id, currency_id, user_id, name, state,
               invoice_status, currency_rate, amount_untaxed, amount_tax, amount_total, locked,
               require_signature, require_payment, create_date, write_date, date_order)
           SELECT g, 1, 9 + g % 50000, 9 + g % 50000, 9 + g % 50000, 1,
                  CASE WHEN x.usd THEN 2 ELSE 1 END, 2, 'S' || lpad(g::text, 7, '0'), s.state,
                  CASE WHEN s.state IN ('sale', 'done') THEN 'to invoice' ELSE 'no' END, 1,
                  round(x.cents / 120.0, 2), x.cents / 100.0 - round(x.cents / 120.0, 2),
                  (x.cents * 10 + x.mills) / 1000.0, s.state = 'done', false, false,
                  (x.placed - INTERVAL '1 day') AT TIME ZONE 'UTC', x.placed AT TIME ZONE 'UTC',
                  x.placed AT TIME ZONE 'UTC'
           FROM {o}
           CROSS JOIN LATERAL (SELECT """
        + _ODOO_STATE
        + """ AS state) AS s""",
        """INSERT INTO sale_order_line (id, order_id, sequence, company_id, currency_id,
               product_id, product_uom_id, state, display_type, name, product_uom_qty,
               price_unit, discount, price_subtotal, price_total, is_downpayment, customer_lead)
           SELECT (g - 1) * 5 + k, g, 10 + k, 1, CASE WHEN x.usd THEN 2 ELSE 1 END,
                  CASE WHEN t.sold THEN k END, CASE WHEN t.sold THEN 1 END, s.state,
                  CASE WHEN NOT t.sold AND x.flag = 0 THEN 'line_section' END,
                  CASE WHEN t.sold THEN '[FURN_0001] Desk' WHEN x.flag = 0 THEN 'A section'
                       ELSE 'Down payment' END,
                  CASE WHEN t.sold THEN 1 ELSE 0 END, CASE WHEN t.sold THEN 9.99 ELSE 0 END, 0,
                  CASE WHEN t.sold THEN 9.99 ELSE 0 END, CASE WHEN t.sold THEN 9.99 ELSE 0 END,
                  CASE WHEN t.sold THEN false WHEN x.flag = 1 THEN true END, 0
           FROM {l_extra}
           CROSS JOIN LATERAL (SELECT """
        + _ODOO_STATE
        + """ AS state) AS s
           CROSS JOIN LATERAL (SELECT k <= x.lines AS sold) AS t""",
    ),
    f"""SELECT c.name AS currency, round(o.amount_total, 2) AS amount,
               {
        _count(
            "public.sale_order_line",
            "order_id = o.id",
            " AND l.display_type IS NULL AND l.is_downpayment IS NOT TRUE",
        )
    }
        FROM public.sale_order o LEFT JOIN public.res_currency c ON c.id = o.currency_id
        WHERE o.date_order >= {LO_UTC} AND o.date_order < {HI_UTC}
          AND o.state IN ('sale', 'done')""",
)

EVERSHOP = Spec(
    "evershop",
    ("order", "order_item"),
    (
        """INSERT INTO "order" (order_id, order_number, status, cart_id, currency, customer_email,
               customer_full_name, shipping_fee_excl_tax, shipping_fee_incl_tax, discount_amount,
               sub_total, sub_total_incl_tax, sub_total_with_discount,
               sub_total_with_discount_incl_tax, total_qty, tax_amount,
               tax_amount_before_discount, shipping_tax_amount, grand_total, payment_method,
               payment_method_name, shipment_status, payment_status, created_at, updated_at)
           OVERRIDING SYSTEM VALUE
           SELECT g, (10000 + g)::text, s.status, g, """
        + CUR
        + """, 'customer@example.com', 'Ann',
                  0, 0, 0, a.total, a.total, a.total, a.total, x.lines, 0, 0, 0, a.total, 'cod',
                  'Cash on delivery',
                  CASE WHEN s.status = 'canceled' THEN 'canceled'
                       WHEN s.status IN ('completed', 'closed') THEN 'delivered'
                       ELSE 'pending' END,
                  CASE WHEN s.status = 'canceled' THEN 'canceled' WHEN s.status = 'new'
                       THEN 'pending' ELSE 'paid' END,
                  x.placed, x.placed
           FROM {o}
           CROSS JOIN LATERAL (
               SELECT (x.cents * 100 + x.mills * 10 + x.flag) / 10000.0 AS total) AS a
           CROSS JOIN LATERAL (
               SELECT CASE WHEN x.bucket = 0 THEN 'canceled' WHEN x.bucket < 5 THEN 'new'
                           WHEN x.bucket < 9 THEN 'processing'
                           WHEN x.bucket < 15 THEN 'completed' ELSE 'closed' END AS status) AS s""",
        """INSERT INTO order_item (order_item_id, order_item_order_id, product_id, product_sku,
               product_name, product_price, product_price_incl_tax, qty, final_price,
               final_price_incl_tax, tax_percent, tax_amount, tax_amount_before_discount,
               discount_amount, line_total, line_total_with_discount, line_total_incl_tax,
               line_total_with_discount_incl_tax)
           OVERRIDING SYSTEM VALUE
           SELECT (g - 1) * 4 + k, g, CASE WHEN x.flag = 0 AND k = 1 THEN 404 ELSE k END,
                  'SKU-' || k, 'EverShop Tee', 9.99, 9.99, 1, 9.99, 9.99, 0, 0, 0, 0, 9.99, 9.99,
                  9.99, 9.99
           FROM {l}""",
    ),
    f"""SELECT o.currency, round(o.grand_total, 2) AS amount,
               {_count("public.order_item", "order_item_order_id = o.order_id")}
        FROM public."order" o
        WHERE o.created_at >= {LO} AND o.created_at < {HI}
          AND o.status IS DISTINCT FROM 'canceled'""",
)

# Spree 5.6: state and status kept in step (carts, checkouts: draft; canceled and
# partially canceled: canceled; the others placed), a resumed order keeps its canceled_at.
SPREE = Spec(
    "spree",
    ("spree_orders", "spree_line_items"),
    (
        """INSERT INTO spree_orders (id, number, item_total, total, state, status, completed_at,
               payment_state, shipment_state, email, created_at, updated_at, currency, token,
               store_id, item_count, canceled_at)
           SELECT g, 'R' || lpad(g::text, 9, '0'), x.cents / 100.0, x.cents / 100.0, s.state,
                  CASE WHEN x.bucket < 4 THEN 'draft' WHEN x.bucket < 6 THEN 'canceled'
                       ELSE 'placed' END,
                  CASE WHEN x.bucket > 3 THEN x.placed AT TIME ZONE 'UTC' END,
                  CASE WHEN x.bucket > 3 THEN 'paid' END, CASE WHEN x.bucket > 3 THEN 'ready' END,
                  'customer@example.com', (x.placed - INTERVAL '20 minutes') AT TIME ZONE 'UTC',
                  x.placed AT TIME ZONE 'UTC', """
        + CUR
        + """, md5('tok' || g), 1, x.lines,
                  CASE WHEN s.state IN ('canceled', 'partially_canceled', 'resumed')
                       THEN (x.placed + INTERVAL '1 hour') AT TIME ZONE 'UTC' END
           FROM {o}
           CROSS JOIN LATERAL (SELECT """
        + _SPREE_STATE.replace("{partial}", "partially_canceled")
        + """ AS state) AS s""",
        """INSERT INTO spree_line_items (id, variant_id, order_id, quantity, price, created_at,
               updated_at, currency)
           SELECT (g - 1) * 4 + k, CASE WHEN x.flag = 0 AND k = 1 THEN NULL ELSE k END, g,
                  1 + k % 2, 9.99, x.placed AT TIME ZONE 'UTC', x.placed AT TIME ZONE 'UTC', """
        + CUR
        + """
           FROM {l}""",
    ),
    f"""SELECT o.currency, round(o.total, 2) AS amount,
               {_count("public.spree_line_items", "order_id = o.id")}
        FROM public.spree_orders o
        WHERE o.completed_at >= {LO_UTC} AND o.completed_at < {HI_UTC}
          AND o.status <> 'canceled'""",
)


def _medusa_v1_reference() -> str:
    """Medusa v1 stores no total: an order's total is the platform's own computation over
    its lines, tax lines, adjustments, shipping, discounts and gift cards. No hand-written
    query gets the same answer with less, so the reference computes it with the preset's
    own expression (that rule, as SQL); what is hand-written is everything around it."""
    amount = sources.preset("medusa-v1").amount
    assert amount is not None
    amount = amount.strip().replace("{schema}", "public")
    return f"""SELECT upper(o.currency_code) AS currency,
               round(({amount})::numeric / 100, 2) AS amount,
               {_count("public.line_item", "order_id = o.id")}
        FROM public."order" o
        WHERE o.created_at >= {LO} AND o.created_at < {HI} AND o.status <> 'canceled'"""


# Medusa v1: orders before tax lines (a twentieth, with the order's tax_rate), a tenth with
# a 10 % discount (item adjustments), a twentieth with free shipping, a twentieth with a
# gift card; every modern line and shipping method has a VAT tax line.
_V1_PRICE = "(100 + (r.h / (7 * k)) % 5000)"
_MEDUSA_V1_TABLES = (
    "region",
    "discount_rule",
    "discount",
    "order",
    "line_item",
    "line_item_tax_line",
    "line_item_adjustment",
    "order_discounts",
    "shipping_method",
    "shipping_method_tax_line",
    "gift_card_transaction",
)
_MEDUSA_V1_FILL = (
    """INSERT INTO region (id, name, currency_code, tax_rate, gift_cards_taxable)
           VALUES ('reg_eu', 'EU', 'eur', 19, true), ('reg_us', 'US', 'usd', 0, false)""",
    """INSERT INTO discount_rule (id, type, value, allocation)
           VALUES ('dru_10', 'percentage', 10, 'total'),
                  ('dru_ship', 'free_shipping', 0, 'total')""",
    """INSERT INTO discount (id, code, is_dynamic, rule_id, is_disabled)
           VALUES ('disc_10pct', 'TENOFF', false, 'dru_10', false),
                  ('disc_ship', 'FREESHIP', false, 'dru_ship', false)""",
    """INSERT INTO "order" (id, status, fulfillment_status, payment_status, display_id,
               customer_id, email, region_id, currency_code, tax_rate, created_at, updated_at,
               cart_id)
           SELECT 'order_' || g,
                  CAST(CASE WHEN x.bucket = 0 THEN 'canceled'
                            WHEN x.bucket = 1 THEN 'requires_action'
                            WHEN x.bucket < 6 THEN 'pending' WHEN x.bucket < 16 THEN 'completed'
                            ELSE 'archived' END AS order_status_enum),
                  CAST('not_fulfilled' AS order_fulfillment_status_enum),
                  CAST(CASE WHEN x.bucket = 0 THEN 'canceled' ELSE 'captured' END
                       AS order_payment_status_enum),
                  g, 'cus_' || g % 50000, 'customer@example.com',
                  CASE WHEN x.usd THEN 'reg_us' ELSE 'reg_eu' END,
                  CASE WHEN x.usd THEN 'usd' ELSE 'eur' END,
                  CASE WHEN x.bucket = 19 THEN 25 END, x.placed, x.placed, 'cart_' || g
           FROM {o}""",
    """INSERT INTO line_item (id, order_id, title, unit_price, quantity, allow_discounts,
               variant_id, created_at, updated_at)
           SELECT 'item_' || g || '_' || k, 'order_' || g, 'Medusa Tee', """
    + _V1_PRICE
    + """, 1 + k % 2,
                  true, CASE WHEN x.flag = 0 AND k = 1 THEN NULL ELSE 'variant_' || k END,
                  x.placed, x.placed
           FROM {l}""",
    """INSERT INTO line_item_tax_line (id, rate, name, code, item_id)
           SELECT 'litl_' || g || '_' || k, CASE WHEN x.usd THEN 7 ELSE 19 END, 'VAT', 'vat',
                  'item_' || g || '_' || k
           FROM {l} WHERE x.bucket <> 19""",
    """INSERT INTO line_item_adjustment (id, item_id, description, discount_id, amount)
           SELECT 'lia_' || g || '_' || k, 'item_' || g || '_' || k, 'discount', 'disc_10pct',
                  """
    + _V1_PRICE
    + """ * (1 + k % 2) / 10.0
           FROM {l} WHERE x.bucket IN (6, 7)""",
    """INSERT INTO order_discounts (order_id, discount_id)
           SELECT 'order_' || g, CASE WHEN x.bucket = 8 THEN 'disc_ship' ELSE 'disc_10pct' END
           FROM {o} WHERE x.bucket IN (6, 7, 8)""",
    """INSERT INTO shipping_method (id, shipping_option_id, order_id, price, data)
           SELECT 'sm_' || g, 'so_standard', 'order_' || g,
                  CASE WHEN x.flag < 3 THEN 0 ELSE 500 END, '{{}}'
           FROM {o}""",
    """INSERT INTO shipping_method_tax_line (id, rate, name, code, shipping_method_id)
           SELECT 'smtl_' || g, CASE WHEN x.usd THEN 7 ELSE 19 END, 'VAT', 'vat', 'sm_' || g
           FROM {o} WHERE x.bucket <> 19""",
    """INSERT INTO gift_card_transaction (id, gift_card_id, order_id, amount, is_taxable,
               tax_rate)
           SELECT 'gct_' || g, 'gc_' || g, 'order_' || g, 500, CASE WHEN x.usd THEN false END,
                  CASE WHEN NOT x.usd THEN 19 END
           FROM {o} WHERE x.bucket = 9""",
)
MEDUSA_V1 = Spec("medusa-v1", _MEDUSA_V1_TABLES, _MEDUSA_V1_FILL, _medusa_v1_reference())

# The presets of the first release, then the ones added since (measured where their preset
# and DDL exist).
SPECS = {
    s.name: s
    for s in (SALEOR, SOLIDUS, OSCAR, VENDURE, MEDUSA, SYLIUS, ODOO, EVERSHOP, SPREE, MEDUSA_V1)
}
ALWAYS = ("saleor", "solidus", "oscar", "vendure", "medusa")


def available(names: list[str] | None = None) -> tuple[list[Spec], list[str]]:
    """The platforms to measure (all, or `names`) whose preset and DDL exist, and a note
    for each one asked for or known that does not."""
    presets = set(sources.preset_names())
    wanted = names or list(SPECS)
    found, missing = [], []
    for name in wanted:
        spec = SPECS.get(name)
        if spec is None:
            raise BenchError(f"unknown platform {name}; known: {', '.join(SPECS)}")
        if name in presets and spec.ddl.exists():
            found.append(spec)
        else:
            missing.append(f"{name}: no preset or no {spec.ddl.relative_to(REPO)}, not measured")
    return found, missing


# -- loading ----------------------------------------------------------------------------------
def fingerprint(spec: Spec, size: Shape) -> str:
    """What a complete shop is marked with: any change in it makes the shop again."""
    ddl = hashlib.sha256(spec.ddl.read_bytes()).hexdigest()[:12]
    fill = hashlib.sha256("\n".join(spec.statements(size)).encode()).hexdigest()[:12]
    return (
        f"{MARK}: {spec.name}, {size.orders} orders, generator {GENERATOR}, ddl {ddl}, fill {fill}"
    )


def comment(url: URL) -> str | None:
    """The database's COMMENT; None if it has none, "" if the database does not exist."""
    assert url.database is not None
    with shops._admin(url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (url.database,),
        ).fetchone()
    if row is None:
        return ""
    return None if row[0] is None else str(row[0])


def set_comment(url: URL, text: str) -> None:
    assert url.database is not None
    with shops._admin(url) as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(url.database), sql.Literal(text)
            )
        )


UNFINISHED = f"{MARK}: unfinished"


def claim(url: URL, mark: str, *, create: bool = True) -> bool:
    """Whether `url`'s database holds the shop `mark` names (True: use it as it is); else
    drop it and (`create`) make it anew, empty and marked unfinished. A database that is
    not the bench's is refused."""
    found = comment(url)
    if found == mark:
        return True
    if found != "":  # it exists
        if found is None or not found.startswith(MARK):
            raise BenchError(
                f"database {url.database} exists and is no shop of this bench: drop it or "
                "point the bench elsewhere"
            )
        shops.drop_database(url)
    if create:
        shops.create_database(url)
        set_comment(url, UNFINISHED)
    return False


_KEYS = """
    SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u', 'f', 'x')
      AND (c.conrelid = ANY(%(oids)s::oid[]) OR c.confrelid = ANY(%(oids)s::oid[]))
    ORDER BY c.contype = 'f' DESC, c.conname
"""
_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid = ANY(%(oids)s::oid[])
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                      WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
    ORDER BY 1
"""


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def generate(url: URL, spec: Spec, size: Shape) -> float:
    """Load the platform's DDL into `url` and fill it (one transaction), then VACUUM
    (ANALYZE). Returns the seconds it took."""
    from tests.platforms.shops import load  # the platform tests' own loader of the DDL

    started = time.perf_counter()
    with shops.connect(url) as conn:  # autocommit: load() skips what a missing extension needs
        load(conn, spec.name.replace("-", "_"), "public")
    with shops.connect(url, autocommit=False) as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("SET LOCAL search_path = public")
        row = conn.execute(
            "SELECT array_agg(c.oid) FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)",
            (list(spec.tables),),
        ).fetchone()
        assert row is not None and isinstance(row[0], list), spec.tables
        assert len(row[0]) == len(spec.tables), spec.tables
        oids = {"oids": row[0]}
        keys = conn.execute(_KEYS, oids).fetchall()
        indexes = conn.execute(_INDEXES, oids).fetchall()
        for table, name, _definition, _kind in keys:  # foreign keys first: they need the keys
            conn.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.SQL(str(table)), sql.Identifier(str(name))
                )
            )
        for name, _definition in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(str(name))))
        for statement in spec.statements(size):
            step = time.perf_counter()
            done = conn.execute(statement.encode())
            target = statement.split("INSERT INTO", 1)[1].split("(", 1)[0].strip()
            _say(
                f"{spec.name}: {done.rowcount:,} rows into {target} in "
                f"{time.perf_counter() - step:.1f} s"
            )
        step = time.perf_counter()
        for table, name, definition, _kind in reversed(keys):  # keys, then foreign keys
            if _kind != "f":
                conn.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        sql.SQL(str(table)), sql.Identifier(str(name)), sql.SQL(str(definition))
                    )
                )
        for _name, definition in indexes:
            conn.execute(sql.SQL(str(definition)))
        for table, name, definition, _kind in keys:
            if _kind == "f":
                conn.execute(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                        sql.SQL(str(table)), sql.Identifier(str(name)), sql.SQL(str(definition))
                    )
                )
        _say(
            f"{spec.name}: {len(keys)} keys and {len(indexes)} indexes made again in "
            f"{time.perf_counter() - step:.1f} s"
        )
        conn.commit()
    with shops.connect(url) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def copy_database(source: URL, url: URL) -> None:
    """`url` made as a copy of `source` (CREATE DATABASE … TEMPLATE: no session may be
    connected to `source` meanwhile)."""
    assert url.database is not None and source.database is not None
    with shops._admin(url) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        version = int(str(row[0])) if row else 0
        strategy = sql.SQL(" STRATEGY FILE_COPY" if version >= 150000 else "")
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                sql.Identifier(url.database), sql.Identifier(source.database), strategy
            )
        )


def query_config(spec: Spec) -> str:
    """The config file of the shop's query source (README "A query")."""
    assert spec.query is not None
    zone = f'placed_at_zone = "{spec.query_zone}"\n' if spec.query_zone else ""
    return f'[source]\nschema = "public"\nquery = """\n{spec.query}\n"""\n{zone}'


def advised_indexes(url: URL) -> list[str]:
    """The indexes orderreport built on the platform's tables (`migrate --build-indexes`)."""
    with shops.connect(url) as conn:
        return [
            f"{r[0]} on {r[1]}"
            for r in conn.execute(
                "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname LIKE 'orderreport\\_%' ORDER BY 1"
            )
        ]


def relation_sizes(url: URL, spec: Spec) -> dict[str, int]:
    """Rows of each filled table (the planner's count after ANALYZE)."""
    with shops.connect(url) as conn:
        return {
            str(r[0]): int(str(r[1]))
            for r in conn.execute(
                "SELECT c.relname, c.reltuples::bigint FROM pg_class c "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)",
                (list(spec.tables),),
            )
        }
