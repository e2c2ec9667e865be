"""Small shops of each platform, built with the platform's own DDL (the .sql files here).

Each `build_*(conn, schema)` loads that platform's tables into `schema` and inserts a shop
with what the platform really has (drafts, carts, cancelled and soft-deleted orders, edited
orders, lines whose product is gone, two currencies, ...), and returns what it inserted as
`Order` records: the values each order has by the platform's own rules, written here in
Python from the rule, never read back through orderreport. `expected` turns them into the
day's summary rows with Decimal arithmetic.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[tuple[Any, ...]]
HERE = Path(__file__).parent
CENT = Decimal("0.01")


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant of December 2025, UTC."""
    return datetime(2025, 12, day, hour, minute, second, tzinfo=UTC)


LAST_SECOND = utc(16, 20, 59, 59)  # Moscow 2025-12-16 23:59:59
MIDNIGHT = utc(16, 21)  # Moscow 2025-12-17 00:00:00
MORNING = utc(16, 10)  # Moscow 2025-12-16 13:00
DAY_BEFORE = utc(15, 12)  # Moscow 2025-12-15 15:00
DAY_AFTER = utc(17, 12)  # Moscow 2025-12-17 15:00
LATER = utc(16, 12)  # Moscow 2025-12-16, for orders that do not count
DAYS = [date(2025, 12, 15) + timedelta(days=i) for i in range(4)]  # the 18th has no orders


@dataclass(frozen=True)
class Order:
    """An order as the platform means it: placed at (None: not placed), amount in major
    units, currency, number of order lines, and whether the platform counts it as a sale."""

    order_id: int | str
    placed: datetime | None
    amount: Decimal
    currency: str | None
    lines: int
    counts: bool


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def day_orders(orders: list[Order], zone: str, day: date) -> list[Order]:
    """The orders that count on `day` in `zone`, by order id."""
    tz = ZoneInfo(zone)
    return sorted(
        (o for o in orders if o.counts and o.placed and o.placed.astimezone(tz).date() == day),
        key=lambda o: (isinstance(o.order_id, str), o.order_id),
    )


def expected(orders: list[Order], zone: str, day: date) -> list[dict[str, object]]:
    """The day's summary rows: one per currency that had orders (by currency), else one
    row of zeros without a currency. Each order's amount is rounded to cents once."""
    mine = day_orders(orders, zone, day)
    groups = sorted({o.currency for o in mine}, key=str) if mine else [None]
    rows: list[dict[str, object]] = []
    for currency in groups:
        group = [o for o in mine if o.currency == currency]
        n = len(group)
        total = sum((cents(o.amount) for o in group), Decimal(0))
        lines = sum(o.lines for o in group)
        rows.append(
            {
                "date": day.isoformat(),
                "time_zone": zone,
                "currency": currency,
                "total_orders": n,
                "total_products": lines,
                "total_value": cents(total),
                "average_products_per_order": cents(Decimal(lines) / n) if n else cents(Decimal(0)),
                "average_order_value": cents(total / n) if n else cents(Decimal(0)),
            }
        )
    return rows


def expected_report(orders: list[Order], zone: str, day: date) -> list[dict[str, object]]:
    """The day's per-order rows, by order id."""
    return [
        {
            "report_at": day.isoformat(),
            "order_id": o.order_id,
            "currency": o.currency,
            "count_product": o.lines,
            "total_amount": cents(o.amount),
        }
        for o in day_orders(orders, zone, day)
    ]


# -- loading -----------------------------------------------------------------------------
_EXTENSION = re.compile(r"CREATE EXTENSION IF NOT EXISTS (\w+)")


