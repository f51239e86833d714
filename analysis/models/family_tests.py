"""Multiple testing across the FAMILY of workforce hypotheses the report quotes, not only within
one model: Holm's step-down adjustment over every (workforce measure x headline model) test,
with every quoted sensitivity result inside the family.

Family (hypothesis: the workforce measure's coefficient / AME is zero):

* headline models, each with the four workforce measures: ordered logit (between and within),
  LA fixed effects (Good or better), conditional logit, random-intercept logit, the primary-design
  Good-or-better logit with the feedback controls (``results.json["primary"]`` itself), and the dynamic CRE logit and ordered logit
  (:mod:`analysis.models.dynamic_cre`);
* quoted sensitivity results: agency in the two-year-change models (grade and Good or better)
  and in the FE model with the previous grade; the primary design's two sensitivities the summary
  quotes (agency without the feedback controls, caseload on the census 2017+ sample);
* the sub-judgement outcomes (help and protection, in care, leadership) x four measures.

Two adjusted p-values per hypothesis: within the headline family, and within all quoted tests.
Romano-Wolf (pyfixest ``rwolf``) is not used for this family: see ARCHITECTURE.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .forward_data import WORKFORCE

HEADLINE_MODELS = {"fwd_ologit_census_before": "ordered logit", "fwd_fe_good_or_better_census_before": "LA FE (Good+)",
                   "fwd_clogit_good_census_before": "conditional logit",
                   "fwd_mlogit_good_census_before": "random-intercept logit"}
SENSITIVITIES = {("fwd_fe_grade_change_two_before", "agency_rate"): "two-year change, grade",
                 ("fwd_fe_good_or_better_change_two_before", "agency_rate"): "two-year change, Good+",
                 ("fwd_prevgrade_fe_good", "agency_rate"): "FE with previous grade"}

#: the primary design's sensitivity results the summary quotes (results.json["primary"]["sensitivities"])
PRIMARY_SENSITIVITIES = {("without_feedback_controls", "agency_rate"): "primary design without the feedback controls",
                         ("census_2017_plus", "caseload"): "primary design, census 2017+"}

SUB_LABELS = {"help_protection": "help and protection", "in_care": "children in care", "leadership": "leadership"}


def holm(p) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, written out.

    Notes
    -----
    Order :math:`p_{(1)} \\le \\dots \\le p_{(m)}` (stable for ties);
    :math:`\\tilde p_{(j)} = \\min\\big(1, \\max_{l \\le j} (m - l + 1)\\,p_{(l)}\\big)`.
    Equal to ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (tested).
    """
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must be a vector in [0, 1], got {p!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def family_table(fits, dynamic: dict, subjudgements: dict, primary: dict) -> pd.DataFrame:
    """One row per hypothesis: ``group`` (headline / sensitivity / sub-judgement), model, term,
    unadjusted p, and the Holm p within the headline family and within all quoted tests.

    ``primary`` is ``results.json["primary"]`` (:func:`analysis.models.primary.primary_block`): the
    family's primary-design entries are its p-values, so there is one primary model in the report.
    The sub-judgement outcomes are fitted in the same design (same design function)."""
    by_id = {f.model_id: f for f in fits}
    rows = []
    for mid, label in HEADLINE_MODELS.items():
        for t in WORKFORCE:
            rows.append({"group": "headline", "model": mid, "label": label, "term": t,
                         "p_value": float(by_id[mid].coefs.loc[t, "p_value"])})
    for t in WORKFORCE:  # the primary design itself: results.json["primary"], not a refit
        rows.append({"group": "headline", "model": "primary_logit_good_plus", "label": "primary-design logit",
                     "term": t, "p_value": float(primary["terms"][t]["p_value"])})
    for name, label in (("good_or_better", "dynamic CRE logit"), ("grade", "dynamic CRE ordered logit")):
        for t in WORKFORCE:
            rows.append({"group": "headline", "model": f"dynamic_cre_{name}", "label": label, "term": t,
                         "p_value": float(dynamic["models"][name]["ame_pp"][t]["p_value"])})
    for (mid, t), label in SENSITIVITIES.items():
        rows.append({"group": "sensitivity", "model": mid, "label": label, "term": t,
                     "p_value": float(by_id[mid].coefs.loc[t, "p_value"])})
    for (name, t), label in PRIMARY_SENSITIVITIES.items():
        rows.append({"group": "sensitivity", "model": f"primary_{name}", "label": label, "term": t,
                     "p_value": float(primary["sensitivities"][name]["terms"][t]["p_value"])})
    for key, res in subjudgements["outcomes"].items():
        if key == "overall":
            continue
        for t in WORKFORCE:
            rows.append({"group": "sub-judgement", "model": f"subjudgement_{key}", "label": SUB_LABELS[key], "term": t,
                         "p_value": float(res["ame_pp"][t]["p_value"])})
    tab = pd.DataFrame(rows)
    head = tab["group"] == "headline"
    tab["p_holm_headline"] = np.nan
    tab.loc[head, "p_holm_headline"] = holm(tab.loc[head, "p_value"])
    tab["p_holm_all"] = holm(tab["p_value"])
    return tab


def family_document(tab: pd.DataFrame) -> dict:
    return {"method": "Holm step-down (hand-written; equal to statsmodels multipletests)",
            "n_headline": int((tab["group"] == "headline").sum()), "n_all": int(len(tab)),
            "tests": {f"{r.model}:{r.term}": {"group": r.group, "label": r.label, "p_value": r.p_value,
                                              "p_holm_headline": None if np.isnan(r.p_holm_headline) else r.p_holm_headline,
                                              "p_holm_all": r.p_holm_all} for r in tab.itertuples()}}
