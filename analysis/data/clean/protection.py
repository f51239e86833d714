"""Child-protection activity: section 47 enquiries and initial child protection conferences (ICPCs),
DfE "Characteristics of children in need", table c4 (source ``cin_c4``).

Counts are for the reporting year ending 31 March N (matched to census year N, 30 September N):
``Section47`` = section 47 enquiries started in the year, ``ICPC`` = initial child protection
conferences held in the year, ``Duration_median`` = median working days from the start of the
section 47 enquiry to the ICPC (as published by DfE). EES reading rules are those of
:mod:`.ees`; suppression codes and plausibility bounds those of
:func:`analysis.data.clean.parse.to_number`. National and regional counts are rounded by DfE to
the nearest 10; LA counts are not rounded.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .coverage import check_coverage
from .ees import LA, read_ees
from .parse import SuppressionLog, check_unique, to_number

SOURCE = "cin_c4"
C4_VALUES = {"Section47": "s47_count", "ICPC": "icpc_count", "Duration_median": "s47_icpc_median_days"}


def load_s47(path: Path, log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """LA rows of table c4: ``la_code, year, s47_count, icpc_count, s47_icpc_median_days``.

    Raises
    ------
    DataError
        Unknown, blank or contradicted LA codes, duplicated LA-years, a year outside the
        publication, a thinly covered year, unknown symbols, or a value outside its plausibility
        bound (the median: 0-365 working days; ``data/reference/plausibility.csv``).
    """
    raw = read_ees(path, SOURCE, list(C4_VALUES))
    df = raw[(raw["geographic_level"] == LA) & raw["year"].isin(years)].copy()
    df["la_code"] = df["old_la_code"].str.strip()
    check_coverage(df, SOURCE, path, years=years)
    df = to_number(df, list(C4_VALUES), path=path, source=SOURCE, log=log,
                   scope="LA rows").rename(columns=C4_VALUES)
    return df[["la_code", "year", *C4_VALUES.values()]].sort_values(["la_code", "year"]).reset_index(drop=True)


def load_s47_national(path: Path, years: set[int]) -> pd.DataFrame:
    """National rows of table c4 (rounded to the nearest 10 by DfE): ``year, s47_count, icpc_count``."""
    raw = read_ees(path, SOURCE, list(C4_VALUES))
    nat = raw[(raw["geographic_level"] == "National") & raw["year"].isin(years)].copy()
    check_unique(nat, ["time_period"], path, "national rows")
    nat = to_number(nat, ["Section47", "ICPC"], path=path, source=SOURCE, allowed=frozenset(),
                    log=SuppressionLog(), scope="national", level="england").rename(columns=C4_VALUES)
    return nat[["year", "s47_count", "icpc_count"]].sort_values("year").reset_index(drop=True)
