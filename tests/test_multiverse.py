"""Multiverse: the fast path equals linearmodels, the timing rule holds for every inspection-level
frame, and the full set of specifications appears once the contracted columns exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.derived import load_derived
from analysis.models.multiverse import (CHOICES, OUTCOMES, TERMS, TimingError, build_design, check_forward_timing,
                                        control_sets, fit_fast, fit_spec_linearmodels, inspection_frames,
                                        panel_frames, run_multiverse, specifications, summarise)
from analysis.models.spec import IdentificationError

TOL = 1e-8


@pytest.fixture(scope="module")
def data():
    panel, insp = load_derived()
    frames = {"inspection": inspection_frames(insp, panel), "panel": panel_frames(panel)}
    return panel, insp, frames


@pytest.fixture(scope="module")
def mv(data):
    panel, insp, _ = data
    return run_multiverse(panel, insp)


def test_fast_path_equals_linearmodels(data, mv):
    _, _, frames = data
    parts = dict(control_sets())
    specs = specifications()
    fitted = mv[mv["status"] == "fitted"].drop_duplicates("spec_id")
    rng = np.random.default_rng(20261123)
    chosen = []
    for est, g in fitted.groupby("estimator"):  # every estimator, random specs within each
        chosen += list(rng.choice(g["spec_id"].to_numpy(), size=min(6, len(g)), replace=False))
    assert len(chosen) >= 15
    for sid in chosen:
        s = specs[int(sid)]
        level = "panel" if s.estimator == "panel_fe" else "inspection"
        d = build_design(frames[level][s.timing], s, parts[s.controls])
        fast = fit_fast(d)
        ref = fit_spec_linearmodels(d, s.outcome)
        j = OUTCOMES.index(s.outcome)
        np.testing.assert_allclose(fast.params[:, j], ref.params[list(TERMS)].to_numpy(), rtol=0, atol=TOL)
        np.testing.assert_allclose(fast.se[:, j], ref.std_errors[list(TERMS)].to_numpy(), rtol=TOL)
        assert fast.nobs == ref.nobs
        # and the table carries exactly these numbers
        rows = mv[mv["spec_id"] == sid].set_index("term").loc[list(TERMS)]
        np.testing.assert_allclose(rows["estimate"].to_numpy(), fast.params[:, j], rtol=0, atol=1e-15)


def test_inspection_frames_respect_timing(data):
    _, _, frames = data
    for timing, f in frames["inspection"].items():
        check_forward_timing(f)
        census = pd.to_datetime(f["last_census"].astype(str) + "-09-30")
        assert (census < f["start_date"]).all(), timing
    # a census one year later (the census after fieldwork for most inspections) is refused
    broken = frames["inspection"]["census before"].copy()
    broken["last_census"] += 1
    with pytest.raises(TimingError, match="census on or after fieldwork"):
        check_forward_timing(broken)


def test_timing_choices_use_earlier_censuses(data):
    """'mean of two before' and 'change over two years' are built from the census before
    fieldwork and the ones before it: recompute one by hand from the panel."""
    panel, _, frames = data
    p = panel.set_index(["la_code", "year"])["agency_rate"]
    f = frames["inspection"]
    row = f["census before"].dropna(subset=["agency_rate"]).iloc[40]
    la, c = row["la_code"], int(row["last_census"])
    i = row.name
    np.testing.assert_allclose(f["mean of two before"].loc[i, "agency_rate"], (p[(la, c)] + p[(la, c - 1)]) / 2)
    np.testing.assert_allclose(f["change over two years"].loc[i, "agency_rate"], p[(la, c)] - p[(la, c - 2)])


def test_refusals_are_recorded_with_reasons(mv):
    spec_rows = mv.drop_duplicates("spec_id")
    assert len(spec_rows) == len(specifications()) >= 1000
    assert (mv.groupby("spec_id").size() == len(TERMS)).all()
    region_fe = spec_rows[spec_rows["controls"].str.contains("region") & (spec_rows["estimator"] != "insp_pooled_lpm")]
    assert (region_fe["status"] != "fitted").all()
    assert spec_rows.loc[spec_rows["status"] == "fitted", "reason"].fillna("").eq("").all()
    assert spec_rows.loc[spec_rows["status"] != "fitted", "reason"].str.len().gt(10).all()
    assert mv.loc[mv["status"] != "fitted", "estimate"].isna().all()


def test_full_multiverse_once_contract_columns_exist(data):
    """With the contracted spending and s47 columns present (random values here), no specification
    is skipped for missing data and at least 1,000 are fitted."""
    panel, insp, _ = data
    rng = np.random.default_rng(7)
    p = panel.copy()
    p["log_spend_total_pc"] = rng.normal(7, 0.3, len(p))
    p["s47_rate"] = rng.normal(150, 40, len(p))
    full = run_multiverse(p, insp)
    spec_rows = full.drop_duplicates("spec_id")
    assert not (spec_rows["status"] == "skipped").any()
    assert (spec_rows["status"] == "fitted").sum() >= 1000


def test_summary_names_the_choice_with_the_widest_range(mv):
    s = summarise(mv)
    fitted = mv[mv["status"] == "fitted"]
    for t in TERMS:
        g = fitted[fitted["term"] == t]
        ranges = {c: g.groupby(c)["worse_rating_std"].median().pipe(lambda m: m.max() - m.min()) for c in CHOICES}
        assert s["by_term"][t]["moves_most"] == max(ranges, key=ranges.get)
        np.testing.assert_allclose(s["by_term"][t]["median_worse_rating_std"], g["worse_rating_std"].median())
        shares = [v["variance_share"] for v in s["by_term"][t]["choices"].values()]
        assert all(0 <= x <= 1 for x in shares)


def test_region_under_la_effects_is_refused(data):
    _, _, frames = data
    s = next(x for x in specifications() if x.estimator == "insp_fe_lpm" and x.controls == "region")
    with pytest.raises(IdentificationError, match="region does not vary within LAs"):
        build_design(frames["inspection"][s.timing], s, ("region",))
