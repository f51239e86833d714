"""Numbers quoted about the Models v3 additions (report/dynamic.qmd), merged into
``_variables.yml`` under the key ``dyn`` (``{{< var dyn.good.agency.ame >}}``). Every value is a
formatted string from results.json (``dynamic_cre``, ``subjudgements``, ``overlap``,
``family_tests``, ``replication_like_for_like``)."""

from __future__ import annotations

import math

from ..models.replication_webb import SPEND_UNIT
from .common import fmt, fmt_p_prose, interval

TERMS = {"agency_rate": "agency", "caseload": "caseload", "vacancy_rate": "vacancy", "turnover_rate": "turnover"}
SUBS = {"help_protection": "help", "in_care": "care", "leadership": "lead", "overall": "overall"}
SENSITIVITY_KEYS = {"fwd_fe_grade_change_two_before:agency_rate": "lag_grade",
                    "fwd_fe_good_or_better_change_two_before:agency_rate": "lag_good",
                    "fwd_prevgrade_fe_good:agency_rate": "prev_fe"}


def _ame(r: dict, tests: dict | None = None, key: str | None = None) -> dict:
    out = {"ame": fmt(r["ame_pp"], 1), "ci": interval(fmt(r["ci_low"], 1), fmt(r["ci_high"], 1)),
           "p": fmt_p_prose(r["p_value"])}
    if tests is not None and key in tests:
        out["p_holm"] = fmt_p_prose(tests[key]["p_holm_all"])
    return out


def _or(r: dict) -> dict:
    return {"or": fmt(r["odds_ratio"], 2), "ci": interval(fmt(r["ci_low"], 2), fmt(r["ci_high"], 2))}


def _coef_or(c: dict) -> dict:
    return {"or": fmt(math.exp(c["estimate"]), 2),
            "ci": interval(fmt(math.exp(c["ci_low"]), 2), fmt(math.exp(c["ci_high"]), 2)),
            "p": fmt_p_prose(c["p_value"])}


def _adjusted(test: dict) -> dict:
    """p unadjusted, Holm across the headline tests (None outside them) and across all quoted tests."""
    return {"p": fmt_p_prose(test["p_value"]), "p_holm_headline": fmt_p_prose(test["p_holm_headline"]),
            "p_holm": fmt_p_prose(test["p_holm_all"])}


def _primary_family(primary: dict, tests: dict) -> dict:
    """``dyn.fam.primary.<measure>`` (each workforce measure of the primary design: unadjusted,
    Holm within its four measures ``p_design``, across the headline tests and across all tests),
    ``dyn.fam.no_feedback_agency`` and ``dyn.fam.census_later_caseload`` (the primary's two
    sensitivities the summary quotes), ``dyn.fam.dyn_good_agency`` / ``dyn_good_caseload`` (the
    dynamic model of Good or better the summary quotes), and whether the primary's agency association survives each
    adjustment in words (``survives_design``, ``survives_headline``, ``survives_all``: "remains" or
    "does not remain")."""
    out: dict = {"primary": {}}
    for t, key in TERMS.items():
        test = tests[f"primary_logit_good_plus:{t}"]
        out["primary"][key] = {**_adjusted(test), "p_design": fmt_p_prose(primary["terms"][t]["p_holm"])}
    a = tests["primary_logit_good_plus:agency_rate"]
    word = lambda p: "remains" if p < 0.05 else "does not remain"  # noqa: E731
    out["primary"]["agency"].update({"survives_design": word(primary["terms"]["agency_rate"]["p_holm"]),
                                     "survives_headline": word(a["p_holm_headline"]),
                                     "survives_all": word(a["p_holm_all"])})
    out["no_feedback_agency"] = _adjusted(tests["primary_without_feedback_controls:agency_rate"])
    out["census_later_caseload"] = _adjusted(tests["primary_census_2017_plus:caseload"])
    out["dyn_good_agency"] = _adjusted(tests["dynamic_cre_good_or_better:agency_rate"])
    out["dyn_good_caseload"] = _adjusted(tests["dynamic_cre_good_or_better:caseload"])
    return out


