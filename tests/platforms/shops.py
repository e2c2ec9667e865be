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
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
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


# -- Sylius ------------------------------------------------------------------------------
def build_sylius(conn: Conn, schema: str = "public") -> list[Order]:
    """sylius_order: carts share the table (state 'cart', no checkout_completed_at); an order
    counts once its checkout completed unless cancelled. Money integer cents, one currency
    per channel on each order; checkout_completed_at TIMESTAMP(0), naive UTC (Doctrine)."""
    load(conn, "sylius", schema)
    orders: list[Order] = []
    number = itertools.count(1)

    def nextval(sequence: str) -> int:
        row = conn.execute("SELECT nextval(%s)", (sequence,)).fetchone()
        assert row is not None
        return int(row[0])

    def order(
        state: str,
        placed: datetime | None,
        total: int,
        currency: str,
        variants: list[int],
        payment: str,
    ) -> None:
        oid = nextval("sylius_order_id_seq")
        created = naive((placed or LATER) - timedelta(minutes=20))
        insert(
            conn,
            "sylius_order",
            {
                "id": oid,
                "channel_id": 1 if currency == "EUR" else 2,
                "customer_id": 7,
                "number": None if placed is None else f"{next(number):06d}",
                "state": state,
                "checkout_completed_at": naive(placed),
                "items_total": total,
                "adjustments_total": 0,
                "total": total,
                "created_at": created,
                "updated_at": created,
                "currency_code": currency,
                "locale_code": "en_US",
                "checkout_state": "cart" if placed is None else "completed",
                "payment_state": payment,
                "shipping_state": "cart" if placed is None else "ready",
                "token_value": f"tok{oid}",
            },
        )
        for variant in variants:
            insert(
                conn,
                "sylius_order_item",
                {
                    "id": nextval("sylius_order_item_id_seq"),
                    "order_id": oid,
                    "variant_id": variant,
                    "quantity": 1,
                    "unit_price": total // max(len(variants), 1),
                    "units_total": total // max(len(variants), 1),
                    "adjustments_total": 0,
                    "total": total // max(len(variants), 1),
                    "is_immutable": placed is not None,
                    "product_name": "Sylius Mug",
                    "variant_name": "Blue",
                },
            )
        counts = placed is not None and state not in ("cart", "cancelled")
        orders.append(Order(oid, placed, Decimal(total) / 100, currency, len(variants), counts))

    # The variant table is not in this fixture: variant 404 stands for a product removed from
    # the catalogue (Sylius cannot delete an ordered variant: the FK has no ON DELETE; the line
    # keeps its product_name and variant_name).
    order("new", LAST_SECOND, 29996, "EUR", [1, 404], "awaiting_payment")
    order("fulfilled", MIDNIGHT, 30, "EUR", [2], "paid")
    order("new", MORNING, 135997, "USD", [], "paid")  # placed, no lines
    order("fulfilled", DAY_BEFORE, 25997, "USD", [1, 2], "refunded")
    order("new", DAY_AFTER, 1, "EUR", [3], "paid")  # one cent
    order("cancelled", LATER, 5000, "EUR", [1], "cancelled")
    order("cart", None, 1000, "EUR", [1], "cart")
    order("cart", None, 2000, "USD", [2, 3], "cart")
    return orders


