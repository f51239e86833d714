"""Sub-judgements as outcomes: Good or better in help and protection, children in care, and
leadership, with the controls of the primary inspection-level design.

From April 2026 inspections carry no overall grade but keep graded sub-judgements, so these are
the outcomes that survive the framework change. Each is a binary logit of ``<sub>_good_plus``
(:func:`analysis.models.frame.inspection_frame`) on the workforce measures, demand, population,
spending, the framework indicator, the previous-grade and inspection-type controls
(:data:`~analysis.models.frame.PREVIOUS_GRADE_CONTROLS`,
:data:`~analysis.models.frame.INSPECTION_TYPE_CONTROLS`), IDACI, region and two-year inspection
periods: the primary design's frame and design matrix, built by the very function the primary
logit uses (:func:`analysis.models.forward.binary_logit_frame`; ``analysis/models/primary.py``,
issue 14). The overall Good or better is fitted in the same design beside them and equals
``results.json["primary"]`` (tested). LA-clustered
(CRV1) covariance; AMEs on P(Good or better) in percentage points for the realistic changes of
:data:`analysis.models.magnitudes.CHANGES`, delta-method CIs (:func:`analysis.models.fast_logit.logit_ame`,
tested equal to statsmodels' ``get_margeff``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .fast_logit import cluster_starts, fit_logit, logit_ame
from .forward import binary_logit_frame
from .forward_data import WORKFORCE, ForwardFrame
from .frame import INSPECTION_TYPE_CONTROLS, PREVIOUS_GRADE_CONTROLS, with_controls
from .magnitudes import CHANGES, ame_change_logit, delta_method

OUTCOMES = {"overall": "good_plus", "help_protection": "help_protection_num_good_plus",
            "in_care": "in_care_num_good_plus", "leadership": "leaders_num_good_plus"}
Z = stats.norm.ppf(0.975)
#: the primary design's feedback controls (as ``forward_checks.FEEDBACK_CONTROLS``)
FEEDBACK_CONTROLS = (*PREVIOUS_GRADE_CONTROLS, *INSPECTION_TYPE_CONTROLS)


def primary_frame(ff: ForwardFrame, outcome_col: str) -> tuple[ForwardFrame, list, pd.DataFrame]:
    """The primary design (:mod:`analysis.models.primary`) for one 0/1 outcome: the feedback
    controls added exactly as for the primary fit (:func:`~analysis.models.forward_checks.variant_frame`),
    then the primary logit's own frame and design function
    (:func:`analysis.models.forward.binary_logit_frame`). Returns (frame, separated cells, design)."""
    return binary_logit_frame(with_controls(ff, FEEDBACK_CONTROLS), outcome_col)


def fit_outcome(ff: ForwardFrame, outcome_col: str) -> dict:
    r"""Binary logit of one Good-or-better outcome in the primary design; rows with the outcome
    missing are dropped (counted), as are separated cells (listed).

    Notes
    -----
    ``ame_pp`` is the primary's average discrete change for the realistic change :math:`\delta`,
    :math:`\frac1n\sum_i[\Lambda(x_i'\hat\beta + \delta\hat\beta_k) - \Lambda(x_i'\hat\beta)]`, with a
    delta-method SE (``marginal_pp``: the derivative AME times :math:`\delta`, equal to statsmodels'
    ``get_margeff``). ``p_value`` is the Wald test of the workforce coefficient, :math:`2\,\Phi(-|\hat\beta/\mathrm{se}|)`,
    as in ``results.json["primary"]`` (the AME is a monotone function of :math:`\beta`, and its
    delta-method z is kept as ``p_ame``).
    """
    f, separated, x = primary_frame(ff, outcome_col)
    d = f.data
    starts = cluster_starts(d["la_code"].to_numpy())
    y = d[outcome_col].to_numpy(float)
    fit = fit_logit(x.to_numpy(), y, starts, tol=1e-10)
    if not fit.converged:
        raise RuntimeError(f"sub-judgement logit of {outcome_col} did not converge (separation?)")
    names = list(x.columns)
    terms = [t for t in WORKFORCE if t in ff.regressors]
    cols = [names.index(t) for t in terms]
    scale = np.array([CHANGES[t] for t in terms])
    xa = x.to_numpy(float)
    marg, marg_se = logit_ame(xa, fit, cols, scale)
    marg, marg_se = 100 * marg, 100 * marg_se
    # the primary's AME (analysis.models.magnitudes.logit_magnitudes): the discrete change
    ame = np.array([100 * ame_change_logit(xa, names, fit.params, t, c) for t, c in zip(terms, scale)])
    se = np.array([100 * delta_method(lambda q, t=t, c=c: np.array([ame_change_logit(xa, names, q, t, c)]),
                                      fit.params, fit.cov)[0] for t, c in zip(terms, scale)])
    p_ame = 2 * stats.norm.sf(np.abs(ame / se))
    b, bse = fit.params[cols], np.sqrt(np.diag(fit.cov)[cols])
    p = 2 * stats.norm.sf(np.abs(b / bse))
    return {"nobs": int(len(d)), "n_las": int(d["la_code"].nunique()), "n_missing_outcome": int(len(ff.data) - len(d)),
            "dropped_separated": separated, "design_columns": names,
            "share_good_plus": float(y.mean()), "time_effects": "two-year periods", "llf": fit.llf,
            "ame_pp": {t: {"change": float(c), "ame_pp": float(a), "se": float(s), "ci_low": float(a - Z * s),
                           "ci_high": float(a + Z * s), "p_value": float(pv), "p_ame": float(pa),
                           "marginal_pp": float(m), "marginal_se": float(ms)}
                       for t, c, a, s, pv, pa, m, ms in zip(terms, scale, ame, se, p, p_ame, marg, marg_se)}}


def fit_subjudgements(ff: ForwardFrame) -> dict:
    """The overall and the three sub-judgement outcomes in one design (see the module docstring)."""
    return {"design": ("binary logit of Good or better; workforce, demand, population, spending from the census "
                       "before fieldwork; framework, previous grade, inspection type, IDACI, region, two-year inspection periods; "
                       "LA-clustered; AMEs in percentage points"),
            "controls": list(ff.controls),
            "outcomes": {k: fit_outcome(ff, col) for k, col in OUTCOMES.items()}}
