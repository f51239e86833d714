"""Demand and context loaders: children in need, child protection plans, children looked after,
child population (ONS mid-year) and deprivation (IoD 2019).

Demand counts are at 31 March of reporting year N (DfE "reporting year N"); they are matched to
the workforce census of 30 September N. Rates per 10,000 children use the ONS mid-year estimate
of N-1, the denominator DfE uses for its own published rates.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import SchemaError
from ..geography import check_identity, check_known_gss, check_known_la, gss_to_la
from ..sources import raw_name
from .coverage import check_coverage
from .ees import LA, check_labels, read_ees
from .parse import SuppressionLog, check_unique, read_csv_text, require_columns, require_filled, to_number
from .sheets import read_sheet, sheet_name

#: every label of the breakdown columns (an unknown one would drop its rows silently)
BREAKDOWNS: dict[tuple[str, str], frozenset[str]] = {
    ("population", "age_group"): frozenset({"Children aged 0 to 17 years"}),
    ("cla_ees_2023", "population_count"): frozenset({
        "Children looked after at 31 March each year", "Children starting to be looked after each year",
        "Children ceasing to be looked after each year"}),
    ("cla_ees_2025", "population_type"): frozenset({
        "Children looked after on 31 March each year", "Children starting to be looked after each year",
        "Children ceasing to be looked after each year"}),
}

#: the rows each file's loader reads: (breakdown column, label)
ROW_FILTERS: dict[str, tuple[str, str]] = {
    "population": ("age_group", "Children aged 0 to 17 years"),
    "cla_ees_2023": ("population_count", "Children looked after at 31 March each year"),
    "cla_ees_2025": ("population_type", "Children looked after on 31 March each year"),
}


def _ees_la(path: Path, value_col: str, out_col: str, log: SuppressionLog, source: str,
            years: set[int], row_filter: tuple[str, str] | None = None) -> pd.DataFrame:
    """Generic EES file -> (la_code, year, out_col) for LA rows (see :mod:`.ees` for the checks)."""
    breakdown = (row_filter[0], BREAKDOWNS[(source, row_filter[0])]) if row_filter else None
    raw = read_ees(path, source, [value_col], breakdown=breakdown)
    df = raw[raw["geographic_level"] == LA].copy()
    if row_filter:
        col, val = row_filter
        if val not in set(df[col]):
            raise SchemaError(f"{raw_name(path)}: column '{col}' has no rows '{val}' (LA rows, lines 2-"
                              f"{int(raw.index.max())}); found {sorted(set(df[col]))}")
        df = df[df[col] == val]
    df = df[df["year"].isin(years)]
    df["la_code"] = df["old_la_code"].str.strip()
    check_unique(df, ["time_period", "old_la_code"], path, "LA rows")
    check_coverage(df, source, path, years=years)
    df = to_number(df, [value_col], path=path, source=source, log=log,
                   scope="LA rows").rename(columns={value_col: out_col})
    return df[["la_code", "year", out_col]].reset_index(drop=True)


def load_cin(path: Path, log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """Children in need at 31 March (``At31_episodes``), table b1."""
    return _ees_la(path, "At31_episodes", "cin_count", log, "cin_b1", years)


def load_cpp(path: Path, log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """Children on a child protection plan at 31 March (``CPP_At31``), table d5."""
    return _ees_la(path, "CPP_At31", "cpp_count", log, "cpp_d5", years)


def load_population(path: Path, log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """ONS mid-year estimates of children aged 0-17 (``population_estimate``), by mid-year."""
    return _ees_la(path, "population_estimate", "child_pop", log, "population", years,
                   row_filter=ROW_FILTERS["population"])


#: rows without a geographic level, left out by name (any other blank level is an error):
#: SFR50_CLA2017.csv lists Isles of Scilly (420) with a blank ``geog_l`` and every count 0, where
#: the 2015 and 2016 files have no Scilly row at all; it is read as "not published", as before.
UNLEVELLED_ROWS = {("cla_sfr_2017", "420")}


def load_cla_sfr(path: Path, year: int, log: SuppressionLog, source: str) -> pd.DataFrame:
    """Children looked after at 31 March from an SFR underlying data file (``CLA_MarYYYY``)."""
    raw = read_csv_text(path)
    col = f"CLA_Mar{year}"
    require_columns(raw, ["geog_l", "geog_c", "geog_n", "New_geog_code", col], path)
    unlevelled = raw["geog_l"].isna() & raw["geog_c"].map(lambda c: (source, c) in UNLEVELLED_ROWS)
    raw = raw[~unlevelled]
    require_filled(raw, ["geog_l"], path)
    check_labels(raw, "geog_l", ("NATIONAL", "REGION", "LA"), path)
    df = raw[raw["geog_l"] == "LA"].copy()
    require_filled(df, ["geog_c"], path, what="LA row")
    df["la_code"] = df["geog_c"].str.strip()
    check_known_la(df["la_code"], path, "geog_c")
    check_identity(df, path, code="geog_c", gss="New_geog_code", name="geog_n")
    check_unique(df, ["geog_c"], path, "LA rows")
    check_coverage(df, source, path, year_col=None)
    df = to_number(df, [col], path=path, source=source, log=log,
                   scope="LA rows").rename(columns={col: "cla_count"})
    df["year"] = year
    return df[["la_code", "year", "cla_count"]].reset_index(drop=True)


def load_cla(paths_by_source: dict[str, Path], log: SuppressionLog) -> pd.DataFrame:
    """Children looked after at 31 March, 2015-2025 except 2018 (no source in the registry).

    2015-2017 from the SFR files, 2019-2020 from the 2023 EES release, 2021-2025 from the 2025
    EES release (latest vintage wins where releases overlap).
    """
    parts = [load_cla_sfr(paths_by_source[f"cla_sfr_{y}"], y, log, f"cla_sfr_{y}") for y in (2015, 2016, 2017)]
    parts.append(_ees_la(paths_by_source["cla_ees_2023"], "number", "cla_count", log, "cla_ees_2023",
                         {2019, 2020}, row_filter=ROW_FILTERS["cla_ees_2023"]))
    parts.append(_ees_la(paths_by_source["cla_ees_2025"], "children_count", "cla_count", log, "cla_ees_2025",
                         set(range(2021, 2026)), row_filter=ROW_FILTERS["cla_ees_2025"]))
    return pd.concat(parts, ignore_index=True)


def load_cla_published_rates(path: Path, log: SuppressionLog) -> pd.DataFrame:
    """Published CLA rates per 10,000 (2021-2025 release), for checking computed rates."""
    return _ees_la(path, "rate_per_10000", "cla_rate_published", log, "cla_ees_2025",
                   set(range(2021, 2026)), row_filter=ROW_FILTERS["cla_ees_2025"])


#: known defect in the official IoD2019 File 11 (a truncated GSS code in the IMD sheet)
IOD_CODE_FIXES = {("IMD", "E0600003"): "E06000039"}  # Slough
IOD_CODE_COL = "Upper Tier Local Authority District code (2019)"
IOD_NAME_COL = "Upper Tier Local Authority District name (2019)"
IOD_SHEETS = {"IDACI": ("IDACI - Average score", "idaci_2019"),
              "IMD": ("IMD - Average score", "imd_2019")}


def read_iod_sheet(path: Path, sheet: str, columns: list[str], source: str = "iod2019_utla") -> pd.DataFrame:
    """One sheet of IoD 2019 File 11: ``la_code`` (DfE) and the ``columns`` as numbers, indexed
    by sheet row.

    Every row must carry a registered GSS code whose name agrees, once (the one known defect of
    the official file, Slough's truncated code in the IMD sheet, is fixed first); every value
    must be present and inside its plausibility bound.
    """
    df = read_sheet(path, sheet, header_row=1, engine="openpyxl")
    where = sheet_name(path, sheet)
    require_columns(df, [IOD_CODE_COL, IOD_NAME_COL, *columns], where, header="row 1")
    require_filled(df, [IOD_CODE_COL, *columns], where, what="LA row")
    df[IOD_CODE_COL] = [IOD_CODE_FIXES.get((sheet, str(c).strip()), str(c).strip()) for c in df[IOD_CODE_COL]]
    check_known_gss(df[IOD_CODE_COL], where, IOD_CODE_COL)
    check_identity(df, where, gss=IOD_CODE_COL, name=IOD_NAME_COL)
    check_unique(df, [IOD_CODE_COL], where, "LA rows")
    values = to_number(df, columns, path=where, source=source, log=SuppressionLog())
    values["la_code"] = df[IOD_CODE_COL].map(gss_to_la())
    return values[["la_code", *columns]]


def load_iod(path: Path, source: str = "iod2019_utla") -> pd.DataFrame:
    """IDACI 2019 and IMD 2019 average scores for upper-tier LAs (time-invariant).

    The average score is the population-weighted mean of LSOA scores; IDACI is the share of
    children aged 0-15 living in income-deprived families.
    """
    out = None
    for sheet, (col, name) in IOD_SHEETS.items():
        part = read_iod_sheet(path, sheet, [col], source).rename(columns={col: name}).reset_index(drop=True)
        check_unique(part, ["la_code"], sheet_name(path, sheet), "LA rows")
        out = part if out is None else out.merge(part, on="la_code", how="outer", validate="1:1")
    check_known_la(out["la_code"], path, IOD_CODE_COL)
    check_coverage(out, source, path, year_col=None)
    return out.sort_values("la_code").reset_index(drop=True)
