"""The digest (digest.py) as plain text, Markdown or JSON, and the words and numbers every
form of it shares (render/html.py draws the page and chart, render/mail.py the email).

Plain text is what cron mails: ASCII, fixed-width, at most TEXT_WIDTH columns. Markdown is
for Slack and Mattermost (a title line and a bullet list per currency, in the syntax both
read). JSON has the same figures, decimals written with their own digits
(records.json_value), never through float. No database imports here.
"""

from __future__ import annotations

import json as json_mod
import textwrap
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from orderreport.render.records import json_value
from orderreport.reports.digest import BASES, Comparison, CurrencyDigest, Digest, Figure

TEXT_WIDTH = 72  # columns of the plain-text digest

# Shown in this order: the headline figures first. Each: label, and whether it is money
# (or lines per order: two places) rather than a count.
LABELS: dict[str, tuple[str, bool]] = {
    "total_value": ("Value", True),
    "total_orders": ("Orders", False),
    "average_order_value": ("Average order value", True),
    "total_products": ("Lines", False),
    "average_products_per_order": ("Lines per order", True),
}
# What a day without orders shows: the averages of no order are no figures to compare.
QUIET_FIGURES = ("total_value", "total_orders", "total_products")

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ARROWS = {"up": "▲", "down": "▼", "new": "▲", "same": "="}
MINUS = "\N{MINUS SIGN}"  # a typeset minus, for Markdown and HTML (text keeps ASCII "-")
DAY_LIVE = "Not in the stored reports (yet): computed from the orders."
LIVE_MARK = "\N{DAGGER}"  # marks a base with a day computed from the orders (text: "*")


# -- words and numbers --------------------------------------------------------------------
# Names of days and months are spelled here, not by strftime: its words follow the locale.