def load(conn: Conn, platform: str, schema: str) -> None:
    """The platform's DDL, run into `schema` (created if missing).

    A server without an extension the DDL creates (the embedded one ships no contrib:
    Saleor's pg_trgm and btree_gin) gets the DDL without it and without the search
    indexes that need it (GIN on text columns); nothing the reports read depends on them.
    """
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    ddl = (HERE / f"{platform}.sql").read_text(encoding="utf-8")
    wanted = _EXTENSION.findall(ddl)
    available = conn.execute(
        "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", (wanted,)
    ).fetchall()
    missing = set(wanted) - {name for (name,) in available}
    if not missing:
        conn.execute(ddl.encode())
        return
    text = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    for statement in (s.strip() for s in text.split(";\n")):
        found = _EXTENSION.match(statement)
        if not statement or (found and found.group(1) in missing):
            continue
        try:
            conn.execute(statement.encode())
        except psycopg.errors.UndefinedObject:  # an operator class of a missing extension
            if not statement.startswith("CREATE INDEX"):
                raise


def insert(conn: Conn, table: str, values: Mapping[str, object], returning: str = "id") -> Any:
    """INSERT one row (column names quoted as given); return its `returning` column."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in values),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
        sql.Identifier(returning),
    )
    row = conn.execute(query, list(values.values())).fetchone()
    assert row is not None
    return row[0]


def naive(instant: datetime | None) -> datetime | None:
    """The UTC wall clock of `instant`, as a `timestamp without time zone` holds it."""
    return None if instant is None else instant.astimezone(UTC).replace(tzinfo=None)


def raw(value: Decimal | int) -> Jsonb:
    """Medusa's raw_* twin of a numeric column."""
    return Jsonb({"value": str(value), "precision": 20})


# -- Saleor ------------------------------------------------------------------------------
def build_saleor(conn: Conn, schema: str = "public") -> list[Order]:
    """order_order: every status counts but draft, canceled and expired (unconfirmed does);
    one currency per channel; amounts numeric(20,3) in major units, rounded to cents once
    per order; created_at timestamptz; a line whose variant was deleted has variant_id NULL."""
    load(conn, "saleor", schema)
    channels = {
        code: insert(
            conn,
            "channel_channel",
            {
                "name": f"Channel {code}",
                "slug": f"channel-{code.lower()}",
                "is_active": True,
                "currency_code": code,
                "default_country": "DE" if code == "EUR" else "US",
                "allocation_strategy": "prioritize-sorting-order",
            },
        )
        for code in ("EUR", "USD")
    }
    orders: list[Order] = []

    def order(
        status: str, placed: datetime, total: str, currency: str, variants: list[int | None]
    ) -> None:
        oid, amount = uuid4(), Decimal(total)
        number = conn.execute("SELECT nextval('order_order_number_seq')").fetchone()
        assert number is not None
        money = {
            f"{k}_amount": amount
            for k in (
                "total_net",
                "total_gross",
                "undiscounted_total_gross",
                "undiscounted_total_net",
            )
        }
        zero = {
            f"{k}_amount": Decimal(0)
            for k in (
                "shipping_price_gross",
                "shipping_price_net",
                "base_shipping_price",
                "undiscounted_base_shipping_price",
            )
        }
        paid = status not in ("draft", "unconfirmed", "expired")
        insert(
            conn,
            "order_order",
            {
                "id": oid,
                "number": number[0],
                "created_at": placed,
                "updated_at": placed,
                "status": status,
                "origin": "draft" if status == "draft" else "checkout",
                "channel_id": channels[currency],
                "currency": currency,
                **money,
                **zero,
                "total_charged_amount": amount if paid else Decimal(0),
                "total_authorized_amount": Decimal(0),
                "authorize_status": "full" if paid else "none",
                "charge_status": "full" if paid else "none",
                "tracking_client_id": "",
                "user_email": "ann@example.com",
                "language_code": "en",
                "display_gross_prices": True,
                "customer_note": "",
                "weight": 0.5,
                "checkout_token": "" if status == "draft" else str(uuid4()),
                "search_document": f"ann@example.com\n{number[0]}\n",
                "use_old_id": False,
                "should_refresh_prices": status == "draft",
                "expired_at": LATER if status == "expired" else None,
                "lines_count": len(variants),
            },
        )
        for variant in variants:
            price = Decimal("9.990")
            prices = {
                f"{k}_amount": price
                for k in (
                    "unit_price_net",
                    "unit_price_gross",
                    "total_price_gross",
                    "total_price_net",
                    "undiscounted_total_price_gross",
                    "undiscounted_total_price_net",
                    "undiscounted_unit_price_gross",
                    "undiscounted_unit_price_net",
                    "base_unit_price",
                    "undiscounted_base_unit_price",
                )
            }
            insert(
                conn,
                "order_orderline",
                {
                    "id": uuid4(),
                    "order_id": oid,
                    "variant_id": variant,
                    "product_name": "Saleor Beanie",
                    "product_sku": None if variant is None else f"BEANIE-{variant}",
                    "variant_name": "M",
                    "translated_product_name": "",
                    "translated_variant_name": "",
                    "quantity": 1,
                    "quantity_fulfilled": 0,
                    "is_shipping_required": True,
                    "is_gift_card": False,
                    "currency": currency,
                    **prices,
                    "unit_discount_amount": Decimal(0),
                    "unit_discount_value": Decimal(0),
                    "created_at": placed,
                },
            )
        counts = status not in ("draft", "canceled", "expired")
        orders.append(Order(str(oid), placed, amount, currency, len(variants), counts))

    order("unfulfilled", LAST_SECOND, "299.960", "EUR", [1, None])  # variant deleted
    order("unconfirmed", MIDNIGHT, "0.005", "EUR", [2])  # counts; 0.005 -> 0.01
    order("fulfilled", DAY_AFTER, "0.005", "EUR", [3])  # 0.01 + 0.01, not round(0.010)
    order("fulfilled", MORNING, "1359.965", "USD", [])  # placed, no lines
    order("partially fulfilled", MORNING, "10.004", "EUR", [1])
    order("partially_returned", DAY_BEFORE, "259.970", "USD", [1, 2])
    order("returned", DAY_AFTER, "19.990", "USD", [3])
    order("draft", LATER, "77.000", "EUR", [1])
    order("canceled", LATER, "50.000", "EUR", [1])
    order("expired", LATER, "20.000", "USD", [2])
    return orders


