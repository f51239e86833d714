"""Sub-judgement outcomes and the agency/vacancy overlap, checked against independent computations
(statsmodels Logit margins; VIF and correlation by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.derived import load_derived
from analysis.models import overlap
from analysis.models.forward_data import DEFAULT_CONTROLS, available_controls
from analysis.models.frame import inspection_frame
from analysis.models.magnitudes import CHANGES
from analysis.models.subjudgements import OUTCOMES, fit_outcome, fit_subjudgements, primary_frame


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    kept, _ = available_controls(DEFAULT_CONTROLS, panel)
    return panel, insp, inspection_frame(panel, insp, controls=kept)


@pytest.mark.parametrize("key", ["help_protection", "in_care", "leadership"])
def test_subjudgement_ame_equals_statsmodels_margins(data, key):
    _, _, ff = data
    col = OUTCOMES[key]
    ours = fit_outcome(ff, col)
    f, _, x = primary_frame(ff, col)
    d = f.data
    res = sm.Logit(d[col].to_numpy(float), x).fit(disp=False, method="newton", maxiter=100, cov_type="cluster",
                                                 cov_kwds={"groups": pd.factorize(d["la_code"])[0]})
    mf = res.get_margeff(at="overall", method="dydx")
    names = list(x.columns)[1:]  # margeff leaves out the constant
    for t in ("agency_rate", "caseload", "vacancy_rate", "turnover_rate"):
        j = names.index(t)
        assert abs(ours["ame_pp"][t]["marginal_pp"] - 100 * CHANGES[t] * mf.margeff[j]) < 1e-6
        assert abs(ours["ame_pp"][t]["marginal_se"] - 100 * CHANGES[t] * mf.margeff_se[j]) < 1e-4
        # the discrete change at statsmodels' estimates, by hand
        xs = np.asarray(x, float)
        x1 = xs.copy()
        x1[:, names.index(t) + 1] += CHANGES[t]
        bp = np.asarray(res.params)
        by_hand = 100 * np.mean(1 / (1 + np.exp(-x1 @ bp)) - 1 / (1 + np.exp(-xs @ bp)))
        assert abs(ours["ame_pp"][t]["ame_pp"] - by_hand) < 1e-6
        assert abs(ours["ame_pp"][t]["p_value"] - np.asarray(res.pvalues)[names.index(t) + 1]) < 1e-8
    assert ours["share_good_plus"] == pytest.approx(d[col].mean())


def test_every_subjudgement_is_fitted_on_its_own_outcome(data):
    _, _, ff = data
    out = fit_subjudgements(ff)["outcomes"]
    assert set(out) == {"overall", "help_protection", "in_care", "leadership"}
    shares = {k: v["share_good_plus"] for k, v in out.items()}
    assert len(set(round(s, 6) for s in shares.values())) == 4
    assert shares["overall"] == pytest.approx((ff.data["grade"] <= 2).mean())


def test_overlap_statistics_by_hand(data):
    panel, _, ff = data
    p = panel[(panel["year"] >= 2017) & ~panel["small_la"].eq(True)].dropna(subset=["agency_rate", "vacancy_rate"])
    o = overlap.panel_overlap(panel)
    assert o["pearson"] == pytest.approx(np.corrcoef(p["agency_rate"], p["vacancy_rate"])[0, 1])
    assert o["n_equal_rates"] == int(np.sum(p["agency_rate"].to_numpy() == p["vacancy_rate"].to_numpy()))
    v = overlap.vifs(ff)
    x = ff.data[list(ff.covariates)].astype(float)
    for term in ("agency_rate", "vacancy_rate", "caseload"):
        others = np.column_stack([np.ones(len(x)), x.drop(columns=term).to_numpy()])
        yv = x[term].to_numpy()
        resid = yv - others @ np.linalg.lstsq(others, yv, rcond=None)[0]
        r2 = 1 - resid @ resid / np.sum((yv - yv.mean()) ** 2)
        assert v[term] == pytest.approx(1 / (1 - r2), rel=1e-8)


def test_decomposition_fits_each_alone_and_rule_follows_vif(data, monkeypatch):
    panel, _, ff = data
    out = overlap.fit_overlap(panel, ff)
    dec = out["decomposition"]
    assert set(dec["agency_alone"]) == {"agency_rate", "nobs"}
    assert set(dec["vacancy_alone"]) == {"vacancy_rate", "nobs"}
    assert dec["agency_alone"]["agency_rate"]["ame_pp"] != dec["joint"]["agency_rate"]["ame_pp"]
    assert out["primary"] == ("joint" if max(out["vif"]["agency_rate"], out["vif"]["vacancy_rate"]) <= 10 else "agency_alone")
    monkeypatch.setattr(overlap, "VIF_RULE", 1.0)
    assert overlap.fit_overlap(panel, ff)["primary"] == "agency_alone"