# -- Odoo --------------------------------------------------------------------------------
def build_odoo(conn: Conn, schema: str = "public") -> list[Order]:
    """sale_order: quotations (draft, sent) and cancelled orders share the table; an order
    counts once confirmed: state 'sale', or 'done' (Odoo <= 16's locked state). date_order is
    the confirmation time, naive UTC; the currency's code is res_currency.name; section, note
    and down-payment rows are not lines."""
    load(conn, "odoo", schema)
    currencies = {
        code: insert(
            conn,
            "res_currency",
            {
                "name": code,
                "full_name": name,
                "symbol": symbol,
                "rounding": Decimal("0.01"),
                "decimal_places": 2,
                "active": True,
                "position": "after" if code == "EUR" else "before",
            },
        )
        for code, name, symbol in (("EUR", "Euro", "€"), ("USD", "United States dollar", "$"))
    }
    orders: list[Order] = []
    number = itertools.count(1)

    def order(
        state: str,
        placed: datetime,
        total: str,
        currency: str,
        products: list[int],
        extra: tuple[str, ...] = (),
        locked: bool = False,
    ) -> None:
        amount = Decimal(total)
        untaxed = cents(amount / Decimal("1.2"))
        oid = insert(
            conn,
            "sale_order",
            {
                "company_id": 1,
                "partner_id": 9,
                "partner_invoice_id": 9,
                "partner_shipping_id": 9,
                "pricelist_id": 1,
                "currency_id": currencies[currency],
                "user_id": 2,
                "name": f"S{next(number):05d}",
                "state": state,
                "invoice_status": "to invoice" if state in ("sale", "done") else "no",
                "currency_rate": Decimal(1),
                "amount_untaxed": untaxed,
                "amount_tax": amount - untaxed,
                "amount_total": amount,
                "locked": locked,
                "require_signature": False,
                "require_payment": False,
                "create_date": naive(placed - timedelta(days=1)),
                "write_date": naive(placed),
                "date_order": naive(placed),
            },
        )
        sequence = itertools.count(10)
        for product in products:
            price = cents(untaxed / max(len(products), 1))
            insert(
                conn,
                "sale_order_line",
                {
                    "order_id": oid,
                    "sequence": next(sequence),
                    "company_id": 1,
                    "currency_id": currencies[currency],
                    "product_id": product,
                    "product_uom_id": 1,
                    "state": state,
                    "name": "[FURN_0001] Desk",
                    "product_uom_qty": Decimal(1),
                    "price_unit": price,
                    "discount": Decimal(0),
                    "price_subtotal": price,
                    "price_total": price,
                    "is_downpayment": False,
                    "customer_lead": 0.0,
                },
            )
        for kind in extra:  # rows that are no sold line
            downpayment = kind == "downpayment"
            insert(
                conn,
                "sale_order_line",
                {
                    "order_id": oid,
                    "sequence": next(sequence),
                    "state": state,
                    "display_type": None if downpayment else kind,
                    "product_id": None,
                    "name": "Down payment" if downpayment else f"A {kind}",
                    "product_uom_qty": Decimal(0),
                    "price_unit": Decimal(0),
                    "is_downpayment": downpayment or None,  # an unset Boolean is NULL
                    "customer_lead": 0.0,
                },
            )
        counts = state in ("sale", "done")
        orders.append(Order(oid, placed, amount, currency, len(products), counts))

    # Product 404 stands for a product archived or gone (not in this fixture; Odoo's FK is
    # ondelete='restrict', so the line keeps its product id).
    order("sale", LAST_SECOND, "299.96", "EUR", [1, 404], ("line_section", "line_note"))
    order("sale", MIDNIGHT, "0.30", "EUR", [2], ("downpayment",), locked=True)
    order("sale", MORNING, "1359.97", "USD", [], ("line_note",))  # confirmed, no lines
    order("done", DAY_BEFORE, "259.97", "USD", [1, 2])  # Odoo 16's locked state
    order("sale", DAY_AFTER, "0.005", "EUR", [3])  # rounded to cents once: 0.01
    order("draft", LATER, "77.00", "EUR", [1])  # quotation
    order("sent", LATER, "88.00", "USD", [2])  # quotation sent
    order("cancel", LATER, "50.00", "EUR", [1])
    return orders


