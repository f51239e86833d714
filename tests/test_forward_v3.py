"""Forward design v3 checked against independent computations and simulations with known effects.

* Brant test: its covariance of the threshold-specific slopes = the Monte Carlo covariance over
  simulated samples; it rejects a simulated violation of proportional odds and not a PO model.
* Partial proportional-odds LR test: the constrained fit = statsmodels ``OrderedModel``; the free
  slopes recover simulated threshold-specific slopes.
* Binary-logit AME of a change = statsmodels' ``get_margeff`` (derivative x small change), SE too.
* Lead test: a simulated feedback from the grade to the next measure is detected; without
  feedback it is not.
* Census 2017+: the numbers an independent re-estimation reported in issue 14.
* Primary block: recomputed with a different estimator (GLM binomial) and a hand-built design.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special

from analysis.derived import load_derived
from analysis.models import primary as primary_mod
from analysis.models.forward import (drop_separated_cells, fit_forward_conditional_logit, fit_forward_fe,
                                     fit_forward_logit, fit_forward_ordered_logit, fit_lead_test, logit_design)
from analysis.models.forward_checks import FEEDBACK_CONTROLS, fit_family, variant_frame
from analysis.models.forward_data import WORKFORCE, ForwardFrame
from analysis.models.frame import census_2017_plus, inspection_frame
from analysis.models.magnitudes import CHANGES, logit_magnitudes, ologit_magnitudes
from analysis.models.primary import TERM_KEYS, primary_block
from analysis.models.proportional_odds import brant_test, fit_ppo, partial_po_lr_test
from analysis.outputs.common import fmt_bound


@pytest.fixture(scope="module")
def frame():
    panel, insp = load_derived()
    return inspection_frame(panel, insp)


def _simulate_ordinal(n, rng, slopes_by_cut, cuts=(-0.5, 0.8)):
    """y in 1..3 from binary-threshold logits P(y > j) = expit(x'b_j - c_j) (PO when all b_j equal)."""
    x = rng.normal(size=(n, len(slopes_by_cut[0])))
    u = rng.uniform(size=n)
    # P(y > 1) >= P(y > 2) must hold: use slopes close enough, x bounded
    p1 = special.expit(x @ np.asarray(slopes_by_cut[0]) - cuts[0])
    p2 = np.minimum(special.expit(x @ np.asarray(slopes_by_cut[1]) - cuts[1]), p1)
    y = 1 + (u < p1).astype(int) + (u < p2).astype(int)
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]), y


# --------------------------------------------------------------------------- Brant
def test_brant_covariance_equals_monte_carlo_covariance():
    rng = np.random.default_rng(1)
    diffs, var_formula = [], []
    for _ in range(150):
        x, y = _simulate_ordinal(1200, rng, [(0.8, -0.5), (0.8, -0.5)])
        b = brant_test(y, x, ["x0"])
        d = b["slopes"]["x0"][0] - b["slopes"]["x0"][1]
        diffs.append(d)
        var_formula.append(d ** 2 / b["by_term"]["x0"]["statistic"])
    mc = np.var(diffs, ddof=1)
    assert np.mean(var_formula) == pytest.approx(mc, rel=0.2)
    assert abs(np.mean(diffs)) < 3 * np.sqrt(mc / len(diffs))  # unbiased under PO


def test_brant_rejects_a_simulated_violation_and_not_proportional_odds():
    rng = np.random.default_rng(2)
    x, y = _simulate_ordinal(4000, rng, [(1.0, 0.3), (0.2, 0.3)])
    b = brant_test(y, x)
    assert b["by_term"]["x0"]["p_value"] < 1e-4
    assert b["by_term"]["x1"]["p_value"] > 0.01
    x, y = _simulate_ordinal(4000, rng, [(0.6, 0.3), (0.6, 0.3)])
    assert brant_test(y, x)["omnibus"]["p_value"] > 0.01


# --------------------------------------------------------------------------- LR vs partial PO
def test_partial_po_constrained_fit_equals_statsmodels_ordered_logit():
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    rng = np.random.default_rng(3)
    x, y = _simulate_ordinal(800, rng, [(0.7, -0.4), (0.7, -0.4)])
    po = fit_ppo(y, x, ["x0"], free=False)
    ref = OrderedModel(pd.Series(pd.Categorical(y, ordered=True)), x, distr="logit").fit(method="bfgs", disp=False,
                                                                                         maxiter=2000)
    assert po["llf"] == pytest.approx(ref.llf, abs=1e-5)
    np.testing.assert_allclose(po["params"][:2], np.asarray(ref.params)[:2], atol=1e-4)


