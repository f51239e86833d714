"""LA-year panel regressions (linearmodels) with standard errors clustered by LA, and the Hausman
test of fixed against random effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels.panel import BetweenOLS, FirstDifferenceOLS, PanelOLS, PooledOLS, RandomEffects
from scipy import stats

from .results import FitResult, coef_table
from .spec import IdentificationError, ModelSpec, model_frame

ESTIMATOR_NAMES = {
    "pooled": "PooledOLS", "random": "RandomEffects", "between": "BetweenOLS",
    "fe_twoway": "PanelOLS (LA + year effects)", "first_difference": "FirstDifferenceOLS",
}


def _year_dummies(index: pd.MultiIndex) -> pd.DataFrame:
    years = index.get_level_values("year")
    d = pd.get_dummies(pd.Categorical(years), prefix="year", drop_first=True, dtype=float)
    d.index = index
    return d


def design(spec: ModelSpec, frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Outcome and regressor matrix for ``spec`` (constant and year dummies as the estimator needs)."""
    y = frame[spec.outcome]
    x = frame[list(spec.covariates)]
    if spec.estimator == "fe_twoway":
        return y, x  # effects absorbed by PanelOLS
    if spec.year_effects:
        x = pd.concat([x, _year_dummies(frame.index)], axis=1)
    if spec.estimator != "first_difference":
        x = pd.concat([pd.Series(1.0, index=frame.index, name="const"), x], axis=1)
    return y, x


def fit_linearmodels(spec: ModelSpec, frame: pd.DataFrame, cov: str = "clustered"):
    """Fit the linearmodels estimator named by ``spec`` on a prepared frame."""
    y, x = design(spec, frame)
    kw = dict(cov_type="clustered", cluster_entity=True) if cov == "clustered" else dict(cov_type="unadjusted")
    if spec.estimator == "pooled":
        return PooledOLS(y, x).fit(**kw)
    if spec.estimator == "random":
        return RandomEffects(y, x).fit(**kw)
    if spec.estimator == "between":
        # one observation per LA after averaging: LA-clustered = heteroskedasticity-robust
        return BetweenOLS(y, x).fit(cov_type="robust" if cov == "clustered" else "unadjusted")
    if spec.estimator == "fe_twoway":
        return PanelOLS(y, x, entity_effects=True, time_effects=spec.year_effects).fit(**kw)
    if spec.estimator == "first_difference":
        return FirstDifferenceOLS(y, x).fit(**kw)
    raise IdentificationError(f"unknown estimator {spec.estimator!r}")


def fit_panel(spec: ModelSpec, df: pd.DataFrame, model_id: str | None = None,
              family: str = "panel") -> FitResult:
    """Fit one panel model; returns covariate coefficients (year dummies and constant omitted)."""
    frame = model_frame(spec, df)
    res = fit_linearmodels(spec, frame)
    terms = list(spec.covariates)
    if spec.uses_within_variation:  # a within-LA effect is scaled by the within-LA SD
        sd = (frame[terms] - frame[terms].groupby(level="la_code").transform("mean")).std()
    else:
        sd = frame[terms].std()
    coefs = coef_table(res.params[terms], res.std_errors[terms], sd)
    spec_d = {"estimator": spec.estimator, "outcome": spec.outcome, "controls": spec.controls,
              "framework": spec.framework,
              "sample": spec.sample, "regressors": list(spec.regressors), "year_effects": spec.year_effects}
    st = {"nobs": int(res.nobs), "n_las": int(frame.index.get_level_values("la_code").nunique()),
          "r2": float(res.rsquared),
          "std_scale": "within-LA SD" if spec.uses_within_variation else "SD in the estimation sample",
          "years": sorted(map(int, frame.index.get_level_values("year").unique()))}
    return FitResult(model_id or spec.label(), family, spec_d, coefs, st)


def hausman(spec_fe: ModelSpec, spec_re: ModelSpec, df: pd.DataFrame) -> dict:
    """Hausman test of FE (PanelOLS, LA + year effects) against RE on the common time-varying terms.

    Notes
    -----
    :math:`H = (b_{FE}-b_{RE})'\\,[V_{FE}-V_{RE}]^{-1}(b_{FE}-b_{RE}) \\sim \\chi^2_k` under the
    null that the LA effects are uncorrelated with the regressors. Conventional (non-robust)
    covariances are used, as the test requires RE to be efficient under the null; both models are
    fitted on the same observations. A generalised inverse is used if the difference is not
    positive definite (reported in ``min_eigenvalue``).
    """
    if spec_fe.estimator != "fe_twoway" or spec_re.estimator != "random":
        raise IdentificationError("hausman() compares a fe_twoway spec with a random spec")
    frame = model_frame(spec_fe, df)
    fe = fit_linearmodels(spec_fe, frame, cov="unadjusted")
    re = fit_linearmodels(spec_re, frame, cov="unadjusted")
    terms = [t for t in spec_fe.covariates if t in spec_re.covariates]
    diff = (fe.params[terms] - re.params[terms]).to_numpy()
    vdiff = (fe.cov.loc[terms, terms] - re.cov.loc[terms, terms]).to_numpy()
    stat = float(diff @ np.linalg.pinv(vdiff) @ diff)
    k = len(terms)
    return {"statistic": stat, "df": k, "p_value": float(stats.chi2.sf(stat, k)),
            "min_eigenvalue": float(np.linalg.eigvalsh(vdiff).min()), "terms": terms,
            "nobs": int(fe.nobs)}
