"""Reading rules shared by every Explore Education Statistics (EES) file.

EES files are long: one row per ``time_period`` and geography (``geographic_level`` National,
Regional or Local authority; LA rows carry ``old_la_code``, ``new_la_code`` and ``la_name``) and,
in some files, per value of a breakdown column (``age_group``, ``population_type``). Before any
value is converted, :func:`read_ees` refuses (naming file, column, value and line)

* an unknown ``geographic_level`` or breakdown label (its rows would be dropped silently);
* a ``time_period`` that is not a year, or outside the years the registered publication covers;
* an LA row with a blank code, an unknown code, or a code that its own GSS code and name
  contradict (a code swapped for another LA's);
* two LA rows (or two national rows) with the same year, code and breakdown.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import DuplicateKeyError, SchemaError
from ..geography import check_identity, check_known_la
from ..sources import raw_name
from .parse import check_period, check_unique, parse_year, read_csv_text, require_columns, require_filled, where

EES_KEYS = ["time_period", "geographic_level", "old_la_code", "new_la_code", "la_name"]
LEVELS = ("National", "Regional", "Local authority")
LA = "Local authority"


def check_labels(df: pd.DataFrame, column: str, known: frozenset[str] | set[str] | tuple[str, ...],
                 path: Path | str) -> None:
    """Refuse a value of ``column`` outside the controlled vocabulary ``known``."""
    bad = ~df[column].isin(list(known)) & df[column].notna()
    if bad.any():
        i = bad[bad].index[0]
        raise SchemaError(f"{raw_name(path)}: column '{column}' has the unknown label {df.at[i, column]!r} "
                          f"({where(df, i)}; {int(bad.sum())} such row(s)); expected one of {sorted(known)}. "
                          f"Rows are never dropped for an unknown label.")


def read_ees(path: Path, source: str, columns: list[str], *,
             breakdown: tuple[str, frozenset[str]] | None = None,
             claimed: dict[int, Path] | None = None) -> pd.DataFrame:
    """Text cells of an EES file (index = file line) with an int ``year`` column, checked as above.

    Parameters
    ----------
    path : the file.
    source : its source id (for the registered period).
    columns : value columns the caller will convert (checked present).
    breakdown : (column, every label it may hold), where the file has one.
    claimed : census years that other files supply, mapped to those files: a row of such a year
        is a DuplicateKeyError naming both files (checked before the registered period).
    """
    raw = read_csv_text(path)
    split = [breakdown[0]] if breakdown else []
    require_columns(raw, EES_KEYS + split + columns, path)
    require_filled(raw, ["geographic_level", "time_period"], path)
    check_labels(raw, "geographic_level", LEVELS, path)
    raw["year"] = parse_year(raw["time_period"], path, "time_period")
    _check_claimed(raw, path, claimed or {})
    check_period(raw["year"], source, path, "time_period", raw["time_period"])
    la = raw[raw["geographic_level"] == LA]
    require_filled(la, ["old_la_code", *split], path, what="LA row")
    if breakdown:
        check_labels(raw, breakdown[0], breakdown[1], path)
    parts = la["old_la_code"].str.split("/").explode().str.strip()
    check_known_la(parts, path, "old_la_code")
    check_identity(la, path, code="old_la_code", gss="new_la_code", name="la_name")
    check_unique(la, ["time_period", "old_la_code", *split], path, "LA rows")
    check_unique(raw[raw["geographic_level"] == "National"], ["time_period", *split], path, "national rows")
    return raw


def _check_claimed(raw: pd.DataFrame, path: Path, claimed: dict[int, Path]) -> None:
    twice = raw["year"].isin(list(claimed)) & raw["geographic_level"].isin(["National", LA])
    if twice.any():
        first = twice[twice].index[0]
        year = int(raw.at[first, "year"])
        raise DuplicateKeyError(
            f"census year {year} is present in two files: {raw_name(path)} (column 'time_period', value "
            f"{raw.at[first, 'time_period']!r}, {where(raw, first)}; {int(twice.sum())} such rows) and "
            f"{raw_name(claimed[year])}; each year must come from one file.")
