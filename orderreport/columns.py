"""The fields a record is rendered with, derived from its dataclass, and their table headers.

A record type's fields, in their order, are what JSON and CSV write; a field's `header`
metadata (`field(metadata=columns.header("cur"))`) is its name in a table for people, and a
field without one is shown by its own name. The field list is never written out again
beside the dataclass: `SUMMARY_FIELDS = fields_of(Summary)`. No imports beyond the
standard library: the core modules use this, and render/records.py reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

HEADER = "header"  # the field metadata key render/records.py reads


def header(text: str) -> dict[str, str]:
    """The metadata of a field shown in a table as `text` (not by its own name)."""
    return {HEADER: text}


class Columns(tuple[str, ...]):
    """Field names in order (a plain tuple of str to everyone else), with the table header
    of each."""

    headers: Mapping[str, str]

    def __new__(cls, names: Iterable[str], headers: Mapping[str, str]) -> Columns:
        self = super().__new__(cls, names)
        self.headers = dict(headers)
        return self

    def header(self, name: str) -> str:
        return self.headers.get(name, name)


def fields_of(
    record_type: Any, *, first: Sequence[str] = (), omit: Collection[str] = ()
) -> Columns:
    """The fields of the dataclass `record_type` in its order; for a listing for people that
    differs, `first` moved to the front (in that order) and `omit` left out. Raises
    ValueError for a name in `first` or `omit` that is no field of it."""
    found = {f.name: f.metadata.get(HEADER, f.name) for f in dataclasses.fields(record_type)}
    unknown = [n for n in (*first, *omit) if n not in found]
    if unknown:
        raise ValueError(f"{record_type.__name__} has no field {', '.join(unknown)}")
    names = [*first, *(n for n in found if n not in first and n not in omit)]
    return Columns(names, {n: found[n] for n in names})
