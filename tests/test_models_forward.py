"""Forward-direction models checked against independent computations.

* LA fixed effects (PanelOLS on the inspection panel) = dummy-variable OLS; clustered SEs = the
  textbook sandwich with linearmodels' n/(n-k) factor (the convention written to results).
* Conditional logit = a hand-written conditional likelihood (all outcome permutations enumerated)
  maximised with scipy.
* Random-intercept logit: the quadrature likelihood = direct numerical integration (scipy quad), and
  a simulated effect is recovered.
* CRE (Mundlak) within coefficient = FE coefficient.
* AME of a realistic change = statsmodels' own predicted probabilities; marginal AME = finite
  differences of the AME function.
* Holm = hand computation; MDE = 2.80 SE.
* Timing rule: a deliberately late row makes every forward fit raise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, optimize, special

from analysis.derived import load_derived
from analysis.models.forward import (conditional_logit_design, fit_forward_conditional_logit, fit_forward_cre,
                                     fit_forward_fe, fit_forward_ordered_logit, time_varying_design)
from analysis.models.forward_data import (ForwardFrame, MissingColumnError, available_controls, forward_frame)
from analysis.models.magnitudes import ame_change_ologit, ame_good_or_better, holm, mde, precision_table
from analysis.models.multilevel import RandomInterceptLogit
from analysis.models.timing import TimingError, latest_census_before, validate_forward_timing

CONTROLS = ("demand", "population")


@pytest.fixture(scope="module")
def data():
    return load_derived()


@pytest.fixture(scope="module")
def ff(data):
    panel, insp = data
    return forward_frame(insp, panel, controls=CONTROLS)


# --------------------------------------------------------------------------- timing rule
def test_latest_census_before_boundaries():
    s = pd.Series(pd.to_datetime(["2019-09-30", "2019-10-01", "2019-01-02", "2019-12-31"]))
    assert latest_census_before(s).tolist() == [2018, 2019, 2018, 2019]


def test_every_forward_row_is_measured_before_fieldwork(ff, data):
    panel, insp = data
    for lag in ("census_before", "mean_two_before", "change_two_before"):
        f = forward_frame(insp, panel, lag=lag, controls=CONTROLS)
        for col in f.year_columns:
            census = pd.to_datetime(f.data[col].astype(str) + "-09-30")
            assert (census < f.data["start_date"]).all(), (lag, col)


def _late(ff: ForwardFrame) -> ForwardFrame:
    d = ff.data.copy()
    i = d.index[len(d) // 2]
    d.loc[i, "census_year"] = d.loc[i, "start_date"].year  # census of the inspection year: too late
    d.loc[i, "start_date"] = pd.Timestamp(d.loc[i, "start_date"].year, 6, 1)  # before that census
    return ForwardFrame(d, ff.regressors, ff.controls, ff.lag, ff.year_columns, ff.disclosure)


def test_late_row_is_rejected_by_the_validator(ff):
    validate_forward_timing(ff.data, ff.year_columns)  # the real frame passes
    with pytest.raises(TimingError, match="not strictly before fieldwork"):
        validate_forward_timing(_late(ff).data, ff.year_columns)


@pytest.mark.parametrize("fit", [fit_forward_fe, fit_forward_conditional_logit, fit_forward_cre,
                                 fit_forward_ordered_logit])
def test_every_forward_model_refuses_a_late_row(ff, fit):
    with pytest.raises(TimingError):
        fit(_late(ff))


def test_census_on_fieldwork_day_is_late():
    d = pd.DataFrame({"inspection_id": ["x"], "start_date": [pd.Timestamp("2020-09-30")], "census_year": [2020]})
    with pytest.raises(TimingError):
        validate_forward_timing(d)


def test_missing_contract_column_raises_and_fallback_is_logged(data):
    panel, insp = data
    if "log_spend_total_pc" in panel.columns:
        panel = panel.drop(columns="log_spend_total_pc")
    with pytest.raises(MissingColumnError, match="log_spend_total_pc"):
        forward_frame(insp, panel, controls=("demand", "population", "spending"))
    kept, notes = available_controls(("demand", "population", "spending"), panel)
    assert kept == ("demand", "population") and notes == ["spending not yet in data (log_spend_total_pc)"]
    with pytest.raises(MissingColumnError):
        forward_frame(insp, panel.drop(columns="cin_rate"), controls=available_controls(("demand",), panel)[0])


def test_sample_disclosure_adds_up(ff):
    d = ff.disclosure
    assert d["graded_inspections"] - sum(x["n"] for x in d["drops"]) == d["n_used"] == len(ff.data)
    assert len(ff.data) == ff.data["inspection_id"].nunique()  # one row per inspection


# --------------------------------------------------------------------------- fixed effects
def test_fe_equals_dummy_variable_ols_with_documented_se(ff):
    fit, res = fit_forward_fe(ff, "good_or_better")
    df = ff.data
    x = time_varying_design(ff)
    la = pd.get_dummies(df["la_code"], prefix="la", dtype=float)
    X = pd.concat([x, la], axis=1)
    ols = sm.OLS(df["good_or_better"].to_numpy(), X).fit()
    terms = list(fit.coefs.index)
    np.testing.assert_allclose(fit.coefs["estimate"], ols.params[terms], atol=1e-8)
    # clustered SE: textbook sandwich on the within-transformed data, factor n/(n - k): linearmodels
    # (auto_df) does not count the LA effects because they are nested in the LA clusters
    Xw = (x - x.groupby(df["la_code"]).transform("mean")).to_numpy()
    u = ols.resid
    g = pd.factorize(df["la_code"])[0]
    bread = np.linalg.inv(Xw.T @ Xw)
    meat = sum(np.outer(Xw[g == c].T @ u[g == c], Xw[g == c].T @ u[g == c]) for c in np.unique(g))
    n, k = len(df), x.shape[1]
    v = n / (n - k) * bread @ meat @ bread
    se = pd.Series(np.sqrt(np.diag(v)), index=x.columns)
    np.testing.assert_allclose(fit.coefs["std_error"], se[terms], rtol=1e-6)


def test_cre_within_equals_fe(ff):
    for outcome in ("good_or_better", "grade"):
        fe, _ = fit_forward_fe(ff, outcome)
        cre, _ = fit_forward_cre(ff, outcome, deprivation=None)
        for t in ff.covariates:
            assert cre.coefs.loc[f"within:{t}", "estimate"] == pytest.approx(fe.coefs.loc[t, "estimate"], abs=1e-9)


# --------------------------------------------------------------------------- conditional logit
def hand_conditional_loglik(beta, groups):
    """Sum over LAs of y'Xb - log sum over all outcome vectors with the same number of ones."""
    ll = 0.0
    for X, y in groups:
        n1 = int(y.sum())
        alts = [np.array(c) for c in itertools.combinations(range(len(y)), n1)]
        ll += y @ X @ beta - special.logsumexp([X[c].sum(axis=0) @ beta for c in alts])
    return ll


