"""Immutable fit results and their tidy (one row per term) representation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

COEF_COLUMNS = ["estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high", "std_estimate"]


@dataclass(frozen=True)
class FitResult:
    """One fitted model.

    Attributes
    ----------
    model_id : unique, stable identifier (used by the report).
    family : 'panel', 'inspection', 'reverse', 'forward' or 'spec_curve'.
    spec : dict describing the specification (estimator, outcome, controls, sample, ...).
    coefs : DataFrame indexed by term with :data:`COEF_COLUMNS` (``std_estimate`` is the effect
        of a one-standard-deviation change of the term, SD taken in the estimation sample).
    stats : scalar fit statistics (nobs, n_las, r2, ...).
    """

    model_id: str
    family: str
    spec: dict
    coefs: pd.DataFrame
    stats: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        out = self.coefs.reset_index(names="term")
        out.insert(0, "model_id", self.model_id)
        out.insert(1, "family", self.family)
        for k, v in self.spec.items():
            out[k] = v if not isinstance(v, (list, tuple)) else "+".join(map(str, v))
        for k in ("nobs", "n_las"):
            out[k] = self.stats.get(k)
        return out


def coef_table(params: pd.Series, se: pd.Series, sd: pd.Series | None = None,
               dist: str = "normal", df_resid: float | None = None, level: float = 0.95) -> pd.DataFrame:
    """Coefficient table with Wald statistics, p-values and confidence intervals.

    Notes
    -----
    :math:`z = \\hat\\beta / \\mathrm{se}`, two-sided :math:`p = 2\\,(1-\\Phi(|z|))`,
    CI :math:`\\hat\\beta \\pm \\Phi^{-1}(1-\\alpha/2)\\,\\mathrm{se}` (t with ``df_resid`` if
    ``dist='t'``). ``std_estimate`` = :math:`\\hat\\beta \\times \\mathrm{SD}(x)`.
    """
    stat = params / se
    if dist == "t":
        p = 2 * stats.t.sf(np.abs(stat), df_resid)
        q = stats.t.ppf(0.5 + level / 2, df_resid)
    else:
        p = 2 * stats.norm.sf(np.abs(stat))
        q = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame({"estimate": params, "std_error": se, "statistic": stat, "p_value": p,
                        "ci_low": params - q * se, "ci_high": params + q * se})
    out["std_estimate"] = params * sd.reindex(params.index) if sd is not None else np.nan
    return out[COEF_COLUMNS]
