"""Sub-judgements as outcomes: Good or better in help and protection, children in care, and
leadership, with the controls of the primary inspection-level design.

From April 2026 inspections carry no overall grade but keep graded sub-judgements, so these are
the outcomes that survive the framework change. Each is a binary logit of ``<sub>_good_plus``
(:func:`analysis.models.frame.inspection_frame`) on the workforce measures, demand, population,
spending, the framework indicator, the previous-grade and inspection-type controls
(:data:`~analysis.models.frame.PREVIOUS_GRADE_CONTROLS`,
:data:`~analysis.models.frame.INSPECTION_TYPE_CONTROLS`), IDACI, region and two-year inspection
periods: the primary design's controls (``analysis/models/primary.py``, issue 14). The overall
Good or better is fitted in the same design beside them. LA-clustered
(CRV1) covariance; AMEs on P(Good or better) in percentage points for the realistic changes of
:data:`analysis.models.magnitudes.CHANGES`, delta-method CIs (:func:`analysis.models.fast_logit.logit_ame`,
tested equal to statsmodels' ``get_margeff``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .fast_logit import cluster_starts, fit_logit, logit_ame
from .forward import inspection_periods
from .forward_data import WORKFORCE, ForwardFrame, year_dummies
from .frame import INSPECTION_TYPE_CONTROLS, PREVIOUS_GRADE_CONTROLS
from .magnitudes import CHANGES

OUTCOMES = {"overall": "good_plus", "help_protection": "help_protection_num_good_plus",
            "in_care": "in_care_num_good_plus", "leadership": "leaders_num_good_plus"}
Z = stats.norm.ppf(0.975)


def primary_design(d: pd.DataFrame, covariates: tuple[str, ...], years: bool = True) -> pd.DataFrame:
    """Constant, covariates, framework, previous-grade and inspection-type dummies, IDACI, region
    dummies, then inspection-year dummies (``years``) or two-year periods, pruned to full rank."""
    extra = [c for c in (*PREVIOUS_GRADE_CONTROLS, *INSPECTION_TYPE_CONTROLS) if c in d and d[c].std() > 0]
    base = d[[*covariates, "ilacs", *extra, "idaci_2019"]].astype(float)
    rd = pd.get_dummies(pd.Categorical(d["region"]), prefix="region", drop_first=True, dtype=float)
    rd.index = d.index
    base = pd.concat([base, rd], axis=1)
    x = year_dummies(d, base) if years else pd.concat([base, inspection_periods(d)], axis=1)
    x = x.loc[:, x.std() > 0]
    x.insert(0, "const", 1.0)
    while np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        x = x.drop(columns=[c for c in x.columns if c.startswith(("year_", "period_"))][-1])
    return x


def fit_outcome(ff: ForwardFrame, outcome_col: str) -> dict:
    """Binary logit of one Good-or-better outcome; rows with the outcome missing are dropped (counted);
    two-year inspection periods (inspection-year dummies separate the sub-judgement outcomes)."""
    d = ff.data[ff.data[outcome_col].notna()].reset_index(drop=True)
    starts = cluster_starts(d["la_code"].to_numpy())
    y = d[outcome_col].to_numpy(float)
    years = False  # two-year periods, as the primary design (single years separate these outcomes)
    x = primary_design(d, ff.covariates, years)
    fit = fit_logit(x.to_numpy(), y, starts)
    if not fit.converged:
        raise RuntimeError(f"sub-judgement logit of {outcome_col} did not converge (separation?)")
    names = list(x.columns)
    terms = [t for t in WORKFORCE if t in ff.regressors]
    cols = [names.index(t) for t in terms]
    scale = np.array([CHANGES[t] for t in terms])
    ame, se = logit_ame(x.to_numpy(), fit, cols, scale)
    ame, se = 100 * ame, 100 * se
    p = 2 * stats.norm.sf(np.abs(ame / se))
    return {"nobs": int(len(d)), "n_las": int(d["la_code"].nunique()), "n_missing_outcome": int(len(ff.data) - len(d)),
            "share_good_plus": float(y.mean()), "time_effects": "inspection year" if years else "two-year periods",
            "llf": fit.llf,
            "ame_pp": {t: {"change": float(c), "ame_pp": float(a), "se": float(s), "ci_low": float(a - Z * s),
                           "ci_high": float(a + Z * s), "p_value": float(pv)}
                       for t, c, a, s, pv in zip(terms, scale, ame, se, p)}}


def fit_subjudgements(ff: ForwardFrame) -> dict:
    """The overall and the three sub-judgement outcomes in one design (see the module docstring)."""
    return {"design": ("binary logit of Good or better; workforce, demand, population, spending from the census "
                       "before fieldwork; framework, previous grade, inspection type, IDACI, region, two-year inspection periods; "
                       "LA-clustered; AMEs in percentage points"),
            "controls": list(ff.controls),
            "outcomes": {k: fit_outcome(ff, col) for k, col in OUTCOMES.items()}}
