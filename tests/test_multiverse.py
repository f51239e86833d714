"""Multiverse: refusal rules, deduplication, the census rule of the worker-level sample, the
fast paths against linearmodels and statsmodels, the comparable scale and the counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.derived import load_derived
from analysis.models import fast_logit
from analysis.models.forward_data import forward_frame
from analysis.models.multiverse import (counts, fit_linear, fit_spec_linearmodels, frames,
                                        run_multiverse, summarise)
from analysis.models.multiverse_design import (FRAME_CONTROLS, PREVIOUS_GRADE_DUMMIES, SIGN, DataRuleError,
                                               build_design, outcome_values)
from analysis.models.multiverse_rules import (CHOICES, ESTIMATORS, OUTCOMES, RULES, TERMS, TIMINGS, Spec,
                                              combinations, refusal)
from analysis.models.timing import TimingError, validate_forward_timing

LINEAR_TOL = 1e-8    # fast path vs linearmodels: coefficients (absolute) and SEs (relative)
LOGIT_TOL = 1e-6     # fast logit vs statsmodels Logit: coefficients, SEs, AMEs and their SEs
ORDERED_TOL = 1e-6   # fast ordered logit vs statsmodels OrderedModel: coefficients and thresholds
ORDERED_SE_TOL = 1e-5  # ... SEs of the workforce terms: statsmodels' Hessian of the ordered logit is numerical
#                        (approx_hess; up to 3e-4 off on the CRE mean columns), so the analytic score and
#                        Hessian are checked on their own to 1e-6 (test_ordered_score_and_hessian_are_exact)


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    return panel, insp, frames(panel, insp)


@pytest.fixture(scope="module")
def mv(data):
    panel, insp, _ = data
    return run_multiverse(panel, insp)


def _design(tds, spec_id: int):
    s = combinations()[spec_id]
    d = build_design(tds[s.timing], s)
    return s, d, outcome_values(tds[s.timing], d, s.outcome)


def _specs(mv, rng, estimators, n_each):
    ids = mv.table.drop_duplicates("spec_id")
    chosen = []
    for e in estimators:
        pool = ids.loc[ids["estimator"] == e, "spec_id"].to_numpy()
        assert len(pool) >= n_each, f"{e}: only {len(pool)} distinct specifications"  # never a vacuous pass
        chosen += list(rng.choice(pool, size=n_each, replace=False))
    return chosen


def _rows(mv, spec_id):
    return mv.table[mv.table["spec_id"] == spec_id].set_index("term").loc[list(TERMS)]


# -- refusal rules -------------------------------------------------------------------------------

def test_capability_matrix_refuses_what_an_estimator_cannot_take():
    for s in combinations():
        est, rule = ESTIMATORS[s.estimator], refusal(s)
        if est.model == "logit" and s.outcome == "grade" or est.model == "ordered" and s.outcome != "grade":
            assert rule == "outcome not admitted by the estimator", s.label
        elif est.absorbs_la and "region" in s.parts:
            assert rule == "time-invariant control under LA fixed effects", s.label
        elif s.sample == "SIF only" and (s.timing != "census before" or est.design == "within"):
            assert rule is not None and rule.startswith("SIF only"), s.label
        else:
            assert rule is None, s.label
    assert {r for r, _, _ in RULES} == {refusal(s) for s in combinations()} - {None}


def test_refused_combinations_are_not_counted_and_never_fitted(mv):
    refused = mv.refused[mv.refused["stage"] == "rule"]
    specs = combinations()
    assert all(refusal(specs[i]) == r for i, r in zip(refused["spec_id"], refused["rule"]))
    assert not set(refused["spec_id"]) & set(mv.table["spec_id"])
    assert len(refused) == sum(refusal(s) is not None for s in specs)


def test_sif_rules_agree_with_the_data(data):
    """The SIF rules are not arbitrary: forced past the rule, the design has no within-council
    variation or almost no rows; and no council has two SIF inspections in the frame."""
    _, _, tds = data
    f = tds["census before"].frame
    assert f[f["framework"] == "SIF"].groupby("la_code").size().max() == 1
    for timing in ("mean of two before", "change over two years"):
        assert (tds[timing].frame["framework"] == "SIF").sum() < 20
    for est in ("fe_linear", "cre_logit"):
        s = Spec(0, est, "good_or_better", "census before", "none", "SIF only")
        with pytest.raises(DataRuleError, match="within LAs|observations"):
            build_design(tds["census before"], s)
    s = Spec(0, "pooled_linear", "grade", "change over two years", "none", "SIF only")
    with pytest.raises(DataRuleError, match="no inspection|observations"):
        build_design(tds[s.timing], s)


def test_region_under_fixed_effects_adds_nothing(data):
    """The capability rule: under LA fixed effects region dummies are absorbed (forced past the
    rule they vanish from the design, which then equals the design without region)."""
    _, _, tds = data
    td = tds["census before"]
    with_region = build_design(td, Spec(0, "fe_linear", "grade", "census before", "region + demand", "all"))
    without = build_design(td, Spec(0, "fe_linear", "grade", "census before", "demand", "all"))
    assert not any(n.startswith("region:") for n in with_region.names)
    assert with_region.names == without.names


def test_separation_refusals_are_real(data, mv):
    """A design refused for separation, fitted anyway by statsmodels, runs off to an infinite
    estimate (the independent check of the data rule)."""
    import statsmodels.api as sm
    _, _, tds = data
    sep = mv.refused[(mv.refused["rule"] == "separation") & (mv.refused["estimator"] == "logit")]
    assert len(sep)
    for spec_id in sep["spec_id"].head(3):
        s = combinations()[int(spec_id)]
        d = build_design(tds[s.timing], s)
        y = tds[s.timing].y[s.outcome][d.rows]
        with pytest.raises(DataRuleError, match="separation"):
            outcome_values(tds[s.timing], d, s.outcome)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.Logit(y, d.x).fit(disp=0, method="newton", maxiter=200)
        assert np.max(np.abs(res.params)) > 10 or not res.mle_retvals["converged"]


# -- deduplication and counts --------------------------------------------------------------------

def test_no_two_distinct_specifications_share_sample_and_design(mv):
    first = mv.table.drop_duplicates("spec_id")
    key = first[["estimator", "outcome", "sample_id", "design_id"]]
    assert not key.duplicated().any()
    assert first["spec_id"].is_unique and (mv.table.groupby("spec_id").size() == len(TERMS)).all()


def test_duplicates_are_the_same_model(data, mv):
    """Every collapsed label, fitted on its own, gives its kept label's sample, design and estimates."""
    _, _, tds = data
    assert len(mv.duplicates)
    for _, r in mv.duplicates.sample(8, random_state=3).iterrows():
        s, d, y = _design(tds, int(r["spec_id"]))
        k, dk, yk = _design(tds, int(r["kept_spec_id"]))
        assert d.key(s.outcome) == dk.key(k.outcome)
        assert np.array_equal(d.x, dk.x) and np.array_equal(y, yk)
        kept = _rows(mv, r["kept_spec_id"])
        if ESTIMATORS[s.estimator].model == "linear":
            beta, _ = fit_linear(d, y[:, None])
            np.testing.assert_allclose(beta[:, 0], kept["estimate"], rtol=0, atol=1e-12)
    # the duplicates in this multiverse: the ILACS-only sample is the whole sample under the change timing
    parts = mv.duplicates["label"].str.split(" | ", regex=False)
    kept = mv.duplicates["kept_label"].str.split(" | ", regex=False)
    assert (parts.str[4] == "ILACS only").all() and (kept.str[4] == "all").all()
    assert (parts.str[2] == "change over two years").all()