# -- Oscar -------------------------------------------------------------------------------
def build_oscar(conn: Conn, schema: str = "public") -> list[Order]:
    """order_order: an order exists once placed (date_placed timestamptz NOT NULL); every
    status counts but Cancelled (the sandbox pipeline; '' when none is configured)."""
    load(conn, "oscar", schema)
    orders: list[Order] = []
    number = itertools.count(100001)

    def order(
        status: str, placed: datetime, total: str, currency: str, products: list[int | None]
    ) -> None:
        amount = Decimal(total)
        excl = cents(amount / Decimal("1.2"))
        oid = insert(
            conn,
            "order_order",
            {
                "number": str(next(number)),
                "currency": currency,
                "total_incl_tax": amount,
                "total_excl_tax": excl,
                "shipping_incl_tax": Decimal(0),
                "shipping_excl_tax": Decimal(0),
                "shipping_method": "Free shipping",
                "shipping_code": "free-shipping",
                "status": status,
                "guest_email": "",
                "date_placed": placed,
                "site_id": 1,
                "user_id": 1,
                "analytics_tracked": True,
            },
        )
        for product in products:
            price = Decimal("9.99")
            insert(
                conn,
                "order_line",
                {
                    "partner_name": "Oscar Partner",
                    "partner_sku": f"SKU{product}",
                    "partner_line_reference": "",
                    "partner_line_notes": "",
                    "title": "Oscar T-shirt",
                    "quantity": 1,
                    "line_price_incl_tax": price,
                    "line_price_excl_tax": price,
                    "line_price_before_discounts_incl_tax": price,
                    "line_price_before_discounts_excl_tax": price,
                    "unit_price_incl_tax": price,
                    "unit_price_excl_tax": price,
                    "status": "Cancelled" if status == "Cancelled" else "Pending",
                    "order_id": oid,
                    "partner_id": 1,
                    "product_id": product,
                    "stockrecord_id": product,
                    "allocation_cancelled": False,
                    "num_allocated": 0,
                },
            )
        counts = status != "Cancelled"
        orders.append(Order(oid, placed, amount, currency, len(products), counts))

    order("Pending", LAST_SECOND, "299.96", "EUR", [1, None])  # product deleted
    order("Being processed", MIDNIGHT, "0.30", "EUR", [2])
    order("Complete", MORNING, "1359.97", "GBP", [])  # placed, no lines
    order("", DAY_BEFORE, "259.97", "GBP", [1, 2])  # no status pipeline configured
    order("Complete", DAY_AFTER, "19.99", "EUR", [3])
    order("Cancelled", LATER, "50.00", "EUR", [1])
    return orders


