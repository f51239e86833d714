"""Where each cell of the derived tables came from: raw source, raw column and raw line.

A schema failure on the panel or the inspection table must send the reader to the raw file,
not only to the derived table: :func:`origins` gives, for a derived column and row, every
:class:`RawCell` (source id, raw column, raw year) the value was computed from (a rate per
10,000 children names its count *and* the population file), and :func:`locate` finds the
line (CSV), sheet row (ODS/XLSX) or parquet row of that raw cell for the row's LA entity (all
component LAs of a summed entity, e.g. North and West Northamptonshire).

Columns without raw cells come from the LA register (names, region, codes) or are derived flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pandas as pd

from ..errors import DataError
from .clean.context import IOD_CODE_COL, IOD_CODE_FIXES, ROW_FILTERS
from .clean.spend import FINANCE, LAC_RATE
from .clean.workforce import EES_COLUMNS, SFR_COLUMNS
from .geography import load_register
from .sources import load_registry

WORKFORCE = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate", "inpost_fte",
             "starters_fte", "leavers_fte", "agency_fte", "vacancy_fte", "case_holders_fte", "cases",
             "working_days_lost_fte"]
REGISTER = "data/reference/la_register.csv"


@dataclass(frozen=True)
class RawCell:
    """One raw input of a derived value: source id, raw column (a LAIT measure), raw year."""

    source: str
    column: str
    year: int | None = None


def _year(row: pd.Series) -> int:
    return int(row["year"] if "year" in row and pd.notna(row.get("year")) else row["census_year"])


def _workforce(column: str) -> Callable[[pd.Series], list[RawCell]]:
    ees = {v: k for k, v in EES_COLUMNS.items()}
    sfr = {v: k for k, v in SFR_COLUMNS.items()}

    def cells(row: pd.Series) -> list[RawCell]:
        y = _year(row)
        if y >= 2017:
            return [RawCell("csww_indicators", ees[column], y)]
        if column == "caseload" and y == 2016:
            return [RawCell("csww_sfr_2016", "Average_caseload", y)]
        if column in sfr:
            return [RawCell(f"csww_sfr_{y}", f"{sfr[column]}_{y}", y)]
        return []  # not published in the SFR of that year
    return cells


def _cla(row: pd.Series) -> list[RawCell]:
    y = _year(row)
    if y <= 2017:
        return [RawCell(f"cla_sfr_{y}", f"CLA_Mar{y}", y)]
    if y == 2018:
        return [RawCell("lait_2026", LAC_RATE, y)]
    return [RawCell("cla_ees_2023", "number", y) if y <= 2020 else RawCell("cla_ees_2025", "children_count", y)]


def _pop(row: pd.Series) -> list[RawCell]:
    return [RawCell("population", "population_estimate", _year(row) - 1)]


def _one(source: str, column: str) -> Callable[[pd.Series], list[RawCell]]:
    return lambda row: [RawCell(source, column, _year(row))]


def _spend(measure: str) -> Callable[[pd.Series], list[RawCell]]:
    return lambda row: [RawCell("lait_2026" if _year(row) >= 2017 else "lait_2025", measure, _year(row))]


def _per_child(count: Callable[[pd.Series], list[RawCell]]) -> Callable[[pd.Series], list[RawCell]]:
    return lambda row: count(row) + _pop(row)


def _static(source: str, column: str) -> Callable[[pd.Series], list[RawCell]]:
    return lambda row: [RawCell(source, column)]


def _inspection(row: pd.Series) -> list[RawCell]:
    framework = str(row.get("framework", row.get("grade_framework", "")))
    if framework == "SIF":
        return [RawCell("ofsted_sif_transcribed", "overall_effectiveness")]
    if row.get("grade_source") == "official":
        return [RawCell("ofsted_outcomes_2025", "Overall effectiveness")]
    if row.get("grade_source") == "transcribed" or framework == "ILACS-2026":
        return [RawCell("ofsted_ilacs_transcribed", "overall_effectiveness")]
    return [RawCell("ofsted_outcomes_2025", "Overall effectiveness"),
            RawCell("ofsted_ilacs_transcribed", "overall_effectiveness")]


_SPEND_MEASURE = {v: k for k, v in FINANCE.items()}
ORIGINS: dict[str, Callable[[pd.Series], list[RawCell]]] = {
    **{c: _workforce(c) for c in WORKFORCE},
    "cin_count": _one("cin_b1", "At31_episodes"), "cpp_count": _one("cpp_d5", "CPP_At31"),
    "cla_count": _cla,
    "child_pop": _pop, "log_child_pop": _pop,
    "cin_rate": _per_child(_one("cin_b1", "At31_episodes")), "cpp_rate": _per_child(_one("cpp_d5", "CPP_At31")),
    "cla_rate": lambda row: _cla(row) + ([] if _year(row) == 2018 else _pop(row)),
    "s47_count": _one("cin_c4", "Section47"), "icpc_count": _one("cin_c4", "ICPC"),
    "s47_rate": _per_child(_one("cin_c4", "Section47")), "icpc_rate": _per_child(_one("cin_c4", "ICPC")),
    "s47_icpc_median_days": _one("cin_c4", "Duration_median"),
    **{col: _spend(m) for col, m in _SPEND_MEASURE.items()},
    **{f"{col}_pc": _per_child(_spend(m)) for col, m in _SPEND_MEASURE.items()},
    "log_spend_total_pc": _per_child(_spend("C&YPExpenditure")),
    "idaci_2019": _static("iod2019_utla", "IDACI - Average score"),
    "imd_2019": _static("iod2019_utla", "IMD - Average score"),
    "imd_decile": _static("iod2019_utla", "IMD - Rank of average score"),
    **{c: _inspection for c in ("grade_num", "overall_num", "leaders_num", "help_protection_num", "in_care_num",
                                "start_date", "end_date", "publication_date", "framework", "inspection_type")},
}


def origins(column: str | None, row: pd.Series) -> list[RawCell]:
    """The raw cells a derived cell came from (empty: the LA register, or a derived flag)."""
    if column in ORIGINS:
        return ORIGINS[column](row)
    if column is None and "inspection_id" in row:
        return _inspection(row)
    return []


# --- finding the raw line ---------------------------------------------------------------------

def _components(entity: str) -> set[str]:
    reg = load_register()
    return set(reg.loc[reg["entity_code"] == entity, "la_code"]) | {entity}


@lru_cache(maxsize=32)
def _csv(path: str) -> pd.DataFrame:
    from .clean.parse import read_csv_text
    return read_csv_text(Path(path))


def _lines(mask: pd.Series) -> list[int]:
    return [int(i) for i in mask[mask].index]


def _find(cell: RawCell, entity: str, path: Path, start: pd.Timestamp | None) -> str | None:
    """'line N' / 'row N' (or several) of ``cell`` for ``entity``; None if not found."""
    codes = _components(entity)
    if path.suffix == ".csv":
        df = _csv(str(path))
        if cell.source.startswith("ofsted_"):
            hit = df["la_code"].isin(codes)
            if start is not None:
                hit &= df["inspection_start_date"] == start.date().isoformat()
        elif "geographic_level" in df.columns:  # an EES file
            parts = df["old_la_code"].fillna("").str.split("/").map(lambda p: bool({x.strip() for x in p} & codes))
            hit = (df["geographic_level"] == "Local authority") & parts & (df["time_period"] == str(cell.year))
            if cell.source in ROW_FILTERS:
                col, label = ROW_FILTERS[cell.source]
                hit &= df[col] == label
        else:  # an SFR file, one year
            code_col = "LA_code (3 digit)" if "LA_code (3 digit)" in df.columns else "geog_c"
            hit = df[code_col].fillna("").str.strip().isin(codes)
        return _say("line", _lines(hit), df.loc[hit, cell.column] if cell.column in df else None)
    if path.suffix == ".parquet":
        from .clean.spend import read_lait
        lait = read_lait(path, [cell.column])
        hit = lait["area"].map(lambda a: f"{a:03d}").isin(codes) & (lait["year"] == cell.year)
        return _say("row", [int(r) for r in lait.loc[hit, "row"]], lait.loc[hit, "text"])
    if path.suffix == ".xlsx":
        from .clean.sheets import read_sheet
        sheet = "IDACI" if cell.column.startswith("IDACI") else "IMD"
        df = read_sheet(path, sheet, header_row=1, engine="openpyxl")
        reg = load_register()
        gss = set(reg.loc[reg["la_code"].isin(codes), "gss_code"])
        code = df[IOD_CODE_COL].astype(str).str.strip().map(lambda c: IOD_CODE_FIXES.get((sheet, c), c))
        found = _say("row", _lines(code.isin(gss)), df.loc[code.isin(gss), cell.column.strip()]
                     if cell.column in df else None)
        return f"sheet {sheet}, {found}" if found else None
    if path.suffix == ".ods":
        from .clean.ofsted import OFFICIAL_HISTORY_SHEET, _read_ods_table
        df = _read_ods_table(path, OFFICIAL_HISTORY_SHEET)
        reg = load_register()
        gss = set(reg.loc[reg["la_code"].isin(codes), "gss_code"])
        hit = df["Local authority area code"].isin(gss)
        if start is not None:
            hit &= pd.to_datetime(df["Inspection date"], errors="coerce") == start
        found = _say("row", _lines(hit), df.loc[hit, cell.column] if cell.column in df else None)
        return f"sheet {OFFICIAL_HISTORY_SHEET}, {found}" if found else None
    return None


def _say(unit: str, numbers: list[int], values: pd.Series | None = None) -> str | None:
    """'line 894 (value '1000')' or 'lines 12, 13 (values ...)'; None if nothing was found."""
    if not numbers:
        return None
    where = f"{unit} {numbers[0]}" if len(numbers) == 1 else f"{unit}s {', '.join(map(str, numbers[:6]))}"
    if values is None or not len(values):
        return where
    shown = [str(v) if pd.notna(v) else "" for v in list(values)[:6]]
    return where + (f" (value {shown[0]!r})" if len(shown) == 1 else f" (values {shown})")


def describe(column: str | None, row: pd.Series, source_paths: dict[str, Path] | None = None) -> str:
    """'source (file) column 'raw', line N / ...' for a derived cell; the register if no raw cell."""
    cells = origins(column, row)
    if not cells:
        return f"the LA register ({REGISTER}) or a derived flag"
    registry = load_registry()
    entity = str(row.get("la_code"))
    start = pd.Timestamp(row["start_date"]) if "start_date" in row and pd.notna(row.get("start_date")) else None
    if "grade_inspection_id" in row and pd.notna(row.get("grade_inspection_id")) and "inspection_id" not in row:
        start = pd.Timestamp(str(row["grade_inspection_id"]).split("-")[-1])
    out = []
    for cell in cells:
        text = f"{cell.source} ({registry[cell.source].path}) column '{cell.column}'"
        if cell.year is not None:
            text += f" of {cell.year}"
        path = (source_paths or {}).get(cell.source)
        if path is not None:
            try:
                found = _find(cell, entity, Path(path), start)
            except (DataError, KeyError, ValueError, OSError):  # locating is a courtesy: the failure is reported anyway
                found = None
            if found:
                text += f", {found}"
        out.append(text)
    return " / ".join(out)