def test_counts_add_up(mv):
    c = counts(mv)
    assert c["considered"] == len(combinations()) == int(np.prod([len(v) for v in CHOICES.values()]))
    assert (c["refused_by_rule"]["total"] + c["refused_by_data"]["total"] + c["duplicates"] + c["distinct"]
            == c["considered"])
    assert sum(c["refused_by_rule"]["by_rule"].values()) == c["refused_by_rule"]["total"]
    assert sum(c["refused_by_data"]["by_rule"].values()) == c["refused_by_data"]["total"]
    per = [counts(mv, e) for e in ESTIMATORS]
    for k in ("considered", "duplicates", "distinct"):
        assert sum(p[k] for p in per) == c[k]
    assert c["distinct"] >= 1000
    # every estimator contributes, and Newton failures are rare (they would hide a broken fitter)
    assert all(p["distinct"] > 0 for p in per)
    assert c["refused_by_data"]["by_rule"]["no convergence"] < 0.01 * c["distinct"]
    # a combination counted twice is caught
    bad = type(mv)(mv.table, pd.concat([mv.refused, mv.refused.head(1)]), mv.duplicates, mv.considered)
    with pytest.raises(ValueError, match="do not add up"):
        counts(bad)


def test_summary_shares_by_estimator_equal_the_table(mv):
    s = summarise(mv)
    assert s["counts"]["distinct"] == mv.table["spec_id"].nunique()
    for term in TERMS:
        g = mv.table[mv.table["term"] == term]
        for e, lv in s["by_term"][term]["by_choice"]["estimator"]["levels"].items():
            ge = g[g["estimator"] == e]
            assert lv["n"] == len(ge)
            assert lv["share_significant"] == pytest.approx((ge["p_value"] < 0.05).mean())
            assert lv["share_worse"] == pytest.approx((ge["effect"] > 0).mean())
        ranges = {c: g.groupby(c)["effect"].median().pipe(lambda m: m.max() - m.min()) for c in CHOICES}
        assert s["by_term"][term]["moves_most"] == max(ranges, key=ranges.get)


