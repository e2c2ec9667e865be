"""The digest as one self-contained HTML page, the history page, and their SVG chart.

The page is self-contained (inline CSS, no script, no external asset), reads at phone width
and prints; each currency's chart is an inline SVG whose bars carry their day and exact
value (data-date, data-value). Words and numbers come from render/digest.py.
"""

from __future__ import annotations

import html as html_mod
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Protocol

from orderreport.render.digest import (
    _ARROWS,
    DAY_LIVE,
    LABELS,
    LIVE_MARK,
    MINUS,
    _currency_title,
    _month_day,
    _nothing_at_all,
    _shown,
    amount,
    basis_label,
    compared_with,
    live_bases,
    live_note,
    long_day,
    percent,
    short_day,
    signed,
)
from orderreport.render.records import json_value
from orderreport.reports.digest import (
    BASES,
    HISTORY_DAYS,
    Comparison,
    CurrencyDigest,
    Digest,
    Figure,
)

# -- HTML ---------------------------------------------------------------------------------

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --bg: #f4f5f7; --card: #fff; --line: #d8dee4;
  --up: #116329; --down: #b3261e; --new: #0b57d0; --bar: #9bb8e8; --day: #1a56c4; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; font-variant-numeric: tabular-nums; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: 4px 0 4px; }
.sub { color: var(--muted); margin: 0 0 8px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 16px; margin: 16px 0; }
h2 { font-size: 1.2rem; margin: 0 0 2px; }
.lead { margin: 0 0 12px; color: var(--muted); }
.cards { display: grid; gap: 12px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 270px), 1fr)); }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; min-width: 0; }
.label { color: var(--muted); font-size: .8rem; text-transform: uppercase;
  letter-spacing: .05em; }
.big { font-size: 1.9rem; font-weight: 700; line-height: 1.15; margin: 2px 0 6px;
  overflow-wrap: anywhere; }
.cmp { list-style: none; margin: 0; padding: 0; font-size: .9rem; }
.cmp li { display: flex; flex-wrap: wrap; gap: 0 .6em; padding: 3px 0;
  border-top: 1px solid var(--line); }