def test_partial_po_recovers_threshold_specific_slopes_and_rejects():
    rng = np.random.default_rng(4)
    x, y = _simulate_ordinal(20000, rng, [(1.0, 0.3), (0.4, 0.3)])
    lr = partial_po_lr_test(y, x, ["x0"])
    assert lr["slopes_by_threshold"]["x0"] == pytest.approx([1.0, 0.4], abs=0.08)
    assert lr["p_value"] < 1e-6 and lr["converged"]
    x, y = _simulate_ordinal(3000, rng, [(0.6, 0.3), (0.6, 0.3)])
    assert partial_po_lr_test(y, x, ["x0"])["p_value"] > 0.01


def test_po_test_on_the_report_design_matches_statsmodels_llf(frame):
    fit, res = fit_forward_ordered_logit(frame)
    from analysis.models.forward_checks import proportional_odds
    po = proportional_odds(frame)
    assert po["lr_partial_po"]["llf_po"] == pytest.approx(res.llf, abs=1e-4)
    assert po["lr_partial_po"]["df"] == 8 and po["brant"]["by_term"]["vacancy_rate"]["df"] == 2


# --------------------------------------------------------------------------- binary logit
def test_logit_ame_of_a_small_change_equals_statsmodels_margeff(frame):
    fit, res = fit_forward_logit(frame)
    h = 1e-4
    mine = logit_magnitudes(res, {"agency_rate": h, "caseload": h})
    me = res.get_margeff(at="overall", method="dydx").summary_frame()
    for t in ("agency_rate", "caseload"):
        assert mine.loc[t, "ame_pp"] / 100 / h == pytest.approx(me.loc[t, "dy/dx"], rel=1e-3)
        assert mine.loc[t, "ame_pp_se"] / 100 / h == pytest.approx(me.loc[t, "Std. Err."], rel=1e-2)


def test_logit_uses_the_ordered_logit_covariates(frame):
    fit, res = fit_forward_logit(frame)
    ol, _ = fit_forward_ordered_logit(frame)
    tv = [c for c in ol.stats["design_columns"] if not c.startswith("year_")]
    assert set(tv) <= set(res.model.exog_names)
    assert any(c.startswith("period_") for c in res.model.exog_names)


def test_separated_inspection_type_cell_is_dropped_and_recorded(frame):
    f = variant_frame(frame, True, True)   # census 2017+: the 3 SIF (not re-inspection) rows are all RI
    kept, dropped = drop_separated_cells(f, "good_or_better")
    assert {"cell": "inspection_type=sif", "n": 3, "outcome_value": 0.0} in dropped
    assert len(kept.data) == len(f.data) - 3
    fit, res = fit_forward_logit(f)
    assert np.all(np.isfinite(res.bse)) and res.bse.max() < 100


# --------------------------------------------------------------------------- lead test
def _panel_with_feedback(gamma, seed, n_la=300, t=4):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_la):
        a = rng.normal()
        x = rng.normal(20, 3, size=len(WORKFORCE))
        for k in range(t):
            y = float(a + rng.logistic() > 0)
            rows.append({"la_code": f"L{i:03d}", "inspection_id": f"L{i:03d}-{k}", "visit": k + 1,
                         "start_date": pd.Timestamp(2018 + 2 * k, 11, 1), "census_year": 2018 + 2 * k,
                         "inspection_year": 2018 + 2 * k, "ilacs": 1.0, "good_or_better": y, "grade": 3 - 2 * y,
                         **dict(zip(WORKFORCE, x.copy()))})
            # feedback: a good grade lowers the next measures (a bad one raises them)
            x = x + rng.normal(0, 1, size=len(WORKFORCE)) - gamma * (y - 0.5)
    d = pd.DataFrame(rows)
    return ForwardFrame(d, WORKFORCE, (), "census_before", ("census_year",), {})


def test_lead_test_detects_simulated_feedback():
    lead = fit_lead_test(_panel_with_feedback(gamma=3.0, seed=5))
    assert lead["one_at_a_time"]["agency_rate"]["estimate"] < 0
    assert lead["one_at_a_time"]["agency_rate"]["p_value"] < 0.001
    assert lead["joint_wald"]["p_value"] < 0.001


def test_lead_test_does_not_reject_without_feedback():
    lead = fit_lead_test(_panel_with_feedback(gamma=0.0, seed=6))
    assert lead["joint_wald"]["p_value"] > 0.01


def test_lead_test_on_the_data_matches_issue_14(frame):
    # issue 14 (an independent re-estimation): next inspection's agency rate, FE of Good+: -0.024
    lead = fit_lead_test(frame)
    assert lead["one_at_a_time"]["agency_rate"]["estimate"] == pytest.approx(-0.024, abs=1e-3)
    assert lead["one_at_a_time"]["agency_rate"]["p_value"] < 0.05