# -- samples on the census -----------------------------------------------------------------------

def test_worker_level_sample_filters_on_the_census_of_every_regressor(data):
    """Inspections measured at an aggregate census (2015, 2016) are out under every timing, by
    the census year of each regressor, not by the year of fieldwork."""
    panel, _, tds = data
    aggregate_years = set(panel.loc[panel["aggregate_collection"], "year"])
    assert aggregate_years == {2015, 2016}
    for timing, td in tds.items():
        f = td.frame
        earliest = f[list(td.year_columns)].min(axis=1)
        expected = ~earliest.isin(aggregate_years).to_numpy()
        assert np.array_equal(td.masks["worker-level census"], expected), timing
        assert (earliest[td.masks["worker-level census"]] >= 2017).all()
    cb = tds["census before"]
    # the fieldwork-year rule would have kept inspections measured at the 2016 census
    by_fieldwork = cb.frame["inspection_year"] >= 2017
    assert (by_fieldwork & (cb.frame["census_year"] == 2016)).sum() > 0
    assert not (cb.masks["worker-level census"] & (cb.frame["census_year"] == 2016).to_numpy()).any()


def test_frames_are_forward_frames_and_timing_checked(data):
    panel, insp, tds = data
    for timing, lag in TIMINGS.items():
        ff = forward_frame(insp, panel, lag=lag, controls=FRAME_CONTROLS)
        assert list(tds[timing].ids) == list(ff.data["inspection_id"])
        validate_forward_timing(tds[timing].frame, tds[timing].year_columns)
    broken = tds["census before"].frame.copy()
    broken["census_year"] += 1
    with pytest.raises(TimingError):
        validate_forward_timing(broken, ("census_year",))