.chg { font-weight: 700; min-width: 6.5em; }
.abs { min-width: 5.5em; }
.vs { color: var(--muted); overflow-wrap: anywhere; }
.up { color: var(--up); } .down { color: var(--down); } .new { color: var(--new); }
.same { color: var(--muted); }
figure { margin: 18px 0 0; }
figcaption { font-weight: 600; margin: 0 0 4px; }
svg { display: block; width: 100%; height: auto; max-width: min(100%, 640px); }
svg text { fill: var(--muted); font-size: 11px; font-family: inherit; }
@media (max-width: 600px) { svg text { font-size: 14px; } }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg rect { fill: var(--bar); }
svg rect.day { fill: var(--day); }
.note { color: var(--muted); font-size: .85rem; margin: 8px 0 0; }
details { margin: 10px 0 0; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 2px 6px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section { border-color: #999; break-inside: avoid; }
  .card { border-color: #999; break-inside: avoid; }
  figure { break-inside: avoid; }
  details { display: none; }
}
@page { margin: 14mm; }
"""


def html(d: Digest) -> str:
    """The digest as one self-contained HTML page (see the module's docstring)."""
    title = f"Orders on {long_day(d.day)}"
    body = [
        "<header>",
        f"<h1>{_h(title)}</h1>",
        f'<p class="sub">{_h(d.time_zone)} · compared with {_h(compared_with(d))}</p>',
    ]
    if d.live:
        body.append(f'<p class="sub">{_h(DAY_LIVE)}</p>')
    body.append("</header>")
    if not d.has_orders and not d.has_history:
        body.append(f"<section><p>{_h(_nothing_at_all(d))}</p></section>")
        return _page(f"{title} ({d.time_zone})", body)
    for index, c in enumerate(d.currencies):
        body.append("<section>")
        body.append(f"<h2>{_h(_currency_title(c))}</h2>")
        if not c.orders:
            body.append('<p class="lead">No orders on this day.</p>')
        body.append('<div class="cards">')
        for figure in _shown(c):
            body.append('<div class="card">')
            body.append(f'<div class="label">{_h(LABELS[figure.name][0])}</div>')
            body.append(f'<div class="big">{_h(amount(figure.name, figure.value))}</div>')
            body.append('<ul class="cmp">')
            for basis in BASES:
                comparison = figure.against(basis)
                body.append(_comparison_item(d, figure, basis, comparison))
            body.append("</ul></div>")
        body.append("</div>")
        first, last = c.history[0][0], c.history[-1][0]
        caption = (
            f"Value per day{_in(c)}, {_month_day(first, year=first.year != last.year)} "
            f"to {_month_day(last, year=True)}"
        )
        body.append(
            "<figure>"
            f"<figcaption>{_h(caption)}</figcaption>"
            f"{chart_svg(c.history, title=caption, highlight=d.day, ident=f'c{index}')}"
            f'<p class="note">The dark bar is {_h(long_day(d.day))}.</p>'
            "</figure>"
        )
        body.append(_figures_table(c.history, f"The {HISTORY_DAYS} days' values"))
        body.append("</section>")
    if live_bases(d):
        body.append(f'<p class="note">{LIVE_MARK} {_h(live_note(d))}</p>')
    return _page(f"{title} ({d.time_zone})", body)


def _comparison_item(d: Digest, figure: Figure, basis: str, c: Comparison) -> str:
    base = amount(figure.name, c.base)
    mark = LIVE_MARK if c.live else ""
    return (
        f'<li><span class="chg {c.trend}"><span aria-hidden="true">{_ARROWS[c.trend]}</span> '
        f"{_h(percent(c, MINUS))}</span>"
        f'<span class="abs">{_h(signed(figure.name, c.change, MINUS))}</span>'
        f'<span class="vs">vs {_h(basis_label(d, basis))}{mark}: {_h(base)}</span></li>'
    )


def _in(c: CurrencyDigest) -> str:
    return f" in {c.currency}" if c.currency is not None else ""


class HistoryRow(Protocol):
    """What history_html reads of a stored report (daily.StoredReport has it)."""

    @property
    def date(self) -> date: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def total_value(self) -> Decimal: ...


def history_html(rows: Iterable[HistoryRow], title: str) -> str:
    """Stored reports as one self-contained HTML page: a chart of total value per day for
    each currency (never one chart across currencies) over the rows' days, and the figures.
    A day without a row is a gap in the chart, not a bar of 0."""
    rows = list(rows)
    body = ["<header>", f"<h1>{_h(title)}</h1>", "</header>"]
    if not rows:
        body.append("<section><p>No stored reports in this range.</p></section>")
        return _page(title, body)
    first = min(r.date for r in rows)
    last = max(r.date for r in rows)
    currencies = sorted({r.currency for r in rows}, key=lambda c: (c is not None, c or ""))
    span = f"{_month_day(first, year=first.year != last.year)} to {_month_day(last, year=True)}"
    for index, currency in enumerate(currencies):
        points = sorted((r.date, r.total_value) for r in rows if r.currency == currency)
        caption = f"Value per day{' in ' + currency if currency is not None else ''}, {span}"
        body.append("<section>")
        body.append(f"<h2>{_h(currency if currency is not None else 'All orders')}</h2>")
        body.append(
            "<figure>"
            f"<figcaption>{_h(caption)}</figcaption>"
            f"{chart_svg(points, title=caption, ident=f'c{index}', start=first, end=last)}"
            "</figure>"
        )
        body.append(_figures_table(points, "The values"))
        body.append("</section>")
    return _page(title, body)


def _figures_table(points: Sequence[tuple[date, Decimal]], summary: str) -> str:
    rows = "".join(
        f"<tr><td>{_h(short_day(day))} {day.year}</td><td>{_h(amount('total_value', v))}</td></tr>"
        for day, v in points
    )
    return (
        f"<details><summary>{_h(summary)}</summary>"
        f"<table><tr><th>day</th><th>value</th></tr>{rows}</table></details>"
    )


def _page(title: str, body: Sequence[str]) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_h(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def escape(found: str) -> str:
    """Text for HTML: & < > and both quotes escaped."""
    return html_mod.escape(found, quote=True)


def _h(found: str) -> str:
    return html_mod.escape(found, quote=True)


# -- the SVG chart ------------------------------------------------------------------------

# The chart's own units (its viewBox); the page scales it to its width.
_W, _H = 400, 200
_TOP, _BOTTOM, _RIGHT = 10, 24, 6
# a digit's width in the labels' largest size (14 units, on a phone), to leave them room
_CHAR = Decimal("7.9")
_TICKS = 4  # value labels on the axis, about
_X_LABELS = 5  # date labels, at most
PLACES = Decimal("0.01")  # the precision of coordinates


def chart_svg(
    points: Sequence[tuple[date, Decimal]],
    *,
    title: str,
    ident: str,
    highlight: date | None = None,
    start: date | None = None,
    end: date | None = None,
) -> str:
    """A bar per point (day, value), in date order, on a value axis from 0 (or the least
    value, if negative) with about _TICKS labelled lines, and date labels under it.

    The days run from `start` to `end` (default: the points' first and last), one slot
    each: a day without a point is a gap. Each bar is a `<rect>` with `data-date` (ISO) and
    `data-value` (the exact value) and a tooltip; the one of `highlight` is class "day".
    `ident` makes the SVG's ids unique in its page.
    """
    points = sorted(points)
    first = start if start is not None else points[0][0]
    last = end if end is not None else points[-1][0]
    slots = (last - first).days + 1
    values = [v for _, v in points]
    low, high = min(Decimal(0), *values), max(Decimal(0), *values)
    step = _step(high - low)
    top = _ceil(high, step)
    bottom = -_ceil(-low, step)
    if top == bottom:  # every value 0: an axis of one step
        top = step
    ticks = [bottom + step * i for i in range(int((top - bottom) / step) + 1)]
    labels = [_tick(t) for t in ticks]
    left = int(_CHAR * max(len(label) for label in labels)) + 8
    plot_w, plot_h = Decimal(_W - left - _RIGHT), Decimal(_H - _TOP - _BOTTOM)
    slot = plot_w / slots

    def y(value: Decimal) -> Decimal:
        return _TOP + (top - value) / (top - bottom) * plot_h

    out = [
        f'<svg viewBox="0 0 {_W} {_H}" width="100%" role="img" aria-labelledby="{ident}-t" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-t">{_h(title)}</title>',
    ]
    for tick, label in zip(ticks, labels, strict=True):
        at = _c(y(tick))
        kind = "axis" if tick == 0 else "grid"
        out.append(f'<line class="{kind}" x1="{left}" x2="{_W - _RIGHT}" y1="{at}" y2="{at}"/>')
        out.append(
            f'<text x="{left - 4}" y="{_c(y(tick) + 4)}" text-anchor="end">{_h(label)}</text>'
        )
    for day, value in points:
        offset = (day - first).days
        x = left + slot * offset + slot * Decimal("0.14")
        y_top, y_bottom = y(max(value, Decimal(0))), y(min(value, Decimal(0)))
        css = ' class="day"' if day == highlight else ""
        out.append(
            f'<rect{css} x="{_c(x)}" y="{_c(y_top)}" width="{_c(slot * Decimal("0.72"))}" '
            f'height="{_c(y_bottom - y_top)}" data-date="{day.isoformat()}" '
            f'data-value="{json_value(value)}">'
            f"<title>{_h(short_day(day))} {day.year}: {_h(amount('total_value', value))}</title>"
            "</rect>"
        )
    # As many date labels as fit, half a label apart, at most _X_LABELS; whole weeks apart
    # where there are weeks, so the labelled days share the last one's weekday (the
    # digest's: its Sundays).
    years = first.year != last.year
    room = _CHAR * len(_month_day(last, year=years)) * Decimal("1.5")
    most = max(1, min(_X_LABELS, int(plot_w / room)))
    every = -(-slots // most) if slots <= 14 else 7 * -(-slots // (7 * most))
    for offset in range(slots - 1, -1, -every):  # counted back from the last day
        day = first + timedelta(days=offset)
        label = _month_day(day, year=years)
        x = left + slot * offset + slot / 2
        anchor = "middle"
        if x + _CHAR * len(label) / 2 > _W:  # the last day's label ends at the edge
            x, anchor = Decimal(_W - 1), "end"
        out.append(f'<text x="{_c(x)}" y="{_H - 8}" text-anchor="{anchor}">{_h(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _step(span: Decimal) -> Decimal:
    """A round distance between value labels: 1, 2, 2.5 or 5 times a power of ten, so that
    `span` takes about _TICKS of them."""
    if span <= 0:
        return Decimal(1)
    raw = span / _TICKS
    power = Decimal(10) ** raw.adjusted()
    for times in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if raw <= times * power:
            return times * power
    return 10 * power


def _ceil(value: Decimal, step: Decimal) -> Decimal:
    """The least multiple of `step` at or above `value`, 0 for a value at or below 0."""
    if value <= 0:
        return Decimal(0)
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def _tick(value: Decimal) -> str:
    # a round number: its own digits, without trailing zeros ("2.5", "1,000")
    found = value.normalize()
    return format(found if found != 0 else Decimal(0), ",f")


def _c(value: Decimal | int) -> str:
    """A coordinate with at most two decimals, without trailing zeros."""
    found = Decimal(value).quantize(PLACES)
    text = format(found, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
