"""Named choices of every forward model family, and the outcome-model checks.

* :func:`family_variants`: each family (ordered logit, binary logit, LA fixed effects for Good+
  and for the grade, conditional logit, random-intercept logit, CRE within) fitted on the
  full sample and on the census-2017+ sample (defined on the CENSUS year of the regressors),
  each without and with the feedback controls (previous grade, inspection type); per
  workforce term one effect on the family's reporting scale.
* :func:`proportional_odds`: Brant test and LR test against a partial proportional-odds logit,
  and the binary logit beside the ordered logit on the same columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .forward import (fit_forward_conditional_logit, fit_forward_cre, fit_forward_fe, fit_forward_logit,
                      fit_forward_ordered_logit, logit_design, ordered_logit_design)
from .forward_data import WORKFORCE, ForwardFrame
from .frame import INSPECTION_TYPE_CONTROLS, PREVIOUS_GRADE_CONTROLS, census_2017_plus, with_controls
from .magnitudes import linear_magnitudes, logit_magnitudes, logit_odds_ratios, ologit_magnitudes
from .proportional_odds import brant_test, partial_po_lr_test

FEEDBACK_CONTROLS = (*PREVIOUS_GRADE_CONTROLS, *INSPECTION_TYPE_CONTROLS)
VARIANTS = {"all": (False, False), "feedback controls": (False, True),
            "census 2017+": (True, False), "census 2017+, feedback controls": (True, True)}
#: family -> reporting scale of its effect per realistic change
SCALES = {"ordered_logit": "AME on P(Good+), pp", "logit": "AME on P(Good+), pp",
          "fe_good_or_better": "pp (linear probability)", "fe_grade": "grade points (+ = worse)",
          "conditional_logit": "odds ratio of Good+", "multilevel_logit": "odds ratio of Good+ (LA-specific)",
          "cre_good_within": "pp (within-LA, linear probability)"}


def variant_frame(ff: ForwardFrame, census17: bool, feedback: bool) -> ForwardFrame:
    f = census_2017_plus(ff) if census17 else ff
    return with_controls(f, FEEDBACK_CONTROLS) if feedback else f


def _rows(tab: pd.DataFrame, est: str, lo: str, hi: str, n: int, n_las: int) -> dict:
    return {t: {"effect": float(tab.loc[t, est]), "low": float(tab.loc[t, lo]), "high": float(tab.loc[t, hi]),
                "p_value": float(tab.loc[t, "p_value"]), "n": n, "n_las": n_las} for t in WORKFORCE}


def fit_family(name: str, f: ForwardFrame, changes: dict, log_changes: dict, mlogit=None) -> tuple[dict, object]:
    """One family on one frame: per workforce term {effect, low, high, p_value, n, n_las}; and the
    FitResult."""
    wf = {t: changes[t] for t in WORKFORCE}
    if name == "ordered_logit":
        fit, res = fit_forward_ordered_logit(f)
        tab = ologit_magnitudes(res, wf)
        return _rows(tab, "ame_pp", "ame_pp_low", "ame_pp_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    if name == "logit":
        fit, res = fit_forward_logit(f)
        tab = logit_magnitudes(res, wf)
        return _rows(tab, "ame_pp", "ame_pp_low", "ame_pp_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    if name in ("fe_good_or_better", "fe_grade"):
        fit, _ = fit_forward_fe(f, "good_or_better" if name == "fe_good_or_better" else "grade")
        tab = linear_magnitudes(fit.coefs, wf, 100.0 if name == "fe_good_or_better" else 1.0)
        return _rows(tab, "effect", "effect_low", "effect_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    if name == "conditional_logit":
        fit, _ = fit_forward_conditional_logit(f)
        tab = logit_odds_ratios(fit.coefs, wf)
        return _rows(tab, "odds_ratio", "or_low", "or_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    if name == "multilevel_logit":
        fit = mlogit(f)
        tab = logit_odds_ratios(fit.coefs, wf)
        return _rows(tab, "odds_ratio", "or_low", "or_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    if name == "cre_good_within":
        fit, _ = fit_forward_cre(f, "good_or_better")
        cw = fit.coefs.loc[[f"within:{t}" for t in WORKFORCE]].rename(index=lambda s: s.split(":")[1])
        tab = linear_magnitudes(cw, wf, 100.0)
        return _rows(tab, "effect", "effect_low", "effect_high", fit.stats["nobs"], fit.stats["n_las"]), fit
    raise ValueError(f"unknown forward family {name!r}; choose from {list(SCALES)}")


#: (family, variant) not fitted: the random-intercept logit (adaptive quadrature, about a second a
#: fit) is fitted on both samples but not with the feedback controls, to keep `make results` short
NOT_FITTED = {("multilevel_logit", "feedback controls"), ("multilevel_logit", "census 2017+, feedback controls")}


def family_variants(ff: ForwardFrame, changes: dict, log_changes: dict, mlogit, given: dict | None = None) -> dict:
    """Every family x variant (:data:`VARIANTS`): ``{family: {"scale", "variants": {variant: rows}}}``
    plus ``n_by_variant``. Effects of realistic changes (:data:`analysis.models.magnitudes.CHANGES`).
    ``given``: (family, variant) -> FitResult already fitted on that frame (not refitted)."""
    given = given or {}
    out = {name: {"scale": scale, "variants": {}} for name, scale in SCALES.items()}
    n_by = {}
    for label, (c17, fb) in VARIANTS.items():
        f = variant_frame(ff, c17, fb)
        n_by[label] = {"n": int(len(f.data)), "n_las": int(f.data["la_code"].nunique()),
                       "extra_controls": list(f.disclosure.get("extra_controls", []))}
        for name in SCALES:
            if (name, label) in NOT_FITTED:
                out[name]["variants"][label] = {"not_fitted": "random-intercept logit with feedback controls: "
                                                              "not fitted (run time)"}
                continue
            if (name, label) in given:
                fit = given[(name, label)]
                tab = logit_odds_ratios(fit.coefs, {t: changes[t] for t in WORKFORCE})
                out[name]["variants"][label] = _rows(tab, "odds_ratio", "or_low", "or_high", fit.stats["nobs"],
                                                     fit.stats["n_las"])
                continue
            try:
                out[name]["variants"][label] = fit_family(name, f, changes, log_changes, mlogit)[0]
            except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
                # e.g. previous-grade dummies that separate Good+ within the informative LAs of
                # the conditional logit: the variant is recorded as not identified, not dropped
                out[name]["variants"][label] = {"not_identified": f"{type(exc).__name__}: {str(exc)[:160]}"}
    return {"families": out, "n_by_variant": n_by,
            "census_rule": "census 2017+: every census a regressor is read from is 2017 or later (worker-level "
                           "collections), on the census year, not the fieldwork year",
            "feedback_controls": list(FEEDBACK_CONTROLS),
            "nickell": ("previous-grade dummies under LA fixed effects are correlated with the demeaned error "
                        "(Nickell 1981; bias of order 1/T, T about three inspections per LA): FE rows with "
                        "feedback controls are a sensitivity, not an estimate of persistence")}


def proportional_odds(ff: ForwardFrame, deprivation: str = "idaci_2019") -> dict:
    """Proportional-odds checks of the ordered logit quoted in the report.

    * LR test against the partial proportional-odds logit with the four workforce slopes free
      per threshold, on the ordered logit's own columns (single inspection years);
    * Brant test (omnibus and per workforce term) on the binary logit's columns (two-year
      periods: the Outstanding-vs-rest logit is not identified with single years, no 2016
      inspection is Outstanding).
    """
    f = ff.complete([deprivation], f"{deprivation} missing")
    y = f.data["grade"].to_numpy()
    lr = partial_po_lr_test(y, ordered_logit_design(f, deprivation), list(WORKFORCE))
    br = brant_test(y, logit_design(f, deprivation), list(WORKFORCE))
    return {"lr_partial_po": lr, "brant": br, "nobs": int(len(y)),
            "note": ("model-based tests (independent rows); a small p says the workforce slopes differ across "
                     "the grade thresholds, so the ordered logit's single slope averages them: the binary logit "
                     "of Good+ is reported beside it")}


def lead_rows(lead: dict, changes: dict) -> dict:
    """The lead coefficients scaled to the realistic changes (pp of Good+ per change)."""
    return {t: {k: 100 * changes[t] * v if k != "p_value" else v for k, v in r.items() if k != "std_error"}
            for t, r in lead["one_at_a_time"].items()}


__all__ = ["family_variants", "fit_family", "proportional_odds", "lead_rows", "variant_frame", "VARIANTS", "SCALES"]
