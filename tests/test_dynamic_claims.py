"""The prose of report/dynamic.qmd states directions and comparisons in words; each is checked
here against results.json, so a change of the estimates that breaks a sentence fails a test."""

from __future__ import annotations

import json

import pytest

from analysis.outputs import tables_dynamic
from analysis.outputs.numbers_dynamic import dynamic_variables
from analysis.run_models import RESULTS_DIR


@pytest.fixture(scope="module")
def r():
    return json.loads((RESULTS_DIR / "results.json").read_text())


def _zero_in(x):
    return x["ci_low"] < 0 < x["ci_high"]


def test_dynamic_claims(r):
    good, grade = (r["dynamic_cre"]["models"][k]["ame_pp"] for k in ("good_or_better", "grade"))
    # "the logit's agency interval includes zero"; directions agree (negative) for agency and caseload
    assert _zero_in(good["agency_rate"])
    assert all(m[t]["ame_pp"] < 0 for m in (good, grade) for t in ("agency_rate", "caseload"))
    # agency "smaller than the ordered logit's without the history", caseload "at least as large"
    ol = r["forward"]["magnitudes"]["ordered_logit"]
    for m in (good, grade):
        assert abs(m["agency_rate"]["ame_pp"]) < abs(ol["agency_rate"]["ame_pp"])
        assert abs(m["caseload"]["ame_pp"]) >= abs(ol["caseload"]["ame_pp"])
    # dropping the census-2016 re-inspections "barely moves the estimates" (under 1 pp)
    w17 = r["dynamic_cre"]["census_2017_plus"]["models"]
    for name in ("good_or_better", "grade"):
        assert w17[name]["converged"]
        for t in ("agency_rate", "caseload"):
            assert abs(w17[name]["ame_pp"][t]["ame_pp"] - r["dynamic_cre"]["models"][name]["ame_pp"][t]["ame_pp"]) < 1
    # "no dynamic-model association is distinguishable from zero" after the family-wise adjustment
    tests = r["family_tests"]["tests"]
    assert all(v["p_holm_all"] >= 0.05 for k, v in tests.items() if k.startswith("dynamic_cre_"))
    # "the previous judgement itself is imprecisely estimated": its interval includes an odds ratio of one
    pg = r["dynamic_cre"]["models"]["good_or_better"]["coefficients"]["prev_good"]
    assert pg["ci_low"] < 0 < pg["ci_high"]
    sim = r["dynamic_cre"]["simulation"]
    ex, fb, truth = sim["strictly_exogenous"], sim["feedback_into_x"], sim["truth"]
    assert abs(ex["dynamic_cre"]["gamma_previous"] - truth["gamma_previous"]) < 0.3  # recovers
    assert ex["pooled_dynamic_logit"]["gamma_previous"] > truth["gamma_previous"] + 0.3  # overstates
    assert abs(ex["pooled_dynamic_logit"]["beta_x"]) < abs(truth["beta_x"])  # understates
    assert abs(fb["dynamic_cre"]["beta_x"]) < abs(truth["beta_x"])  # shrinks towards zero


def test_subjudgement_and_overlap_claims(r):
    sj = r["subjudgements"]["outcomes"]
    tests = r["family_tests"]["tests"]
    for k in ("help_protection", "in_care", "leadership"):
        a = sj[k]["ame_pp"]["agency_rate"]
        assert a["ci_high"] < 0  # "agency use goes with a lower chance ... in every sub-judgement"
        for t in ("caseload", "vacancy_rate", "turnover_rate"):
            assert _zero_in(sj[k]["ame_pp"][t])  # "no clear association"
    assert tests["subjudgement_leadership:agency_rate"]["p_holm_all"] < 0.05
    assert tests["subjudgement_help_protection:agency_rate"]["p_holm_all"] >= 0.05
    assert tests["subjudgement_in_care:agency_rate"]["p_holm_all"] >= 0.05
    dec = r["overlap"]["decomposition"]
    assert _zero_in(dec["joint"]["vacancy_rate"]) and dec["joint"]["agency_rate"]["ci_high"] < 0
    assert dec["vacancy_alone"]["vacancy_rate"]["ci_high"] < 0
    assert r["overlap"]["primary"] == "joint"


def test_family_and_webb_claims(r):
    tests = r["family_tests"]["tests"]
    below = sorted(k for k, v in tests.items() if v["p_holm_all"] < 0.05)
    assert below == ["fwd_ologit_census_before:agency_rate", "primary_without_feedback_controls:agency_rate",
                     "subjudgement_leadership:agency_rate"]
    c17 = tests["primary_census_2017_plus:caseload"]
    assert c17["p_value"] < 0.05 <= c17["p_holm_all"]  # the summary's "clear ... not once adjusted"
    assert 0.05 <= tests["fwd_mlogit_good_census_before:agency_rate"]["p_holm_all"] < 0.1  # "just above it"
    assert tests["primary_logit_good_plus:agency_rate"]["p_value"] < 0.05  # quoted beside its adjusted p
    for k in ("fwd_fe_grade_change_two_before:agency_rate", "fwd_prevgrade_fe_good:agency_rate"):
        assert tests[k]["p_value"] < 0.05 <= tests[k]["p_holm_all"]  # "do not survive"
    wb = r["replication_like_for_like"]["webb_2022"]
    c = wb["closest"]["odds_ratios"]["imd_decile"]
    assert c["ci_low"] < wb["published"]["odds_ratio"] < c["ci_high"] and c["ci_high"] > 1  # "includes one"
    assert _zero_in({"ci_low": wb["closest"]["odds_ratios"]["family_support_per_100"]["ci_low"] - 1,
                     "ci_high": wb["closest"]["odds_ratios"]["family_support_per_100"]["ci_high"] - 1})


def test_numbers_and_tables_build_and_refuse_a_non_converged_model(r):
    v = dynamic_variables(r)
    assert v["n"] == f"{r['dynamic_cre']['sample']['nobs']:,}"
    for fn in (tables_dynamic.tbl_dyn_ame, tables_dynamic.tbl_dyn_family, tables_dynamic.tbl_dyn_webb):
        assert fn(r).startswith("|")
    bad = json.loads(json.dumps(r))
    bad["dynamic_cre"]["models"]["grade"]["converged"] = False
    with pytest.raises(ValueError, match="did not converge"):
        dynamic_variables(bad)
