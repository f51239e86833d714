"""The LA x year panel, 2015-2025 (one row per harmonised LA entity and workforce census year).

Timing: census year N = workforce snapshot at 30 September N; demand counts at 31 March N;
child population at mid-year N-1 (the DfE rate denominator); the Ofsted grade *in force* at
30 September N is that of the latest graded inspection published on or before that date.
Spending: financial year (N-1)/N, ending 31 March N. Section 47 enquiries and ICPCs: reporting
year ending 31 March N. IMD 2019 decile: time-invariant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .clean.ofsted import GRADE_LABEL
from .clean.spend import SPEND_COLS
from .geography import JOINT_RETURNS, entity_of, entity_table, existence_years, to_entity

YEARS = range(2015, 2026)
WORKFORCE_MEASURES = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate"]
WORKFORCE_COUNTS = ["inpost_fte", "starters_fte", "leavers_fte", "agency_fte", "vacancy_fte",
                    "case_holders_fte", "cases", "working_days_lost_fte"]
DEMAND_COUNTS = ["cin_count", "cpp_count", "cla_count"]
S47_COUNTS = ["s47_count", "icpc_count"]
SPEND_PC = [f"{c}_pc" for c in SPEND_COLS]
#: the one census year without a children-looked-after count source: DfE's published rate is used
CLA_PUBLISHED_YEARS = (2018,)
#: City of London and Isles of Scilly: fewer than 2,000 children, rates dominated by noise
SMALL_LAS = ("201", "420")


def per_10k(count: pd.Series, pop: pd.Series) -> pd.Series:
    """Rate per 10,000 children: ``10000 * count / pop`` (missing if either is)."""
    return (1e4 * count / pop).round(4)


def to_entity_single(df: pd.DataFrame, value_cols: list[str]) -> pd.DataFrame:
    """Carry a non-additive value (a rate, a median) to harmonised entities, year by year.

    A value passes only where the entity has exactly one component LA in that year (placeholder
    rows of an LA outside its years of existence with no value are ignored, as in
    :func:`~analysis.data.geography.to_entity`). Where components must be combined (North + West
    Northamptonshire from 2022) the value is missing: rates and medians cannot be summed.
    """
    long = df.melt(id_vars=["la_code", "year"], value_vars=value_cols, var_name="_col", value_name="_v")
    life = existence_years()
    outside = ((long["year"] < long["la_code"].map(life["first"]))
               | (long["year"] > long["la_code"].map(life["last"])))
    long = long[~(outside & long["_v"].isna())].copy()
    long["la_code"] = long["la_code"].map(entity_of())
    grp = long.groupby(["la_code", "year", "_col"], sort=True)["_v"]
    value = grp.first().where(grp.size().eq(1))
    out = value.unstack("_col").reindex(columns=value_cols)
    out.columns.name = None
    return out.reset_index()


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
                population: pd.DataFrame, iod: pd.DataFrame, inspections: pd.DataFrame, *,
                spend: pd.DataFrame, s47: pd.DataFrame, cla_published: pd.DataFrame,
                imd_decile: pd.DataFrame) -> pd.DataFrame:
    """Assemble the LA-year panel from cleaned source frames (see module docstring).

    New measures (issue 7): ``spend`` (s251 gross outturn by LA and financial year ending 31 March
    ``year``; summed into entities), ``s47`` (section 47 / ICPC counts summed, the median carried
    only for single-LA entities), ``cla_published`` (DfE's published CLA rate per 10,000, used
    for 2018 only) and ``imd_decile`` (time-invariant).

    Notes
    -----
    ``spend_x_pc = spend_x / child_pop`` (£ per child aged 0-17; ``child_pop`` is the ONS
    mid-year estimate of N-1, i.e. 30 June inside financial year (N-1)/N);
    ``log_spend_total_pc = ln(spend_total_pc)``; ``s47_rate = 10000 s47_count / child_pop``;
    ``icpc_rate = 10000 icpc_count / child_pop``.
    """
    emap = entity_of()
    wf = workforce.copy()
    wf["la_code"] = wf["la_code"].map(emap)
    wf = wf[wf["year"].isin(YEARS)]
    if wf.duplicated(["la_code", "year"]).any():
        dup = wf[wf.duplicated(["la_code", "year"], keep=False)].iloc[0]
        raise DataError(f"workforce rows collide after harmonisation: entity {dup['la_code']}, year {dup['year']} "
                        f"comes twice from {dup.get('workforce_source', 'the workforce files')} (component LAs "
                        f"reported separately and jointly?); see data/reference/la_register.csv")
    demand = cin.merge(cpp, on=["la_code", "year"], how="outer").merge(cla, on=["la_code", "year"], how="outer")
    demand = to_entity(demand, DEMAND_COUNTS)
    pop = to_entity(population, ["child_pop"])
    pop["year"] = pop["year"] + 1  # mid-year N-1 denominator for 31 March N
    iod_e = iod.assign(la_code=iod["la_code"].map(emap))
    if iod_e.duplicated("la_code").any():
        raise DataError(f"iod2019_utla: entities {sorted(iod_e.loc[iod_e.duplicated('la_code', keep=False), 'la_code'].unique())} "
                        f"have two IoD rows after harmonisation (data/reference/la_register.csv)")

    spend_e = to_entity(spend, SPEND_COLS)
    s47_e = to_entity(s47, S47_COUNTS).merge(to_entity_single(s47, ["s47_icpc_median_days"]),
                                            on=["la_code", "year"], how="outer", validate="1:1")
    cla_pub = to_entity_single(cla_published[cla_published["year"].isin(CLA_PUBLISHED_YEARS)],
                               ["cla_rate_published"])
    imd_e = imd_decile.assign(la_code=imd_decile["la_code"].map(emap))
    if imd_e.duplicated("la_code").any():
        raise DataError(f"iod2019_utla: entities {sorted(imd_e.loc[imd_e.duplicated('la_code', keep=False), 'la_code'].unique())} "
                        f"have two IMD deciles after harmonisation (data/reference/la_register.csv)")

    panel = (wf.merge(demand, on=["la_code", "year"], how="left", validate="1:1")
               .merge(pop, on=["la_code", "year"], how="left", validate="1:1")
               .merge(iod_e, on="la_code", how="left", validate="m:1")
               .merge(imd_e, on="la_code", how="left", validate="m:1")
               .merge(spend_e, on=["la_code", "year"], how="left", validate="1:1")
               .merge(s47_e, on=["la_code", "year"], how="left", validate="1:1")
               .merge(cla_pub, on=["la_code", "year"], how="left", validate="1:1")
               .merge(entity_table(), on="la_code", how="left", validate="m:1"))
    if panel["la_name"].isna().any():
        raise DataError(f"data/reference/la_register.csv: entities without a register entry: {sorted(panel.loc[panel.la_name.isna(), 'la_code'].unique())}")
    panel["joint_return"] = [bool(j) or (c in JOINT_RETURNS and y >= JOINT_RETURNS[c])
                             for c, y, j in zip(panel["la_code"], panel["year"], panel["joint_return"])]
    panel["cin_rate"] = per_10k(panel["cin_count"], panel["child_pop"])
    panel["cpp_rate"] = per_10k(panel["cpp_count"], panel["child_pop"])
    panel["cla_rate"] = per_10k(panel["cla_count"], panel["child_pop"])
    pub_rate = panel.pop("cla_rate_published")
    published = panel["year"].isin(CLA_PUBLISHED_YEARS) & pub_rate.notna()
    if panel.loc[published, "cla_rate"].notna().any():
        raise DataError(f"a computed CLA rate exists in {CLA_PUBLISHED_YEARS}, the year(s) meant to take DfE's "
                        f"published rate (lait_2026 measure 'LAC'): a children-looked-after count file now "
                        f"covers it; register it deliberately and drop the year from CLA_PUBLISHED_YEARS")
    panel["cla_rate"] = panel["cla_rate"].where(~published, pub_rate)
    panel["cla_rate_published"] = published
    panel["imd_decile"] = panel["imd_decile"].astype("Int64")
    panel["s47_rate"] = per_10k(panel["s47_count"], panel["child_pop"])
    panel["icpc_rate"] = per_10k(panel["icpc_count"], panel["child_pop"])
    for col, pc in zip(SPEND_COLS, SPEND_PC):
        panel[pc] = (panel[col] / panel["child_pop"]).round(4)
    panel["log_spend_total_pc"] = np.log(panel["spend_total_pc"]).round(6)
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
             "cla_rate_published", *S47_COUNTS, "s47_rate", "icpc_rate", "s47_icpc_median_days",
             *SPEND_COLS, *SPEND_PC, "log_spend_total_pc",
             "idaci_2019", "imd_2019", "imd_decile", "grade_num", "grade_label", "good_or_better", "grade_framework",
             "ilacs_era", "grade_published", "grade_inspection_id"]
    return panel[order].sort_values(["la_code", "year"]).reset_index(drop=True)