# --------------------------------------------------------------------------- census 2017+
def test_census_2017_plus_numbers_match_issue_14(frame):
    f = census_2017_plus(frame)
    assert len(f.data) == 313
    fe, _ = fit_forward_fe(f, "good_or_better")
    c = fe.coefs.loc["agency_rate"]
    # issue 14: FE agency -7.3 [-13.7, -0.9] (pp per +5 pp)
    assert 500 * np.array([c["estimate"], c["ci_low"], c["ci_high"]]) == pytest.approx([-7.3, -13.7, -0.9], abs=0.06)
    ol, res = fit_forward_ordered_logit(f)
    m = ologit_magnitudes(res, {"caseload": 2.0}).loc["caseload"]
    assert [m["ame_pp"], m["ame_pp_low"], m["ame_pp_high"]] == pytest.approx([-6.0, -10.1, -2.0], abs=0.06)
    cl, _ = fit_forward_conditional_logit(f)
    k = cl.coefs.loc["caseload"]
    assert np.exp(2 * np.array([k["estimate"], k["ci_low"], k["ci_high"]])) == pytest.approx([0.45, 0.22, 0.89], abs=0.006)


def test_caseload_drops_by_census_year_match_issue_14(frame):
    drop = next(d for d in frame.disclosure["drops"] if d["reason"].startswith("caseload missing"))
    assert drop["n"] == 47
    assert drop["by_census_year"] == {"2015": 38, "2016": 7, "2017": 1, "2018": 1}


# --------------------------------------------------------------------------- primary
def test_primary_block_recomputed_with_glm_and_a_hand_built_design(frame):
    f = variant_frame(frame, False, True)
    fit, res = fit_forward_logit(f)
    block = primary_block(fit, logit_magnitudes(res, {t: CHANGES[t] for t in WORKFORCE}), WORKFORCE, {})
    d = f.data
    x = pd.concat([d[[*WORKFORCE, "cin_rate", "cpp_rate", "cla_rate", "log_child_pop", "log_spend_total_pc",
                      *FEEDBACK_CONTROLS, "ilacs", "idaci_2019"]],
                   pd.get_dummies(d["region"], drop_first=True, dtype=float),
                   pd.get_dummies(pd.cut(d["inspection_year"], [2000, 2018, 2020, 2022, 2024, 2030]),
                                  drop_first=True, dtype=float)], axis=1).astype(float)
    x = sm.add_constant(x.loc[:, x.std() > 0])
    glm = sm.GLM(d["good_or_better"], x, family=sm.families.Binomial()).fit()
    for t in WORKFORCE:
        x1 = x.copy()
        x1[t] += CHANGES[t]
        ame = 100 * (glm.predict(x1) - glm.predict(x)).mean()
        assert block["terms"][t]["ame_pp"] == pytest.approx(ame, abs=1e-4)
    assert block["n"] == len(d) == 347 and block["n_las"] == d["la_code"].nunique()
    assert block["base_rate_good_plus"] == pytest.approx(d["good_or_better"].mean())
    assert set(block["terms"]["agency_rate"]) == set(TERM_KEYS)
    assert set(FEEDBACK_CONTROLS) <= set(block["controls"])


def test_primary_keys_are_documented_in_the_rule_docstring():
    doc = inspect.getdoc(primary_mod)
    for key in ("rule", "design", "model_id", "outcome", "estimator", "sample", "controls", "n", "n_las",
                "base_rate_good_plus", "base_rate_pp", "term_order", "terms", "sensitivities", *TERM_KEYS):
        assert f"``{key}``" in doc, key


def test_every_family_has_a_census_2017_plus_row(frame):
    f = variant_frame(frame, True, False)
    for name in ("ordered_logit", "logit", "fe_good_or_better", "fe_grade", "conditional_logit", "cre_good_within"):
        rows, fit = fit_family(name, f, CHANGES, CHANGES)
        assert fit.stats["nobs"] <= 313 and set(rows) == set(WORKFORCE)


# --------------------------------------------------------------------------- printing
def test_interval_end_that_rounds_to_zero_keeps_its_sign():
    assert fmt_bound(-0.03, 1) == "just below 0"
    assert fmt_bound(0.04, 1) == "just above 0"
    assert fmt_bound(-2.34, 1) == "−2.3"
    assert fmt_bound(0.0, 1) == "0.0"
    assert fmt_bound(-0.03, 2) == "−0.03"