# -- EverShop ----------------------------------------------------------------------------
def build_evershop(conn: Conn, schema: str = "public") -> list[Order]:
    """ "order": a row only once placed (carts are another table); every status counts but
    canceled. created_at timestamptz, grand_total decimal(12,4) in major units, the order's
    currency; order_item.product_id has no foreign key (a deleted product's lines stay)."""
    load(conn, "evershop", schema)
    orders: list[Order] = []
    number = itertools.count(10001)

    def order(
        status: str,
        payment: str,
        shipment: str,
        placed: datetime,
        total: str,
        currency: str,
        products: list[int],
    ) -> None:
        amount = Decimal(total)
        oid = insert(
            conn,
            "order",
            {
                "order_number": str(next(number)),
                "status": status,
                "cart_id": next(number),
                "currency": currency,
                "customer_email": "ann@example.com",
                "customer_full_name": "Ann",
                "shipping_fee_excl_tax": Decimal(0),
                "shipping_fee_incl_tax": Decimal(0),
                "discount_amount": Decimal(0),
                "sub_total": amount,
                "sub_total_incl_tax": amount,
                "sub_total_with_discount": amount,
                "sub_total_with_discount_incl_tax": amount,
                "total_qty": len(products),
                "tax_amount": Decimal(0),
                "tax_amount_before_discount": Decimal(0),
                "shipping_tax_amount": Decimal(0),
                "grand_total": amount,
                "payment_method": "cod",
                "payment_method_name": "Cash on delivery",
                "shipment_status": shipment,
                "payment_status": payment,
                "created_at": placed,
                "updated_at": placed,
            },
            "order_id",
        )
        for product in products:
            price = Decimal("9.9900")
            insert(
                conn,
                "order_item",
                {
                    "order_item_order_id": oid,
                    "product_id": product,
                    "product_sku": f"SKU-{product}",
                    "product_name": "EverShop Tee",
                    "product_price": price,
                    "product_price_incl_tax": price,
                    "qty": 1,
                    "final_price": price,
                    "final_price_incl_tax": price,
                    "tax_percent": Decimal(0),
                    "tax_amount": Decimal(0),
                    "tax_amount_before_discount": Decimal(0),
                    "discount_amount": Decimal(0),
                    "line_total": price,
                    "line_total_with_discount": price,
                    "line_total_incl_tax": price,
                    "line_total_with_discount_incl_tax": price,
                },
                "order_item_id",
            )
        counts = status != "canceled"
        orders.append(Order(oid, placed, amount, currency, len(products), counts))

    # Product 404 was deleted from the catalogue: no foreign key, its lines stay.
    order("new", "pending", "pending", LAST_SECOND, "299.9600", "USD", [1, 404])
    order("processing", "paid", "pending", MIDNIGHT, "0.0050", "USD", [2])  # 0.01
    order("completed", "paid", "delivered", MORNING, "1359.9700", "EUR", [])  # no lines
    order("closed", "paid", "delivered", DAY_BEFORE, "259.9749", "EUR", [1, 2])  # 259.97
    order("processing", "paid", "partially_shipped", DAY_AFTER, "19.9900", "USD", [3])
    order("canceled", "canceled", "canceled", LATER, "50.0000", "USD", [1])
    return orders


# -- Spree -------------------------------------------------------------------------------
SPREE_STATUS = {  # state -> status, as Spree 5.5's backfill and callbacks set it
    "complete": "placed",
    "resumed": "placed",
    "returned": "placed",
    "awaiting_return": "placed",
    "canceled": "canceled",
    "partially_canceled": "canceled",
}


