"""Schema validation of the derived tables (pandera).

Checks keys, types and sane ranges. A failure raises :class:`analysis.errors.SchemaError`
listing, for each failing cell, the LA, year (or inspection), column, value, the check and the
raw source, raw column and raw line the value came from (:func:`raw_source`, from
:mod:`analysis.data.provenance`), so an implausible panel is never written and the reader knows
which raw cell to open: a rate per 10,000 names its count and the population file.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from pathlib import Path

from ..errors import SchemaError
from .provenance import describe

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


def raw_source(column: str | None, row: pd.Series, source_paths: dict[str, Path] | None = None) -> str:
    """Raw source id(s), file(s), raw column(s) and, given the paths, line(s) a derived cell came
    from, e.g. "csww_indicators (csww/csww_indicators_2017_to_2025.csv) column 'caseload_fte' of
    2019, line 306". Inspection rows carry census-year measures: their ``census_year`` is the year.
    """
    if "year" not in row and "census_year" in row:
        row = row.rename({"census_year": "year"})
    return describe(column, row, source_paths)


def _describe(df: pd.DataFrame, index) -> str:
    row = df.iloc[int(index)]
    if "inspection_id" in df:
        who = (f"inspection {row['inspection_id']} (LA {row['la_code']}, fieldwork from "
               f"{pd.Timestamp(row['start_date']).date() if pd.notna(row['start_date']) else '?'})")
    else:
        name = f" {row['la_name']}" if "la_name" in df and pd.notna(row.get("la_name")) else ""
        who = f"LA {row.get('la_code')}{name}, year {row.get('year')}"
    return who


def failure_report(df: pd.DataFrame, cases: pd.DataFrame, limit: int = 10,
                   source_paths: dict[str, Path] | None = None) -> str:
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
                         f"{raw_source(None, row, source_paths)}")
            continue
        value = row[column]
        value = value.item() if hasattr(value, "item") else value
        lines.append(f"- {_describe(df, case.index)}, column '{column}' = {value!r} "
                     f"fails {case.check}; raw source: {raw_source(column, row, source_paths)}")
    more = total - limit
    if more > 0:
        lines.append(f"... and {more} more failure(s)")
    return "\n".join(lines)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, name: str,
              source_paths: dict[str, Path] | None = None) -> None:
    data = df.reset_index(drop=True)
    try:
        schema.validate(data, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        if isinstance(exc, pa.errors.SchemaError) and cases is not None and "index" not in cases:
            cases = None
        detail = failure_report(data, cases, source_paths=source_paths) if cases is not None else str(exc)
        raise SchemaError(f"{name} failed schema validation:\n{detail}") from exc


def validate_panel(panel: pd.DataFrame, source_paths: dict[str, Path] | None = None) -> None:
    """Validate the LA-year panel; raises SchemaError on failure (naming raw lines given the paths)."""
    _validate(PANEL_SCHEMA, panel, "la_year_panel", source_paths)


def validate_inspections(table: pd.DataFrame, source_paths: dict[str, Path] | None = None) -> None:
    """Validate the inspection table; raises SchemaError on failure (naming raw lines given the paths)."""
    _validate(INSPECTION_SCHEMA, table, "inspections", source_paths)