def long_day(day: date) -> str:
    """`Sunday 30 March 2025`."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    """`Sun 30 Mar`."""
    return f"{_WEEKDAYS[day.weekday()][:3]} {day.day} {_MONTHS[day.month - 1][:3]}"


def _month_day(day: date, *, year: bool = False) -> str:
    """`30 Mar` (`30 Mar 2025` with `year`)."""
    found = f"{day.day} {_MONTHS[day.month - 1][:3]}"
    return f"{found} {day.year}" if year else found


def basis_label(d: Digest, basis: str) -> str:
    """`Sat 29 Mar`, `Sun 23 Mar`, `mean of 4 Sundays`: what a base is, for people."""
    days = d.base_days(basis)
    if len(days) == 1:
        return short_day(days[0])
    return f"mean of {len(days)} {_WEEKDAYS[d.day.weekday()]}s"


def compared_with(d: Digest) -> str:
    """`the day before (Sat 29 Mar), the week before (Sun 23 Mar) and the mean of the 4
    Sundays before (2 Mar to 23 Mar)`."""
    weeks = d.base_days("four_week_mean")
    return (
        f"the day before ({short_day(d.base_days('previous_day')[0])}), "
        f"the week before ({short_day(d.base_days('week_before')[0])}) and the mean of the "
        f"{len(weeks)} {_WEEKDAYS[d.day.weekday()]}s before "
        f"({_month_day(weeks[-1])} to {_month_day(weeks[0])})"
    )


def amount(name: str, value: int | Decimal) -> str:
    """A figure or base for people: money and ratios with two places, counts whole (a mean
    of counts with its two places), thousands separated. Exact: Decimal formatting."""
    if LABELS[name][1]:
        return format(value, ",.2f")
    return format(value, ",")


def signed(name: str, value: Decimal, minus: str = "-") -> str:
    """A change: `+134.56`, `-65.44` (`minus` for the sign), `0` or `0.00` for none."""
    digits = amount(name, abs(value))
    if value == 0:
        return digits
    return ("+" if value > 0 else minus) + digits


def percent(c: Comparison, minus: str = "-") -> str:
    """`+12.2%`, `-5.0%`, `new` (something beside nothing), `no change`."""
    if c.trend == "same":
        return "no change"
    if c.percent is None:
        return "new"
    # by the change's sign: +0.01 on 41.38 is "+0.0%", never "-0.0%"
    return ("+" if c.change > 0 else minus) + format(abs(c.percent), "f") + "%"


def _shown(c: CurrencyDigest) -> list[Figure]:
    names = LABELS if c.orders else QUIET_FIGURES
    return [c.figure(name) for name in names]


def live_bases(d: Digest) -> list[date]:
    """The days of the bases that were computed from the orders, oldest first."""
    return sorted({day for basis in BASES for day in d.base_days(basis) if day in d.live_days})


def live_note(d: Digest, space: str = " ") -> str:
    """`Not in the stored reports, computed from the orders: Sun 9 Mar.` (`space` between
    the words of a day)."""
    days = ", ".join(short_day(day).replace(" ", space) for day in live_bases(d))
    return f"Not in the stored reports, computed from the orders: {days}."


def _currency_title(c: CurrencyDigest) -> str:
    return c.currency if c.currency is not None else "All orders"


def _nothing_at_all(d: Digest) -> str:
    return (
        f"No orders on {long_day(d.day)}, nor on the days it is compared with: {compared_with(d)}."
    )


# -- plain text ---------------------------------------------------------------------------


def text(d: Digest) -> str:
    """The digest as plain text: ASCII, at most TEXT_WIDTH columns, ending in a newline."""
    out: list[str] = []
    title = f"Orders on {long_day(d.day)} ({d.time_zone})"
    out += _wrap(title)
    out.append("=" * min(len(title), TEXT_WIDTH))
    if d.live:
        out += _wrap(DAY_LIVE)
    out.append("")
    if not d.has_orders and not d.has_history:
        out += _wrap(_nothing_at_all(d))
        return _ascii("\n".join(out) + "\n")
    out += _wrap(f"Compared with {compared_with(d)}.")
    for c in d.currencies:
        out.append("")
        rows: list[list[str]] = []
        for figure in _shown(c):
            label, _money = LABELS[figure.name]
            rows.append([label, amount(figure.name, figure.value), "", ""])
            for basis in BASES:
                comparison = figure.against(basis)
                mark = " *" if comparison.live else ""
                rows.append(
                    [
                        f"  vs {basis_label(d, basis)}{mark}",
                        amount(figure.name, comparison.base),
                        signed(figure.name, comparison.change),
                        percent(comparison),
                    ]
                )
            rows.append([])
        head = _currency_title(c)
        summary = (
            f"{c.orders:,} order{'s' if c.orders != 1 else ''}, "
            f"value {amount('total_value', c.figure('total_value').value)}"
            if c.orders
            else "no orders on this day"
        )
        out += _wrap(f"{head}: {summary}")
        out.append("-" * min(len(head) + 2 + len(summary), TEXT_WIDTH))
        out += _columns(rows[:-1])
    if live_bases(d):
        # a day's words kept on one line: NUL, a character no text here has, holds them
        note = _wrap(f"* {live_note(d, space=chr(0))}")
        out += ["", *(line.replace(chr(0), " ") for line in note)]
    return _ascii("\n".join(out) + "\n")


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of [label, figure, change, percent] aligned in columns (an empty row: a blank
    line); where they would pass TEXT_WIDTH, each row's numbers go on a line of their own."""
    full = [r for r in rows if r]
    widths = [max(len(r[i]) for r in full) for i in range(4)]
    widths[2], widths[3] = max(widths[2], 6), max(widths[3], 6)  # "change", "%" headers
    wide = sum(widths) + 3 * 2 > TEXT_WIDTH
    label_width = 0 if wide else widths[0]
    lines = [_cells(["", "", "change", "%"], widths, label_width)]
    for r in rows:
        if not r:
            lines.append("")
        elif wide:
            lines.append(r[0])
            lines.append(_cells(["", *r[1:]], widths, 4))
        else:
            lines.append(_cells(r, widths, label_width))
    return [line.rstrip() for line in lines]


def _cells(row: Sequence[str], widths: Sequence[int], label_width: int) -> str:
    label, *numbers = row
    return label.ljust(label_width) + "".join(
        "  " + n.rjust(w) for n, w in zip(numbers, widths[1:], strict=True)
    )