# -- Solidus -----------------------------------------------------------------------------
def build_solidus(conn: Conn, schema: str = "public") -> list[Order]:
    """spree_orders: carts and orders in checkout have no completed_at; canceled ones
    keep it. completed_at is naive UTC (Rails), money numeric(10,2)."""
    load(conn, "solidus", schema)
    orders: list[Order] = []
    number = itertools.count(1001)

    def order(
        state: str,
        placed: datetime | None,
        total: str,
        currency: str,
        variants: list[int | None],
        counts: bool,
    ) -> None:
        amount = Decimal(total)
        created = naive((placed or LATER) - timedelta(minutes=20))
        oid = insert(
            conn,
            "spree_orders",
            {
                "number": f"R{next(number):09d}",
                "item_total": amount,
                "total": amount,
                "state": state,
                "completed_at": naive(placed),
                "payment_state": "paid" if placed else None,
                "shipment_state": "ready" if placed else None,
                "email": "ann@example.com",
                "created_at": created,
                "updated_at": created,
                "currency": currency,
                "guest_token": f"tok{next(number)}",
                "store_id": 1,
                "item_count": len(variants),
                "canceled_at": naive(LATER) if state == "canceled" else None,
            },
        )
        for variant in variants:
            insert(
                conn,
                "spree_line_items",
                {
                    "variant_id": variant,
                    "order_id": oid,
                    "quantity": 2,
                    "price": Decimal("9.99"),
                    "created_at": created,
                    "updated_at": created,
                },
            )
        orders.append(Order(oid, placed, amount, currency, len(variants), counts))

    order("complete", LAST_SECOND, "299.96", "EUR", [1, None], True)  # variant deleted
    order("complete", MIDNIGHT, "0.30", "EUR", [2], True)
    order("complete", MORNING, "1359.97", "USD", [], True)  # placed, no lines
    order("returned", DAY_BEFORE, "259.97", "USD", [1, 2], True)
    order("resumed", DAY_AFTER, "19.99", "EUR", [3], True)
    order("canceled", LATER, "50.00", "EUR", [1], False)
    order("cart", None, "10.00", "EUR", [1], False)
    order("payment", None, "20.00", "USD", [2, 3], False)
    return orders


# A query source written by hand for the Solidus shop: what a mapping cannot express.
SOLIDUS_QUERY = (
    "SELECT o.id AS order_id, o.completed_at AT TIME ZONE 'UTC' AS placed_at, "
    "o.total AS amount, o.currency AS currency, "
    "(SELECT count(*) FROM {schema}.spree_line_items l WHERE l.order_id = o.id) AS lines "
    "FROM {schema}.spree_orders o "
    "WHERE o.completed_at IS NOT NULL AND o.state <> 'canceled'"
)