def test_conditional_logit_equals_hand_likelihood(ff):
    fit, (model, params, cov) = fit_forward_conditional_logit(ff)
    d, x = conditional_logit_design(ff)
    X = x.to_numpy()
    groups = [(X[(d["la_code"] == la).to_numpy()], d.loc[d["la_code"] == la, "good_or_better"].to_numpy())
              for la in d["la_code"].unique()]
    sol = optimize.minimize(lambda b: -hand_conditional_loglik(b, groups), np.zeros(X.shape[1]), method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 10000})
    # log_child_pop has tiny within variation: compare on the scale of the SEs
    se = np.sqrt(np.diag(cov))
    assert np.max(np.abs(sol.x - params.to_numpy()) / se) < 1e-3
    assert -sol.fun == pytest.approx(hand_conditional_loglik(params.to_numpy(), groups), abs=1e-6)


# --------------------------------------------------------------------------- multilevel logit
def simulate(seed=3, G=300, n=4, beta=0.7, sigma=1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), n)
    x = rng.normal(size=G * n)
    u = rng.normal(size=G)
    y = (rng.random(G * n) < special.expit(-0.2 + beta * x + sigma * u[g])).astype(float)
    return y, pd.DataFrame({"const": 1.0, "x": x}), g


def test_quadrature_equals_numerical_integration():
    y, X, g = simulate(G=5)
    m = RandomInterceptLogit(y, X, g)
    theta = np.array([-0.1, 0.5, np.log(1.3)])
    ll = m.loglike_groups(theta)
    for j in range(5):
        eta = X.to_numpy()[g == j] @ theta[:2]
        yj = y[g == j]

        def f(u):
            p = special.expit(eta + 1.3 * u)
            return np.prod(p ** yj * (1 - p) ** (1 - yj)) * np.exp(-u * u / 2) / np.sqrt(2 * np.pi)
        val, _ = integrate.quad(f, -12, 12, epsabs=1e-13)
        assert ll[j] == pytest.approx(np.log(val), abs=1e-6)


