"""The LA x year panel, 2015-2025 (one row per harmonised LA entity and workforce census year).

Timing: census year N = workforce snapshot at 30 September N; demand counts at 31 March N;
child population at mid-year N-1 (the DfE rate denominator); the Ofsted grade *in force* at
30 September N is that of the latest graded inspection published on or before that date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .clean.ofsted import GRADE_LABEL
from .geography import JOINT_RETURNS, entity_of, entity_table, to_entity

YEARS = range(2015, 2026)
WORKFORCE_MEASURES = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate"]
WORKFORCE_COUNTS = ["inpost_fte", "starters_fte", "leavers_fte", "agency_fte", "vacancy_fte",
                    "case_holders_fte", "cases", "working_days_lost_fte"]
DEMAND_COUNTS = ["cin_count", "cpp_count", "cla_count"]
#: City of London and Isles of Scilly: fewer than 2,000 children, rates dominated by noise
SMALL_LAS = ("201", "420")


def per_10k(count: pd.Series, pop: pd.Series) -> pd.Series:
    """Rate per 10,000 children: ``10000 * count / pop`` (missing if either is)."""
    return (1e4 * count / pop).round(4)


def grade_in_force(inspections: pd.DataFrame, la_codes: pd.Series, dates: pd.Series,
                   strictly_before: bool = False) -> pd.DataFrame:
    """Latest graded inspection of each LA published on (or strictly before) each date.

    Returns a frame aligned with the inputs: ``grade_num``, ``grade_framework``,
    ``grade_published``, ``grade_inspection_id``.
    """
    graded = inspections[inspections["overall_num"].notna()].sort_values("publication_date")
    query = pd.DataFrame({"la_code": la_codes.to_numpy(), "date": pd.to_datetime(dates).to_numpy(),
                          "_pos": np.arange(len(la_codes))}).sort_values("date")
    right = graded[["la_code", "publication_date", "overall_num", "framework", "inspection_id"]]
    merged = pd.merge_asof(query, right, left_on="date", right_on="publication_date", by="la_code",
                           direction="backward", allow_exact_matches=not strictly_before)
    merged = merged.sort_values("_pos")
    return pd.DataFrame({
        "grade_num": merged["overall_num"].astype("Float64").to_numpy(),
        "grade_framework": merged["framework"].to_numpy(),
        "grade_published": merged["publication_date"].to_numpy(),
        "grade_inspection_id": merged["inspection_id"].to_numpy(),
    }, index=la_codes.index)


def build_panel(workforce: pd.DataFrame, cin: pd.DataFrame, cpp: pd.DataFrame, cla: pd.DataFrame,
                population: pd.DataFrame, iod: pd.DataFrame, inspections: pd.DataFrame) -> pd.DataFrame:
    """Assemble the LA-year panel from cleaned source frames (see module docstring)."""
    emap = entity_of()
    wf = workforce.copy()
    wf["la_code"] = wf["la_code"].map(emap)
    wf = wf[wf["year"].isin(YEARS)]
    if wf.duplicated(["la_code", "year"]).any():
        raise ValueError("workforce rows collide after harmonisation")
    demand = cin.merge(cpp, on=["la_code", "year"], how="outer").merge(cla, on=["la_code", "year"], how="outer")
    demand = to_entity(demand, DEMAND_COUNTS)
    pop = to_entity(population, ["child_pop"])
    pop["year"] = pop["year"] + 1  # mid-year N-1 denominator for 31 March N
    iod_e = iod.assign(la_code=iod["la_code"].map(emap))
    if iod_e.duplicated("la_code").any():
        raise ValueError("IoD rows collide after harmonisation")

    panel = (wf.merge(demand, on=["la_code", "year"], how="left", validate="1:1")
               .merge(pop, on=["la_code", "year"], how="left", validate="1:1")
               .merge(iod_e, on="la_code", how="left", validate="m:1")
               .merge(entity_table(), on="la_code", how="left", validate="m:1"))
    if panel["la_name"].isna().any():
        raise ValueError(f"entities without a register entry: {sorted(panel.loc[panel.la_name.isna(), 'la_code'].unique())}")
    panel["joint_return"] = [bool(j) or (c in JOINT_RETURNS and y >= JOINT_RETURNS[c])
                             for c, y, j in zip(panel["la_code"], panel["year"], panel["joint_return"])]
    panel["cin_rate"] = per_10k(panel["cin_count"], panel["child_pop"])
    panel["cpp_rate"] = per_10k(panel["cpp_count"], panel["child_pop"])
    panel["cla_rate"] = per_10k(panel["cla_count"], panel["child_pop"])
    panel["log_child_pop"] = np.log(panel["child_pop"]).round(6)
    panel["london"] = panel["region"].eq("London")
    panel["small_la"] = panel["la_code"].isin(SMALL_LAS)

    census = pd.to_datetime(panel["year"].astype(str) + "-09-30")
    g = grade_in_force(inspections, panel["la_code"], census)
    panel = pd.concat([panel, g], axis=1)
    panel["grade_label"] = panel["grade_num"].map(lambda v: GRADE_LABEL.get(int(v)) if pd.notna(v) else pd.NA)
    panel["good_or_better"] = (panel["grade_num"] <= 2).astype("boolean").where(panel["grade_num"].notna())
    panel["ilacs_era"] = panel["grade_framework"].eq("ILACS").where(panel["grade_framework"].notna())

    order = ["la_code", "year", "la_name", "region", "gss_code", "london", "small_la", "workforce_source",
             "aggregate_collection", "joint_return", *WORKFORCE_MEASURES, *WORKFORCE_COUNTS,
             *DEMAND_COUNTS, "child_pop", "log_child_pop", "cin_rate", "cpp_rate", "cla_rate",
             "idaci_2019", "imd_2019", "grade_num", "grade_label", "good_or_better", "grade_framework",
             "ilacs_era", "grade_published", "grade_inspection_id"]
    return panel[order].sort_values(["la_code", "year"]).reset_index(drop=True)
