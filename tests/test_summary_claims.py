"""The summary's worded claims hold in the results they summarise (report/summary.qmd, and the
estimator comparison that moved from the summary to the end of report/inspections.qmd).

The numbers in the summary come from the pipeline; its words ("agree on direction", "no clear
association", "none of the within-council ones") are checked here against results.json, so a
change in the data or models that falsifies a sentence fails the build instead of going unnoticed.
The key findings page has its own test (tests/test_key_findings.py).
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from analysis import paths

SUMMARY = paths.ROOT / "report" / "summary.qmd"
INSPECTIONS = paths.ROOT / "report" / "inspections.qmd"
RESULTS = paths.ROOT / "report" / "outputs" / "results" / "results.json"
WORKFORCE = {"agency": "agency_rate", "caseload": "caseload", "vacancy": "vacancy_rate", "turnover": "turnover_rate"}


@pytest.fixture(scope="module")
def fw():
    subprocess.run(["make", "results"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(RESULTS.read_text())["forward"]


def _excludes_zero(lo: float, hi: float) -> bool:
    return lo > 0 or hi < 0


def _comparison() -> str:
    """The estimator comparison: the last subsection of the inspections Section."""
    text = INSPECTIONS.read_text(encoding="utf-8")
    start = text.index("{#sec-estimator-comparison}")
    return text[start:]


def test_summary_names_every_measure_with_its_headline_interval():
    text = SUMMARY.read_text(encoding="utf-8")
    for key in WORKFORCE:
        bullet = next((line for line in text.split("\n* ") if f"kf.{key}.change" in line), None)
        assert bullet is not None, f"no summary bullet for {key}"
        assert f"kf.{key}.pp >}}}} pp" in bullet and f"kf.{key}.ci" in bullet, key
    assert "kf.base_rate" in text, "the summary quotes the base rate"


def test_summary_names_no_estimator_the_comparison_moved_out():
    text = SUMMARY.read_text(encoding="utf-8")
    for name in ("ordered logit", "random-intercept", "fixed effects", "Holm", "conditional"):
        assert name not in text, name
    assert "@sec-estimator-comparison" in text


def test_summary_primary_claims(fw):
    """'The agency association remains after allowing for testing four workforce measures at once;
    the caseload one does not. Without the previous judgement ... the agency estimate is larger,
    and with only inspections matched to censuses from 2017 on the caseload estimate is larger and
    clear.'"""
    text = " ".join(SUMMARY.read_text(encoding="utf-8").split())
    pr = json.loads(RESULTS.read_text())["primary"]
    t = pr["terms"]
    assert "The agency association remains after allowing for testing four workforce measures" in text
    assert t["agency_rate"]["p_holm"] < 0.05 <= t["caseload"]["p_holm"]
    nf = pr["sensitivities"]["without_feedback_controls"]["terms"]["agency_rate"]
    c17 = pr["sensitivities"]["census_2017_plus"]["terms"]["caseload"]
    assert "the agency estimate is larger" in text and abs(nf["ame_pp"]) > abs(t["agency_rate"]["ame_pp"])
    assert "caseload estimate is larger and clear" in text
    assert abs(c17["ame_pp"]) > abs(t["caseload"]["ame_pp"]) and c17["ci_high"] < 0


def _flat_summary() -> str:
    return " ".join(SUMMARY.read_text(encoding="utf-8").split())