def test_multilevel_logit_recovers_simulated_effect():
    y, X, g = simulate()
    r = RandomInterceptLogit(y, X, g).fit()
    se = np.sqrt(r.cov_cluster.loc["x", "x"])
    assert r.converged
    assert abs(r.params["x"] - 0.7) < 2.5 * se and se < 0.1
    assert abs(r.sigma - 1.0) < 0.35
    # a plain logit is attenuated towards zero (the reason for the random intercept)
    assert sm.Logit(y, X).fit(disp=False).params["x"] < r.params["x"]


# --------------------------------------------------------------------------- magnitudes and precision
def test_ame_of_a_change_matches_statsmodels_predictions(ff):
    _, res = fit_forward_ordered_logit(ff)
    p = np.asarray(res.params)
    j = list(res.model.exog_names).index("agency_rate")
    x1 = res.model.exog.copy()
    x1[:, j] += 5
    pred0 = res.model.predict(p)[:, :2].sum(axis=1)
    pred1 = res.model.predict(p, exog=x1)[:, :2].sum(axis=1)
    assert ame_change_ologit(res.model, p, "agency_rate", 5.0) == pytest.approx((pred1 - pred0).mean(), abs=1e-12)
    # marginal AME (analytic) = finite-difference derivative of the change
    h = 1e-5
    fd = (ame_change_ologit(res.model, p, "agency_rate", h) - ame_change_ologit(res.model, p, "agency_rate", -h)) / (2 * h)
    assert ame_good_or_better(res.model, p, ["agency_rate"])[0] == pytest.approx(fd, rel=1e-6)


def test_holm_and_mde_by_hand():
    p = pd.Series([0.01, 0.04, 0.03, 0.20], index=list("abcd"))
    # sorted: a .01*4=.04, c .03*3=.09, b .04*2=.08 -> max(.09,.08)=.09, d .20*1 -> .20
    assert holm(p).to_dict() == pytest.approx({"a": 0.04, "b": 0.09, "c": 0.09, "d": 0.20})
    assert mde(0.01) == pytest.approx(0.01 * (1.959964 + 0.841621), rel=1e-6)
    coefs = pd.DataFrame({"estimate": [1.0, 2.0], "std_error": [0.5, 1.0], "p_value": [0.04, 0.01]}, index=["a", "b"])
    t = precision_table(coefs, ("a", "b"))
    assert t["p_holm"].tolist() == pytest.approx([0.04, 0.02])
    assert t["mde"].tolist() == pytest.approx([0.5 * 2.801585, 2.801585], rel=1e-5)


