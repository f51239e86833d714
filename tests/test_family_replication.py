"""Cross-family Holm adjustment (hand-written = statsmodels) and the like-for-like Webb et al.
replication (sample rules, spending terms, the engine against the independent multilevel logit)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.derived import load_derived
from analysis.models.family_tests import HEADLINE_MODELS, PRIMARY_SENSITIVITIES, SENSITIVITIES, family_table, holm
from analysis.models.multilevel import RandomInterceptLogit
from analysis.models.replication_webb import SPEND, webb_like_for_like, webb_sample
from analysis.models.results import FitResult
from analysis.models.forward_data import WORKFORCE


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=25) ** 2
    p[3] = p[7]  # a tie
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1], rtol=0, atol=1e-15)


def test_holm_refuses_bad_p():
    with pytest.raises(ValueError):
        holm([0.1, np.nan])
    with pytest.raises(ValueError):
        holm([0.1, 1.2])


def _fake_fits(p_by_model):
    fits = []
    for mid, p in p_by_model.items():
        coefs = pd.DataFrame({"p_value": [p] * 4}, index=list(WORKFORCE))
        fits.append(FitResult(mid, "forward", {}, coefs, {}))
    return fits


def test_family_spans_models_and_adjusts_sensitivities():
    mids = {**{m: 0.01 for m in HEADLINE_MODELS}, **{m: 0.002 for m, _ in SENSITIVITIES}}
    fits = _fake_fits(mids)
    ame = {t: {"p_value": 0.04} for t in WORKFORCE}
    dyn = {"models": {"good_or_better": {"ame_pp": ame}, "grade": {"ame_pp": ame}}}
    sub = {"outcomes": {k: {"ame_pp": ame} for k in ("overall", "help_protection", "in_care", "leadership")}}
    terms = {t: {"p_value": 0.03} for t in WORKFORCE}
    prim = {"terms": terms, "sensitivities": {n: {"terms": {t: {"p_value": 0.002} for t in WORKFORCE}}
                                              for n in ("without_feedback_controls", "census_2017_plus")}}
    tab = family_table(fits, dyn, sub, prim)
    assert np.allclose(tab.loc[tab["model"] == "primary_logit_good_plus", "p_value"], 0.03)
    assert (tab["group"] == "headline").sum() == 4 * (len(HEADLINE_MODELS) + 3)
    assert len(tab) == 28 + len(SENSITIVITIES) + len(PRIMARY_SENSITIVITIES) + 12 == 45
    # across the family, not within one model: a p of 0.002 among 45 tests is adjusted by 45
    sens = tab[tab["group"] == "sensitivity"]
    assert len(sens) == 5
    assert np.allclose(sens["p_holm_all"], 45 * 0.002)
    assert sens["p_holm_headline"].isna().all()


def test_results_json_quotes_adjusted_p_for_every_sensitivity():
    doc = json.loads((__import__("analysis.run_models", fromlist=["RESULTS_DIR"]).RESULTS_DIR / "results.json").read_text())
    tests = doc["family_tests"]["tests"]
    for mid, term in SENSITIVITIES:
        r = tests[f"{mid}:{term}"]
        assert r["p_holm_all"] >= r["p_value"]
    for name, term in PRIMARY_SENSITIVITIES:  # the primary's sensitivities the summary quotes
        r = tests[f"primary_{name}:{term}"]
        assert abs(r["p_value"] - doc["primary"]["sensitivities"][name]["terms"][term]["p_value"]) < 1e-10
        assert r["p_holm_all"] >= r["p_value"]
    assert doc["family_tests"]["n_all"] == len(tests)


def test_family_primary_entry_is_the_primary_design():
    """One primary model: the family's primary entries are results["primary"] (to 1e-10), and the
    sub-judgement design's overall Good+ refit (same design function, own Newton fit) equals it."""
    doc = json.loads((__import__("analysis.run_models", fromlist=["RESULTS_DIR"]).RESULTS_DIR / "results.json").read_text())
    tests, prim = doc["family_tests"]["tests"], doc["primary"]
    overall = doc["subjudgements"]["outcomes"]["overall"]
    assert overall["nobs"] == prim["n"]
    for t in WORKFORCE:
        assert abs(tests[f"primary_logit_good_plus:{t}"]["p_value"] - prim["terms"][t]["p_value"]) < 1e-10
        assert abs(overall["ame_pp"][t]["p_value"] - prim["terms"][t]["p_value"]) < 1e-8
        assert abs(overall["ame_pp"][t]["ame_pp"] - prim["terms"][t]["ame_pp"]) < 1e-6
        assert abs(overall["ame_pp"][t]["ci_low"] - prim["terms"][t]["ci_low"]) < 1e-4


def test_subjudgement_design_is_the_primary_design_matrix():
    from analysis.models.forward import fit_forward_logit
    from analysis.models.forward_checks import variant_frame
    from analysis.models.forward_data import DEFAULT_CONTROLS, available_controls
    from analysis.models.frame import inspection_frame
    from analysis.models.subjudgements import primary_frame
    panel, insp = load_derived()
    kept, _ = available_controls(DEFAULT_CONTROLS, panel)
    ff = inspection_frame(panel, insp, controls=kept)
    fit, res = fit_forward_logit(variant_frame(ff, False, True))
    _, _, x = primary_frame(ff, "good_or_better")
    assert list(x.columns) == list(res.model.exog_names)
    np.testing.assert_array_equal(x.to_numpy(float), np.asarray(res.model.exog))


@pytest.fixture(scope="module")
def data():
    return load_derived()


def test_webb_sample_rules(data):
    panel, insp = data
    d = webb_sample(insp, panel)
    assert d["inspection_year"].max() <= 2019
    assert set(d["framework"]) == {"SIF", "ILACS"}
    assert not d["small_la"].eq(True).any()
    assert d["imd_decile"].notna().all()
    assert d["inspection_year"].min() == 2013  # the LA's decile is kept for inspections before the first census


def test_webb_closest_has_both_frameworks_and_spending_and_matches_multilevel(data):
    panel, insp = data
    out = webb_like_for_like(insp, panel)
    c = out["closest"]
    assert set(c["odds_ratios"]) == {"imd_decile", "ilacs", *SPEND.values()}
    assert set(c["by_framework"]) == {"SIF", "ILACS"}
    assert c["nobs"] + out["n_dropped_no_spending"] == out["no_spending"]["nobs"]
    # the engine against the independent random-intercept logit (numerical derivatives)
    d = webb_sample(insp, panel).dropna(subset=list(SPEND.values())).reset_index(drop=True)
    x = pd.concat([pd.Series(1.0, index=d.index, name="const"), d[["imd_decile", "ilacs", *SPEND.values()]]], axis=1)
    ref = RandomInterceptLogit(d["good_plus"], x, d["la_code"]).fit()
    assert np.exp(ref.params["imd_decile"]) == pytest.approx(c["odds_ratios"]["imd_decile"]["odds_ratio"], abs=1e-3)
    assert ref.sigma == pytest.approx(c["sigma_la"], abs=1e-3)
    assert {r["aspect"] for r in out["differences"]} >= {"inspections", "frameworks", "spending", "estimator"}
