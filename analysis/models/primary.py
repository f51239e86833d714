"""The PRIMARY forward design, chosen by a rule written down before comparing the estimates.

The rule (version 0.3; fixed before the designs below were compared for strength):

1. **Outcome**: Good or better (Good+, 0/1), the judgement the report and the literature
   summarise. A binary outcome needs no proportional-odds assumption (tested, not assumed,
   for the ordered logit: ``forward.proportional_odds``).
2. **Feedback**: the previous judgement moves the later workforce measures, so the design
   conditions on it explicitly: previous overall grade as four levels (first inspection in the
   data, Good+, Requires improvement, Inadequate; reference Good+) and the inspection type
   (SIF, SIF re-inspection, ILACS standard, ILACS short; reference SIF / standard beside the
   framework indicator). It does not rely on strict exogeneity (which the lead test examines):
   no LA fixed effects.
3. **Estimator**: pooled binary logit with the forward design's controls (demand, population,
   spending per child, IDACI, region, framework, two-year inspection periods), standard errors
   clustered by LA.
4. **Sample**: every graded SIF/ILACS inspection with all measures from the census before
   fieldwork (the sample of version 0.2, no restriction chosen after seeing results); the
   worker-level censuses only (census 2017+, on the census year) is a named sensitivity.
5. **Report**: average marginal effects on P(Good+), in percentage points, of the realistic
   changes (+2 cases per worker, +5 pp vacancy, agency, turnover), 95% delta-method CIs,
   raw and Holm-adjusted p (across the four workforce measures); all four measures, none
   singled out.

``results.json["primary"]`` (key names are stable; the summary quotes them):

* ``rule``: this rule in one paragraph; ``design``: one line; ``model_id``;
* ``outcome`` ('good_plus'), ``estimator`` ('logit'), ``sample`` (words), ``controls`` (columns);
* ``n`` (inspections), ``n_las``, ``base_rate_good_plus`` (share 0-1 of Good+ in the sample),
  ``base_rate_pp`` (the same in %);
* ``term_order``: the four workforce terms; ``terms[term]``: ``term``, ``change`` (words),
  ``delta``, ``ame_pp``, ``ci_low``, ``ci_high`` (pp), ``p_value``, ``p_holm``, ``odds_ratio``,
  ``or_low``, ``or_high`` (odds of Good+ for the change);
* ``sensitivities[name]`` for ``census_2017_plus`` and ``without_feedback_controls``: ``n``,
  ``n_las``, ``base_rate_good_plus`` and ``terms[term]`` with the same keys.
"""

from __future__ import annotations

import pandas as pd

from .magnitudes import holm

RULE = ("Primary design, fixed by rule before the estimates were compared: binary logit of Good or better "
        "on the four workforce measures from the census before fieldwork, with the previous overall grade "
        "(first inspection as its own level) and the inspection type as controls besides demand, population, "
        "spending, IDACI, region, framework and two-year periods; the full census-before-fieldwork sample; "
        "standard errors clustered by LA; average marginal effects in percentage points of realistic changes, "
        "Holm-adjusted across the four measures. Census 2017+ and the model without the feedback controls "
        "are sensitivities.")
DESIGN = "binary Good+ logit with previous-grade and inspection-type controls, full census sample, LA-clustered, AMEs in pp"
TERM_KEYS = ("term", "change", "delta", "ame_pp", "ci_low", "ci_high", "p_value", "p_holm", "odds_ratio",
             "or_low", "or_high")


def term_rows(magnitudes: pd.DataFrame, terms: tuple[str, ...]) -> dict:
    """Per workforce term, the primary block's keys (:data:`TERM_KEYS`) from logit magnitudes."""
    m = magnitudes.loc[list(terms)]
    ph = holm(m["p_value"].astype(float))
    return {t: {"term": t, "change": m.loc[t, "change"], "delta": float(m.loc[t, "delta"]),
                "ame_pp": float(m.loc[t, "ame_pp"]), "ci_low": float(m.loc[t, "ame_pp_low"]),
                "ci_high": float(m.loc[t, "ame_pp_high"]), "p_value": float(m.loc[t, "p_value"]),
                "p_holm": float(ph[t]), "odds_ratio": float(m.loc[t, "odds_ratio"]),
                "or_low": float(m.loc[t, "or_low"]), "or_high": float(m.loc[t, "or_high"])} for t in terms}


def _sample(fit) -> dict:
    return {"n": int(fit.stats["nobs"]), "n_las": int(fit.stats["n_las"]),
            "base_rate_good_plus": float(fit.stats["base_rate_good_plus"])}


def primary_block(fit, magnitudes: pd.DataFrame, terms: tuple[str, ...], sensitivities: dict) -> dict:
    """The ``primary`` block of results.json (keys documented in the module docstring).

    Parameters
    ----------
    fit : FitResult of the primary logit (stats carry nobs, n_las, base_rate_good_plus).
    magnitudes : its :func:`analysis.models.magnitudes.logit_magnitudes` table.
    sensitivities : name -> (FitResult, magnitudes) of the same design on another sample/controls.
    """
    s = _sample(fit)
    return {"rule": RULE, "design": DESIGN, "model_id": fit.model_id, "outcome": "good_plus", "estimator": "logit",
            "sample": "every graded SIF/ILACS inspection with all measures from the census before fieldwork",
            "controls": list(fit.spec["controls"]), **s, "base_rate_pp": 100 * s["base_rate_good_plus"],
            "term_order": list(terms), "terms": term_rows(magnitudes, terms),
            "sensitivities": {k: {**_sample(f), "model_id": f.model_id, "terms": term_rows(m, terms)}
                              for k, (f, m) in sensitivities.items()}}
