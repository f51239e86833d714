"""Demand and context loaders: children in need, child protection plans, children looked after,
child population (ONS mid-year) and deprivation (IoD 2019).

Demand counts are at 31 March of reporting year N (DfE "reporting year N"); they are matched to
the workforce census of 30 September N. Rates per 10,000 children use the ONS mid-year estimate
of N-1, the denominator DfE uses for its own published rates.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import FileFormatError, SchemaError
from ..geography import check_known_gss, check_known_la, gss_to_la
from .coverage import check_coverage
from .parse import (EES_SYMBOLS, SFR_SYMBOLS, SuppressionLog, check_unique, parse_year,
                    read_csv_text, require_columns, require_filled, to_number)

EES_LA_KEYS = ["time_period", "geographic_level", "old_la_code", "new_la_code", "la_name"]


def _ees_la(path: Path, value_col: str, out_col: str, log: SuppressionLog, source: str,
            years: set[int], row_filter: tuple[str, str] | None = None) -> pd.DataFrame:
    """Generic EES file -> (la_code, year, out_col) for LA rows."""
    raw = read_csv_text(path)
    need = EES_LA_KEYS + [value_col] + ([row_filter[0]] if row_filter else [])
    require_columns(raw, need, path)
    require_filled(raw, ["geographic_level"], path)
    raw["year"] = parse_year(raw["time_period"], path, "time_period")
    df = raw[raw["geographic_level"] == "Local authority"].copy()
    require_filled(df, ["old_la_code"] + ([row_filter[0]] if row_filter else []), path, what="LA row")
    if row_filter:
        col, val = row_filter
        if val not in set(df[col]):
            raise SchemaError(f"{path}: column '{col}' has no rows '{val}'; found {sorted(set(df[col]))}")
        df = df[df[col] == val]
    df = df[df["year"].isin(years)]
    df["la_code"] = df["old_la_code"].str.strip()
    check_known_la(df["la_code"], path, "old_la_code")
    check_unique(df, ["la_code", "year"], path, "LA-year rows")
    check_coverage(df, source, path, years=years)
    df = to_number(df, [value_col], path=path, source=source, allowed=EES_SYMBOLS, log=log,
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
                   row_filter=("age_group", "Children aged 0 to 17 years"))


def load_cla_sfr(path: Path, year: int, log: SuppressionLog, source: str) -> pd.DataFrame:
    """Children looked after at 31 March from an SFR underlying data file (``CLA_MarYYYY``)."""
    raw = read_csv_text(path)
    col = f"CLA_Mar{year}"
    require_columns(raw, ["geog_l", "geog_c", col], path)
    df = raw[raw["geog_l"] == "LA"].copy()
    require_filled(df, ["geog_c"], path, what="LA row")
    df["la_code"] = df["geog_c"].str.strip()
    check_known_la(df["la_code"], path, "geog_c")
    check_unique(df, ["la_code"], path, "LA rows")
    check_coverage(df, source, path, year_col=None)
    df = to_number(df, [col], path=path, source=source, allowed=SFR_SYMBOLS | {"x"}, log=log,
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
                         {2019, 2020}, row_filter=("population_count", "Children looked after at 31 March each year")))
    parts.append(_ees_la(paths_by_source["cla_ees_2025"], "children_count", "cla_count", log, "cla_ees_2025",
                         set(range(2021, 2026)),
                         row_filter=("population_type", "Children looked after on 31 March each year")))
    return pd.concat(parts, ignore_index=True)


def load_cla_published_rates(path: Path, log: SuppressionLog) -> pd.DataFrame:
    """Published CLA rates per 10,000 (2021-2025 release), for checking computed rates."""
    return _ees_la(path, "rate_per_10000", "cla_rate_published", log, "cla_ees_2025",
                   set(range(2021, 2026)),
                   row_filter=("population_type", "Children looked after on 31 March each year"))


#: known defect in the official IoD2019 File 11 (a truncated GSS code in the IMD sheet)
IOD_CODE_FIXES = {("IMD", "E0600003"): "E06000039"}  # Slough
IOD_CODE_COL = "Upper Tier Local Authority District code (2019)"
IOD_SHEETS = {"IDACI": ("IDACI - Average score", "idaci_2019"),
              "IMD": ("IMD - Average score", "imd_2019")}


def load_iod(path: Path, source: str = "iod2019_utla") -> pd.DataFrame:
    """IDACI 2019 and IMD 2019 average scores for upper-tier LAs (time-invariant).

    The average score is the population-weighted mean of LSOA scores; IDACI is the share of
    children aged 0-15 living in income-deprived families.
    """
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path}: the file is empty (0 bytes); restore the original download.")
    try:
        sheets = pd.read_excel(path, sheet_name=list(IOD_SHEETS), engine="openpyxl")
    except ValueError as exc:
        raise SchemaError(f"{path}: expected sheets {list(IOD_SHEETS)} ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors of a damaged workbook
        raise FileFormatError(f"{path}: cannot be read as an .xlsx workbook ({type(exc).__name__}: "
                              f"{exc}); restore the original download.") from exc
    out = None
    for sheet, (col, name) in IOD_SHEETS.items():
        df = sheets[sheet]
        df.columns = [str(c).strip() for c in df.columns]
        require_columns(df, [IOD_CODE_COL, col], Path(f"{path}[{sheet}]"))
        codes = df[IOD_CODE_COL].astype(str).str.strip()
        codes = codes.map(lambda c, s=sheet: IOD_CODE_FIXES.get((s, c), c))
        check_known_gss(codes, f"{path}[{sheet}]", IOD_CODE_COL)
        # spreadsheet row numbers: header on row 1, data from row 2
        values = df[[col]].set_axis(pd.Index(df.index + 2, name="row"))
        values = to_number(values, [col], path=Path(f"{path}[{sheet}]"), source=source,
                           allowed=frozenset(), log=SuppressionLog())
        part = pd.DataFrame({"la_code": codes.map(gss_to_la()).to_numpy(), name: values[col].to_numpy()})
        check_unique(part, ["la_code"], f"{path}[{sheet}]", "LA rows")
        out = part if out is None else out.merge(part, on="la_code", how="outer", validate="1:1")
    check_known_la(out["la_code"], path, IOD_CODE_COL)
    check_coverage(out, source, path, year_col=None)
    return out.sort_values("la_code").reset_index(drop=True)