def _wrap(line: str) -> list[str]:
    return textwrap.wrap(line, TEXT_WIDTH, break_on_hyphens=False) or [""]


def _ascii(found: str) -> str:
    # a currency or zone name from the shop's data is the one thing that may not be ASCII
    return found.encode("ascii", "replace").decode("ascii")


# -- Markdown (Slack, Mattermost) ---------------------------------------------------------


def markdown(d: Digest) -> str:
    """The digest for Slack or Mattermost: a title line, then a bullet per figure for each
    currency. Only the syntax both read: *emphasis*, _italics_, lines starting with •."""
    out = [f"*Orders on {long_day(d.day)}* ({_md(d.time_zone)})"]
    if d.live:
        out.append(f"_{DAY_LIVE}_")
    if not d.has_orders and not d.has_history:
        out.append(_nothing_at_all(d))
        return "\n".join(out) + "\n"
    out.append(f"_Compared with {compared_with(d)}._")
    for c in d.currencies:
        out.append("")
        head = _md(_currency_title(c))
        if c.orders:
            value = amount("total_value", c.figure("total_value").value)
            out.append(f"*{head}*: {c.orders:,} order{'s' if c.orders != 1 else ''}, {value}")
        else:
            out.append(f"*{head}*: no orders on this day")
        for figure in _shown(c):
            changes = []
            for basis in BASES:
                comparison = figure.against(basis)
                changes.append(
                    f"{_ARROWS[comparison.trend]} {signed(figure.name, comparison.change, MINUS)} "
                    f"({percent(comparison, MINUS)}) vs {basis_label(d, basis)}"
                    + (LIVE_MARK if comparison.live else "")
                )
            label = LABELS[figure.name][0]
            out.append(f"• {label} *{amount(figure.name, figure.value)}*: " + " · ".join(changes))
    if live_bases(d):
        out += ["", f"_{LIVE_MARK} {live_note(d)}_"]
    return "\n".join(out) + "\n"


def _md(name: str) -> str:
    # Names come from the shop's data. Slack reads <…> as links and mentions (<!channel>)
    # and wants & < > escaped so; it has no backslash escapes, so the characters that
    # start formatting in both (none is in a currency code or a zone name) are dropped. An
    # underscore inside a word (America/Los_Angeles) starts nothing in either.
    for char, repl in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        name = name.replace(char, repl)
    return "".join(ch for ch in name if ch not in "*~`|")


# -- JSON ---------------------------------------------------------------------------------


def json(d: Digest) -> str:
    """The digest's figures as one JSON object, decimals exact, ending in a newline."""
    currencies = []
    for c in d.currencies:
        figures: dict[str, Any] = {}
        for figure in c.figures:
            entry: dict[str, Any] = {"value": figure.value}
            for basis in BASES:
                comparison = figure.against(basis)
                entry[basis] = {
                    "base": comparison.base,
                    "change": comparison.change,
                    "percent": comparison.percent,
                    "trend": comparison.trend,
                    "live": comparison.live,
                }
            figures[figure.name] = entry
        currencies.append(
            {
                "currency": c.currency,
                "figures": figures,
                "history": [{"date": day, "total_value": v} for day, v in c.history],
            }
        )
    document = {
        "date": d.day,
        "time_zone": d.time_zone,
        "live": d.live,
        "compared_with": {basis: list(d.base_days(basis)) for basis in BASES},
        "live_days": list(d.live_days),
        "currencies": currencies,
    }
    return _json(document, "") + "\n"


def _json(value: Any, indent: str) -> str:
    """JSON text, two spaces an indent; an object or array of plain values on one line."""
    if isinstance(value, dict):
        items = [(json_mod.dumps(k) + ": ", v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [("", v) for v in value]
    else:
        return json_value(value)
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    if not items:
        return opening + closing
    if not any(isinstance(v, dict | list) for _, v in items):
        return opening + ", ".join(k + json_value(v) for k, v in items) + closing
    inner = indent + "  "
    body = ",\n".join(inner + k + _json(v, inner) for k, v in items)
    return f"{opening}\n{body}\n{indent}{closing}"
