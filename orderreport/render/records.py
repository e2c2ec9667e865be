"""Rendering records as Rich tables, JSON, JSON lines or CSV. No database imports here.

Exact numbers stay exact: Decimal is written with its own digits (`1919.90`), never through
float. JSON is written by hand for that reason: json.dumps would need a float.

Tables never lie: at any console width a figure, date or status is shown whole. A table that
would not fit the console's width drops the columns a caller marks as not essential, else
folds: each record becomes `field: value` lines (folded_lines). No cell is ever cut.
"""

from __future__ import annotations

import csv
import enum
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any, TextIO

from orderreport.columns import Columns

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

# Rich (a tenth of a second to import) is loaded by the renderers for people, when they
# render: JSON, JSON lines and CSV never load it.

TABLE_CHUNK = 500  # rows per Rich table: big reports stream instead of building one table
MIN_BAR = 10  # columns a chart's bar needs beside its day and figure, else it gets a line


class Format(enum.StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    prometheus = "prometheus"  # `status` only: metrics.py writes it, never render()
    html = "html"  # `history` only: render/html.py writes it, never render()


class DigestFormat(enum.StrEnum):
    """The morning digest's formats: plain text for cron's mail, markdown for chat, one
    self-contained HTML page, JSON for pipelines."""

    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")  # never exponent notation, never float


def json_value(value: Any) -> str:
    """One value as JSON text: Decimal as an exact number, dates as ISO strings."""
    # most frequent types first: this runs for every field of every row
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return '"' + value.isoformat() + '"'  # ISO text needs no escaping
    if isinstance(value, enum.Enum):
        return json.dumps(value.value)
    return json.dumps(value if isinstance(value, str | float) else str(value))


def text_value(value: Any) -> str:
    """One value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _values(record: Any, fields: Sequence[str]) -> list[Any]:
    if isinstance(record, dict):
        return [record[f] for f in fields]
    return [getattr(record, f) for f in fields]  # a dataclass


def json_object(record: Any, fields: Sequence[str]) -> str:
    return _json_encoder(fields)(record)


def _json_encoder(fields: Sequence[str]) -> Callable[[Any], str]:
    """A function writing one record as a JSON object, keys encoded once, not every row."""
    keys = [json.dumps(f) + ": " for f in fields]

    def encode(record: Any) -> str:
        values = _values(record, fields)
        return "{" + ", ".join([k + json_value(v) for k, v in zip(keys, values, strict=True)]) + "}"

    return encode


def write_json_array(records: Iterable[Any], fields: Sequence[str], out: TextIO) -> None:
    encode = _json_encoder(fields)
    out.write("[")
    first = True
    for record in records:
        out.write(("\n  " if first else ",\n  ") + encode(record))
        first = False
    out.write("]\n" if first else "\n]\n")


def write_jsonl(records: Iterable[Any], fields: Sequence[str], out: TextIO) -> None:
    encode = _json_encoder(fields)
    for record in records:
        out.write(encode(record) + "\n")


def write_csv(records: Iterable[Any], fields: Sequence[str], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(fields)
    for record in records:
        writer.writerow([text_value(v) for v in _values(record, fields)])


def table_headers(fields: Sequence[str]) -> list[str]:
    """The table headers of `fields`: for people, from the record's field metadata where
    `fields` comes from columns.fields_of (JSON and CSV keep the exact field names)."""
    if isinstance(fields, Columns):
        return [fields.header(f) for f in fields]
    return list(fields)


MONEY_FIELDS = frozenset(
    {"total_amount", "total_value", "average_order_value", "average_products_per_order"}
)


def table_cell(field: str, value: Any) -> str:
    if isinstance(value, Decimal) and field in MONEY_FIELDS:
        return f"{value:,.2f}"  # Decimal formatting: thousands separators, still exact
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return text_value(value)


def _chunks(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def write_table(
    records: Iterable[Any],
    fields: Sequence[str],
    console: Console,
    *,
    title: str | None = None,
    footer: Sequence[Any] | None = None,
) -> int:
    """Print records as an aligned table for people, streaming; return the row count.

    Column widths come from the first TABLE_CHUNK rows (a later, wider cell widens its
    column from there on). Rows are formatted with plain string operations: a Rich Table
    costs over half a millisecond a row, minutes for a big report. `footer`, if given, is
    records printed bold under a rule (a range's totals, one per currency). Numbers are
    right-aligned. If the first rows (or the footer) would not fit the console's width,
    every record is written as `field: value` lines instead (folded_lines); if a later
    chunk would widen the table past it, the records from that chunk on are.
    """
    right: set[str] = set()
    headers = table_headers(fields)
    widths: list[int] = []
    count = 0

    def line(cells: Sequence[str]) -> str:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], len(cell))
        parts = (
            c.rjust(w) if f in right else c.ljust(w)
            for f, c, w in zip(fields, cells, widths, strict=True)
        )
        return " " + "   ".join(parts).rstrip()

    def cells_of(record: Any) -> list[str]:
        return [table_cell(f, v) for f, v in zip(fields, _values(record, fields), strict=True)]

    def rule() -> None:
        console.print(" " + "─" * (sum(widths) + 3 * (len(widths) - 1)), markup=False)

    def start(sample: Any | None, first: list[list[str]]) -> bool:
        """Print the title and header; return False (printing only the title) if the
        table would not fit the console."""
        if sample is not None:
            values = _values(sample, fields)
            right.update(f for f, v in zip(fields, values, strict=True) if _is_number(v))
        widths.extend(max([len(h), *(len(r[i]) for r in first)]) for i, h in enumerate(headers))
        if _plain_width(widths) > console.width:
            if title:
                console.print(title, style="italic", markup=False, highlight=False)
            return False
        if title:
            console.print(title.center(sum(widths) + 3 * len(widths)).rstrip(), style="italic")
        console.print(line(headers), style="bold", markup=False, highlight=False)
        rule()
        return True

    def fold(cells: Sequence[str]) -> str:
        return "".join(t + "\n" for t in folded_lines(headers, cells, console.width)) + "\n"

    file = console.file
    last = [cells_of(f) for f in footer or ()]
    table = True  # False: records as `field: value` lines from here on
    for index, chunk in enumerate(_chunks(records, TABLE_CHUNK)):
        rows = [cells_of(r) for r in chunk]
        if index == 0:
            table = start(chunk[0], rows + last)
        elif table and _plain_width(_widen(widths, rows)) > console.width:
            table = False
            file.write("\n")
        file.write("".join(line(r) + "\n" if table else fold(r) for r in rows))
        count += len(rows)
    if count == 0:
        table = start(footer[0] if footer else None, last)
    if footer:
        if table:
            rule()
        for cells in last:
            texts = [line(cells)] if table else [*folded_lines(headers, cells, console.width), ""]
            for text in texts:
                console.print(text, style="bold", markup=False, highlight=False, soft_wrap=True)
    return count


def _plain_width(widths: Sequence[int]) -> int:
    """The width of write_table's lines: a leading space, columns three apart."""
    return 1 + sum(widths) + 3 * (len(widths) - 1)


def _widen(widths: Sequence[int], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([w, *(len(r[i]) for r in rows)]) for i, w in enumerate(widths)]


def folded_lines(headers: Sequence[str], cells: Sequence[str], width: int) -> list[str]:
    """One record as `field: value` lines for a console `width` columns wide.

    A value that does not fit beside its field name gets a line of its own, indented if
    that fits; one wider than the console is still written whole (a terminal folds it onto
    the next line), never cut.
    """
    return [name + value for name, value in _folded(headers, cells, width)]


def _folded(headers: Sequence[str], cells: Sequence[str], width: int) -> list[tuple[str, str]]:
    """folded_lines as (field name and colon, or "" on a value's own line; the rest)."""
    from rich.cells import cell_len

    lines = []
    for header, cell in zip(headers, cells, strict=True):
        if cell and cell_len(header) + 2 + cell_len(cell) > width:
            lines += [(header + ":", ""), ("", cell if cell_len(cell) + 2 > width else "  " + cell)]
        else:
            lines.append((header + ":", f" {cell}" if cell else ""))
    return lines


def _print_folded(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    console: Console,
    title: str | None,
    styles: Sequence[str | None] | None = None,
) -> None:
    """Records as folded_lines, a blank line after each, field names bold."""
    from rich.text import Text

    if title:
        console.print(title, style="italic", markup=False, highlight=False)
    for index, cells in enumerate(rows):
        style = styles[index] if styles else None
        for name, value in _folded(headers, cells, console.width):
            line = Text.assemble((name, "bold"), value)
            console.print(line, style=style or "", highlight=False, soft_wrap=True)
        console.print()


def _table_width(console: Console, table: Table) -> int:
    """The columns `table` takes with every cell whole (Rich's measure, unconstrained)."""
    from rich.measure import Measurement

    return Measurement.get(console, console.options.update_width(1_000_000), table).maximum


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def write_record(record: Any, fields: Sequence[str], console: Console, title: str | None) -> None:
    """One record as a two-column table, one field a line: reads well in 80 columns. Where
    that table would not fit the console, `field: value` lines (folded_lines)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_header=False, box=box.SIMPLE, pad_edge=False)
    table.add_column("field", style="bold", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    headers = table_headers(fields)
    cells = [table_cell(f, v) for f, v in zip(fields, _values(record, fields), strict=True)]
    for header, cell in zip(headers, cells, strict=True):
        # Text, not str: a value such as "a [source] table" is data, not Rich markup
        table.add_row(Text(header), Text(cell))
    if _table_width(console, table) <= console.width:
        console.print(table)
    else:
        _print_folded([cells], headers, console, title)


def write_rich_table(
    records: Iterable[Any],
    fields: Sequence[str],
    console: Console,
    *,
    title: str | None = None,
    row_style: Callable[[Any], str | None] = lambda _record: None,
    essential: Sequence[str] | None = None,
) -> None:
    """A short listing as a Rich Table, each row styled by `row_style` (e.g. by outcome).

    Every cell is shown whole. A table wider than the console drops the fields not in
    `essential` (None: every field is essential), rightmost first, until it fits, and says
    in its caption which; if even the essential fields do not fit, each record is written
    with all its fields as `field: value` lines (folded_lines).
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    records = list(records)
    headers = table_headers(fields)
    rows = [
        [table_cell(f, v) for f, v in zip(fields, _values(r, fields), strict=True)] for r in records
    ]
    styles = [row_style(r) for r in records]
    sample = _values(records[0], fields) if records else [None] * len(fields)
    shown = list(range(len(fields)))
    droppable = [i for i in shown if essential is not None and fields[i] not in essential]
    while True:
        table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
        for i in shown:
            right = _is_number(sample[i])
            table.add_column(headers[i], justify="right" if right else "left", overflow="fold")
        for cells, style in zip(rows, styles, strict=True):
            table.add_row(*(Text(cells[i]) for i in shown), style=style)  # never markup
        hidden = [headers[i] for i in range(len(fields)) if i not in shown]
        if hidden:
            table.caption = f"not shown at this width: {', '.join(hidden)} (--json has all)"
        if _table_width(console, table) <= console.width:
            console.print(table)
            return
        if not droppable or len(shown) == 1:
            break
        shown.remove(droppable.pop())
    _print_folded(rows, headers, console, title, styles)


def make_console(out: TextIO) -> Console:
    from rich.console import Console

    # A pipe or file gets whole rows rather than rows cropped to an imaginary 80 columns.
    return Console(file=out, width=None if out.isatty() else 200, highlight=False)


def render(
    records: Iterable[Any],
    fields: Sequence[str],
    fmt: Format,
    out: TextIO,
    *,
    single: bool = False,
    title: str | None = None,
    footer: Sequence[Any] | None = None,
) -> None:
    """Write records to `out` in `fmt`. `single`: one record, which JSON writes as an object
    (not an array) and a table as one field a line. `title` and `footer` are for tables."""
    if fmt in (Format.prometheus, Format.html):
        raise ValueError(
            f"render() writes no {fmt.value}: deliver/metrics.py and render/html.py do"
        )
    if single:
        (record,) = records
        if fmt is Format.json:
            out.write(json_object(record, fields) + "\n")
            return
        if fmt is Format.table:
            write_record(record, fields, make_console(out), title)
            return
        records = [record]
    if fmt is Format.json:
        write_json_array(records, fields, out)
    elif fmt is Format.jsonl:
        write_jsonl(records, fields, out)
    elif fmt is Format.csv:
        write_csv(records, fields, out)
    else:
        write_table(records, fields, make_console(out), title=title, footer=footer)


def write_blocks(blocks: Iterable[bytes], out: TextIO, *, crlf: bool = False) -> int:
    """Write ready-made text (COPY's blocks) to `out`'s binary side; return its line count.

    `crlf` turns LF line ends into CRLF (RFC 4180 CSV); the values never hold a line break.
    """
    out.flush()  # whatever text went before goes first
    binary = out.buffer if hasattr(out, "buffer") else None
    lines = 0
    for block in blocks:
        lines += block.count(b"\n")
        data = block.replace(b"\n", b"\r\n") if crlf else block
        if binary is not None:
            binary.write(data)
        else:  # a text-only stream (the tests' StringIO)
            out.write(data.decode())
    if binary is not None:
        binary.flush()
    return lines


def bar_chart(
    points: Sequence[tuple[date, Decimal]], console: Console, *, width: int = 80, title: str = ""
) -> None:
    """A horizontal bar per day, scaled to the largest value, fitting in `width` columns (at
    most the console's). Where a bar of MIN_BAR columns would not fit beside the day and its
    figure, each day's bar gets a line of its own under them: the figure is never cut."""
    if not points:
        return
    width = min(width, console.width)
    labels = [f"{v:,.2f}" for _, v in points]
    label_width = max(len(label) for label in labels)
    bar_room = width - 10 - 2 - label_width - 2  # "YYYY-MM-DD  bar  label"
    beside = bar_room >= MIN_BAR
    if not beside:
        bar_room = max(1, width)
    top = max((v for _, v in points), default=Decimal(0))
    if title:
        console.print(title, style="bold")
    for (day, value), label in zip(points, labels, strict=True):
        # bar lengths are drawing, not figures: integer division on Decimal is still exact
        eighths = int(value * bar_room * 8 // top) if top > 0 else 0
        bar = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
        if beside:
            lines = [f"{day.isoformat()}  {bar:<{bar_room}}  {label:>{label_width}}"]
        elif 12 + label_width <= width:
            lines = [f"{day.isoformat()}  {label:>{label_width}}", bar]
        else:
            lines = [day.isoformat(), label, bar]
        for text in lines:
            console.print(text, highlight=False, markup=False, soft_wrap=True)
