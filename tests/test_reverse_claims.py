"""The reverse design's worded claims hold in the results (report/summary.qmd "Which way does it
run?", report/reverse.qmd, report/limitations.qmd): each sentence that words an estimate ("already
rising", "survives departures", "did not change clearly", "more posts, not fewer staff",
"depends on how that trend is drawn") is checked against results.json, so that a change in the
data or the models that falsifies it fails the build."""

from __future__ import annotations

import json
import subprocess

import pytest

from analysis import paths

RESULTS = paths.ROOT / "report" / "outputs" / "results" / "results.json"
SUMMARY = paths.ROOT / "report" / "summary.qmd"
REVERSE = paths.ROOT / "report" / "reverse.qmd"


@pytest.fixture(scope="module")
def res():
    subprocess.run(["make", "results"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(RESULTS.read_text())


def _m(res, mid):
    return next(m for m in res["models"] if m["model_id"] == mid)


def _k0(res, outcome, suffix=""):
    return _m(res, f"rev_cs_never_absorbing_{outcome}{suffix}")["coefficients"]["k=0"]


def _h(res, outcome, suffix=""):
    return res["reverse"]["honest"][f"rev_cs_never_absorbing_{outcome}{suffix}"]


def excludes_zero(lo, hi) -> bool:
    return lo > 0 or hi < 0


def test_agency_rose_before_the_judgement_and_its_rise_is_not_trend_robust(res):
    """'already been rising ... cannot be attributed': the pre-trend test fails, the pre-event
    estimates are negative and increasing towards k = -1, and the breakdown value is below 1
    (at the benchmark Mbar the interval includes zero)."""
    m = _m(res, "rev_cs_never_absorbing_agency_rate")
    assert m["stats"]["pre_trend_fail"] and m["stats"]["pre_trend_wald"]["p_value"] < 0.05
    co = m["coefficients"]
    assert co["k=-4"]["estimate"] < co["k=-2"]["estimate"] < 0
    h = _h(res, "agency_rate")
    assert h["breakdown_mbar_k0"] is not None and h["breakdown_mbar_k0"] < res["reverse"]["benchmarks"]["mbar"]
    rm = next(r for r in h["by_k"]["k=0"]["relative_magnitudes"] if r["mbar"] == res["reverse"]["benchmarks"]["mbar"])
    assert not excludes_zero(rm["lo"], rm["hi"])
    text = SUMMARY.read_text(encoding="utf-8")
    assert "cannot be attributed to the judgement" in text


def test_agency_beyond_trend_depends_on_how_the_trend_is_drawn(res):
    """'between {two_k0} and {lin_k0} ... depending on how that line is drawn': the two-point
    extrapolation is the smaller, its interval includes zero, the four-point one excludes it."""
    e = _h(res, "agency_rate")["extrapolation_k0"]
    two, lin = e["two_point_k-2_to_-1"], e["linear_k-4_to_-1"]
    assert two["estimate"] < lin["estimate"]
    assert not excludes_zero(two["ci_low"], two["ci_high"]) and excludes_zero(lin["ci_low"], lin["ci_high"])


def test_vacancy_rise_survives_moderate_departures_from_parallel_trends(res):
    """'no clear earlier trend ... survives departures up to {bd} times': the pre-trend test does
    not reject, the conventional interval excludes zero and the breakdown value is at least 1."""
    m = _m(res, "rev_cs_never_absorbing_vacancy_rate")
    assert not m["stats"]["pre_trend_fail"]
    k0 = m["coefficients"]["k=0"]
    assert k0["ci_low"] > 0
    assert _h(res, "vacancy_rate")["breakdown_mbar_k0"] >= res["reverse"]["benchmarks"]["mbar"]


def test_more_posts_not_fewer_staff(res):
    """'more funded posts ... staff in post did not change clearly': posts rise with an interval
    above zero and a breakdown value of at least 1; the staff-in-post interval includes zero and
    its estimate is small next to the rise in posts."""
    posts, inpost = _k0(res, "log_posts"), _k0(res, "log_inpost")
    assert posts["ci_low"] > 0
    assert _h(res, "log_posts")["breakdown_mbar_k0"] >= res["reverse"]["benchmarks"]["mbar"]
    assert inpost["ci_low"] < 0 < inpost["ci_high"]
    assert abs(inpost["estimate"]) < posts["estimate"] / 4
    # and the same holds when the overlapping events are kept
    assert _k0(res, "log_posts", "_overlap")["ci_low"] > 0
    k = _k0(res, "log_inpost", "_overlap")
    assert k["ci_low"] < 0 < k["ci_high"]


def test_turnover_shows_no_clear_change(res):
    k0 = _k0(res, "turnover_rate")
    assert k0["ci_low"] < 0 < k0["ci_high"]


def test_census_2017_choice_statements(res):
    """Section text: where the same councils have a complete record the post-event estimates are
    the same under the choice (vacancy rate); for agency use the number of councils differs."""
    v, v17 = _k0(res, "vacancy_rate"), _k0(res, "vacancy_rate", "_2017")
    assert v["estimate"] == pytest.approx(v17["estimate"], abs=1e-9)
    a, a17 = _m(res, "rev_cs_never_absorbing_agency_rate"), _m(res, "rev_cs_never_absorbing_agency_rate_2017")
    assert a["stats"]["n_events"] != a17["stats"]["n_events"]
    assert "rev.agency.n_events_2017" in REVERSE.read_text(encoding="utf-8")


def test_overlapping_events_change_little(res):
    """'keeping these events changes little': every outcome's k = 0 estimate moves by less than
    half its standard error, and whether its interval excludes zero does not change."""
    for outcome in ("agency_rate", "vacancy_rate", "turnover_rate", "log_posts", "log_inpost", "log_agency_fte"):
        p, o = _k0(res, outcome), _k0(res, outcome, "_overlap")
        assert abs(p["estimate"] - o["estimate"]) < 0.5 * p["std_error"], outcome
        assert excludes_zero(p["ci_low"], p["ci_high"]) == excludes_zero(o["ci_low"], o["ci_high"]), outcome
