"""Numbers quoted in the prose about the forward design and the replication, merged into
``_variables.yml`` under ``fwd`` (e.g. ``{{< var fwd.agency.ame_5pp >}}``). Keys have no numeric
segments; every value is a formatted string."""

from __future__ import annotations

from .common import fmt, fmt_bound, fmt_p_prose, interval
from .tables_forward import fwd_model

TERMS = {"agency": "agency_rate", "caseload": "caseload", "vacancy": "vacancy_rate", "turnover": "turnover_rate"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _ci(lo, hi, d) -> str:
    return interval(fmt_bound(lo, d), fmt_bound(hi, d))


FAMILY_KEYS = {"ordered_logit": "ologit", "logit": "logit", "fe_good_or_better": "fe", "fe_grade": "fe_grade",
               "conditional_logit": "clogit", "multilevel_logit": "mlogit", "cre_good_within": "cre"}
VARIANT_KEYS = {"all": "all", "feedback controls": "fb", "census 2017+": "c17", "census 2017+, feedback controls": "c17fb"}


def _term(variant: dict, term: str) -> dict:
    """A term's row of a family x variant, or the variant's reason for having none."""
    return variant.get(term, variant)


def _cell(row: dict, d: int) -> dict:
    if "effect" not in row:
        return {"est": "not identified" if "not_identified" in row else "not fitted", "ci": "", "p": ""}
    return {"est": fmt(row["effect"], d), "ci": _ci(row["low"], row["high"], d), "p": fmt_p_prose(row["p_value"])}


def v3_variables(results: dict) -> dict:
    """Numbers of the v3 forward design: ``fwd.primary``, ``fwd.var`` (family x variant x term),
    ``fwd.po`` (proportional odds), ``fwd.lead`` (strict exogeneity), ``fwd.c16`` (census 2016)."""
    fw, pr = results["forward"], results["primary"]
    out: dict = {"primary": {"n": str(pr["n"]), "n_las": str(pr["n_las"]), "base_rate": fmt(pr["base_rate_pp"], 0) + "%",
                             "design": pr["design"]}}
    for key, t in TERMS.items():
        p = pr["terms"][t]
        s17 = pr["sensitivities"]["census_2017_plus"]["terms"][t]
        out["primary"][key] = {"change": p["change"], "ame": fmt(p["ame_pp"], 1), "ci": _ci(p["ci_low"], p["ci_high"], 1),
                               "p": fmt_p_prose(p["p_value"]), "holm_p": fmt_p_prose(p["p_holm"]),
                               "c17": fmt(s17["ame_pp"], 1), "c17_ci": _ci(s17["ci_low"], s17["ci_high"], 1),
                               "c17_p": fmt_p_prose(s17["p_value"])}
    s17 = pr["sensitivities"]["census_2017_plus"]
    out["primary"]["c17_n"] = str(s17["n"])
    var = {}
    for fam, fk in FAMILY_KEYS.items():
        d = 3 if fam == "fe_grade" else (2 if fam in ("conditional_logit", "multilevel_logit") else 1)
        var[fk] = {vk: {key: _cell(_term(fw["variants"]["families"][fam]["variants"][v], t), d) for key, t in TERMS.items()}
                   for v, vk in VARIANT_KEYS.items()}
    out["var"] = var
    out["var_n"] = {vk: str(fw["variants"]["n_by_variant"][v]["n"]) for v, vk in VARIANT_KEYS.items()}
    po = fw["proportional_odds"]
    out["po"] = {"lr_chi2": fmt(po["lr_partial_po"]["statistic"], 1), "lr_df": str(po["lr_partial_po"]["df"]),
                 "lr_p": fmt_p_prose(po["lr_partial_po"]["p_value"]),
                 "brant_chi2": fmt(po["brant"]["omnibus"]["statistic"], 1), "brant_df": str(po["brant"]["omnibus"]["df"]),
                 "brant_p": fmt_p_prose(po["brant"]["omnibus"]["p_value"]),
                 **{f"brant_{key}_p": fmt_p_prose(po["brant"]["by_term"][t]["p_value"]) for key, t in TERMS.items()}}
    lead = fw["lead_test"]["good_or_better"]
    out["lead"] = {"n": str(lead["nobs"]), "n_las": str(lead["n_las"]),
                   "joint_chi2": fmt(lead["joint_wald"]["statistic"], 1), "joint_df": str(lead["joint_wald"]["df"]),
                   "joint_p": fmt_p_prose(lead["joint_wald"]["p_value"])}
    for key, t in TERMS.items():
        r, u = lead["per_change_pp"][t], lead["one_at_a_time"][t]
        out["lead"][key] = {"pp": fmt(r["estimate"], 1), "ci": _ci(r["ci_low"], r["ci_high"], 1),
                            "p": fmt_p_prose(r["p_value"]), "per_unit": fmt(u["estimate"], 3)}
    s = fw["sample"]["census_before"]
    by = fw["caseload_drops_by_census"]
    from ..models.frame import WORKER_LEVEL_FROM
    out["c16"] = {"n": str(s.get("n_census_2016", 0)), "year": str(WORKER_LEVEL_FROM - 1),
                  "from": str(WORKER_LEVEL_FROM), "first_census": min(by) if by else "–",
                  "caseload_drop_2015": str(by.get("2015", 0)),
                  "caseload_drop_other": str(sum(v for k, v in by.items() if k != "2015")),
                  "caseload_drop_years": ", ".join(f"{v} from {k}" for k, v in by.items() if k != "2015") or "none"}
    return out


def forward_variables(results: dict) -> dict:
    fw = results["forward"]
    mg, pr = fw["magnitudes"], fw["precision"]
    s = fw["sample"]["census_before"]
    drops = {d["reason"]: d["n"] for d in s["drops"]}
    age = fw["timing"]["grade_in_force_age_la_year_panel"]
    out: dict = {
        "sample": {
            "graded": str(s["graded_inspections"]), "used": str(s["n_used"]), "n_las": str(s["n_las"]),
            "sif_used": str(s["used_by_framework"].get("SIF", 0)),
            "sif_graded": str(s["graded_by_framework"].get("SIF", 0)),
            "ilacs_used": str(s["used_by_framework"].get("ILACS", 0)),
            "drop_no_census": str(drops.get("no census in panel for the census before fieldwork", 0)),
            "drop_caseload": str(drops.get("caseload missing (not collected in the 2015 census; missing for some LAs later)", 0)),
            "drop_small": str(drops.get("small LA excluded (City of London, Isles of Scilly)", 0)),
            "drop_other": str(sum(v for k, v in drops.items() if k.startswith(("other", "control")))),
            "first_year": min(s["used_by_year"]), "last_year": max(s["used_by_year"]),
            "used_mean_two": str(fw["sample"]["mean_two_before"]["n_used"]),
            "used_change_two": str(fw["sample"]["change_two_before"]["n_used"]),
        },
        "age": {"median": fmt(age["median_years"], 1), "over_one": _pct(age["share_over_1y"]),
                "over_two": _pct(age["share_over_2y"]), "n_la_years": f"{age['n_la_years']:,}",
                "n_inspections": str(age["n_inspections"])},
        "notes": "; ".join(fw["notes"]) if fw["notes"] else "none",
        "spending_in_data": "no" if any(n.startswith("spending") for n in fw["notes"]) else "yes",
        "clogit": {"n": str(fwd_model(results, "fwd_clogit_good_census_before")["stats"]["nobs"]),
                   "n_las": str(fwd_model(results, "fwd_clogit_good_census_before")["stats"]["n_las"])},
        "power": "80%", "level": "5%",  # the MDE convention (analysis/models/magnitudes.py::mde)
        "mlogit": {"sigma": fmt(fwd_model(results, "fwd_mlogit_good_census_before")["stats"]["sigma_la"], 2),
                   "converged": _converged(fwd_model(results, "fwd_mlogit_good_census_before"))},
    }
    for key, t in TERMS.items():
        o, fe, fg = mg["ordered_logit"][t], mg["fe_good_or_better"][t], mg["fe_grade"][t]
        cl, ml = mg["conditional_logit"][t], mg["multilevel_logit"][t]
        out[key] = {
            "change": o["change"],
            "ame": fmt(o["ame_pp"], 1), "ame_ci": _ci(o["ame_pp_low"], o["ame_pp_high"], 1),
            "ame_p": fmt_p_prose(o["p_value"]), "ame_holm_p": fmt_p_prose(pr["ordered_logit"][t]["p_holm"]),
            "ologit_or": fmt(o["odds_ratio"], 2), "ologit_or_ci": _ci(o["or_low"], o["or_high"], 2),
            "fe": fmt(fe["effect"], 1), "fe_ci": _ci(fe["effect_low"], fe["effect_high"], 1),
            "fe_p": fmt_p_prose(fe["p_value"]), "fe_holm_p": fmt_p_prose(pr["fe_good_or_better"][t]["p_holm"]),
            "fe_mde": fmt(fe["mde"], 1), "fe_within_sd": fmt(fe["per_within_sd"], 1),
            "fe_grade": fmt(fg["effect"], 3), "fe_grade_ci": _ci(fg["effect_low"], fg["effect_high"], 3),
            "fe_grade_p": fmt_p_prose(fg["p_value"]), "fe_grade_holm_p": fmt_p_prose(pr["fe_grade"][t]["p_holm"]),
            "fe_grade_mde": fmt(fg["mde"], 3),
            "fe_grade_rw_p": fmt_p_prose(pr["fe_grade"][t]["p_romano_wolf"]),
            "clogit_or": fmt(cl["odds_ratio"], 2), "clogit_or_ci": _ci(cl["or_low"], cl["or_high"], 2),
            "clogit_p": fmt_p_prose(cl["p_value"]),
            "mlogit_or": fmt(ml["odds_ratio"], 2), "mlogit_or_ci": _ci(ml["or_low"], ml["or_high"], 2),
            "mlogit_p": fmt_p_prose(ml["p_value"]), "mlogit_holm_p": fmt_p_prose(pr["multilevel_logit"][t]["p_holm"]),
        }
    spend = "log_spend_total_pc"
    if spend in mg["ordered_logit"]:  # +£100 per child (log spending; see magnitudes.log_change_at_median)
        o, fe, ml = mg["ordered_logit"][spend], mg["fe_good_or_better"][spend], mg["multilevel_logit"][spend]
        out["spend"] = {
            "delta": f"£{o['delta']:g}",
            "change": o["change"],  # the AME adds £100 to each LA's own spending (row by row)
            "ame": fmt(o["ame_pp"], 1), "ame_ci": _ci(o["ame_pp_low"], o["ame_pp_high"], 1),
            "ame_p": fmt_p_prose(o["p_value"]),
            "fe": fmt(fe["effect"], 1), "fe_ci": _ci(fe["effect_low"], fe["effect_high"], 1),
            "fe_p": fmt_p_prose(fe["p_value"]), "fe_mde": fmt(fe["mde"], 1),
            "mlogit_or": fmt(ml["odds_ratio"], 2), "mlogit_or_ci": _ci(ml["or_low"], ml["or_high"], 2),
            "mlogit_p": fmt_p_prose(ml["p_value"]),
        }
    for outcome, key in [("good_or_better", "cre_good"), ("grade", "cre_grade")]:
        w = fwd_model(results, f"fwd_cre_{outcome}_census_before")["stats"]["wald_means"]
        out[key] = {"chi2": fmt(w["means_workforce"]["statistic"], 1), "df": str(w["means_workforce"]["df"]),
                    "p": fmt_p_prose(w["means_workforce"]["p_value"]),
                    "chi2_all": fmt(w["means_all_time_varying"]["statistic"], 1),
                    "df_all": str(w["means_all_time_varying"]["df"]),
                    "p_all": fmt_p_prose(w["means_all_time_varying"]["p_value"])}
    cre = fwd_model(results, "fwd_cre_good_or_better_census_before")["coefficients"]
    out["agency"]["between"] = fmt(100 * cre["between:agency_rate"]["estimate"], 2)
    out["agency"]["between_ci"] = _ci(100 * cre["between:agency_rate"]["ci_low"], 100 * cre["between:agency_rate"]["ci_high"], 2)
    out["agency"]["within"] = fmt(100 * cre["within:agency_rate"]["estimate"], 2)
    out["agency"]["within_ci"] = _ci(100 * cre["within:agency_rate"]["ci_low"], 100 * cre["within:agency_rate"]["ci_high"], 2)
    ml = fwd_model(results, "fwd_mlogit_good_census_before")["stats"]["deprivation_per_decile"]
    out["imd"] = {"or": fmt(ml["odds_ratio"], 2), "ci": _ci(ml["ci_low"], ml["ci_high"], 2)}
    chg = fwd_model(results, "fwd_fe_grade_change_two_before")["coefficients"]["agency_rate"]
    chg_good = fwd_model(results, "fwd_fe_good_or_better_change_two_before")["coefficients"]["agency_rate"]
    out["lag"] = {"change_agency_grade": fmt(chg["estimate"], 3), "change_agency_grade_p": fmt_p_prose(chg["p_value"]),
                  "change_agency_good_pp": fmt(100 * chg_good["estimate"], 2),
                  "change_agency_good_p": fmt_p_prose(chg_good["p_value"])}
    pg = fwd_model(results, "fwd_prevgrade_fe_good")["coefficients"]["agency_rate"]
    out["prev"] = {"fe_agency_pp": fmt(100 * pg["estimate"], 2), "fe_agency_p": fmt_p_prose(pg["p_value"])}
    wb = results["replication"]["webb_2022"]
    out["webb"] = {"or": fmt(wb["ours_logit_clustered"]["odds_ratio"], 2),
                   "ci": _ci(wb["ours_logit_clustered"]["ci_low"], wb["ours_logit_clustered"]["ci_high"], 2),
                   "ml_or": fmt(wb["ours_multilevel"]["odds_ratio"], 2),
                   "ml_ci": _ci(wb["ours_multilevel"]["ci_low"], wb["ours_multilevel"]["ci_high"], 2),
                   "ml_sigma": fmt(wb["ours_multilevel"]["sigma_la"], 1),
                   "pub_or": str(wb["published"]["odds_ratio"]),
                   "pub_ci": interval(wb['published']['ci_low'], wb['published']['ci_high']),
                   "n": str(wb["ours_logit_clustered"]["nobs"])}
    nao = results["replication"]["nao_2016"]["ours"]
    out["nao"] = {"year": str(nao["census_year"]),
                  "good_caseload_mean": fmt(nao["good"]["caseload"]["mean"], 1),
                  "inadequate_caseload_mean": fmt(nao["inadequate"]["caseload"]["mean"], 1),
                  # the report's own contrary evidence to the NAO's "up to 35" (summary, background)
                  "inadequate_caseload_max": fmt(nao["inadequate"]["caseload"]["max"], 1),
                  "good_agency_mean": fmt(nao["good"]["agency_rate"]["mean"], 1),
                  "inadequate_agency_mean": fmt(nao["inadequate"]["agency_rate"]["mean"], 1)}
    cc = results["replication"]["community_care_2020"]["ours"]["2020"]
    out["cc"] = {"year": "2020", "agency_inadequate": fmt(cc["Inadequate"]["agency"], 1),
                 "agency_outstanding": fmt(cc["Outstanding"]["agency"], 1),
                 "vacancy_inadequate": fmt(cc["Inadequate"]["vacancy"], 1)}
    out["prev_models"] = {"fe_agency_grade": fmt(_model_coef(results, "panel_fe_twoway_grade_num", "agency_rate"), 3)}
    for key, t in TERMS.items():  # the binary logit beside every ordered-logit number
        b, bp = mg["logit"][t], pr["logit"][t]
        out[key].update({"logit_ame": fmt(b["ame_pp"], 1), "logit_ame_ci": _ci(b["ame_pp_low"], b["ame_pp_high"], 1),
                         "logit_ame_p": fmt_p_prose(b["p_value"]), "logit_ame_holm_p": fmt_p_prose(bp["p_holm"])})
    if "spend" in out:
        b = mg["logit"]["log_spend_total_pc"]
        out["spend"].update({"logit_ame": fmt(b["ame_pp"], 1), "logit_ame_ci": _ci(b["ame_pp_low"], b["ame_pp_high"], 1),
                             "logit_ame_p": fmt_p_prose(b["p_value"]), "ame_change": mg["ordered_logit"]["log_spend_total_pc"]["change"]})
    if "primary" in results:
        out.update(v3_variables(results))
    return out


def _converged(m: dict) -> str:
    """The text quotes this model: a fit that did not converge must not become a number."""
    if not m["stats"].get("converged", False):
        raise ValueError(f"{m['model_id']} did not converge; the report would quote its estimates")
    return "converged"


def _model_coef(results: dict, model_id: str, term: str) -> float:
    for m in results["models"]:
        if m["model_id"] == model_id:
            return m["coefficients"][term]["estimate"]
    raise KeyError(model_id)
