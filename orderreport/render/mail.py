"""The digest as an email and as a chat message; the notice of a failed run. No database.

An email is read in mail clients, which drop `<svg>`, scripts and `<style>` blocks and
block remote images: the HTML part here is tables and inline styles only, its 28-day chart
bars of table cells (a `<div>` whose width is the day's share of the largest value), and it
reads at 390 px (one column; the comparisons wrap). The text part is the plain-text digest
(render/digest.py: text). The subject says the day, the zone and the headline figures of each
currency. A chat gets the Markdown digest, cut at a line to the chat's message limit.
"""

from __future__ import annotations

from decimal import Decimal

from orderreport.render.digest import (
    DAY_LIVE,
    LABELS,
    LIVE_MARK,
    MINUS,
    _currency_title,
    _shown,
    amount,
    basis_label,
    compared_with,
    live_bases,
    live_note,
    long_day,
    markdown,
    percent,
    short_day,
    signed,
)
from orderreport.render.html import escape as _h
from orderreport.reports.digest import BASES, CurrencyDigest, Digest

# Colours: a dark ink on white, one accent; the trends in words too (never colour alone).
_INK, _MUTED, _ACCENT, _DAY, _RULE = "#1a202c", "#4a5568", "#90cdf4", "#2b6cb0", "#e2e8f0"
_TREND = {"up": "#276749", "down": "#c53030", "new": "#276749", "same": _MUTED}
_FONT = "font-family:Helvetica,Arial,sans-serif"
TRUNCATED = "… (cut to fit the chat's message limit: `orderreport digest` has it all)"


def subject(d: Digest) -> str:
    """`Orders Sun 6 Dec 2026 (Europe/Moscow): 200 orders, 194,565.67 RUB, -6.1% vs Sat`
    (with a typeset minus): the day's orders, value and change against the day before,
    per currency."""
    day = f"{short_day(d.day)} {d.day.year}"
    before = basis_label(d, "previous_day").split(" ")[0]
    parts = []
    for c in d.currencies:
        value = c.figure("total_value")
        money = amount("total_value", value.value)
        money = f"{money} {c.currency}" if c.currency else money
        change = percent(value.previous_day, MINUS)
        parts.append(f"{c.orders:,} orders, {money}, {change} vs {before}")
    return f"Orders {day} ({d.time_zone}): " + "; ".join(parts)


def html(d: Digest) -> str:
    """The digest as an HTML email (see the module's docstring)."""
    title = f"Orders on {long_day(d.day)}"
    rows = [
        _p(f"<b style='font-size:20px;color:{_INK}'>{_h(title)}</b>", 0),
        _p(f"{_h(d.time_zone)} · compared with {_h(compared_with(d))}", 12, small=True),
    ]
    if d.live:
        rows.append(_p(_h(DAY_LIVE), 12, small=True))
    if not d.has_orders and not d.has_history:
        rows.append(
            _p(_h(f"No orders on {long_day(d.day)}, nor on the days it is compared with."), 12)
        )
    else:
        for c in d.currencies:
            rows.append(_currency(d, c))
    if live_bases(d):
        rows.append(_p(f"{LIVE_MARK} {_h(live_note(d))}", 12, small=True))
    rows.append(
        _p("Sent by orderreport (an automatic message: no need to answer).", 16, small=True)
    )
    body = "".join(f"<tr><td style='padding:0 16px'>{row}</td></tr>" for row in rows)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_h(title)}</title></head>"
        f"<body style='margin:0;padding:0;background:#ffffff;color:{_INK};{_FONT}'>"
        "<table role='presentation' width='100%' cellpadding='0' cellspacing='0' border='0' "
        "style='border-collapse:collapse'><tr><td align='center'>"
        "<table role='presentation' width='100%' cellpadding='0' cellspacing='0' border='0' "
        f"style='max-width:600px;border-collapse:collapse;{_FONT}'>"
        f"{body}</table></td></tr></table></body></html>\n"
    )


