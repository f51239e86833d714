"""Schema validation of the derived tables (pandera).

Checks keys, types and sane ranges. A failure raises :class:`analysis.errors.SchemaError`
listing the failing checks, so an implausible panel is never written.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from ..errors import SchemaError

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
        pa.Check(lambda d: (d["publication_date"] >= d["start_date"]).all(), error="published before start"),
        pa.Check(lambda d: (d["framework"] != "ILACS-2026") | d["overall_num"].isna(),
                 error="2026-framework inspections have no overall grade"),
    ],
    strict=False,
)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame, name: str) -> None:
    try:
        schema.validate(df.reset_index(drop=True), lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        detail = cases.head(10).to_string() if cases is not None else str(exc)
        raise SchemaError(f"{name} failed schema validation:\n{detail}") from exc


def validate_panel(panel: pd.DataFrame) -> None:
    """Validate the LA-year panel; raises SchemaError on failure."""
    _validate(PANEL_SCHEMA, panel, "la_year_panel")


def validate_inspections(table: pd.DataFrame) -> None:
    """Validate the inspection table; raises SchemaError on failure."""
    _validate(INSPECTION_SCHEMA, table, "inspections")
