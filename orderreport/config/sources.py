"""Where a shop's orders come from, declared once: a preset, a mapping or a query.

A `Source` says, for any shop, which relation holds the orders and which their lines, which
column dates an order as placed (a timestamp of any precision, in what zone a naive one was
written; a date; or an integer epoch in seconds or milliseconds), what its amount
is (a column or an SQL expression over the order row `o`, in major or minor units), its
currency (a column or an SQL expression over `o`, or a fixed code) and which orders count
(an SQL predicate over `o`).
The presets for the common platforms are plain TOML files in orderreport/config/platforms/, in
exactly the form a user writes a `[source]` table of the config file: `orderreport
platforms NAME` prints one to copy. Nothing here reads a database: shop/ resolves a Source
against the catalog.

`where`, `amount`, `currency`, `lines_where` and `query` are SQL that orderreport runs: the
config file that holds them is as trusted as code.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from orderreport.columns import fields_of
from orderreport.errors import UsageError

PLATFORMS_DIR = Path(__file__).resolve().parent / "platforms"
SEED = "seed"
# Other names of a preset. None now: `spree` was Solidus's until Spree got its own preset
# (Spree 5.6 added spree_orders.status, 6.0 drops state).
ALIASES: dict[str, str] = {}
MAPPING = "mapping"  # a [source] table of the user's own
QUERY = "query"  # a [source] table with a query
# What a query source must return, and in what form (README "Your shop platform").
QUERY_COLUMNS = ("order_id", "placed_at", "amount", "currency", "lines")
MAX_MINOR_UNITS = 4
MAX_SQL = 8192  # characters of one SQL fragment: a predicate, an expression, a query
_CURRENCY_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")
_LIST_KEYS = frozenset({"uses", "also_reads"})


@dataclass(frozen=True)
class Source:
    """A declared source. Relation and column names are identifiers, quoted when used;
    `amount`, `where`, `lines_where` and `query` are SQL, `{schema}` in them standing for
    the shop's schema (quoted). `name` is the preset's name, "mapping" or "query"."""

    name: str
    orders: str | None = None
    order_id: str = "id"
    placed_at: str | None = None
    placed_at_zone: str | None = None  # the zone a naive placed_at was written in
    placed_at_unit: str | None = None  # an integer placed_at: "seconds" or "milliseconds"
    amount: str | None = None  # a column of `orders`, else an expression over `o`
    minor_units: int = 0  # 2: amounts are cents, divided by 100
    currency: str | None = None  # a column of `orders`, else an expression over `o`
    currency_code: str | None = None  # a fixed code, for a shop without a currency column
    where: str | None = None  # which orders count (over `o`); none: every dated one
    uses: tuple[str, ...] = ()  # other columns of `orders` the SQL fragments read
    also_reads: tuple[str, ...] = ()  # other relations they read, in the shop's schema
    lines: str | None = None
    lines_order_key: str | None = None
    lines_where: str | None = None  # which lines count (over `l` and `o`)
    query: str | None = None  # instead of all the above: a SELECT of QUERY_COLUMNS
    schema: str | None = None  # the schema of the relations; none: found

    @property
    def is_query(self) -> bool:
        return self.query is not None

    @property
    def is_seed(self) -> bool:
        return self.name == SEED

    def checksum(self) -> str:
        """A short hash of everything the view is built from: a change rebuilds it."""
        text = repr(tuple(getattr(self, f.name) for f in fields(self) if f.name != "name"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        """The source in one line, for people (`status`, `migrate --plan`)."""
        if self.query is not None:
            return f"{self.name}: a query returning {', '.join(QUERY_COLUMNS)}"
        return f"{self.name}: orders {self.orders}, lines {self.lines}.{self.lines_order_key}"


# The keys of a [source] table: the Source's fields but its name.
KEYS = tuple(f.name for f in fields(Source) if f.name != "name")
_INT_KEYS = frozenset({"minor_units"})
_SQL_KEYS = frozenset({"amount", "where", "lines_where", "query"})
# A column, or SQL over `o` (anything but a bare name): amount and currency.
_COLUMN_OR_SQL_KEYS = frozenset({"amount", "currency"})
# What an integer placed_at counts since 1970-01-01 00:00 UTC (Unix time).
EPOCH_UNITS = ("seconds", "milliseconds")
# What a query source may say besides its query: where it is, and how to read its columns.
_QUERY_KEYS = ("query", "schema", "currency_code", "placed_at_zone", "placed_at_unit")


@functools.cache  # the shipped files do not change under a running process
def preset_names() -> tuple[str, ...]:
    """The presets shipped with orderreport, by name (aliases aside)."""
    return tuple(sorted(p.stem for p in PLATFORMS_DIR.glob("*.toml")))


def canonical(name: str) -> str:
    return ALIASES.get(name.strip().lower(), name.strip().lower())


def preset_path(name: str, source: str = "--platform") -> Path:
    """The preset file of platform `name` (or an alias), else UsageError naming them all."""
    key = canonical(name)
    if key in preset_names():
        return PLATFORMS_DIR / f"{key}.toml"
    known = ", ".join([*preset_names(), *(f"{a} (= {t})" for a, t in ALIASES.items())])
    raise UsageError(f"{source}: unknown platform {_short(name)}; known: {known}")


def preset_text(name: str) -> str:
    """The preset file as shipped: a `[source]` table with comments, to print and copy."""
    return preset_path(name).read_text(encoding="utf-8")


def preset(name: str, source: str = "--platform") -> Source:
    return _preset(preset_path(name, source).stem)


@functools.cache  # read once a process: the seed default and the detection share it
def _preset(key: str) -> Source:
    data = tomllib.loads((PLATFORMS_DIR / f"{key}.toml").read_text(encoding="utf-8"))
    return parse(data["source"], f"platform {key}", name=key)


def presets() -> tuple[Source, ...]:
    """Every preset, the seed's own schema first (the default where its tables exist)."""
    names = sorted(preset_names(), key=lambda n: (n != SEED, n))
    return tuple(preset(n) for n in names)