def test_other_samples(data):
    panel, insp, tds = data
    td = tds["census before"]
    f = td.frame
    london = insp.set_index("inspection_id").loc[f["inspection_id"], "london"].astype(bool).to_numpy()
    assert np.array_equal(td.masks["excl. London"], ~london)
    joint = panel.set_index(["la_code", "year"])["joint_return"]
    expected = ~np.array([joint[(la, c)] for la, c in zip(f["la_code"], f["census_year"])], bool)
    assert np.array_equal(td.masks["excl. joint returns"], expected)
    assert np.array_equal(td.masks["SIF only"], (f["framework"] == "SIF").to_numpy())


def test_previous_grade_control_is_dummies_on_reinspections(data):
    _, _, tds = data
    td = tds["census before"]
    d = build_design(td, Spec(0, "pooled_linear", "grade", "census before", "previous grade", "all"))
    prev = td.frame["prev_grade_num"].to_numpy()[d.rows]
    assert not np.isnan(prev).any() and len(d.rows) == int(td.frame["prev_grade_num"].notna().sum())
    # Requires improvement (3) and Inadequate (4) against Outstanding or Good (1, 2), written out here
    ri, inad = d.x[:, d.names.index("prev_requires_improvement")], d.x[:, d.names.index("prev_inadequate")]
    assert np.array_equal(ri, (prev == 3).astype(float)) and np.array_equal(inad, (prev == 4).astype(float))
    assert set(PREVIOUS_GRADE_DUMMIES) == {"prev_requires_improvement", "prev_inadequate"}


# -- fast paths against the libraries ------------------------------------------------------------

def test_linear_fast_path_equals_linearmodels(data, mv):
    _, _, tds = data
    rng = np.random.default_rng(20261203)
    for spec_id in _specs(mv, rng, ["pooled_linear", "fe_linear"], 8):
        s, d, y = _design(tds, spec_id)
        beta, se = fit_linear(d, y[:, None])
        ref = fit_spec_linearmodels(d, y)
        names = d.names[:len(TERMS)]
        np.testing.assert_allclose(beta[:, 0], ref.params[names].to_numpy(), rtol=0, atol=LINEAR_TOL)
        np.testing.assert_allclose(se[:, 0], ref.std_errors[names].to_numpy(), rtol=LINEAR_TOL)
        assert ref.nobs == len(d.rows)
        np.testing.assert_allclose(_rows(mv, spec_id)["estimate"], beta[:, 0], rtol=0, atol=1e-14)


def test_logit_fast_path_equals_statsmodels(data, mv):
    import statsmodels.api as sm
    _, _, tds = data
    rng = np.random.default_rng(7)
    for spec_id in _specs(mv, rng, ["logit", "cre_logit"], 5):
        s, d, y = _design(tds, spec_id)
        fit = fast_logit.fit_logit(d.x, y, d.starts)
        groups = pd.factorize(d.la)[0]
        ref = sm.Logit(y, d.x).fit(disp=0, method="newton", tol=1e-12, maxiter=100,
                                   cov_type="cluster", cov_kwds={"groups": groups})
        np.testing.assert_allclose(fit.params, ref.params, rtol=0, atol=LOGIT_TOL)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=LOGIT_TOL)
        ame, ame_se = fast_logit.logit_ame(d.x, fit, list(range(len(TERMS))), d.sd)
        mf = ref.get_margeff(at="overall", method="dydx")
        # statsmodels leaves the constant out of its marginal effects; the workforce columns come first
        np.testing.assert_allclose(ame, mf.margeff[:len(TERMS)] * d.sd, rtol=LOGIT_TOL)
        np.testing.assert_allclose(ame_se, mf.margeff_se[:len(TERMS)] * d.sd, rtol=LOGIT_TOL)
        rows = _rows(mv, spec_id)
        np.testing.assert_allclose(rows["ame"], SIGN[s.outcome] * ame, rtol=1e-6)