def test_fast_ordered_logit_equals_statsmodels_ordered_model(ff):
    """The expit cdf and analytic score change speed only: same optimum as OrderedModel(logit)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_fprime

    from analysis.models.forward import FastOrderedLogit, ordered_logit_design
    f = ff.complete(["idaci_2019"], "idaci missing")
    x = ordered_logit_design(f)
    y = pd.Series(pd.Categorical(f.data["grade"], categories=[1, 2, 3, 4], ordered=True), index=f.data.index)
    fast = FastOrderedLogit(y, x, distr="logit")
    ref = OrderedModel(y, x, distr="logit")
    a = fast.fit(method="bfgs", maxiter=5000, gtol=1e-7, disp=False)
    q = np.asarray(a.params) + np.linspace(-1e-3, 1e-3, x.shape[1] + 3)  # away from the optimum
    num = approx_fprime(q, ref.loglike, centered=True)
    assert np.abs(num).max() > 1  # a non-trivial gradient
    np.testing.assert_allclose(fast.score(q), num, rtol=1e-5, atol=1e-4)
    b = ref.fit(start_params=np.asarray(a.params), method="bfgs", maxiter=5000, gtol=1e-6, disp=False)
    np.testing.assert_allclose(np.asarray(a.params), np.asarray(b.params), atol=1e-4)
    assert a.llf == pytest.approx(b.llf, abs=1e-7)


def test_spending_contract_column_is_used_when_present(data):
    """With the contract column in the panel, spending enters every model and +£100 per child is
    evaluated row by row on the log scale."""
    from analysis.models.magnitudes import ologit_magnitudes
    panel, insp = data
    rng = np.random.default_rng(0)
    p = panel.copy()
    p["spend_total_pc"] = rng.uniform(500, 1500, len(p))
    p["log_spend_total_pc"] = np.log(p["spend_total_pc"])
    kept, notes = available_controls(("demand", "population", "spending"), p)
    assert kept == ("demand", "population", "spending") and notes == []
    f = forward_frame(insp, p, controls=kept)
    fit, res = fit_forward_ordered_logit(f)
    assert "log_spend_total_pc" in fit.coefs.index
    mg = ologit_magnitudes(res, {"log_spend_total_pc": 100.0})
    j = list(res.model.exog_names).index("log_spend_total_pc")
    x1 = res.model.exog.copy()
    x1[:, j] = np.log(np.exp(x1[:, j]) + 100)
    prm = np.asarray(res.params)
    want = 100 * (res.model.predict(prm, exog=x1)[:, :2].sum(1) - res.model.predict(prm)[:, :2].sum(1)).mean()
    assert mg.loc["log_spend_total_pc", "ame_pp"] == pytest.approx(want, abs=1e-10)
    assert "log_spend_total_pc" in fit_forward_fe(f)[0].coefs.index


def test_romano_wolf_by_hand_and_against_holm():
    from analysis.models.magnitudes import romano_wolf, wild_cluster_t
    t = pd.Series([3.0, 1.0, 2.0], index=list("abc"))
    tb = np.array([[0.5, 2.5, 0.2], [3.5, 0.1, 0.3], [0.2, 0.4, 2.1], [1.5, 0.9, 0.8]])
    # a (|3|): max over all -> 2.5, 3.5, 2.1, 1.5 -> one >= 3 -> (1+1)/5 = .4
    # c (|2|): max over {b, c} cols -> 2.5, .3, 2.1, .9 -> two >= 2 -> 3/5 = .6
    # b (|1|): max over {b} -> 2.5, .1, .4, .9 -> one >= 1 -> 2/5 = .4 -> monotone .6
    assert romano_wolf(t, tb).to_dict() == pytest.approx({"a": 0.4, "b": 0.6, "c": 0.6})
    # on a simulated regression, one real effect among three: RW rejects it and is no more
    # conservative than Bonferroni for the nulls
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(60), 5)
    x = rng.normal(size=(300, 3))
    y = 0.4 * x[:, 0] + rng.normal(size=300)
    t_obs, t_boot = wild_cluster_t(x, y, g, [0, 1, 2], reps=499)
    p = romano_wolf(pd.Series(t_obs, index=list("xyz")), t_boot)
    assert p["x"] < 0.01 and p["y"] > 0.05 and p["z"] > 0.05


def test_panel_fe_standardised_by_within_sd(data):
    """LA-year fixed-effects effects per SD use the within-LA SD; pooled ones the total SD."""
    from analysis.models.panel import fit_panel
    from analysis.models.spec import PRESSURE, ModelSpec, model_frame, prepare_panel
    mp = prepare_panel(data[0])
    for est in ("fe_twoway", "pooled"):
        spec = ModelSpec(est, "grade_num", PRESSURE, "demand + population")
        fit = fit_panel(spec, mp)
        fr = model_frame(spec, mp)["agency_rate"]
        sd = (fr - fr.groupby(level="la_code").transform("mean")).std() if est == "fe_twoway" else fr.std()
        c = fit.coefs.loc["agency_rate"]
        assert c["std_estimate"] == pytest.approx(c["estimate"] * sd, rel=1e-12)


def test_panel_description_models_carry_a_framework_indicator(data):
    from analysis.models.panel import fit_panel
    from analysis.models.spec import prepare_panel
    from analysis.run_models import main_specs
    mp = prepare_panel(data[0])
    for outcome in ("grade_num", "good_or_better"):
        for model_id, spec in main_specs(outcome):
            assert "ilacs_era" in fit_panel(spec, mp, model_id=model_id).coefs.index, model_id


def test_multilevel_logit_converges_whatever_the_units_of_a_regressor():
    """A regressor in large units (e.g. children in need per 10,000) inflates the raw gradient at
    the optimum; convergence is judged by the scale-free Newton decrement after Newton polishing,
    and the estimates do not depend on the units."""
    y, X, g = simulate()
    big = X.assign(x=X["x"] * 400.0)
    r1, r2 = RandomInterceptLogit(y, X, g).fit(), RandomInterceptLogit(y, big, g).fit()
    assert r1.converged and r2.converged
    assert r2.params["x"] * 400.0 == pytest.approx(r1.params["x"], rel=1e-5)
    assert r2.llf == pytest.approx(r1.llf, abs=1e-7)


def test_newton_polish_reaches_the_optimum_from_a_nearby_point():
    """The Newton steps after BFGS: from a point off the optimum they raise the log-likelihood to
    the BFGS optimum's and end with a negligible Newton decrement."""
    y, X, g = simulate()
    m = RandomInterceptLogit(y, X, g)
    best = m.fit()
    start = best.params.to_numpy() + np.array([0.05, -0.05, 0.05])
    theta, conv, _ = m._newton_polish(start, steps=5)
    assert conv
    assert m.loglike(theta) == pytest.approx(best.llf, abs=1e-8)
    assert m.loglike(theta) > m.loglike(start)
