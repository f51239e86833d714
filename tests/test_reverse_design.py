"""Reverse design, version 3: counts that add up, event hygiene (small LAs, a census before the
event taken during the inspection), the vacancy decomposition identity, the census-2017+ choice,
the vectorised Callaway-Sant'Anna against ``differences`` on every frame of the design, and the
honest bounds on a simulation with a known effect and a known linear pre-trend."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.derived import load_derived
from analysis.models import honest_did as hd
from analysis.models import reverse as rev
from analysis.models.callaway_santanna import callaway_santanna


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    first, last = int(panel["year"].min()), int(panel["year"].max())
    return panel, insp, rev.inadequate_events(insp, first, last)


@pytest.fixture(scope="module")
def plan(data):
    panel, insp, _ = data
    return rev.design_plan(panel, insp)


# -- counts ----------------------------------------------------------------------------------------

def test_counts_add_up_to_every_la_with_a_graded_judgement(data):
    panel, insp, events = data
    c = events.counts()
    graded_las = insp.loc[insp["framework"].isin(["SIF", "ILACS"]) & insp["overall_num"].notna(), "la_code"].nunique()
    assert c["n_las"] == graded_las
    assert c["treated"] + c["controls"] + sum(e["n"] for e in c["excluded"]) == graded_las
    assert sum(c["cohorts"].values()) == c["treated"]
    assert [e["reason"] for e in c["excluded"]] == [s.removeprefix("excluded: ") for s in rev.STATUSES[2:]]


def test_small_las_are_excluded_everywhere(data):
    """City of London and the Isles of Scilly: excluded by reason, never treated or controls
    (the Isles of Scilly were one of the '29 treated' of version 2)."""
    panel, insp, events = data
    small = set(panel.loc[panel["small_la"], "la_code"])
    assert len(small) == 2
    t = events.table
    assert set(t.index[t["status"] == rev.EXCLUDED_SMALL]) == small
    # without the rule one of them would be treated
    loose = rev.inadequate_events(insp, events.first_year, events.last_year, small_las=set())
    assert (loose.table.loc[sorted(small), "status"] == "treated").any()
    assert loose.counts()["treated"] == events.counts()["treated"] + 1


def test_balanced_panel_counts_are_reported_per_outcome(plan, data):
    panel, insp, events = data
    _, jobs = plan
    fits, summary = rev.fit_reverse(panel, insp)
    by_id = {f.model_id: f for f in fits}
    for outcome in rev.OUTCOMES:
        b = summary["balanced"][f"rev_cs_never_absorbing_{outcome}"]
        frame = rev.event_frame(panel, events, outcome)
        assert b["events"] == frame.loc[frame["cohort"].notna(), "la_code"].nunique() <= b["treated_in_design"]
        assert b["controls"] == frame.loc[frame["cohort"].isna(), "la_code"].nunique() <= b["controls_in_design"]
        assert b["treated_in_design"] == events.counts()["treated"]
        # every primary CS fit has honest bounds at k = 0, +1, +2
        h = summary["honest"][f"rev_cs_never_absorbing_{outcome}"]
        assert set(h["by_k"]) == {"k=0", "k=1", "k=2"}
        assert by_id[f"rev_cs_never_absorbing_{outcome}_2017"].stats["n_events"] >= 1


# -- event hygiene ---------------------------------------------------------------------------------

def test_events_whose_census_before_falls_during_the_inspection_are_dropped(data):
    panel, insp, events = data
    t = events.table
    dropped = t.index[t["status"] == rev.EXCLUDED_OVERLAP]
    kept = rev.inadequate_events(insp, events.first_year, events.last_year, overlap="keep")
    assert len(dropped) == 2 and (kept.table.loc[dropped, "status"] == "treated").all()
    ii = insp.set_index("inspection_id")
    for la in dropped:
        r = t.loc[la]
        census = rev.census_date(int(r["cohort"]) - 1)
        assert ii.loc[r["event_inspection_id"], "start_date"] <= census <= r["event_published"]
    # every treated event: the census before it was taken before fieldwork began
    for la, r in t[t["status"] == "treated"].iterrows():
        assert rev.census_date(int(r["cohort"]) - 1) < ii.loc[r["event_inspection_id"], "start_date"]


def test_a_planted_overlapping_event_is_dropped(data):
    """Move a treated event's fieldwork start to before the census before it: the event leaves
    the treated group for the overlap exclusion (and comes back with overlap='keep')."""
    panel, insp, events = data
    t = events.table
    la = t.index[t["status"] == "treated"][0]
    r = t.loc[la]
    planted = insp.copy()
    row = planted["inspection_id"] == r["event_inspection_id"]
    planted.loc[row, "start_date"] = rev.census_date(int(r["cohort"]) - 1) - pd.Timedelta(days=3)
    moved = rev.inadequate_events(planted, events.first_year, events.last_year)
    assert moved.table.loc[la, "status"] == rev.EXCLUDED_OVERLAP
    assert moved.counts()["treated"] == events.counts()["treated"] - 1
    assert {e["reason"]: e["n"] for e in moved.counts()["excluded"]}["census before the event during the inspection"] == 3
    assert rev.inadequate_events(planted, events.first_year, events.last_year, overlap="keep").table.loc[la, "status"] == "treated"
    with pytest.raises(ValueError, match="overlap rule"):
        rev.inadequate_events(insp, events.first_year, events.last_year, overlap="maybe")


def test_census_2017_choice_uses_worker_level_censuses_only(data):
    panel, insp, _ = data
    ev17 = rev.inadequate_events(insp, rev.WORKER_LEVEL_START, int(panel["year"].max()))
    frame = rev.event_frame(panel, ev17, "agency_rate", censuses="2017+")
    assert frame["year"].min() == rev.WORKER_LEVEL_START
    rev.check_reverse_timing(frame)
    # every treated LA has a census before its event inside the window
    assert (frame.loc[frame["cohort"].notna(), "cohort"] > rev.WORKER_LEVEL_START).all()
    with pytest.raises(ValueError, match="starts in 2017"):
        rev.event_frame(panel, rev.inadequate_events(insp, 2015, 2025), "agency_rate", censuses="2017+")


# -- vacancy decomposition ---------------------------------------------------------------------------

def test_vacancy_decomposition_identity(data):
    """posts = vacancies + staff in post; the published vacancy rate equals 100 V / (V + S)
    within rounding (rate to 0.1, whole percent in 2015, counts to 0.1), except the listed
    LA-years; a planted wrong rate stops the build."""
    panel, _, _ = data
    d = rev.with_decomposition(panel[~panel["small_la"]]).dropna(subset=["vacancy_rate", "vacancy_fte", "inpost_fte"])
    np.testing.assert_allclose(np.exp(d["log_posts"] / 100), d["vacancy_fte"] + d["inpost_fte"], rtol=1e-12)
    np.testing.assert_allclose(np.exp(d["log_inpost"] / 100), d["inpost_fte"], rtol=1e-12)
    recomputed = 100 * d["vacancy_fte"] / (d["vacancy_fte"] + d["inpost_fte"])
    listed = np.array([(str(la), int(y)) in rev.IDENTITY_EXCEPTIONS for la, y in zip(d["la_code"], d["year"])])
    gap = (recomputed - d["vacancy_rate"]).abs()
    assert (gap[~listed] <= rev.vacancy_identity_tolerance(d)[~listed]).all()
    assert listed.sum() == len(rev.IDENTITY_EXCEPTIONS) and (gap[listed] > 0.1).all()
    # in the worker-level years the tolerance is tight: 0.05 + 5 / (V + S)
    late = d["year"] >= 2017
    assert gap[late & ~listed].max() < 0.1
    rev.check_vacancy_identity(panel)
    bad = panel.copy()
    i = bad.index[(bad["year"] == 2020) & bad["vacancy_rate"].notna()][0]
    bad.loc[i, "vacancy_rate"] += 1.0
    with pytest.raises(ValueError, match=f"LA {bad.loc[i, 'la_code']} in 2020"):
        rev.check_vacancy_identity(bad)


def test_non_positive_staff_in_post_is_refused(data):
    panel, _, _ = data
    bad = panel[~panel["small_la"]].copy()
    bad.loc[bad.index[5], "inpost_fte"] = 0.0
    with pytest.raises(ValueError, match="inpost_fte = 0.0 is not positive"):
        rev.with_decomposition(bad)


# -- estimator -------------------------------------------------------------------------------------

def test_vectorised_callaway_santanna_equals_differences_on_every_frame(plan):
    from differences import ATTgt
    _, jobs = plan
    checked = 0
    for frame, outcome, _, cg, mid in jobs:
        if cg is None:
            continue
        mine = callaway_santanna(frame, outcome, cg)
        data = frame[["la_code", "year", outcome, "cohort"]].set_index(["la_code", "year"])
        att = ATTgt(data=data, cohort_column="cohort", base_period="universal")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            att.fit(formula=outcome, control_group="never_treated" if cg == "never" else "not_yet_treated",
                    progress_bar=False)
        ref = att.aggregate("event")
        ref.columns = [c[-1] for c in ref.columns]
        ref = ref[ref.index != -1]
        np.testing.assert_allclose(mine.event.loc[ref.index, "ATT"], ref["ATT"], atol=1e-9, rtol=0)
        np.testing.assert_allclose(mine.event.loc[ref.index, "std_error"], ref["std_error"], atol=1e-9, rtol=0)
        for r in att._result_dict["full_sample"]["aggregate_inst"].event:
            if r.relative_period != -1:
                f = r.influence_func
                np.testing.assert_allclose(mine.influence[r.relative_period],
                                           np.asarray(f.todense() if hasattr(f, "todense") else f).ravel(), atol=1e-9)
        gt = att.results()
        gt.columns = [c[-1] for c in gt.columns]
        gt = gt.reset_index()
        gt = gt[gt["time"] != gt["base_period"]].set_index(["cohort", "base_period", "time"])
        np.testing.assert_allclose(mine.group_time.loc[gt.index, "ATT"], gt["ATT"], atol=1e-9, rtol=0)
        checked += 1
    assert checked == sum(j[3] is not None for j in jobs) == 19


def test_event_covariance_diagonal_is_the_squared_standard_error(plan):
    _, jobs = plan
    frame, outcome = next((f, o) for f, o, _, cg, _ in jobs if cg == "never")
    fit, _ = rev.fit_callaway_santanna(frame, outcome, "absorbing")
    cov = fit.stats["event_covariance"]
    np.testing.assert_allclose(np.sqrt(np.diag(cov["matrix"])), fit.coefs.loc[cov["terms"], "std_error"], rtol=1e-12)


# -- honest bounds on a simulation ---------------------------------------------------------------------

def trending_panel(seed: int, effect: float = 2.0, slope: float = 1.0, n_per_cohort: int = 40):
    """Balanced panel 2010-2021: cohorts 2016 and 2018 and never-treated LAs; treated LAs drift
    up ``slope`` a year relative to the controls throughout (a linear pre-trend that continues),
    plus ``effect`` from the event on."""
    rng = np.random.default_rng(seed)
    rows = []
    cohorts = [2016.0] * n_per_cohort + [2018.0] * n_per_cohort + [np.nan] * (2 * n_per_cohort)
    for i, g in enumerate(cohorts):
        a = rng.normal(scale=2)
        for t in range(2010, 2022):
            trend = slope * (t - g) if not np.isnan(g) else 0.0
            eff = effect if (not np.isnan(g) and t >= g) else 0.0
            rows.append({"la_code": f"L{i:03d}", "year": t, "cohort": g,
                         "y": a + 0.3 * (t - 2010) + trend + eff + rng.normal(scale=0.5)})
    df = pd.DataFrame(rows)
    df["k"] = df["year"] - df["cohort"]
    return df


def test_honest_bounds_cover_a_known_effect_that_the_naive_estimate_misses():
    """Effect 2 at k = 0 on a linear pre-trend of 1 a year, 40 replications: the naive k = 0
    estimate (against k = -1) is about 3 and its interval almost never covers 2; the smoothness
    interval with M = 0 (linear extrapolation) covers 2 about 95% of the time and the
    relative-magnitudes interval with Mbar = 1 (post-period change no larger than the largest
    pre-period change, true here) at least as often; both stay informative (exclude 0)."""
    naive, sd0, rm1, est = [], [], [], []
    for seed in range(40):
        df = trending_panel(seed)
        fit, _ = rev.fit_callaway_santanna(df, "y", "absorbing")
        c = fit.coefs.loc["k=0"]
        naive.append(c["ci_low"] <= 2.0 <= c["ci_high"])
        es = rev.event_estimates(fit)
        l = es.target(0)
        r = hd.sd_flci(es, l, 0.0)
        sd0.append((r["lo"] <= 2.0 <= r["hi"], r["lo"] > 0))
        est.append(r["estimate"])
        lo, hi = hd.rm_interval(es, l, 1.0)
        rm1.append((lo <= 2.0 <= hi, lo > 0))
    assert np.mean(naive) <= 0.05
    assert np.mean([c for c, _ in sd0]) >= 0.85 and all(p for _, p in sd0)
    assert np.mean([c for c, _ in rm1]) >= 0.9 and all(p for _, p in rm1)
    assert abs(np.mean(est) - 2.0) < 0.05  # the linear extrapolation is unbiased here
    # the honest summary carries the same numbers
    h = rev.honest_summary(fit, targets=(0,))
    assert h["by_k"]["k=0"]["smoothness"][0]["lo"] == pytest.approx(r["lo"])
    lin = h["extrapolation_k0"]["linear_k-4_to_-1"]
    assert lin["estimate"] == pytest.approx(r["estimate"], abs=0.5)
