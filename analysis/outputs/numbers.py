"""The numbers quoted in the report text, written to ``_variables.yml`` for ``{{< var >}}``.

Every value is a string formatted here, so the prose never formats or types a number itself.
Literature figures (NAO 2016 etc.) come from ``data/reference/literature.yml`` with their source.
"""

from __future__ import annotations

import pandas as pd
import yaml

from .. import paths
from .buildinfo import build_info
from ..data.sources import load_registry
from .common import fmt, model
from .common import fmt_p_prose as fmt_p
from .tables import HASH_CHARS, is_official, is_transcribed


def variables(panel: pd.DataFrame, inspections: pd.DataFrame, results: dict) -> dict:
    lit = yaml.safe_load((paths.REFERENCE / "literature.yml").read_text())
    p = panel[~panel["small_la"]]
    years = sorted(panel["year"].unique())
    graded = inspections[inspections["overall_num"].notna()]
    nat = {}
    for y in (2017, years[-1]):
        d = p[p["year"] == y]
        nat[y] = {"caseload": d["caseload"].median(), "agency": d["agency_rate"].median(),
                  "vacancy": d["vacancy_rate"].median(), "turnover": d["turnover_rate"].median()}
    by_grade = p[p["year"] >= 2017].groupby("grade_label")[["caseload", "agency_rate"]].mean()
    fe = model(results, "panel_fe_twoway_grade_num")
    pooled = model(results, "panel_pooled_grade_num")
    fd = model(results, "panel_first_difference_grade_num")
    hz = results["hausman"]["grade_num"]
    v = {
        "build": build_info(),
        "lit": {k: str(val["value"]) for k, val in lit.items()},
        "data": {
            "first_year": str(years[0]), "last_year": str(years[-1]),
            "n_las": str(p["la_code"].nunique()),
            "n_rows": f"{len(panel):,}",
            "rows_min": str(panel.groupby("year").size().min()),
            "rows_max": str(panel.groupby("year").size().max()),
            "n_inspections": str(len(graded)),
            "n_sif": str(int((graded["framework"] == "SIF").sum())),
            "n_ilacs": str(int((graded["framework"] == "ILACS").sum())),
            "n_ungraded": str(int((inspections["framework"] == "ILACS-2026").sum())),
            "missing_grade_2015": str(int(panel.loc[panel["year"] == 2015, "grade_num"].isna().sum())),
            "n_sources": str(len(load_registry())),
            "n_official": str(sum(map(is_official, load_registry().values()))),
            "hash_chars": str(HASH_CHARS),
            "n_transcribed": str(sum(map(is_transcribed, load_registry().values()))),
            "n_community": str(sum(not is_official(s) and not is_transcribed(s) for s in load_registry().values())),
        },
        # Quarto splits var keys on dots and reads a numeric segment as a number, so a YAML key
        # '2017' is never found (issue 9 finding 3): year keys are named y2017
        "nat": {f"y{y}": {k: fmt(val, 1) for k, val in d.items()} for y, d in nat.items()},
        "grade": {g.split()[0].lower(): {"caseload": fmt(r["caseload"], 1), "agency": fmt(r["agency_rate"], 1)}
                  for g, r in by_grade.iterrows()},
        "fe": {t: fmt(fe["coefficients"][t]["std_estimate"], 3) for t in ["caseload", "agency_rate", "vacancy_rate", "turnover_rate"]},
        "fe_p": {t: fmt_p(fe["coefficients"][t]["p_value"]) for t in ["caseload", "agency_rate", "vacancy_rate", "turnover_rate"]},
        "pooled": {t: fmt(pooled["coefficients"][t]["std_estimate"], 3) for t in ["caseload", "agency_rate", "vacancy_rate"]},
        "fd": {t: fmt(fd["coefficients"][t]["std_estimate"], 3) for t in ["caseload", "agency_rate"]},
        "fd_p": {t: fmt_p(fd["coefficients"][t]["p_value"]) for t in ["caseload", "agency_rate"]},
        "fe_nobs": f"{fe['stats']['nobs']:,}",
        "hausman": {"stat": fmt(hz["statistic"], 1), "df": str(hz["df"]), "p": fmt_p(hz["p_value"])},
    }
    return v
