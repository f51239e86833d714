"""Child-protection activity: section 47 enquiries and initial child protection conferences (ICPCs),
DfE "Characteristics of children in need", table c4 (source ``cin_c4``).

Counts are for the reporting year ending 31 March N (matched to census year N, 30 September N):
``Section47`` = section 47 enquiries started in the year, ``ICPC`` = initial child protection
conferences held in the year, ``Duration_median`` = median working days from the start of the
section 47 enquiry to the ICPC (as published by DfE). EES suppression codes are handled by
:func:`analysis.data.clean.parse.to_number`. National and regional counts are rounded by DfE to
the nearest 10; LA counts are not rounded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import DataError, SchemaError
from ..geography import check_known_la
from .coverage import check_coverage
from .parse import (EES_SYMBOLS, SuppressionLog, check_unique, read_csv_text,
                    require_columns, to_number)

SOURCE = "cin_c4"
C4_VALUES = {"Section47": "s47_count", "ICPC": "icpc_count", "Duration_median": "s47_icpc_median_days"}
C4_KEYS = ["time_period", "geographic_level", "old_la_code", "la_name"]
#: plausible bounds of the median (working days) between enquiry start and conference
MEDIAN_DAYS_RANGE = (0, 365)


def _read_c4(path: Path) -> pd.DataFrame:
    raw = read_csv_text(path)
    require_columns(raw, C4_KEYS + list(C4_VALUES), path)
    raw["_line"] = raw.index  # read_csv_text indexes rows by file line (header = line 1)
    try:
        raw["year"] = pd.to_numeric(raw["time_period"], errors="raise").astype(int)
    except (ValueError, TypeError) as exc:
        raise SchemaError(f"{path}: column 'time_period' has a value that is not a year ({exc})") from exc
    return raw


def _check_values(df: pd.DataFrame, path: Path) -> None:
    for col in ("s47_count", "icpc_count", "s47_icpc_median_days"):
        v = df[col]
        bad = v.notna() & ((v < 0) | ~v.abs().lt(float("inf")))
        if col == "s47_icpc_median_days":
            lo, hi = MEDIAN_DAYS_RANGE
            bad |= v.notna() & ((v < lo) | (v > hi))
        if bad.any():
            r = df[bad].iloc[0]
            raise DataError(f"{path}: column for {col} has the implausible value {r[col]!r} "
                            f"(line {r['_line']}, LA {r.get('la_code', r.get('la_name'))}, year {r['year']})")


def load_s47(path: Path, log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """LA rows of table c4: ``la_code, year, s47_count, icpc_count, s47_icpc_median_days``.

    Raises
    ------
    DataError
        Unknown LA codes, duplicated LA-years, a thinly covered year, unknown symbols, negative
        counts or an implausible median.
    """
    raw = _read_c4(path)
    df = raw[raw["geographic_level"] == "Local authority"].copy()
    df = df[df["year"].isin(years)]
    df["la_code"] = df["old_la_code"].str.strip()
    check_known_la(df["la_code"], path, "old_la_code")
    check_unique(df, ["la_code", "year"], path, "LA-year rows")
    check_coverage(df, SOURCE, path, years=years)
    df = to_number(df, list(C4_VALUES), path=path, source=SOURCE, allowed=EES_SYMBOLS, log=log,
                   scope="LA rows").rename(columns=C4_VALUES)
    _check_values(df, path)
    return df[["la_code", "year", *C4_VALUES.values()]].sort_values(["la_code", "year"]).reset_index(drop=True)


def load_s47_national(path: Path, years: set[int]) -> pd.DataFrame:
    """National rows of table c4 (rounded to the nearest 10 by DfE): ``year, s47_count, icpc_count``."""
    raw = _read_c4(path)
    nat = raw[(raw["geographic_level"] == "National") & raw["year"].isin(years)].copy()
    check_unique(nat, ["year"], path, "national rows")
    nat = to_number(nat, ["Section47", "ICPC"], path=path, source=SOURCE, allowed=frozenset(),
                    log=SuppressionLog(), scope="national").rename(columns=C4_VALUES)
    return nat[["year", "s47_count", "icpc_count"]].sort_values("year").reset_index(drop=True)