# -- Vendure -----------------------------------------------------------------------------
def build_vendure(conn: Conn, schema: str = "public") -> list[Order]:
    """ "order": carts have no orderPlacedAt; Cancelled ones keep it. Money is integer
    minor units (subTotalWithTax + shippingWithTax), orderPlacedAt naive UTC."""
    load(conn, "vendure", schema)
    orders: list[Order] = []
    code = itertools.count(1)

    def order(
        state: str,
        placed: datetime | None,
        sub_with_tax: int,
        shipping_with_tax: int,
        currency: str,
        lines: int,
        counts: bool,
    ) -> None:
        created = naive((placed or LATER) - timedelta(minutes=20))
        oid = insert(
            conn,
            "order",
            {
                "createdAt": created,
                "updatedAt": created,
                "code": f"K{next(code):015d}",
                "state": state,
                "active": placed is None,
                "orderPlacedAt": naive(placed),
                "couponCodes": "",
                "shippingAddress": '{"countryCode":"DE"}',
                "billingAddress": "{}",
                "currencyCode": currency,
                "customerId": 1,
                "taxZoneId": 1,
                "subTotal": sub_with_tax * 100 // 119,
                "subTotalWithTax": sub_with_tax,
                "shipping": shipping_with_tax * 100 // 119,
                "shippingWithTax": shipping_with_tax,
            },
        )
        for i in range(lines):
            insert(
                conn,
                "order_line",
                {
                    "createdAt": created,
                    "updatedAt": created,
                    "quantity": 1,
                    "orderPlacedQuantity": 1 if placed else 0,
                    "listPriceIncludesTax": True,
                    "adjustments": "[]",
                    "taxLines": '[{"description":"VAT","taxRate":19}]',
                    "productVariantId": 10 + i,
                    "taxCategoryId": 1,
                    "listPrice": 1999,
                    "orderId": oid,
                },
            )
        insert(conn, "order_channels_channel", {"orderId": oid, "channelId": 1}, "orderId")
        amount = Decimal(sub_with_tax + shipping_with_tax) / 100
        orders.append(Order(oid, placed, amount, currency, lines, counts))

    order("PaymentSettled", LAST_SECOND, 25000, 4996, "EUR", 2, True)
    order("Shipped", MIDNIGHT, 1999, 500, "EUR", 1, True)
    order("Delivered", MORNING, 135997, 0, "USD", 0, True)  # placed, no lines
    order("PaymentAuthorized", DAY_BEFORE, 25497, 500, "USD", 2, True)
    order("Modifying", DAY_AFTER, 1, 0, "EUR", 3, True)  # one cent
    order("Cancelled", LATER, 5000, 0, "EUR", 1, False)
    order("AddingItems", None, 1999, 0, "EUR", 1, False)
    order("ArrangingPayment", None, 3998, 500, "USD", 2, False)
    order("Draft", None, 999, 0, "EUR", 1, False)
    return orders