def build_spree(conn: Conn, schema: str = "public") -> list[Order]:
    """spree_orders (Spree 5.6: state and status): carts, checkouts and drafts have no
    completed_at; canceled orders keep it, and a resumed order keeps its canceled_at.
    completed_at is naive UTC (Rails), money numeric(10,2)."""
    load(conn, "spree", schema)
    orders: list[Order] = []
    number = itertools.count(1001)

    def order(
        state: str,
        placed: datetime | None,
        total: str,
        currency: str,
        variants: list[int | None],
        canceled_at: datetime | None = None,
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
                "status": SPREE_STATUS.get(state, "draft"),
                "completed_at": naive(placed),
                "payment_state": "paid" if placed else None,
                "shipment_state": "ready" if placed else None,
                "email": "ann@example.com",
                "created_at": created,
                "updated_at": created,
                "currency": currency,
                "token": f"tok{next(number)}",
                "store_id": 1,
                "item_count": len(variants),
                "canceled_at": naive(canceled_at),
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
        counts = placed is not None and state not in ("canceled", "partially_canceled")
        orders.append(Order(oid, placed, amount, currency, len(variants), counts))

    order("complete", LAST_SECOND, "299.96", "EUR", [1, None])  # variant deleted
    order("complete", MIDNIGHT, "0.30", "EUR", [2])
    order("complete", MORNING, "1359.97", "USD", [])  # placed, no lines
    order("returned", DAY_BEFORE, "259.97", "USD", [1, 2])
    order("resumed", DAY_AFTER, "19.99", "EUR", [3], canceled_at=LATER)  # canceled, resumed
    order("canceled", LATER, "50.00", "EUR", [1], canceled_at=LATER)
    order("partially_canceled", LATER, "60.00", "USD", [1, 2], canceled_at=LATER)
    order("cart", None, "10.00", "EUR", [1])
    order("payment", None, "20.00", "USD", [2, 3])
    return orders


# -- Medusa v1 ---------------------------------------------------------------------------
HALF = Decimal("0.5")


def js_round(value: Decimal) -> Decimal:
    """JavaScript's Math.round: the nearest integer, halves upwards (-2.5 -> -2)."""
    return (value + HALF).to_integral_value(rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class V1Item:
    """A Medusa v1 line item: unit price (minor units), quantity, tax line rates (percent),
    adjustments (discount id, or None for a custom one; amount), whether discounts apply,
    and whether its price includes tax (the tax_inclusive_pricing flag's column)."""

    unit: int
    qty: int = 1
    rates: tuple[str, ...] = ()
    adjustments: tuple[tuple[str | None, str], ...] = ()
    allow_discounts: bool = True
    variant: str | None = "variant_01"
    returned: int | None = None
    inclusive: bool = False


@dataclass(frozen=True)
class V1Shipping:
    price: int
    rates: tuple[str, ...] = ()
    inclusive: bool = False


@dataclass(frozen=True)
class V1GiftCard:
    """A gift card transaction: amount (minor units), is_taxable, tax_rate (percent)."""

    amount: int
    is_taxable: bool | None
    tax_rate: str | None


# region id -> (currency, tax rate, gift cards taxable)
MEDUSA_V1_REGIONS = {"reg_eu": ("eur", "19", True), "reg_us": ("usd", "0", False)}
# discount id -> (rule type, soft-deleted)
MEDUSA_V1_DISCOUNTS = {
    "disc_10pct": ("percentage", False),
    "disc_ship": ("free_shipping", False),
    "disc_gone": ("fixed", True),
}


def _v1_item(item: V1Item, discount: Decimal, legacy: Decimal | None) -> tuple[Decimal, Decimal]:
    """(subtotal, tax) of one item: NewTotalsService.getLineItemTotals_ with the
    TaxCalculationStrategy, or getLineItemTotalsLegacy when the order has a tax_rate."""
    if legacy is not None:
        included = js_round(item.unit * legacy / (1 + legacy)) if item.inclusive else 0
        subtotal = js_round((item.unit - included) * Decimal(item.qty))
        return subtotal, js_round((subtotal - js_round(discount)) * legacy)
    rates = [Decimal(r) / 100 for r in item.rates]
    base = Decimal(item.unit * item.qty)
    if item.inclusive:  # the tax in the price taken out first; no tax lines: subtotal 0
        included = js_round(item.unit * sum(rates, Decimal(0)) / (1 + sum(rates, Decimal(0))))
        base = (item.unit - included) * Decimal(item.qty)
    tax = sum((js_round((base - discount) * r) for r in rates), Decimal(0))
    if not item.inclusive:
        return base, tax
    if not rates:
        return Decimal(0), Decimal(0)
    original_tax = sum((js_round(base * r) for r in rates), Decimal(0))
    return item.unit * item.qty - original_tax, tax


def _v1_shipping(method: V1Shipping, legacy: Decimal | None) -> tuple[Decimal, Decimal]:
    """(subtotal, tax) of one shipping method: getShippingMethodTotals_ (tax over every tax
    line, rounded once) or getShippingMethodTotalsLegacy."""
    if legacy is not None:
        return Decimal(method.price), js_round(method.price * legacy)
    rates = [Decimal(r) / 100 for r in method.rates]
    if method.inclusive:
        tax = js_round(sum((method.price * r / (1 + r) for r in rates), Decimal(0)))
        return method.price - tax, tax
    return Decimal(method.price), js_round(sum((method.price * r for r in rates), Decimal(0)))


def medusa_v1_total(
    items: list[V1Item],
    shipping: list[V1Shipping],
    discounts: list[str],
    gift_cards: list[V1GiftCard],
    region: str,
    tax_rate: str | None,
) -> int:
    """The order total Medusa v1's admin shows (OrderService.decorateTotals with
    NewTotalsService and TaxCalculationStrategy), in minor units, written from those files:
    subtotal + shipping + (tax - gift card tax) - (gift cards + round(discounts))."""
    live = [d for d in discounts if not MEDUSA_V1_DISCOUNTS[d][1]]
    main = [d for d in live if MEDUSA_V1_DISCOUNTS[d][0] != "free_shipping"]
    free_shipping = any(MEDUSA_V1_DISCOUNTS[d][0] == "free_shipping" for d in live)
    legacy = Decimal(tax_rate) / 100 if tax_rate not in (None, "0") else None
    subtotal = raw_discount = tax = shipping_total = Decimal(0)
    for item in items:
        discount = sum(
            (
                Decimal(amount)
                for did, amount in item.adjustments
                if did is None or (item.allow_discounts and did in main)
            ),
            Decimal(0),
        )
        item_subtotal, item_tax = _v1_item(item, discount, legacy)
        subtotal, raw_discount, tax = (
            subtotal + item_subtotal,
            raw_discount + discount,
            tax + item_tax,
        )
    for method in shipping:
        if not free_shipping:
            method_subtotal, method_tax = _v1_shipping(method, legacy)
            shipping_total, tax = shipping_total + method_subtotal, tax + method_tax
    _, region_rate, gift_cards_taxable = MEDUSA_V1_REGIONS[region]
    gift_total = gift_tax = Decimal(0)
    for card in gift_cards:  # getGiftCardTransactionsTotals (the gift card is not joined)
        rate = Decimal(card.tax_rate or 0)
        if card.is_taxable is None and gift_cards_taxable:
            rate = Decimal(region_rate)
        gift_total += card.amount
        gift_tax = js_round(gift_tax + card.amount * rate / 100)
    total = subtotal + shipping_total + (tax - gift_tax) - (gift_total + js_round(raw_discount))
    assert total == total.to_integral_value()
    return int(total)


def medusa_v1_order(
    conn: Conn,
    oid: str,
    status: str,
    placed: datetime,
    region: str,
    items: list[V1Item],
    shipping: tuple[V1Shipping, ...] = (),
    discounts: tuple[str, ...] = (),
    gift_cards: tuple[V1GiftCard, ...] = (),
    tax_rate: str | None = None,
    draft: bool = False,
) -> Order:
    """One Medusa v1 order with its items, tax lines, adjustments, shipping methods and gift
    card transactions, and the Order it is by Medusa's rules (status canceled: no sale)."""
    currency = MEDUSA_V1_REGIONS[region][0]
    paid = status not in ("pending", "canceled")
    insert(
        conn,
        "order",
        {
            "id": oid,
            "status": status,
            "fulfillment_status": "fulfilled" if status == "completed" else "not_fulfilled",
            "payment_status": "captured" if paid else "awaiting",
            "cart_id": None if draft else f"cart_{oid}",
            "customer_id": "cus_01",
            "email": "ann@example.com",
            "region_id": region,
            "currency_code": currency,
            "tax_rate": None if tax_rate is None else float(tax_rate),
            "canceled_at": LATER if status == "canceled" else None,
            "created_at": placed,
            "updated_at": placed,
            "draft_order_id": f"dorder_{oid}" if draft else None,
            "no_notification": draft or None,
        },
    )
    for discount in discounts:
        insert(conn, "order_discounts", {"order_id": oid, "discount_id": discount}, "order_id")
    inclusive = {"includes_tax": True}
    for item in items:
        iid = insert(
            conn,
            "line_item",
            {
                "id": f"item_{uuid4().hex[:12]}",
                "order_id": oid,
                "title": "Medusa Sweatshirt",
                "allow_discounts": item.allow_discounts,
                "has_shipping": True,
                "unit_price": item.unit,
                "variant_id": item.variant,
                "quantity": item.qty,
                "fulfilled_quantity": item.returned,
                "shipped_quantity": item.returned,
                "returned_quantity": item.returned,
                **(inclusive if item.inclusive else {}),
            },
        )
        for n, rate in enumerate(item.rates):
            insert(
                conn,
                "line_item_tax_line",
                {
                    "id": f"litl_{uuid4().hex[:12]}",
                    "rate": float(rate),
                    "name": f"VAT {n}",
                    "code": f"vat{n}",
                    "item_id": iid,
                },
            )
        for did, amount in item.adjustments:
            insert(
                conn,
                "line_item_adjustment",
                {
                    "id": f"lia_{uuid4().hex[:12]}",
                    "item_id": iid,
                    "description": "discount" if did else "custom",
                    "discount_id": did,
                    "amount": Decimal(amount),
                },
            )
    for method in shipping:
        sid = insert(
            conn,
            "shipping_method",
            {
                "id": f"sm_{uuid4().hex[:12]}",
                "shipping_option_id": "so_01",
                "order_id": oid,
                "price": method.price,
                "data": Jsonb({}),
                **(inclusive if method.inclusive else {}),
            },
        )
        for n, rate in enumerate(method.rates):
            insert(
                conn,
                "shipping_method_tax_line",
                {
                    "id": f"smtl_{uuid4().hex[:12]}",
                    "rate": float(rate),
                    "name": f"VAT {n}",
                    "code": f"vat{n}",
                    "shipping_method_id": sid,
                },
            )
    for card in gift_cards:
        insert(
            conn,
            "gift_card_transaction",
            {
                "id": f"gct_{uuid4().hex[:12]}",
                "gift_card_id": f"gift_{uuid4().hex[:12]}",
                "order_id": oid,
                "amount": card.amount,
                "is_taxable": card.is_taxable,
                "tax_rate": None if card.tax_rate is None else float(card.tax_rate),
            },
        )
    total = medusa_v1_total(
        items, list(shipping), list(discounts), list(gift_cards), region, tax_rate
    )
    counts = status != "canceled"
    return Order(oid, placed, Decimal(total) / 100, currency.upper(), len(items), counts)


def build_medusa_v1(conn: Conn, schema: str = "public") -> list[Order]:
    """ "order" (Medusa v1): placed orders only (carts and draft orders are other tables; a
    registered draft has draft_order_id); every status counts but canceled. No stored total:
    each order's total is computed here from Medusa's own totals rules (medusa_v1_total) in
    minor units; currency codes lower case; created_at timestamptz."""
    load(conn, "medusa_v1", schema)
    for rid, (currency, rate, taxable) in MEDUSA_V1_REGIONS.items():
        insert(
            conn,
            "region",
            {
                "id": rid,
                "name": rid,
                "currency_code": currency,
                "tax_rate": float(rate),
                "gift_cards_taxable": taxable,
            },
        )
    for did, (kind, deleted) in MEDUSA_V1_DISCOUNTS.items():
        rule = insert(
            conn,
            "discount_rule",
            {"id": f"dru_{did}", "type": kind, "value": 10, "allocation": "total"},
        )
        insert(
            conn,
            "discount",
            {
                "id": did,
                "code": did.upper(),
                "is_dynamic": False,
                "rule_id": rule,
                "is_disabled": False,
                "deleted_at": LATER if deleted else None,
            },
        )
    i, s, g = V1Item, V1Shipping, V1GiftCard
    orders = [
        # a custom line whose variant is gone; an old gift card transaction (is_taxable NULL)
        medusa_v1_order(
            conn,
            "order_01",
            "pending",
            LAST_SECOND,
            "reg_eu",
            [i(1999, 2, ("19",)), i(999, 1, ("19",), variant=None)],
            (s(500, ("19",)),),
            gift_cards=(g(500, None, None),),
        ),
        # 10 % off (199.9 of 1999: not a whole cent), a custom adjustment on an item that
        # allows no discounts, free shipping, two tax lines, a returned unit (no effect)
        medusa_v1_order(
            conn,
            "order_02",
            "completed",
            MIDNIGHT,
            "reg_eu",
            [
                i(1999, 1, ("19", "2.5"), (("disc_10pct", "199.9"),)),
                i(1000, 3, ("19",), (("disc_10pct", "300"), (None, "50")), allow_discounts=False),
                i(333, 1, ("7",), (("disc_10pct", "33.3"),), returned=1),
            ],
            (s(1250, ("19",)),),
            ("disc_10pct", "disc_ship"),
        ),
        # placed, no lines: shipping alone
        medusa_v1_order(conn, "order_03", "requires_action", MORNING, "reg_us", [], (s(1000),)),
        # before tax lines: the order's own tax_rate (the legacy formulas)
        medusa_v1_order(
            conn,
            "order_04",
            "archived",
            DAY_BEFORE,
            "reg_us",
            [i(1000, 3, (), (("disc_10pct", "300"),)), i(1)],
            (s(495),),
            ("disc_10pct",),
            tax_rate="25",
        ),
        # from a draft order; a taxable gift card; an adjustment of a deleted discount
        medusa_v1_order(
            conn,
            "order_05",
            "completed",
            DAY_AFTER,
            "reg_eu",
            [i(5000, 1, ("19",), (("disc_gone", "700"),)), i(1, 1, ("19",))],
            (s(0, ("19",)),),
            ("disc_gone",),
            (g(1000, True, "19"),),
            draft=True,
        ),
        medusa_v1_order(
            conn, "order_06", "canceled", LATER, "reg_eu", [i(5000, 1, ("19",))], (s(500, ("19",)),)
        ),
    ]
    # A swap's additional item: line_item with swap_id, no order_id: in no order's lines.
    insert(
        conn,
        "line_item",
        {
            "id": "item_swap",
            "title": "Swap",
            "unit_price": 100,
            "quantity": 1,
            "swap_id": "swap_01",
        },
    )
    return orders


# The tax_inclusive_pricing flag's migration (packages/medusa/src/migrations/
# 1659501357661-tax_inclusive_pricing.ts) on the tables of this fixture.
MEDUSA_V1_TAX_INCLUSIVE = (
    'ALTER TABLE "shipping_method" ADD "includes_tax" boolean NOT NULL DEFAULT false',
    'ALTER TABLE "line_item" ADD "includes_tax" boolean NOT NULL DEFAULT false',
    'ALTER TABLE "region" ADD "includes_tax" boolean NOT NULL DEFAULT false',
)


def build_medusa_v1_tax_inclusive(conn: Conn, schema: str = "public") -> list[Order]:
    """The Medusa v1 shop with the tax_inclusive_pricing flag on: its migration run, and
    orders whose prices include tax (items and shipping), beside tax-exclusive ones."""
    orders = build_medusa_v1(conn, schema)
    for statement in MEDUSA_V1_TAX_INCLUSIVE:
        conn.execute(statement)
    i, s = V1Item, V1Shipping
    orders.append(  # 1190 incl. 19 % -> 190 tax, 1000 net; 7 % and 2.5 % on one line
        medusa_v1_order(
            conn,
            "order_07",
            "pending",
            MORNING,
            "reg_eu",
            [
                i(1190, 2, ("19",), (("disc_10pct", "238"),), inclusive=True),
                i(1099, 1, ("7", "2.5"), inclusive=True),
                i(500, 1, (), inclusive=True),  # no tax lines: Medusa's subtotal is 0
                i(250, 1, ("19",)),
            ],
            (s(595, ("19",), inclusive=True), s(300, ("19",))),
            ("disc_10pct",),
        )
    )
    orders.append(  # an old order with a tax_rate and a tax-inclusive price
        medusa_v1_order(
            conn,
            "order_08",
            "completed",
            LAST_SECOND,
            "reg_eu",
            [i(1250, 1, (), inclusive=True)],
            (s(100),),
            tax_rate="25",
        )
    )
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
        Platform("sylius", build_sylius, "sylius_order", "sylius_order_item", True, False),
        Platform("odoo", build_odoo, "sale_order", "sale_order_line", True, True),
        Platform("evershop", build_evershop, "order", "order_item", False, False),
        Platform("spree", build_spree, "spree_orders", "spree_line_items", True, True),
        Platform("medusa-v1", build_medusa_v1, "order", "line_item", False, False),
    )
}