@dataclass(frozen=True)
class Entry:
    """A preset as `orderreport platforms` lists it."""

    platform: str
    orders: str
    lines: str
    placed_at: str
    counts: str


CATALOGUE_FIELDS = fields_of(Entry)


def catalogue() -> list[Entry]:
    aliases = {t: a for a, t in ALIASES.items()}
    found = []
    for s in presets():
        name = s.name + (f" ({aliases[s.name]})" if s.name in aliases else "")
        found.append(
            Entry(
                platform=name,
                orders=str(s.orders),
                lines=f"{s.lines}.{s.lines_order_key}",
                placed_at=str(s.placed_at),
                counts=s.where or "every dated order",
            )
        )
    return found


def parse(table: Mapping[str, object], where: str, *, name: str | None = None) -> Source:
    """A Source from a `[source]` table (a preset's or the config file's), validated.

    Raises UsageError naming `where` and the key at fault.
    """
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {_short(unknown[0])} in [source]")
    values: dict[str, object] = {}
    for key, value in table.items():
        if key in _INT_KEYS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"{where}: {key} must be a whole number")
            if not 0 <= value <= MAX_MINOR_UNITS:
                raise UsageError(f"{where}: {key} must be 0 to {MAX_MINOR_UNITS}")
            values[key] = value
        elif key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{where}: {key} must be a list of names")
            values[key] = tuple(_identifier(str(v), f"{where}: {key}") for v in value)
        elif not isinstance(value, str):
            raise UsageError(f"{where}: {key} must be a string")
        elif key in _SQL_KEYS or (key in _COLUMN_OR_SQL_KEYS and not is_column(value)):
            values[key] = _sql(value, f"{where}: {key}")
        elif key == "placed_at_unit":
            if value not in EPOCH_UNITS:
                raise UsageError(f"{where}: {key} must be one of {', '.join(EPOCH_UNITS)}")
            values[key] = value
        elif key == "currency_code":
            values[key] = currency_code(value, f"{where}: {key}")
        elif key == "placed_at_zone":
            values[key] = value  # checked as a zone by config (it knows zoneinfo's rules)
        else:
            values[key] = _identifier(value, f"{where}: {key}")
    if "query" in values:
        extra = sorted(k for k in values if k not in _QUERY_KEYS)
        if extra:
            raise UsageError(f"{where}: a query source takes no {extra[0]} (the query says it)")
        return Source(name=name or QUERY, **values)  # type: ignore[arg-type]
    missing = [k for k in ("orders", "placed_at", "amount", "lines", "lines_order_key")]
    missing = [k for k in missing if k not in values]
    if missing:
        raise UsageError(f"{where}: [source] needs {missing[0]} (or a query)")
    if "currency" in values and "currency_code" in values:
        raise UsageError(f"{where}: [source] takes currency (a column) or currency_code, not both")
    return Source(name=name or MAPPING, **values)  # type: ignore[arg-type]


def is_column(value: str) -> bool:
    """An amount or currency that is a bare name is a column; anything else is SQL."""
    return bool(value) and value.replace("_", "a").isalnum() and not value[0].isdigit()


def currency_code(value: str, where: str) -> str:
    """A fixed currency code (ISO 4217 such as EUR, or a shop's own short code)."""
    if not _CURRENCY_CODE.fullmatch(value):
        raise UsageError(f"{where}: invalid currency code {_short(value)} (e.g. EUR)")
    return value.upper()


def _identifier(value: str, where: str) -> str:
    if not value or len(value.encode()) > 63 or "\x00" in value:
        raise UsageError(f"{where}: invalid name {_short(value)}")
    return value


def _sql(value: str, where: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_SQL or "\x00" in text:
        raise UsageError(f"{where}: empty or longer than {MAX_SQL} characters")
    if ";" in text:
        # one expression or one SELECT: it is pasted inside orderreport's own statements
        raise UsageError(f"{where}: must be one SQL expression or SELECT, without ';'")
    return text


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:39] + "…")