# -- Medusa ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    """One version of a Medusa order: its summary total and items (variant ids), live or
    soft-deleted (an undone change)."""

    number: int
    total: str
    items: tuple[str | None, ...] = ()
    deleted: bool = False


def build_medusa(conn: Conn, schema: str = "public") -> list[Order]:
    """ "order" is versioned: an edit adds order_item / order_summary rows of a new version
    and bumps order.version; an undone change soft-deletes its rows. Drafts, soft-deleted
    and canceled orders do not count. Money in major units; created_at timestamptz."""
    load(conn, "medusa", schema)
    orders: list[Order] = []
    serial = itertools.count(1)

    def order(
        status: str,
        placed: datetime,
        currency: str,
        versions: list[Version],
        counts: bool,
        draft: bool = False,
        deleted: bool = False,
    ) -> None:
        oid = f"order_{next(serial):02d}"
        current = max(v.number for v in versions if not v.deleted)
        insert(
            conn,
            "order",
            {
                "id": oid,
                "region_id": "reg_01",
                "customer_id": "cus_01",
                "version": current,
                "sales_channel_id": "sc_01",
                "status": status,
                "is_draft_order": draft,
                "email": "ann@example.com",
                "currency_code": currency,
                "created_at": placed,
                "updated_at": placed,
                "deleted_at": LATER + timedelta(days=1) if deleted else None,
                "canceled_at": LATER if status == "canceled" else None,
            },
        )
        for v in versions:
            gone = LATER + timedelta(hours=2) if v.deleted else None
            total = float(Decimal(v.total))  # a JSON number: jsonb keeps its decimal digits
            totals = {"current_order_total": total, "original_order_total": total}
            insert(
                conn,
                "order_summary",
                {
                    "id": f"ordsum_{next(serial):04d}",
                    "order_id": oid,
                    "version": v.number,
                    "totals": Jsonb({**totals, "paid_total": 0, "refunded_total": 0}),
                    "deleted_at": gone,
                },
            )
            for variant in v.items:
                item = insert(
                    conn,
                    "order_line_item",
                    {
                        "id": f"ordli_{next(serial):04d}",
                        "title": "Medusa Mug",
                        "variant_id": variant,
                        "product_id": None if variant is None else "prod_01",
                        "product_title": "Medusa Mug",
                        "unit_price": Decimal("10"),
                        "raw_unit_price": raw(10),
                    },
                )
                quantities = {
                    f"{q}_quantity": 0
                    for q in (
                        "fulfilled",
                        "shipped",
                        "return_requested",
                        "return_received",
                        "return_dismissed",
                        "written_off",
                    )
                }
                insert(
                    conn,
                    "order_item",
                    {
                        "id": f"orditem_{next(serial):04d}",
                        "order_id": oid,
                        "version": v.number,
                        "item_id": item,
                        "quantity": 1,
                        "raw_quantity": raw(1),
                        **quantities,
                        "unit_price": Decimal("10"),
                        "raw_unit_price": raw(10),
                        "deleted_at": gone,
                    },
                )
        live = [v for v in versions if v.number == current and not v.deleted]
        amount, lines = Decimal(live[0].total), sum(len(v.items) for v in live)
        orders.append(Order(oid, placed, amount, currency, lines, counts))

    v = Version
    order("pending", LAST_SECOND, "eur", [v(1, "299.96", ("variant_01", None))], True)
    order(  # edited: version 2 has other items and another total
        "completed",
        MIDNIGHT,
        "eur",
        [v(1, "100.00", ("variant_01",)), v(2, "130.50", ("variant_01", "variant_02", None))],
        True,
    )
    order("requires_action", MORNING, "usd", [v(1, "1359.97")], True)  # placed, no items
    order("archived", DAY_BEFORE, "usd", [v(1, "259.97", ("variant_01", "variant_02"))], True)
    order(  # a change undone (its version-2 rows soft-deleted), then made again
        "completed",
        DAY_AFTER,
        "eur",
        [
            v(1, "40.00", ("variant_01",)),
            v(2, "999.99", ("variant_02", "variant_03"), deleted=True),
            v(2, "45.005", ("variant_03",)),
        ],
        True,
    )
    order("draft", LATER, "eur", [v(1, "77.00", ("variant_01",))], False, draft=True)
    order("canceled", LATER, "eur", [v(1, "50.00", ("variant_01",))], False)
    order("pending", LATER, "usd", [v(1, "60.00", ("variant_02",))], False, deleted=True)
    return orders


@dataclass(frozen=True)
class Platform:
    """A platform under test: how to build its shop, and where its orders are."""

    name: str
    build: Callable[[Conn, str], list[Order]]
    orders: str  # the orders table
    lines: str  # the lines table
    naive: bool  # placed-at is `timestamp without time zone` (written in UTC)
    indexed: bool  # its DDL indexes placed-at and the lines' order key


PLATFORMS = {
    p.name: p
    for p in (
        Platform("saleor", build_saleor, "order_order", "order_orderline", False, True),
        Platform("oscar", build_oscar, "order_order", "order_line", False, True),
        Platform("solidus", build_solidus, "spree_orders", "spree_line_items", True, True),
        Platform("vendure", build_vendure, "order", "order_line", True, True),
        Platform("medusa", build_medusa, "order", "order_item", False, False),
    )
}