def dynamic_variables(results: dict) -> dict:
    """``dyn.*``: dynamic CRE (sample, AMEs, previous and first judgement, checks, simulation),
    sub-judgements, overlap, family-wise adjusted p-values and the Webb et al. replication."""
    dc = results["dynamic_cre"]
    tests = results["family_tests"]["tests"]
    out: dict = {"n": f"{dc['sample']['nobs']:,}", "n_las": str(dc["sample"]["n_las"]),
                 "n_initial": str(dc["sample"]["n_initial_dropped"])}
    for name, key in (("good_or_better", "good"), ("grade", "grade")):
        m = dc["models"][name]
        if not m["converged"]:
            raise ValueError(f"dynamic CRE {name} did not converge; the report would quote it")
        out[key] = {TERMS[t]: _ame(r, tests, f"dynamic_cre_{name}:{t}") for t, r in m["ame_pp"].items()}
        out[key]["sigma"] = fmt(m["sigma_la"], 2)
        out[key]["prev_good"] = _coef_or(m["coefficients"]["prev_good"])
        out[key]["prev_inadequate"] = _coef_or(m["coefficients"]["prev_inadequate"])
        out[key]["first_good"] = _coef_or(m["coefficients"]["first_good"])
        out[key]["nodes_step"] = f"{m['check_nodes_12_vs_30']['max_abs_param_step']:.0e}".replace("-", "−")
    w17 = dc["census_2017_plus"]
    out["w17"] = {"n": f"{w17['sample']['nobs']:,}", "n_dropped": str(dc["sample"]["nobs"] - w17["sample"]["nobs"]),
                  **{key: {TERMS[t]: _ame(r) for t, r in w17["models"][name]["ame_pp"].items()}
                     for name, key in (("good_or_better", "good"), ("grade", "grade"))}}
    sim = dc["simulation"]
    out["sim"] = {"gamma": fmt(sim["truth"]["gamma_previous"], 1), "beta": fmt(sim["truth"]["beta_x"], 1),
                  "n_las": str(sim["n_las"]), "periods": str(sim["periods"])}
    for label, key in (("strictly_exogenous", "exo"), ("feedback_into_x", "fb")):
        s = sim[label]
        out["sim"][key] = {"gamma_dyn": fmt(s["dynamic_cre"]["gamma_previous"], 2),
                           "beta_dyn": fmt(s["dynamic_cre"]["beta_x"], 2),
                           "gamma_pooled": fmt(s["pooled_dynamic_logit"]["gamma_previous"], 2),
                           "beta_pooled": fmt(s["pooled_dynamic_logit"]["beta_x"], 2)}
    sj = results["subjudgements"]["outcomes"]
    out["sub"] = {SUBS[k]: {**{TERMS[t]: _ame(r, tests, f"subjudgement_{k}:{t}") for t, r in v["ame_pp"].items()},
                            "n": f"{v['nobs']:,}", "share": fmt(100 * v["share_good_plus"], 0)}
                  for k, v in sj.items()}
    ov = results["overlap"]
    po = ov["panel_2017_plus"]
    dec = ov["decomposition"]
    out["ov"] = {"pearson": fmt(po["pearson"], 2), "n_la_years": f"{po['n_la_years']:,}",
                 "n_equal": str(po["n_equal_rates"]), "first_year": str(po["years"][0]),
                 "last_year": str(po["years"][1]),
                 "vif_agency": fmt(ov["vif"]["agency_rate"], 1), "vif_vacancy": fmt(ov["vif"]["vacancy_rate"], 1),
                 "vif_rule": fmt(ov["vif_rule"], 0),
                 "primary": "both measures together" if ov["primary"] == "joint" else "agency use alone",
                 "joint_agency": _ame(dec["joint"]["agency_rate"]), "joint_vacancy": _ame(dec["joint"]["vacancy_rate"]),
                 "agency_alone": _ame(dec["agency_alone"]["agency_rate"]),
                 "vacancy_alone": _ame(dec["vacancy_alone"]["vacancy_rate"])}
    ft = results["family_tests"]
    out["fam"] = {"n_all": str(ft["n_all"]), "n_headline": str(ft["n_headline"]),
                  **{k: {"p": fmt_p_prose(tests[t]["p_value"]), "p_holm": fmt_p_prose(tests[t]["p_holm_all"])}
                     for t, k in SENSITIVITY_KEYS.items()},
                  "mlogit_agency": {"p": fmt_p_prose(tests["fwd_mlogit_good_census_before:agency_rate"]["p_value"]),
                                    "p_holm": fmt_p_prose(tests["fwd_mlogit_good_census_before:agency_rate"]["p_holm_all"])},
                  "primary_agency": _adjusted(tests["primary_logit_good_plus:agency_rate"]),
                  "ologit_agency": {"p_holm": fmt_p_prose(tests["fwd_ologit_census_before:agency_rate"]["p_holm_all"])},
                  "ologit_caseload": {"p_holm": fmt_p_prose(tests["fwd_ologit_census_before:caseload"]["p_holm_all"])},
                  "n_below_05": str(sum(1 for v in tests.values() if v["p_holm_all"] < 0.05)),
                  **_primary_family(results["primary"], tests)}
    wb = results["replication_like_for_like"]["webb_2022"]
    out["webb"] = {"published": fmt(wb["published"]["odds_ratio"], 2),
                   "published_ci": interval(fmt(wb["published"]["ci_low"], 2), fmt(wb["published"]["ci_high"], 2)),
                   "published_n": str(wb["published"]["nobs"]),
                   "n": str(wb["closest"]["nobs"]), "n_all": str(wb["no_spending"]["nobs"]),
                   "closest": _or(wb["closest"]["odds_ratios"]["imd_decile"]),
                   "no_spend": _or(wb["no_spending"]["odds_ratios"]["imd_decile"]),
                   "pooled": _or(wb["closest_pooled"]["odds_ratios"]["imd_decile"]),
                   "family_support": _or(wb["closest"]["odds_ratios"]["family_support_per_100"]),
                   "safeguarding": _or(wb["closest"]["odds_ratios"]["safeguarding_per_100"]),
                   "sigma": fmt(wb["closest"]["sigma_la"], 2), "spend_unit": f"£{SPEND_UNIT:.0f}"}
    return out
