"""Coverage checks: a loaded source must cover the years, rows and LAs it is expected to.

The expectations are data, in one place: ``data/reference/coverage.toml`` (one table per
source id of ``data/sources.toml``). A header-only, truncated or filtered file fails here with
:class:`analysis.errors.CoverageError` instead of silently dropping rows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from ... import paths
from ...errors import CoverageError, SchemaError
from ..sources import raw_name

COVERAGE_TOML = paths.REFERENCE / "coverage.toml"


@dataclass(frozen=True)
class Coverage:
    """Minimum coverage of one source (see the header of ``coverage.toml``)."""

    source: str
    years: tuple[int, int] | None = None
    min_rows_per_year: int = 0
    min_rows: int = 0
    min_las: int = 0
    min_rows_by: dict[str, dict[str, int]] = field(default_factory=dict)


@cache
def expectations(toml_path: Path = COVERAGE_TOML) -> dict[str, Coverage]:
    """All coverage expectations, by source id."""
    with open(toml_path, "rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for sid, entry in raw.items():
        unknown = set(entry) - {"years", "min_rows_per_year", "min_rows", "min_las", "min_rows_by"}
        if unknown:
            raise SchemaError(f"{toml_path}: [{sid}] has unknown key(s) {sorted(unknown)}")
        years = tuple(entry["years"]) if "years" in entry else None
        out[sid] = Coverage(sid, years, entry.get("min_rows_per_year", 0), entry.get("min_rows", 0),
                            entry.get("min_las", 0), entry.get("min_rows_by", {}))
    return out


def check_coverage(df: pd.DataFrame, source: str, path: Path | str, *, years: set[int] | None = None,
                   year_col: str | None = "year", la_col: str = "la_code", what: str = "LA rows") -> None:
    """Raise CoverageError if ``df`` covers less than ``coverage.toml`` expects for ``source``.

    Parameters
    ----------
    df : the loaded rows (after the loader's own row filter, e.g. LA rows only).
    source : source id (a table of ``coverage.toml``; a source without one is not checked).
    path : file named in the message.
    years : years the caller needs (overrides the ``years`` range of the expectation).
    year_col : column holding the year (None: no per-year check).
    la_col : column holding the LA code.
    what : what a row is, for the message.
    """
    exp = expectations().get(source)
    if exp is None:
        return
    problems: list[str] = []
    if len(df) < exp.min_rows:
        problems.append(f"{len(df)} {what} (expected at least {exp.min_rows})")
    n_las = df[la_col].nunique() if la_col in df else 0
    if n_las < exp.min_las:
        problems.append(f"{n_las} LAs (expected at least {exp.min_las})")
    need = years if years is not None else (set(range(exp.years[0], exp.years[1] + 1)) if exp.years else set())
    if need and year_col is not None:
        counts = df[year_col].value_counts()
        floor = max(exp.min_rows_per_year, 1)
        thin = {int(y): int(counts.get(y, 0)) for y in sorted(need) if counts.get(y, 0) < floor}
        if thin:
            problems.append(f"year(s) with fewer than {floor} {what}: {thin}")
    for col, minimum in exp.min_rows_by.items():
        counts = df[col].value_counts() if col in df else pd.Series(dtype=int)
        short = {k: int(counts.get(k, 0)) for k, n in minimum.items() if counts.get(k, 0) < n}
        if short:
            problems.append(f"rows by '{col}' {short} (expected at least {dict(minimum)})")
    if problems:
        where = ""
        if df.index.name in ("line", "row") and len(df):
            where = f" (the rows read: {df.index.name}s {int(df.index.min())}-{int(df.index.max())})"
        raise CoverageError(
            f"{raw_name(path)}: coverage below expectation for source '{source}'{where}: {'; '.join(problems)}. The file "
            f"looks header-only, truncated, filtered or another vintage (expectations: "
            f"{COVERAGE_TOML.relative_to(paths.ROOT)})."
        )
