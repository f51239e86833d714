"""Honest (trend-robust) event-study inference checked against the published example of the R
package HonestDiD (Medicaid expansion, README of asheshrambachan/HonestDiD) and against
textbook special cases.

The example's data (``tests/data/ehec_medicaid_2008_2015.csv``: share of low-income childless
adults with health insurance by state and year, 2008-2015, states first treated in 2015 dropped)
are the Mixtape Sessions "ehec" teaching data as shipped in the PyPI package moderndid 0.2.0
(``moderndid/core/datasets/ehec_data.pkl.gz``). The TWFE event study and its covariance are
re-estimated here with fixest's CR1 small-sample factor, as in the README.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import paths
from analysis.models.honest_did import (EventStudyEstimates, breakdown, extrapolation_weights,
                                        folded_normal_quantile, original_interval, rm_interval, sd_flci,
                                        truncnorm_quantile)

EHEC = paths.ROOT / "tests" / "data" / "ehec_medicaid_2008_2015.csv"
#: published in the HonestDiD README (R): createSensitivityResults_relativeMagnitudes, C-LF, l = e1
R_RM = {0.5: (0.0240, 0.0672), 1.0: (0.0170, 0.0720), 1.5: (0.00824, 0.0797), 2.0: (-0.000916, 0.0881)}
#: createSensitivityResults (FLCI) for M = 0, 0.01, ..., 0.05
R_SD = {0.00: (0.0259, 0.0607), 0.01: (0.0132, 0.0787), 0.02: (0.00286, 0.0907),
        0.03: (-0.00714, 0.101), 0.04: (-0.0171, 0.111), 0.05: (-0.0271, 0.121)}


def _half_unit(x: float) -> float:
    """Half a unit in the last of the three significant digits the README prints."""
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(x))) - 2)


def _within(a: np.ndarray, b: np.ndarray, fe: np.ndarray, sweeps: int = 500) -> np.ndarray:
    """Two-way within transformation by alternating projections (balanced panel: exact)."""
    out = a.copy()
    for _ in range(sweeps):
        out = out - pd.DataFrame(out).groupby(b).transform("mean").to_numpy()
        out = out - pd.DataFrame(out).groupby(fe).transform("mean").to_numpy()
    return out


@pytest.fixture(scope="module")
def medicaid() -> EventStudyEstimates:
    """TWFE event study of insurance coverage on 2014 expansion (ref. 2013), state-clustered CR1."""
    d = pd.read_csv(EHEC)
    years = [2008, 2009, 2010, 2011, 2012, 2014, 2015]
    treated = (d["yexp2"] == 2014).to_numpy(float)
    x = np.column_stack([treated * (d["year"] == y) for y in years])
    x_w = _within(x, d["stfips"].to_numpy(), d["year"].to_numpy())
    y_w = _within(d[["dins"]].to_numpy(), d["stfips"].to_numpy(), d["year"].to_numpy())[:, 0]
    b, *_ = np.linalg.lstsq(x_w, y_w, rcond=None)
    e = y_w - x_w @ b
    bread = np.linalg.inv(x_w.T @ x_w)
    scores = pd.DataFrame(x_w * e[:, None]).groupby(d["stfips"].to_numpy()).sum().to_numpy()
    n, g = len(d), d["stfips"].nunique()
    k = len(years) + d["year"].nunique() - 1  # fixest: state effects nested in the clusters
    v = bread @ scores.T @ scores @ bread * g / (g - 1) * (n - 1) / (n - k)
    return EventStudyEstimates(b, v, 5, 2)


def test_medicaid_event_study_is_the_published_one(medicaid):
    # the README's coefficients (3 decimals) and the original interval for 2014
    np.testing.assert_allclose(medicaid.betahat, [-0.005, -0.011, -0.003, -0.001, 0.000, 0.046, 0.069], atol=6e-4)
    lo, hi = original_interval(medicaid, medicaid.target(0))
    assert abs(lo - 0.0285) < 1e-4 and abs(hi - 0.0644) < 1e-4


@pytest.mark.parametrize("m", sorted(R_SD))
def test_smoothness_flci_reproduces_the_published_example(medicaid, m):
    """Each end within 1e-4 (1.1% of the SE) of the printed value's rounding interval, and never longer than the
    published interval: the R package minimises the half-length over a grid of standard
    deviations, this module solves the convex programme (at M = 0 exactly), so it may be a
    little shorter (M = 0: 0.0260 against the printed 0.0259)."""
    r = sd_flci(medicaid, medicaid.target(0), m)
    lo, hi = R_SD[m]
    for got, want in ((r["lo"], lo), (r["hi"], hi)):
        assert abs(got - want) < _half_unit(want) + 1e-4, (m, got, want)
    assert r["hi"] - r["lo"] <= hi - lo + _half_unit(lo) + _half_unit(hi)


@pytest.mark.parametrize("mbar", sorted(R_RM))
def test_relative_magnitudes_reproduce_the_published_example(medicaid, mbar):
    """Within 3e-4 (3% of the coefficient's SE): the least-favourable critical value is simulated
    (1,000 draws, as in the package, but from another random-number generator)."""
    lo, hi = rm_interval(medicaid, medicaid.target(0), mbar)
    assert abs(lo - R_RM[mbar][0]) < 3e-4 and abs(hi - R_RM[mbar][1]) < 3e-4, (mbar, lo, hi)


def test_published_breakdown_value(medicaid):
    """The README: the effect stays significant up to Mbar just below 2 and M just below 0.03."""
    l = medicaid.target(0)
    b_rm = breakdown(lambda x: rm_interval(medicaid, l, x), 4.0, tol=0.01)
    b_sd = breakdown(lambda x: (lambda r: (r["lo"], r["hi"]))(sd_flci(medicaid, l, x)), 0.2, tol=1e-4)
    assert 1.5 < b_rm < 2.0
    assert 0.02 < b_sd < 0.03


def test_relative_magnitude_sets_grow_with_mbar(medicaid):
    l = medicaid.target(1)
    ivs = [rm_interval(medicaid, l, mb) for mb in (0.0, 0.5, 1.0, 2.0)]
    assert all(a[0] >= b[0] - 1e-9 and a[1] <= b[1] + 1e-9 for a, b in zip(ivs, ivs[1:]))


def test_flci_at_zero_is_the_minimum_variance_linear_extrapolation(medicaid):
    """M = 0: the shortest interval among trend-invariant estimators is the GLS extrapolation."""
    l = medicaid.target(0)
    r = sd_flci(medicaid, l, 0.0)
    t = np.r_[np.arange(-5, 0), 1, 2].astype(float)
    assert abs(r["v"] @ t) < 1e-10 and r["max_bias"] == 0
    # any other trend-invariant weights have at least its variance
    rng = np.random.default_rng(3)
    for _ in range(20):
        w = rng.normal(size=5)
        w -= t[:5] * (w @ t[:5] + t[5:] @ l) / (t[:5] @ t[:5])
        v = np.r_[w, l]
        assert v @ medicaid.sigma @ v >= r["v"] @ medicaid.sigma @ r["v"] - 1e-15
    assert abs(r["half_length"] - stats.norm.ppf(0.975) * np.sqrt(r["v"] @ medicaid.sigma @ r["v"])) < 1e-12


def test_extrapolation_weights_by_hand():
    # two-point: beta_0 minus the line through (-2, b_-2) and (-1, 0) at 0, i.e. beta_0 + b_-2
    v_pre, l = extrapolation_weights(3, np.array([1.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0]), 1)
    np.testing.assert_allclose(v_pre, [0.0, 0.0, 1.0])
    # least-squares line through (-4,b1), (-3,b2), (-2,b3), (-1,0) evaluated at event time 1
    b = np.array([-3.0, -1.0, -2.0])
    v_pre, _ = extrapolation_weights(3, np.array([1.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0]), 3)
    slope, icpt = np.polyfit([-3.0, -2.0, -1.0, 0.0], np.r_[b, 0.0], 1)
    assert abs(-(v_pre @ b) - (icpt + slope * 1.0)) < 1e-12


def test_quantile_helpers_against_scipy():
    for t in (0.0, 0.4, 1.3, 5.0, 40.0):
        assert abs(folded_normal_quantile(0.95, t) - stats.foldnorm.ppf(0.95, t)) < 1e-9
    lo, hi = np.array([-np.inf, -1.0, 2.0, 7.5]), np.array([1.0, np.inf, 3.0, 9.0])
    np.testing.assert_allclose(truncnorm_quantile(0.9, lo, hi), stats.truncnorm.ppf(0.9, lo, hi), rtol=1e-9)


def test_invalid_inputs_are_refused():
    with pytest.raises(ValueError, match="symmetric"):
        EventStudyEstimates(np.zeros(4), np.array([[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]]), 2, 2)
    with pytest.raises(ValueError, match="4 entries"):
        EventStudyEstimates(np.zeros(3), np.eye(4), 2, 2)
    with pytest.raises(ValueError, match="finite"):
        EventStudyEstimates(np.array([0, np.nan, 0, 0]), np.eye(4), 2, 2)
    es = EventStudyEstimates(np.zeros(4), np.eye(4), 2, 2)
    with pytest.raises(ValueError, match="Mbar"):
        rm_interval(es, es.target(0), -1)
    with pytest.raises(ValueError, match="M must"):
        sd_flci(es, es.target(0), -0.1)


def test_relative_magnitudes_are_sign_symmetric(medicaid):
    """Flipping every coefficient flips the set: the union runs over both signs of the largest
    pre-period change (the Medicaid pre-trend alone would not notice a missing sign)."""
    flipped = EventStudyEstimates(-medicaid.betahat, medicaid.sigma, 5, 2)
    for mbar in (0.5, 1.5):
        lo, hi = rm_interval(medicaid, medicaid.target(0), mbar)
        f_lo, f_hi = rm_interval(flipped, flipped.target(0), mbar)
        assert abs(f_lo + hi) < 3e-4 and abs(f_hi + lo) < 3e-4, (mbar, lo, hi, f_lo, f_hi)
