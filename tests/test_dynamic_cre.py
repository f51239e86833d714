"""Dynamic correlated random effects (Wooldridge 2005) checked against known answers.

* simulation with a known feedback (state-dependence) effect: the estimator recovers it; the
  pooled logit with the previous judgement (no LA effect, no initial condition) overstates it;
* the quadrature engine = the independent random-intercept logit of analysis.models.multilevel
  (numerical derivatives); at sigma -> 0 its likelihood = statsmodels' pooled Logit / OrderedModel;
* analytic AME gradient = finite differences; 12 vs 30 nodes; the real-data frame drops exactly
  the initial inspections.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.miscmodels.ordinal_model import OrderedModel

from analysis.derived import load_derived
from analysis.models.dynamic_cre import (ame_good, dynamic_frame, fit_dynamic, fit_dynamic_cre, first_grades,
                                         simulate_feedback)
from analysis.models.forward_data import DEFAULT_CONTROLS, available_controls, forward_frame
from analysis.models.multilevel import RandomInterceptLogit
from analysis.models.re_quadrature import RandomInterceptQuadrature


@pytest.fixture(scope="module")
def real():
    panel, insp = load_derived()
    kept, _ = available_controls(DEFAULT_CONTROLS, panel)
    ff = forward_frame(insp, panel, controls=kept)
    return ff, insp


def _sim_fits(feedback=0.0, seed=7):
    d = simulate_feedback(feedback=feedback, seed=seed)
    one = pd.Series(1.0, index=d.index, name="const")
    dyn, _ = fit_dynamic(d, pd.concat([one, d[["x", "y_lag", "y0", "mean_x"]]], axis=1), "logit")
    pooled = sm.Logit(d["good_or_better"], pd.concat([one, d[["x", "y_lag"]]], axis=1)).fit(disp=False)
    return dyn, pooled


def test_simulation_recovers_known_feedback_effect_that_pooled_model_gets_wrong():
    dyn, pooled = _sim_fits()
    # truth: gamma (previous judgement) = 1.0, beta = -0.7; SE of gamma about 0.12 with 2,000 rows
    assert abs(dyn.params["y_lag"] - 1.0) < 0.3
    assert abs(dyn.params["x"] - (-0.7)) < 0.15
    assert 0.5 < dyn.sigma < 1.5
    # the static-effect model attributes LA heterogeneity to the previous judgement
    assert pooled.params["y_lag"] - 1.0 > 0.3
    assert abs(pooled.params["x"] - (-0.7)) > 0.2


def test_simulation_without_initial_condition_is_biased():
    """Dropping the initial judgement (the Wooldridge conditioning) inflates the feedback effect."""
    d = simulate_feedback(periods=3, seed=7)  # short panels: the initial condition matters most
    one = pd.Series(1.0, index=d.index, name="const")
    no_init, _ = fit_dynamic(d, pd.concat([one, d[["x", "y_lag", "mean_x"]]], axis=1), "logit")
    with_init, _ = fit_dynamic(d, pd.concat([one, d[["x", "y_lag", "y0", "mean_x"]]], axis=1), "logit")
    assert no_init.params["y_lag"] - with_init.params["y_lag"] > 0.1
    assert abs(with_init.params["y_lag"] - 1.0) < 0.3


def _small_sim(seed=3):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(120), 3)
    x = pd.DataFrame({"const": 1.0, "x1": rng.normal(size=len(g)), "x2": 10 * rng.normal(size=len(g))})
    eta = 0.2 + 0.7 * x["x1"] - 0.05 * x["x2"] + rng.normal(size=120)[g]
    return g, x, eta.to_numpy(), rng


def test_quadrature_logit_equals_independent_multilevel_implementation():
    g, x, eta, rng = _small_sim()
    y = (rng.random(len(g)) < 1 / (1 + np.exp(-eta))).astype(float)
    ours = RandomInterceptQuadrature(y, x, g).fit()
    ref = RandomInterceptLogit(y, x, g).fit()
    assert ours.converged
    np.testing.assert_allclose(ours.params.to_numpy(), ref.params.to_numpy(), atol=2e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), np.sqrt(np.diag(ref.cov_cluster)), rtol=2e-3)
    assert abs(ours.llf - ref.llf) < 1e-5


def test_pooled_limit_equals_statsmodels_logit_and_ordered_model():
    g, x, eta, rng = _small_sim(4)
    y = (rng.random(len(g)) < 1 / (1 + np.exp(-eta))).astype(float)
    m = RandomInterceptQuadrature(y, x, g)
    res = sm.Logit(y, x).fit(disp=False)
    th = m.internal(np.append(res.params.to_numpy(), -30.0))
    m.update_nodes(th)
    assert abs(m.loglike(th) - res.llf) < 1e-8
    yo = np.digitize(eta + rng.logistic(size=len(g)), [-1.0, 0.5, 2.0])
    mo = RandomInterceptQuadrature(yo, x.drop(columns="const"), g, "ologit", 4)
    ro = OrderedModel(yo, x.drop(columns="const"), distr="logit").fit(method="bfgs", disp=False, maxiter=5000)
    th = mo.internal(np.append(ro.params.to_numpy(), -30.0))
    mo.update_nodes(th)
    assert abs(mo.loglike(th) - ro.llf) < 1e-6
    # and the random-intercept ordered fit recovers the LA effect's SD (truth 1) roughly
    fo = mo.fit()
    assert fo.converged and 0.5 < fo.sigma < 1.6


def test_analytic_ame_gradient_equals_finite_differences(real):
    ff, insp = real
    out = fit_dynamic_cre(ff, insp)
    d, _ = dynamic_frame(ff, insp)
    from analysis.models.dynamic_cre import dynamic_design
    x = dynamic_design(d, ff.covariates)
    for kind, xx in (("logit", x), ("ologit", x.drop(columns="const"))):
        fit, _ = fit_dynamic(d, x, kind)
        base = ame_good(fit, xx, {"agency_rate": 5.0})
        theta = fit.params.to_numpy()
        grad = np.empty(len(theta))
        for j in range(len(theta)):
            h = 1e-6 * max(1.0, abs(theta[j]))
            up, dn = theta.copy(), theta.copy()
            up[j] += h
            dn[j] -= h
            f_up = ame_good(dataclasses.replace(fit, params=pd.Series(up, fit.params.index)), xx, {"agency_rate": 5.0})
            f_dn = ame_good(dataclasses.replace(fit, params=pd.Series(dn, fit.params.index)), xx, {"agency_rate": 5.0})
            grad[j] = (f_up.loc["agency_rate", "ame_pp"] - f_dn.loc["agency_rate", "ame_pp"]) / (2 * h)
        se = float(np.sqrt(grad @ fit.cov.to_numpy() @ grad))
        assert abs(se - base.loc["agency_rate", "se"]) < 1e-4 * max(1, se)
        name = "good_or_better" if kind == "logit" else "grade"
        assert abs(out["models"][name]["ame_pp"]["agency_rate"]["ame_pp"] - base.loc["agency_rate", "ame_pp"]) < 1e-9


def test_real_data_model_drops_initial_inspections_and_passes_checks(real):
    ff, insp = real
    out = fit_dynamic_cre(ff, insp)
    d, disc = dynamic_frame(ff, insp)
    first = first_grades(insp).set_index("la_code")["first_id"]
    assert not d["inspection_id"].isin(first.to_numpy()).any()
    assert d["prev_grade_num"].notna().all()
    assert disc["nobs"] + disc["n_initial_dropped"] == len(ff.data)
    assert {"prev_good", "prev_inadequate", "first_good", "first_inadequate", "mean_agency_rate"} <= set(out["design_columns"])
    for m in out["models"].values():
        assert m["converged"] and m["nobs"] == disc["nobs"]
        assert m["check_nodes_12_vs_30"]["max_abs_param_step"] < 1e-2
        assert m["check_pooled_limit_llf_abs_diff"] < 1e-8
        assert set(m["ame_pp"]) == {"caseload", "vacancy_rate", "agency_rate", "turnover_rate"}
        for r in m["ame_pp"].values():
            assert r["ci_low"] < r["ame_pp"] < r["ci_high"]