def p_value_problems(text: str, res: dict) -> list[str]:
    """Every p-value the summary quotes comes with its adjustment across the whole family of
    workforce comparisons (issue 14), and the words about surviving it hold: recomputed here with
    statsmodels' Holm from the raw p-values in results.json."""
    from statsmodels.stats.multitest import multipletests
    tests = res["family_tests"]["tests"]
    keys = list(tests)
    adj = dict(zip(keys, multipletests([tests[k]["p_value"] for k in keys], method="holm")[1]))
    bad = []
    quoted = re.findall(r"\{\{< var (dyn\.fam\.[\w.]+?)\.(p|p_design|p_holm|p_holm_headline) >\}\}", text)
    groups = {g for g, kind in quoted if kind in ("p", "p_design")}
    for g in groups:
        if (g, "p_holm") not in quoted:
            bad.append(f"{g}: a p-value quoted without its adjustment across all comparisons")
    if re.search(r"(?<![\w.])p\s*[=<]\s*0\.\d", text):
        bad.append("a p-value typed by hand")
    prim = "primary_logit_good_plus:agency_rate"
    if abs(tests[prim]["p_value"] - res["primary"]["terms"]["agency_rate"]["p_value"]) > 1e-10:
        bad.append("the family's primary is not results['primary']")
    says = {"Counted among every workforce comparison the report makes": None,
            "neither remains: adjusted p {{< var dyn.fam.primary.agency.p_holm >}} for agency use":
                adj[prim] >= 0.05 and adj["primary_logit_good_plus:caseload"] >= 0.05,
            "it could be a chance finding": adj[prim] >= 0.05,
            "clear on its own ({{< var kf.caseload.census_later.pp >}}": tests["primary_census_2017_plus:caseload"]["p_value"] < 0.05,
            "but not once adjusted for all comparisons (p {{< var dyn.fam.census_later_caseload.p_holm >}})":
                adj["primary_census_2017_plus:caseload"] >= 0.05,
            "({{< var dyn.good.agency.ame >}} pp {{< var dyn.good.agency.ci >}};": None,
            "whose interval now includes no association": (
                res["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]["agency_rate"]["ci_low"] < 0
                < res["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]["agency_rate"]["ci_high"]),
            "caseload estimate that is clear on its own ({{< var dyn.good.caseload.ame >}}": (
                res["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]["caseload"]["ci_high"] < 0),
            "(p {{< var dyn.fam.dyn_good_caseload.p_holm >}}): it changes how clear": (
                adj["dynamic_cre_good_or_better:caseload"] >= 0.05),
            "not the direction": all(
                (res["dynamic_cre"]["models"]["good_or_better"]["ame_pp"][t]["ame_pp"] < 0)
                == (res["primary"]["terms"][t]["ame_pp"] < 0) for t in ("agency_rate", "caseload"))}
    for words, holds in says.items():
        if words not in text:
            bad.append(f"the summary no longer says {words!r}")
        elif holds is not None and not holds:
            bad.append(f"{words!r} does not hold in results.json")
    return bad


def test_summary_p_values_carry_the_cross_family_adjustment(fw):
    res = json.loads(RESULTS.read_text())
    assert p_value_problems(_flat_summary(), res) == []
    assert res["family_tests"]["n_all"] == len(res["family_tests"]["tests"])


def test_a_wrong_adjustment_word_fails(fw):
    res = json.loads(RESULTS.read_text())
    text = _flat_summary()
    no_adj = text.replace("adjusted for all comparisons (p {{< var dyn.fam.census_later_caseload.p_holm >}})",
                          "adjusted for all comparisons")
    assert any("without its adjustment" in b for b in p_value_problems(no_adj, res))
    fake = json.loads(json.dumps(res))
    for v in fake["family_tests"]["tests"].values():
        v["p_value"] = min(v["p_value"], 1e-6)
    fake["primary"]["terms"]["agency_rate"]["p_value"] = 1e-6
    assert any("does not hold" in b for b in p_value_problems(text, fake))
    fake = json.loads(json.dumps(res))
    fake["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]["agency_rate"]["ci_high"] = -0.1
    assert any("includes no association" in b for b in p_value_problems(text, fake))
    assert p_value_problems(text.replace("{{< var dyn.fam.primary.caseload.p_design >}}", "= 0.415"), res)


def test_within_council_estimates_are_affected_by_feedback(fw):
    """Summary: 'Comparing each council only with itself ... they are affected by feedback from the
    previous judgement': the strict-exogeneity (lead) test rejects for agency use, and the
    previous grade predicts the next one."""
    text = " ".join(SUMMARY.read_text(encoding="utf-8").split())
    assert "affected by feedback from the previous judgement" in text
    lead = fw["lead_test"]["good_or_better"]
    assert lead["one_at_a_time"]["agency_rate"]["p_value"] < 0.05 and lead["joint_wald"]["p_value"] < 0.05
    assert _fwd(fw, "fwd_prevgrade_ologit")["coefficients"]["prev_grade"]["p_value"] < 0.05


def test_the_estimator_comparison_names_every_measure_with_both_intervals():
    text = _comparison()
    for key in [*WORKFORCE, "spend"]:
        bullet = next((line for line in text.split("\n* ") if f"fwd.{key}.change" in line), None)
        assert bullet is not None, f"no comparison bullet for {key}"
        assert f"fwd.{key}.ame_ci" in bullet and f"fwd.{key}.fe_ci" in bullet, key


def test_agency_and_caseload_agree_on_direction_across_models(fw):
    mg = fw["magnitudes"]
    for t in ("agency_rate", "caseload"):
        assert mg["ordered_logit"][t]["ame_pp"] < 0
        assert mg["fe_good_or_better"][t]["effect"] < 0
        assert mg["conditional_logit"][t]["odds_ratio"] < 1
        assert mg["multilevel_logit"][t]["odds_ratio"] < 1


def test_between_and_within_agency_and_caseload_survive_holm_and_within_ones_do_not(fw):
    pr = fw["precision"]
    for t in ("agency_rate", "caseload"):
        assert pr["ordered_logit"][t]["p_holm"] < 0.05
    for t in WORKFORCE.values():
        assert pr["fe_good_or_better"][t]["p_holm"] >= 0.05


def test_vacancies_and_turnover_show_no_clear_association(fw):
    mg = fw["magnitudes"]
    for t in ("vacancy_rate", "turnover_rate"):
        o, fe = mg["ordered_logit"][t], mg["fe_good_or_better"][t]
        assert not _excludes_zero(o["ame_pp_low"], o["ame_pp_high"])
        assert not _excludes_zero(fe["effect_low"], fe["effect_high"])


def test_within_estimates_neither_confirm_nor_rule_out_the_between_size(fw):
    mg = fw["magnitudes"]
    for t in ("agency_rate", "caseload"):
        fe, o = mg["fe_good_or_better"][t], mg["ordered_logit"][t]
        assert fe["effect_low"] < 0 < fe["effect_high"]  # not confirmed
        assert fe["effect_low"] < o["ame_pp"]  # the between size is inside the interval: not ruled out


def test_reverse_claims(fw):  # fw: results are built
    rev = json.loads(RESULTS.read_text())["reverse"]
    text = SUMMARY.read_text(encoding="utf-8")
    assert "cannot be attributed to the judgement" in text
    flags = json.dumps(rev)
    assert re.search(r"pre_trend_fail\W+true", flags), "the summary says agency's pre-trend fails"


def _fwd(fw, model_id: str) -> dict:
    return next(m for m in fw["models"] if m["model_id"] == model_id)


def test_agency_gradient_holds_in_every_between_council_model_and_caseload_is_mixed(fw):
    """'the gradient holds in every model that compares councils with one another' (agency) and
    'for caseload the evidence is weaker' (ordered logit and CRE grade yes; random-intercept
    logit and CRE Good-or-better between term include no association)."""
    mg = fw["magnitudes"]
    good = _fwd(fw, "fwd_cre_good_or_better_census_before")["coefficients"]
    grade = _fwd(fw, "fwd_cre_grade_census_before")["coefficients"]
    a = "agency_rate"
    assert mg["ordered_logit"][a]["ame_pp_high"] < 0
    assert mg["multilevel_logit"][a]["or_high"] < 1
    assert good[f"between:{a}"]["ci_high"] < 0 and grade[f"between:{a}"]["ci_low"] > 0
    c = "caseload"
    assert mg["ordered_logit"][c]["ame_pp_high"] < 0 and grade[f"between:{c}"]["ci_low"] > 0
    assert mg["multilevel_logit"][c]["or_low"] < 1 < mg["multilevel_logit"][c]["or_high"]
    assert good[f"between:{c}"]["ci_low"] < 0 < good[f"between:{c}"]["ci_high"]


def test_within_council_sensitivities_that_the_summary_reports_do_reach_significance(fw):
    chg = _fwd(fw, "fwd_fe_grade_change_two_before")["coefficients"]["agency_rate"]
    prev = _fwd(fw, "fwd_prevgrade_fe_good")["coefficients"]["agency_rate"]
    assert chg["p_value"] < 0.05 and chg["estimate"] > 0  # rise in agency -> worse grade
    assert prev["p_value"] < 0.05 and prev["estimate"] < 0  # more agency -> less Good or better


# the reverse design's worded claims (summary, Section "Reverse direction", limitations):
# tests/test_reverse_claims.py


def test_nao_caseload_gradient_is_reversed_and_agency_is_not_in_the_first_caseload_census(fw):
    """Inspections chapter: 'the gradient is reversed for caseload ... agency use ran the expected way'."""
    nao = json.loads(RESULTS.read_text())["replication"]["nao_2016"]["ours"]
    assert nao["inadequate"]["caseload"]["mean"] < nao["good"]["caseload"]["mean"]
    assert nao["inadequate"]["agency_rate"]["mean"] > nao["good"]["agency_rate"]["mean"]


def test_multiverse_direction_claims(fw):  # fw: results are built
    """Robustness chapter: agency use points to a worse rating in nearly every specification of
    both designs; 'Vacancies point the other way' (the rest: tests/test_spec_curve.py)."""
    by = json.loads(RESULTS.read_text())["multiverse"]["by_term"]
    assert by["agency_rate"]["share_worse_among_significant"] == 1.0
    assert by["vacancy_rate"]["share_worse_among_significant"] < 0.5


def test_spending_is_clear_of_zero_in_at_most_one_model(fw):
    """Inspections chapter: 'more spending leans towards better judgements, but no estimate is
    clear of zero in more than one model'."""
    mg = fw["magnitudes"]
    s = "log_spend_total_pc"
    o, fe, cl, ml = (mg[k][s] for k in ("ordered_logit", "fe_good_or_better", "conditional_logit", "multilevel_logit"))
    clear = [o["ame_pp_low"] > 0 or o["ame_pp_high"] < 0, fe["effect_low"] > 0 or fe["effect_high"] < 0,
             cl["or_low"] > 1 or cl["or_high"] < 1, ml["or_low"] > 1 or ml["or_high"] < 1]
    assert sum(clear) <= 1
    assert o["ame_pp"] > 0 and fe["effect"] > 0 and cl["odds_ratio"] > 1 and ml["odds_ratio"] > 1  # 'leans towards'