def _ologit_reference(x, y, groups):
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = OrderedModel(y, x, distr="logit").fit(method="bfgs", maxiter=20000, gtol=1e-10, disp=False,
                                                   cov_type="cluster", cov_kwds={"groups": groups})
    k = x.shape[1]
    th = np.asarray(res.params)[k:]
    return res, np.asarray(res.params)[:k], np.cumsum(np.r_[th[0], np.exp(th[1:])])


def test_ordered_logit_fast_path_equals_statsmodels(data, mv):
    _, _, tds = data
    rng = np.random.default_rng(11)
    for spec_id in _specs(mv, rng, ["ordered_logit", "cre_ordered_logit"], 3):
        s, d, y = _design(tds, spec_id)
        yc = y.astype(int) - 1
        fit = fast_logit.fit_ordered_logit(d.x, yc, d.starts, 4)
        k = d.x.shape[1]
        ref, beta, cuts = _ologit_reference(d.x, yc, pd.factorize(d.la)[0])
        np.testing.assert_allclose(fit.params[:k], beta, rtol=0, atol=ORDERED_TOL)
        np.testing.assert_allclose(fit.params[k:], cuts, rtol=0, atol=ORDERED_TOL)
        w = len(TERMS)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov))[:w], np.asarray(ref.bse)[:w], rtol=ORDERED_SE_TOL)


def test_ordered_score_and_hessian_are_exact(data, mv):
    """The analytic per-row score against a central difference of statsmodels' ordered-logit
    log-likelihood (its own likelihood code), and the analytic information against a central
    difference of that score."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_fprime
    _, _, tds = data
    spec_id = int(mv.table.loc[mv.table["estimator"] == "cre_ordered_logit", "spec_id"].iloc[0])
    s, d, y = _design(tds, spec_id)
    yc = y.astype(int) - 1
    fit = fast_logit.fit_ordered_logit(d.x, yc, d.starts, 4)
    k = d.x.shape[1]
    model = OrderedModel(yc, d.x, distr="logit")

    def loglikeobs(params):  # (beta, c) -> statsmodels' (beta, c_1, log increments)
        c = params[k:]
        return model.loglikeobs(np.r_[params[:k], c[0], np.log(np.diff(c))])

    rng = np.random.default_rng(2)
    at = fit.params + np.r_[rng.normal(0, 0.05, k), 0.0, 0.1, 0.2]  # away from the optimum too
    score, info, llf = fast_logit.ordered_score_info(d.x, yc, at)
    assert llf == pytest.approx(loglikeobs(at).sum(), rel=1e-12)
    np.testing.assert_allclose(score, approx_fprime(at, loglikeobs, centered=True), rtol=1e-6, atol=1e-6)
    numeric = approx_fprime(at, lambda p: fast_logit.ordered_score_info(d.x, yc, p)[0].sum(axis=0), centered=True)
    np.testing.assert_allclose(info, -numeric, rtol=1e-6, atol=1e-6 * np.abs(info).max())


def test_ordered_ame_is_the_derivative_of_the_expected_grade(data, mv):
    """The AME on the expected grade against a numerical derivative of statsmodels' predicted
    probabilities, and its delta-method SE against a numerical gradient."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    _, _, tds = data
    spec_id = int(mv.table.loc[mv.table["estimator"] == "ordered_logit", "spec_id"].iloc[0])
    s, d, y = _design(tds, spec_id)
    fit = fast_logit.fit_ordered_logit(d.x, y.astype(int) - 1, d.starts, 4)
    cols = list(range(len(TERMS)))
    ame, se = fast_logit.ordered_ame_expected(d.x, fit, cols, d.sd)
    k = d.x.shape[1]
    model = OrderedModel(y.astype(int) - 1, d.x, distr="logit")
    cuts = fit.params[k:]
    theta = np.r_[fit.params[:k], cuts[0], np.log(np.diff(cuts))]

    def expected(x, th):
        return (model.predict(th, exog=x) @ np.arange(1, 5)).mean()

    h = 1e-5
    for j in cols:
        step = np.zeros_like(d.x)
        step[:, j] = h * d.sd[j]
        num = (expected(d.x + step, theta) - expected(d.x - step, theta)) / (2 * h)
        assert ame[j] == pytest.approx(num, rel=1e-6)
    # delta method in the (beta, c) parametrisation
    grad = np.zeros((len(cols), len(fit.params)))
    for m in range(len(fit.params)):
        e = np.zeros(len(fit.params))
        e[m] = 1e-6
        hi = fast_logit.ordered_ame_expected(d.x, fast_logit.NewtonFit(fit.params + e, fit.cov, 0, 0, True), cols, d.sd)[0]
        lo = fast_logit.ordered_ame_expected(d.x, fast_logit.NewtonFit(fit.params - e, fit.cov, 0, 0, True), cols, d.sd)[0]
        grad[:, m] = (hi - lo) / 2e-6
    np.testing.assert_allclose(se, np.sqrt(np.einsum("jk,kl,jl->j", grad, fit.cov, grad)), rtol=1e-5)


