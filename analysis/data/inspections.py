"""The inspection-level table: one row per Ofsted inspection of a harmonised LA entity, with the
workforce and context measures of the last workforce census (30 September) before fieldwork
began and the overall grade in force before it."""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from .geography import entity_of
from .panel import grade_in_force
from .provenance import describe

GRADE_COLS = ["overall_num", "leaders_num", "help_protection_num", "in_care_num"]
CARRIED = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate", "aggregate_collection",
           "joint_return", "cin_rate", "cpp_rate", "cla_rate", "child_pop", "log_child_pop",
           "idaci_2019", "imd_2019", "la_name", "region", "london", "small_la",
           # issue 7: new measures, same census-year rule
           "cla_rate_published", "s47_rate", "icpc_rate", "s47_icpc_median_days",
           "spend_total", "spend_safeguarding", "spend_family_support", "spend_cla",
           "spend_total_pc", "spend_safeguarding_pc", "spend_family_support_pc", "spend_cla_pc",
           "log_spend_total_pc", "imd_decile"]


def harmonise_inspections(insp: pd.DataFrame) -> pd.DataFrame:
    """Map inspections to entities and merge joint inspections (North + West Northamptonshire).

    Two rows of one entity with the same start date must have identical grades (else DataError).
    """
    df = insp.copy()
    df["source_la_code"] = df["la_code"]
    df["la_code"] = df["la_code"].map(entity_of())
    key = ["la_code", "start_date"]
    dup = df[df.duplicated(key, keep=False)]
    for (la, start), grp in dup.groupby(key):
        if len(grp[GRADE_COLS].astype("string").drop_duplicates()) > 1:
            raise DataError(f"joint inspection of entity {la} starting {start.date()} has differing grades "
                            f"across its component LAs {sorted(grp.source_la_code)}: "
                            f"{grp[GRADE_COLS].astype('string').to_dict('records')}; raw source: "
                            f"{describe('overall_num', grp.iloc[0])}")
    agg = df.groupby(key, as_index=False).agg(
        {**{c: "first" for c in df.columns if c not in key + ["source_la_code"]},
         "source_la_code": lambda s: "+".join(sorted(s))})
    agg["inspection_id"] = agg["la_code"] + "-" + agg["start_date"].dt.strftime("%Y%m%d")
    return agg.sort_values(key).reset_index(drop=True)


def census_year_before(start: pd.Series) -> pd.Series:
    """Year of the last 30 September census strictly before each date."""
    after = (start.dt.month > 9) | ((start.dt.month == 9) & (start.dt.day > 30))
    return (start.dt.year - (~after).astype(int)).astype(int)


def build_inspections(insp: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """One row per inspection with pre-inspection census measures and the prior grade."""
    df = insp.copy()
    df["census_year"] = census_year_before(df["start_date"])
    prev = grade_in_force(df, df["la_code"], df["start_date"], strictly_before=True)
    df["prev_grade_num"] = prev["grade_num"]
    df["prev_framework"] = prev["grade_framework"]
    df["prev_published"] = prev["grade_published"]
    df["days_since_prev"] = (df["start_date"] - df["prev_published"]).dt.days.astype("Int64")
    measures = panel[["la_code", "year", *CARRIED]].rename(columns={"year": "census_year"})
    df = df.merge(measures, on=["la_code", "census_year"], how="left", validate="m:1", indicator=True)
    df["census_in_panel"] = df.pop("_merge").eq("both")
    df["good_or_better"] = (df["overall_num"] <= 2).astype("boolean").where(df["overall_num"].notna())
    df["inspection_year"] = df["start_date"].dt.year
    order = ["inspection_id", "la_code", "source_la_code", "la_name", "region", "london", "framework",
             "inspection_type", "start_date", "end_date", "publication_date", "inspection_year",
             *GRADE_COLS, "good_or_better", "grade_source", "prev_grade_num", "prev_framework",
             "prev_published", "days_since_prev", "census_year", "census_in_panel",
             *[c for c in CARRIED if c not in ("la_name", "region", "london", "small_la")], "small_la"]
    return df[order].sort_values(["la_code", "start_date"]).reset_index(drop=True)
