"""Model estimates reproduced by independent computations.

* Coefficients: statsmodels OLS with LA and year dummies, hand-made within / first-difference /
  between transforms, and quasi-demeaning for random effects (to 1e-8).
* Clustered SEs: the textbook cluster-robust sandwich
  :math:`(X'X)^{-1}\\big(\\sum_g X_g'u_g u_g'X_g\\big)(X'X)^{-1}` with linearmodels' small-sample
  factor :math:`N/(N-K)`, K counting absorbed effects (to 1e-6, relative).
* Ordered logit: a direct maximisation of the ordered-logit likelihood written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from analysis.models.forward import fit_forward_ordered_logit, ordered_logit_design
from analysis.models.frame import inspection_frame
from analysis.models.magnitudes import ame_good_or_better
from analysis.models.panel import design, fit_linearmodels, fit_panel, hausman
from analysis.models.spec import PRESSURE, IdentificationError, ModelSpec, model_frame, prepare_panel
from analysis.derived import load_derived

COEF_TOL = 1e-8
SE_RTOL = 1e-6


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    return panel, insp, prepare_panel(panel)


def cluster_se(X: np.ndarray, u: np.ndarray, groups: np.ndarray, k_total: int) -> np.ndarray:
    """Textbook cluster-robust SEs with the N/(N-K) factor."""
    xtx_inv = np.linalg.pinv(X.T @ X)
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(groups):
        s = X[groups == g].T @ u[groups == g]
        meat += np.outer(s, s)
    n = X.shape[0]
    return np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv) * n / (n - k_total))


def dummy_ols(frame: pd.DataFrame, terms: list[str], outcome: str):
    """OLS of ``outcome`` on ``terms`` plus LA and year dummies (the textbook two-way FE)."""
    r = frame.reset_index()
    dummies = pd.get_dummies(r[["la_code", "year"]].astype(str), drop_first=True, dtype=float)
    X = sm.add_constant(pd.concat([r[terms], dummies], axis=1))
    return sm.OLS(r[outcome], X).fit(), X, r


def spec(est, outcome="grade_num", controls="demand + population", **kw):
    return ModelSpec(estimator=est, outcome=outcome, regressors=PRESSURE, controls=controls, **kw)


@pytest.mark.parametrize("outcome", ["grade_num", "good_or_better"])
def test_fe_twoway_equals_dummy_variable_ols(data, outcome):
    _, _, mp = data
    s = spec("fe_twoway", outcome)
    frame = model_frame(s, mp)
    res = fit_linearmodels(s, frame)
    terms = list(s.covariates)
    ols, X, r = dummy_ols(frame, terms, outcome)
    np.testing.assert_allclose(res.params[terms].to_numpy(), ols.params[terms].to_numpy(), rtol=0, atol=COEF_TOL)
    se = cluster_se(X.to_numpy(), ols.resid.to_numpy(), r["la_code"].to_numpy(), X.shape[1])[1:len(terms) + 1]
    np.testing.assert_allclose(res.std_errors[terms].to_numpy(), se, rtol=SE_RTOL)


def test_pooled_equals_statsmodels_ols(data):
    _, _, mp = data
    s = spec("pooled", controls="demand + population + IDACI")
    frame = model_frame(s, mp)
    y, x = design(s, frame)
    res = fit_linearmodels(s, frame)
    ols = sm.OLS(y.to_numpy(), x.to_numpy()).fit()
    np.testing.assert_allclose(res.params.to_numpy(), ols.params, atol=COEF_TOL)
    se = cluster_se(x.to_numpy(), ols.resid, frame.index.get_level_values(0).to_numpy(), x.shape[1])
    np.testing.assert_allclose(res.std_errors.to_numpy(), se, rtol=SE_RTOL)
    # and statsmodels' own cluster SEs differ only by its G/(G-1)(N-1)/(N-K) factor
    g = pd.factorize(frame.index.get_level_values(0))[0]
    sm_cl = sm.OLS(y.to_numpy(), x.to_numpy()).fit(cov_type="cluster", cov_kwds={"groups": g})
    n, k, G = len(y), x.shape[1], g.max() + 1
    factor = np.sqrt((G / (G - 1)) * ((n - 1) / (n - k)) / (n / (n - k)))
    np.testing.assert_allclose(sm_cl.bse, res.std_errors.to_numpy() * factor, rtol=SE_RTOL)


def test_first_difference_by_hand(data):
    _, _, mp = data
    s = spec("first_difference")
    frame = model_frame(s, mp)
    y, x = design(s, frame)
    res = fit_linearmodels(s, frame)
    full = pd.concat([y, x], axis=1)
    years = full.index.get_level_values("year").to_series(index=full.index)
    diff = full.groupby(level="la_code").diff()
    gap = years.groupby(level="la_code").diff()
    d = diff[gap == 1].dropna()
    Y, X = d.iloc[:, 0].to_numpy(), d.iloc[:, 1:].to_numpy()
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    np.testing.assert_allclose(res.params.to_numpy(), beta, atol=COEF_TOL)
    u = Y - X @ beta
    se = cluster_se(X, u, d.index.get_level_values(0).to_numpy(), X.shape[1])
    np.testing.assert_allclose(res.std_errors.to_numpy(), se, rtol=SE_RTOL)


def test_between_is_ols_on_la_means(data):
    _, _, mp = data
    s = spec("between", controls="demand + population + IDACI", year_effects=False)
    frame = model_frame(s, mp)
    res = fit_linearmodels(s, frame)
    means = frame.groupby(level="la_code").mean()
    X = sm.add_constant(means[list(s.covariates)]).to_numpy()
    ols = sm.OLS(means[s.outcome].to_numpy(), X).fit(cov_type="HC0")
    np.testing.assert_allclose(res.params.to_numpy(), ols.params, atol=COEF_TOL)
    n, k = X.shape
    np.testing.assert_allclose(res.std_errors.to_numpy(), ols.bse * np.sqrt(n / (n - k)), rtol=SE_RTOL)


def test_random_effects_is_ols_on_quasi_demeaned_data(data):
    _, _, mp = data
    s = spec("random", controls="demand + population + IDACI")
    frame = model_frame(s, mp)
    y, x = design(s, frame)
    res = fit_linearmodels(s, frame)
    theta = res.theta.reindex(frame.index.get_level_values(0)).to_numpy().ravel()
    full = pd.concat([y, x], axis=1)
    qd = full.to_numpy() - theta[:, None] * full.groupby(level="la_code").transform("mean").to_numpy()
    beta, *_ = np.linalg.lstsq(qd[:, 1:], qd[:, 0], rcond=None)
    np.testing.assert_allclose(res.params.to_numpy(), beta, atol=COEF_TOL)
    u = qd[:, 0] - qd[:, 1:] @ beta
    se = cluster_se(qd[:, 1:], u, frame.index.get_level_values(0).to_numpy(), qd.shape[1] - 1)
    np.testing.assert_allclose(res.std_errors.to_numpy(), se, rtol=SE_RTOL)


def test_hausman_against_dummy_regression_fe(data):
    _, _, mp = data
    fe_s, re_s = spec("fe_twoway"), spec("random")
    h = hausman(fe_s, re_s, mp)
    frame = model_frame(fe_s, mp)
    terms = list(fe_s.covariates)
    ols, _, _ = dummy_ols(frame, terms, fe_s.outcome)
    re = fit_linearmodels(re_s, frame, cov="unadjusted")
    # linearmodels' unadjusted FE variance uses N - K with K counting the absorbed effects, as OLS does
    d = ols.params[terms].to_numpy() - re.params[terms].to_numpy()
    v = ols.cov_params().loc[terms, terms].to_numpy() - re.cov.loc[terms, terms].to_numpy()
    stat = d @ np.linalg.pinv(v) @ d
    assert h["statistic"] == pytest.approx(stat, rel=1e-6)
    assert h["p_value"] == pytest.approx(stats.chi2.sf(stat, len(terms)), rel=1e-6)


def _ologit_negloglik(theta, X, y):
    k = X.shape[1]
    beta, c = theta[:k], theta[k:]
    cuts = np.concatenate([[-np.inf], [c[0]], c[0] + np.cumsum(np.exp(c[1:])), [np.inf]])
    xb = X @ beta
    p = stats.logistic.cdf(cuts[y] - xb) - stats.logistic.cdf(cuts[y - 1] - xb)
    return -np.sum(np.log(np.clip(p, 1e-300, None)))


def test_ordered_logit_equals_direct_likelihood_maximisation(data):
    panel, insp, _ = data
    ff = inspection_frame(panel, insp)
    _, res = fit_forward_ordered_logit(ff)
    x = ordered_logit_design(ff.complete(["idaci_2019"], "idaci missing"))
    X, y = x.to_numpy(), ff.data["grade"].to_numpy()
    start = np.zeros(X.shape[1] + 3)
    start[X.shape[1]:] = [-1.0, 0.5, 0.5]
    direct = optimize.minimize(_ologit_negloglik, start, args=(X, y), method="BFGS",
                               options={"gtol": 1e-7, "maxiter": 10000})
    assert -direct.fun == pytest.approx(res.llf, abs=1e-5)
    np.testing.assert_allclose(np.asarray(res.params), direct.x, atol=1e-3)


def test_ame_matches_finite_difference_of_predicted_probabilities(data):
    panel, insp, _ = data
    ff = inspection_frame(panel, insp)
    _, res = fit_forward_ordered_logit(ff)
    x = ordered_logit_design(ff.complete(["idaci_2019"], "idaci missing"))
    params = np.asarray(res.params)
    ame = ame_good_or_better(res.model, params, ["agency_rate", "caseload"])
    for j, term in enumerate(["agency_rate", "caseload"]):
        h = 1e-4
        up, down = x.copy(), x.copy()
        up[term] += h
        down[term] -= h
        p_up = res.model.predict(params, exog=up.to_numpy())[:, :2].sum(axis=1).mean()
        p_dn = res.model.predict(params, exog=down.to_numpy())[:, :2].sum(axis=1).mean()
        assert ame[j] == pytest.approx((p_up - p_dn) / (2 * h), rel=1e-5)


@pytest.mark.parametrize("bad, message", [
    (dict(estimator="fe_twoway", controls="demand + population + IDACI"), "does not vary within LAs"),
    (dict(estimator="first_difference", controls="demand + population + IDACI"), "does not vary within LAs"),
])
def test_time_invariant_regressor_with_entity_effects_is_rejected(data, bad, message):
    _, _, mp = data
    s = ModelSpec(regressors=PRESSURE, **bad)
    with pytest.raises(IdentificationError, match=message):
        fit_panel(s, mp)


@pytest.mark.parametrize("kwargs, message", [
    (dict(estimator="between", year_effects=True), "year effects are not identified"),
    (dict(estimator="ols"), "unknown estimator"),
    (dict(estimator="pooled", regressors=("idaci_2019",)), "not workforce-pressure"),
    (dict(estimator="pooled", sample="Wales"), "unknown sample"),
])
def test_invalid_specifications_are_rejected(kwargs, message):
    with pytest.raises(IdentificationError, match=message):
        ModelSpec(**kwargs)

