"""Published findings reproduced side by side with ours (figures in data/reference/literature.yml).

* NAO (2016): councils rated good had 10-14 cases per worker and 7% agency staff; inadequate
  ones up to 35 cases and 22%. Ours: census 2016 (the first with caseload; 2016 caseload is on
  the aggregate basis) by grade in force at the census.
* Community Care (September 2020): mean agency and vacancy rates by rating. Ours: census 2020
  (and 2019) by grade in force at the census.
* Webb, Bennett and Bywaters (2022): odds ratio per IMD decile of a Good-or-better SIF judgement.
  Ours: random-intercept logit (adaptive quadrature) and LA-clustered logit on SIF inspections.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.discrete.discrete_model import Logit  # not statsmodels.api (imports all of statsmodels)
import yaml

from .. import paths
from .magnitudes import per_decile_odds_ratio
from .multilevel import RandomInterceptLogit, imd_deciles

GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


def load_literature() -> dict:
    return yaml.safe_load((paths.REFERENCE / "literature.yml").read_text())


def _lit(lit: dict, key: str):
    return lit[key]["value"] if key in lit else None


def by_grade_in_force(panel: pd.DataFrame, year: int, measures: list[str]) -> dict:
    """Mean, median, 10th/90th percentile, min, max and n of each measure by the grade in force
    at the ``year`` census (City of London and Scilly excluded)."""
    d = panel[(panel["year"] == year) & ~panel["small_la"] & panel["grade_label"].notna()]
    out = {}
    for g in GRADES:
        s = d[d["grade_label"] == g]
        out[g] = {m: {"mean": s[m].mean(), "median": s[m].median(), "p10": s[m].quantile(0.1),
                      "p90": s[m].quantile(0.9), "min": s[m].min(), "max": s[m].max(),
                      "n": int(s[m].notna().sum())} for m in measures}
    return out


def nao_2016(panel: pd.DataFrame, lit: dict) -> dict:
    ours = by_grade_in_force(panel, 2016, ["caseload", "agency_rate"])
    return {
        "published": {"good_caseload": _lit(lit, "nao_good_caseload"), "good_agency": _lit(lit, "nao_good_agency"),
                      "inadequate_caseload_up_to": _lit(lit, "nao_inadequate_caseload"),
                      "inadequate_agency": _lit(lit, "nao_inadequate_agency")},
        "ours": {"census_year": 2016, "good": ours["Good"], "inadequate": ours["Inadequate"]},
        "note": ("NAO figures describe councils by rating from the DfE census of 30 Sept 2015 and "
                 "may be ranges across councils rather than means; the 2015 census in our panel has no "
                 "caseload, so ours use the 2016 census (aggregate collection, caseload on a different "
                 "basis from 2017), by the grade in force at the census (SIF grades of varying age). "
                 "Compare the good councils' caseload 10th-90th percentile with 10-14 and the inadequate "
                 "councils' maximum with 35."),
    }


def community_care_2020(panel: pd.DataFrame, lit: dict) -> dict:
    pub = {g: {"agency": _lit(lit, f"cc2020_agency_{k}"), "vacancy": _lit(lit, f"cc2020_vacancy_{k}")}
           for g, k in zip(GRADES, ["outstanding", "good", "ri", "inadequate"])}
    return {
        "published": pub,
        "ours": {str(y): {g: {"agency": v["agency_rate"]["mean"], "vacancy": v["vacancy_rate"]["mean"],
                              "n": v["agency_rate"]["n"]}
                          for g, v in by_grade_in_force(panel, y, ["agency_rate", "vacancy_rate"]).items()}
                 for y in (2019, 2020)},
        "note": ("Means of LA rates (unweighted), by the grade in force at the census. Community Care's "
                 "September 2020 analysis used the DfE census then latest; the 2019 census (published "
                 "February 2020) is shown beside 2020 because the article's vintage is not recorded "
                 "here. Rates follow DfE's definitions (agency FTE / (agency + in-post FTE); vacancies / "
                 "(vacancies + in post)); the magazine may have averaged differently."),
    }


def webb_2022(inspections: pd.DataFrame, panel: pd.DataFrame, lit: dict) -> dict:
    """Good or better ~ IMD decile on SIF inspections: random-intercept logit and clustered logit."""
    if "imd_decile" in panel.columns:
        dec = panel.drop_duplicates("la_code", keep="last").set_index("la_code")["imd_decile"]
        decile_note = "imd_decile from the derived panel (contract column)"
    else:
        dec = imd_deciles(panel)
        decile_note = ("imd_decile not yet in data: deciles computed here from imd_2019 average score "
                       "among the panel's upper-tier LAs (1 = least deprived)")
    d = inspections[(inspections["framework"] == "SIF") & inspections["overall_num"].notna()].copy()
    d = d[~d["small_la"].eq(True)]
    d["imd_decile"] = d["la_code"].map(dec)
    n_all = len(d)
    d = d[d["imd_decile"].notna()]
    y = (d["overall_num"] <= 2).astype(float)
    x = pd.DataFrame({"const": 1.0, "imd_decile": d["imd_decile"].astype(float)}, index=d.index)
    ml = RandomInterceptLogit(y, x, d["la_code"]).fit()
    logit = Logit(y, x).fit(disp=False, cov_type="cluster",
                               cov_kwds={"groups": pd.factorize(d["la_code"], sort=True)[0]})
    pub = {"odds_ratio": _lit(lit, "webb2022_or_imd_decile"), "ci_low": _lit(lit, "webb2022_or_low"),
           "ci_high": _lit(lit, "webb2022_or_high")}
    return {
        "published": pub,
        "ours_multilevel": {**per_decile_odds_ratio(ml.params, ml.cov_cluster), "sigma_la": ml.sigma,
                            "nobs": ml.nobs, "n_las": ml.n_groups, "converged": ml.converged},
        "ours_logit_clustered": {**per_decile_odds_ratio(logit.params, logit.cov_params()), "nobs": int(logit.nobs)},
        "n_sif_graded": int(n_all),
        "note": (f"{decile_note}. SIF inspections 2013-2018, one or two per LA, so the LA random "
                 "intercept is poorly identified: its estimated LA standard deviation is large, and the "
                 "multilevel odds ratio (conditional on the LA effect) is further from one and much less "
                 "precise than the ordinary logit's population-averaged one, which matches the published "
                 "figure. "
                 "Webb et al. model SIF judgements with further covariates (spending, deprivation "
                 "measures) and their own decile definition; ours is the unadjusted decile gradient."),
    }


def replicate_all(inspections: pd.DataFrame, panel: pd.DataFrame) -> dict:
    lit = load_literature()
    return {"nao_2016": nao_2016(panel, lit), "community_care_2020": community_care_2020(panel, lit),
            "webb_2022": webb_2022(inspections, panel, lit)}
