"""The summary's worded claims hold in the results they summarise (report/summary.qmd).

The numbers in the summary come from the pipeline; its words ("agree on direction", "no clear
association", "none of the within-council ones") are checked here against results.json, so a
change in the data or models that falsifies a sentence fails the build instead of going unnoticed.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from analysis import paths

SUMMARY = paths.ROOT / "report" / "summary.qmd"
RESULTS = paths.ROOT / "report" / "outputs" / "results" / "results.json"
WORKFORCE = {"agency": "agency_rate", "caseload": "caseload", "vacancy": "vacancy_rate", "turnover": "turnover_rate"}


@pytest.fixture(scope="module")
def fw():
    subprocess.run(["make", "results"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(RESULTS.read_text())["forward"]


def _excludes_zero(lo: float, hi: float) -> bool:
    return lo > 0 or hi < 0


def test_summary_names_every_measure_with_an_interval():
    text = SUMMARY.read_text(encoding="utf-8")
    for key in [*WORKFORCE, "spend"]:
        bullet = next((line for line in text.split("\n* ") if f"fwd.{key}.change" in line), None)
        assert bullet is not None, f"no summary bullet for {key}"
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