def _p(inner: str, top: int, *, small: bool = False) -> str:
    size = "font-size:13px;color:" + _MUTED if small else "font-size:15px"
    return f"<p style='margin:{top}px 0 0 0;{size};line-height:1.4'>{inner}</p>"


def _currency(d: Digest, c: CurrencyDigest) -> str:
    out = [
        f"<h2 style='margin:20px 0 4px 0;font-size:17px;color:{_INK}'>{_h(_currency_title(c))}</h2>"
    ]
    if not c.orders:
        out.append(_p("No orders on this day.", 0))
    out.append(
        "<table role='presentation' width='100%' cellpadding='0' cellspacing='0' border='0' "
        "style='border-collapse:collapse'>"
    )
    for figure in _shown(c):
        comparisons = " · ".join(
            f"<span style='color:{_TREND[figure.against(b).trend]}'>"
            f"{_h(percent(figure.against(b), MINUS))}</span> "
            f"({_h(signed(figure.name, figure.against(b).change, MINUS))}) vs "
            f"{_h(basis_label(d, b))}{LIVE_MARK if figure.against(b).live else ''}: "
            f"{_h(amount(figure.name, figure.against(b).base))}"
            for b in BASES
        )
        out.append(
            f"<tr><td style='padding:8px 0 0 0;border-top:1px solid {_RULE}'>"
            f"<span style='font-size:13px;color:{_MUTED}'>{_h(LABELS[figure.name][0])}</span>"
            f"<br><b style='font-size:22px'>{_h(amount(figure.name, figure.value))}</b>"
            f"<br><span style='font-size:13px;color:{_MUTED}'>{comparisons}</span></td></tr>"
        )
    out.append("</table>")
    out.append(_bars(d, c))
    return "".join(out)


def _bars(d: Digest, c: CurrencyDigest) -> str:
    """The history as a bar per day: the day, a bar of its share of the largest value, the
    value. Table cells and a sized `<div>`: what every mail client draws."""
    top = max((v for _day, v in c.history), default=Decimal(0))
    unit = f" in {c.currency}" if c.currency else ""
    rows = [
        f"<p style='margin:16px 0 4px 0;font-size:13px;color:{_MUTED}'>"
        f"Value per day{_h(unit)}, the {len(c.history)} days to {_h(short_day(d.day))}</p>",
        "<table role='presentation' width='100%' cellpadding='0' cellspacing='0' border='0' "
        "style='border-collapse:collapse;font-size:12px'>",
    ]
    for day, value in c.history:
        share = int(value * 100 / top) if top > 0 and value > 0 else 0
        colour = _DAY if day == d.day else _ACCENT
        bar = (
            f"<div style='width:{max(share, 1) if value > 0 else 0}%;height:10px;"
            f"background:{colour};font-size:1px;line-height:10px'>&nbsp;</div>"
            if value > 0
            else ""
        )
        weight = "font-weight:bold;" if day == d.day else ""
        rows.append(
            f"<tr><td style='white-space:nowrap;padding:1px 6px 1px 0;{weight}'>"
            f"{_h(short_day(day))}</td>"
            f"<td width='100%' style='padding:1px 0'>{bar}</td>"
            f"<td align='right' style='white-space:nowrap;padding:1px 0 1px 6px;{weight}'>"
            f"{_h(amount('total_value', value))}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def chat(d: Digest, limit: int) -> str:
    """The Markdown digest, cut at a line to at most `limit` characters (saying so)."""
    found = markdown(d)
    if len(found) <= limit:
        return found
    kept: list[str] = []
    size = len(TRUNCATED) + 1
    for line in found.splitlines():
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, TRUNCATED])


def failure(*, what: str, error: str, fix: str, host: str) -> tuple[str, str]:
    """The notice of a failed `daily` run: (title, body in plain text, a line each)."""
    title = f"orderreport: {what}"
    body = f"{what} on {host}.\nError: {error}\nTo fix it, run: {fix}\n"
    return title, body
