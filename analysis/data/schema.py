"""Schema validation of the derived tables (pandera).

Checks keys, types and sane ranges. A failure raises :class:`analysis.errors.SchemaError`
listing, for each failing cell, the LA, year (or inspection), column, value, the check and the
raw source the value came from (:func:`raw_source`), so an implausible panel is never written
and the reader knows which raw file to open.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from ..errors import SchemaError
from .sources import load_registry

LA_CODE = pa.Column(str, pa.Check.str_matches(r"^\d{3}$"))
RATE = pa.Column(float, pa.Check.in_range(0, 100), nullable=True)
GRADE = pa.Column("Float64", pa.Check.isin([1, 2, 3, 4]), nullable=True)
COUNT = pa.Column(float, pa.Check.ge(0), nullable=True)

PANEL_SCHEMA = pa.DataFrameSchema(
    {
        "la_code": LA_CODE,
        "year": pa.Column(int, pa.Check.in_range(2015, 2025)),
        "la_name": pa.Column(str),
        "region": pa.Column(str, pa.Check.isin([
            "North East", "North West", "Yorkshire and The Humber", "East Midlands", "West Midlands",
            "East of England", "London", "South East", "South West"])),
        "caseload": pa.Column(float, pa.Check.in_range(3, 60), nullable=True),
        "vacancy_rate": RATE, "agency_rate": RATE, "turnover_rate": RATE, "absence_rate": RATE,
        "inpost_fte": COUNT, "cases": COUNT, "case_holders_fte": COUNT,
        "cin_rate": pa.Column(float, pa.Check.in_range(50, 2000), nullable=True),
        "cpp_rate": pa.Column(float, pa.Check.in_range(0, 300), nullable=True),
        "cla_rate": pa.Column(float, pa.Check.in_range(0, 400), nullable=True),
        "child_pop": COUNT,
        # issue 7 measures: bounds are far outside the observed ranges, inside plausibility
        "cla_rate_published": pa.Column(bool),
        "s47_count": COUNT, "icpc_count": COUNT,
        "s47_rate": pa.Column(float, pa.Check.in_range(0, 2000), nullable=True),
        "icpc_rate": pa.Column(float, pa.Check.in_range(0, 500), nullable=True),
        "s47_icpc_median_days": pa.Column(float, pa.Check.in_range(0, 365), nullable=True),
        "spend_total": COUNT, "spend_safeguarding": COUNT, "spend_family_support": COUNT, "spend_cla": COUNT,
        "spend_total_pc": pa.Column(float, pa.Check.in_range(100, 20000), nullable=True),
        "spend_safeguarding_pc": pa.Column(float, pa.Check.in_range(0, 5000), nullable=True),
        "spend_family_support_pc": pa.Column(float, pa.Check.in_range(0, 5000), nullable=True),
        "spend_cla_pc": pa.Column(float, pa.Check.in_range(0, 10000), nullable=True),
        "log_spend_total_pc": pa.Column(float, pa.Check.in_range(4.6, 9.9), nullable=True),
        "imd_decile": pa.Column("Int64", pa.Check.in_range(1, 10), nullable=True),
        "idaci_2019": pa.Column(float, pa.Check.in_range(0, 1), nullable=True),
        "grade_num": GRADE,
    },
    unique=["la_code", "year"],
    strict=False,
    coerce=False,
)

INSPECTION_SCHEMA = pa.DataFrameSchema(
    {
        "inspection_id": pa.Column(str, unique=True),
        "la_code": LA_CODE,
        "framework": pa.Column(str, pa.Check.isin(["SIF", "ILACS", "ILACS-2026"])),
        "start_date": pa.Column("datetime64[us]"),
        "overall_num": GRADE,
        "prev_grade_num": GRADE,
        "census_year": pa.Column(int, pa.Check.in_range(2012, 2026)),
    },
    checks=[
        pa.Check(lambda d: d["publication_date"] >= d["start_date"], error="published before start"),
        pa.Check(lambda d: (d["framework"] != "ILACS-2026") | d["overall_num"].isna(),
                 error="2026-framework inspections have no overall grade"),
    ],
    strict=False,
)


#: raw source id of each panel column (a callable takes the panel row); columns not listed come
#: from the LA register (data/reference/la_register.csv) or are derived from listed ones
WORKFORCE_COLUMNS = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate",
                     "inpost_fte", "starters_fte", "leavers_fte", "agency_fte", "vacancy_fte",
                     "case_holders_fte", "cases", "working_days_lost_fte")


def _workforce_source(row: pd.Series) -> str:
    if isinstance(row.get("workforce_source"), str):
        return row["workforce_source"]
    year = int(row["year"])
    return "csww_sfr_2015" if year <= 2015 else "csww_sfr_2016" if year == 2016 else "csww_indicators"


def _cla_source(row: pd.Series) -> str:
    year = int(row["year"])
    if year == 2018:
        return "no 2018 children-looked-after file in the registry"
    return f"cla_sfr_{year}" if year <= 2017 else "cla_ees_2023" if year <= 2020 else "cla_ees_2025"


def _inspection_source(row: pd.Series) -> str:
    framework = str(row.get("framework", row.get("grade_framework", "")))
    if framework == "SIF":
        return "ofsted_sif_transcribed"
    if row.get("grade_source") == "official":
        return "ofsted_outcomes_2025"
    if row.get("grade_source") == "transcribed" or framework == "ILACS-2026":
        return "ofsted_ilacs_transcribed"
    return "ofsted_outcomes_2025 / ofsted_ilacs_transcribed"


COLUMN_SOURCES = {
    **{c: _workforce_source for c in WORKFORCE_COLUMNS},
    "cin_count": "cin_b1", "cin_rate": "cin_b1 / population",
    "cpp_count": "cpp_d5", "cpp_rate": "cpp_d5 / population",
    "cla_count": _cla_source, "cla_rate": lambda row: f"{_cla_source(row)} / population",
    "child_pop": "population", "log_child_pop": "population",
    "idaci_2019": "iod2019_utla", "imd_2019": "iod2019_utla",
    "grade_num": _inspection_source,
}


def raw_source(column: str | None, row: pd.Series) -> str:
    """Raw source id(s) and file(s) a derived cell came from, e.g. 'csww_indicators (csww/...csv)'.

    Inspection rows carry census-year measures: their ``census_year`` picks the source year.
    """
    if "year" not in row and "census_year" in row:
        row = row.rename({"census_year": "year"})
    src = COLUMN_SOURCES.get(column or "")
    if src is not None:
        return _with_paths(src(row) if callable(src) else src)
    if "inspection_id" in row:
        return _with_paths(_inspection_source(row))
    return "LA register or derived (data/reference/la_register.csv, analysis/data/panel.py)"


def _with_paths(sids: str) -> str:
    registry = load_registry()
    parts = []
    for sid in sids.split(" / "):
        parts.append(f"{sid} ({registry[sid].path})" if sid in registry else sid)
    return " / ".join(parts)


def _describe(df: pd.DataFrame, index) -> str:
    row = df.iloc[int(index)]
    if "inspection_id" in df:
        who = (f"inspection {row['inspection_id']} (LA {row['la_code']}, fieldwork from "
               f"{pd.Timestamp(row['start_date']).date() if pd.notna(row['start_date']) else '?'})")
    else:
        name = f" {row['la_name']}" if "la_name" in df and pd.notna(row.get("la_name")) else ""
        who = f"LA {row.get('la_code')}{name}, year {row.get('year')}"
    return who


def failure_report(df: pd.DataFrame, cases: pd.DataFrame, limit: int = 10) -> str:
    """Readable lines from pandera failure cases: LA, year, column, value, check, raw source."""
    lines = []
    wide = cases["schema_context"].eq("DataFrameSchema") & cases["index"].notna()
    if wide.any():  # a row-wise check over several columns: one line per failing row
        cases = pd.concat([cases[~wide], cases[wide].drop_duplicates(["check", "index"]).assign(column=None)])
    total = len(cases)
    for case in cases.head(limit).itertuples(index=False):
        column = case.column if isinstance(case.column, str) and case.column in df else None
        if pd.isna(case.index) if not isinstance(case.index, (list, tuple)) else False:
            lines.append(f"- column '{case.column}': {case.check} failed (value {case.failure_case!r}, "
                         f"not tied to one row)")
            continue
        row = df.iloc[int(case.index)]
        if column is None:
            lines.append(f"- {_describe(df, case.index)} fails '{case.check}'; raw source: "
                         f"{raw_source(None, row)}")
            continue
        value = row[column]
        value = value.item() if hasattr(value, "item") else value
        lines.append(f"- {_describe(df, case.index)}, column '{column}' = {value!r} "
                     f"fails {case.check}; raw source: {raw_source(column, row)}")
    more = total - limit
    if more > 0:
        lines.append(f"... and {more} more failure(s)")
    return "\n".join(lines)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, name: str) -> None:
    data = df.reset_index(drop=True)
    try:
        schema.validate(data, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        if isinstance(exc, pa.errors.SchemaError) and cases is not None and "index" not in cases:
            cases = None
        detail = failure_report(data, cases) if cases is not None else str(exc)
        raise SchemaError(f"{name} failed schema validation:\n{detail}") from exc


def validate_panel(panel: pd.DataFrame) -> None:
    """Validate the LA-year panel; raises SchemaError on failure."""
    _validate(PANEL_SCHEMA, panel, "la_year_panel")


def validate_inspections(table: pd.DataFrame) -> None:
    """Validate the inspection table; raises SchemaError on failure."""
    _validate(INSPECTION_SCHEMA, table, "inspections")
