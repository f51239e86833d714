"""Plausibility bounds of every number a loader reads (``data/reference/plausibility.csv``).

One row per (source id, raw column, level): ``level`` is ``la`` for local-authority rows and
``england`` for the national row; ``low`` and ``high`` are inclusive; ``basis`` says where the
bound comes from (as a rule, 10x the largest published value, rounded up; percentages 0-100;
rates per 10,000 at most 10,000). A finite but absurd value (``1e308`` in-post FTE) is refused
here, before it can reach the panel; the derived-table schema (``analysis/data/schema.py``)
keeps the narrower checks of the combined measures.

Every column a loader converts must have a bound: a missing row is an error, so a new column
cannot slip through unchecked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from ... import paths
from ...errors import SchemaError

PLAUSIBILITY_CSV = paths.REFERENCE / "plausibility.csv"
LEVELS = ("la", "england")


@dataclass(frozen=True)
class Bound:
    """Inclusive plausible range of one raw column, with the reason for it."""

    low: float
    high: float
    basis: str

    def describe(self) -> str:
        return f"{self.low:,g} to {self.high:,g} ({self.basis})"


@cache
def load_bounds(path: Path = PLAUSIBILITY_CSV) -> dict[tuple[str, str, str], Bound]:
    """All bounds keyed by (source, column, level).

    Raises
    ------
    SchemaError
        If the file lacks a column, repeats a key, has an unknown level, a non-numeric or
        inverted range, or a row without a basis.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = ["source", "column", "level", "low", "high", "basis"]
    if list(df.columns) != need:
        raise SchemaError(f"{path}: columns must be {need}, found {list(df.columns)}")
    out: dict[tuple[str, str, str], Bound] = {}
    for line, row in zip(range(2, len(df) + 2), df.itertuples(index=False)):
        key = (row.source, row.column, row.level)
        try:
            low, high = float(row.low), float(row.high)
        except ValueError:
            low = high = math.nan
        if (row.level not in LEVELS or not (math.isfinite(low) and math.isfinite(high)) or low > high
                or not row.basis.strip() or key in out):
            raise SchemaError(f"{path}: line {line} ({row.source}, {row.column!r}, {row.level}) needs a level in "
                              f"{LEVELS}, numeric low <= high, a basis, and a key of its own")
        out[key] = Bound(low, high, row.basis.strip())
    return out


def bound_for(source: str, column: str, level: str = "la") -> Bound:
    """The bound of one raw column; raises SchemaError if the reference file has none."""
    try:
        return load_bounds()[(source, column, level)]
    except KeyError:
        raise SchemaError(
            f"{PLAUSIBILITY_CSV.relative_to(paths.ROOT)} has no plausibility bound for source '{source}', "
            f"column '{column}', level '{level}': add one (with its basis) before the column is read"
        ) from None