def test_newton_recovers_a_known_effect():
    """Simulation with known coefficients: the logit and ordered-logit fits recover them."""
    rng = np.random.default_rng(5)
    n, g = 6000, 600
    groups = np.sort(rng.integers(0, g, n))
    starts = fast_logit.cluster_starts(groups)
    x = rng.normal(size=(n, 3))
    beta = np.array([0.8, -0.5, 0.0])
    yb = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + x @ beta)))).astype(float)
    fit = fast_logit.fit_logit(np.column_stack([x, np.ones(n)]), yb, starts)
    assert np.all(np.abs(fit.params[:3] - beta) < 4 * np.sqrt(np.diag(fit.cov))[:3])
    latent = x @ beta + rng.logistic(size=n)
    yo = np.digitize(latent, [-1.0, 0.2, 1.5])
    fo = fast_logit.fit_ordered_logit(x, yo, starts, 4)
    se = np.sqrt(np.diag(fo.cov))
    assert np.all(np.abs(fo.params - np.r_[beta, -1.0, 0.2, 1.5]) < 4 * se)


def test_a_warm_start_worse_than_zero_is_not_used():
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    y = (rng.random(300) < 0.4).astype(float)
    starts = fast_logit.cluster_starts(np.arange(300))
    cold = fast_logit.fit_logit(x, y, starts)
    warm = fast_logit.fit_logit(x, y, starts, start=np.array([0.0, 40.0, -40.0]))
    assert warm.converged and np.allclose(warm.params, cold.params, atol=1e-10)
    assert warm.iterations == cold.iterations  # it started from zero, not from the bad start
    good = fast_logit.fit_logit(x, y, starts, start=cold.params + 1e-3)
    assert good.iterations < cold.iterations  # a start near the optimum is used


# -- the comparable scale ------------------------------------------------------------------------

def test_effect_is_the_standardised_ame_signed_worse(data, mv):
    _, _, tds = data
    for est in ("pooled_linear", "fe_linear"):
        for outcome in OUTCOMES:
            r = mv.table[(mv.table["estimator"] == est) & (mv.table["outcome"] == outcome)].iloc[0]
            s, d, y = _design(tds, int(r["spec_id"]))
            x = d.x_raw[:, TERMS.index(r["term"])]
            expected = SIGN[outcome] * r["estimate"] * x.std(ddof=1) / y.std(ddof=1)
            assert r["effect"] == pytest.approx(expected, rel=1e-12)
    assert SIGN == {"grade": 1.0, "good_or_better": -1.0, "inadequate": 1.0}
    t = mv.table
    assert np.allclose(t["effect_high"] - t["effect"], t["effect"] - t["effect_low"])
    assert ((t["p_value"] < 0.05) == ((t["effect_low"] > 0) | (t["effect_high"] < 0))).all()
