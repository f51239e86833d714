"""Sentences of the report whose wording depends on the data (written to ``_variables.yml``).

A comparison such as "rises with every grade" is only written when the computed means bear it
out; otherwise the sentence says where the pattern breaks.
"""

from __future__ import annotations

import pandas as pd

from .common import fmt
from .palette import GRADE_ORDER

UNITS = {"caseload": ("caseload", ""), "agency_rate": ("agency rate", "%"),
         "vacancy_rate": ("vacancy rate", "%"), "turnover_rate": ("turnover rate", "%")}


def grade_means(panel: pd.DataFrame) -> pd.DataFrame:
    """Means by grade in force, LA-years 2017 on, small LAs excluded (as ``tbl-by-grade``)."""
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"] & panel["grade_label"].notna()]
    return d.groupby("grade_label")[list(UNITS)].mean().reindex(GRADE_ORDER)


def gradient_sentence(means: pd.Series, measure: str) -> str:
    """One sentence on how the mean of ``measure`` changes from Outstanding to Inadequate.

    Notes
    -----
    Monotone means every step from one grade to the next worse grade raises the mean
    (``diff > 0`` throughout, compared at the one-decimal precision shown in the text).
    """
    name, unit = UNITS[measure]
    shown = means.round(1)
    vals = [f"{fmt(means[g], 1)}{unit} under {g}" for g in GRADE_ORDER]
    steps = shown.diff().dropna()
    if (steps > 0).all():
        return (f"Mean {name} rises with every step down the grades, from {vals[0]} to {vals[-1]}.")
    top = shown.idxmax()
    falls = [f"from {a} to {b}" for a, b, s in zip(GRADE_ORDER, GRADE_ORDER[1:], steps) if s <= 0]
    return (f"Mean {name} does not rise at every step: it is " + ", ".join(vals[:-1]) + f" and {vals[-1]}; "
            f"it is highest under {top} and does not rise {' or '.join(falls)}.")


def nao_comparison(panel: pd.DataFrame) -> str:
    """The comparison of workforce pressure by grade that the NAO (2016) reported, on our data."""
    m = grade_means(panel)
    return " ".join(gradient_sentence(m[c], c) for c in ("agency_rate", "caseload"))


WORKFORCE_TERMS = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate")
#: the same fitted model reported on another scale: not a separate test
SAME_TEST_AS_LOGODDS = ("ologit_odds_ratio", "ologit_ame_good")
GRADE_WORDS = dict(enumerate(GRADE_ORDER, start=1))


def limitation_numbers(inspections: pd.DataFrame, results: dict) -> dict[str, str]:
    """Numbers quoted in the limitations chapter, computed from the inspection table and results.

    * the longest gap between the fieldwork starts of consecutive graded inspections (the
      pandemic pause), with its first and last day and the graded inspections begun in the
      calendar years around it;
    * median years from the previous grade's publication to the next fieldwork, by previous
      grade (ILACS inspections: risk-based scheduling);
    * how many workforce-term p-values the results report and how many are below 0.05, against
      the number expected by chance alone (5% of the tests if no measure mattered).
    """
    g = inspections[inspections["overall_num"].notna()].sort_values("start_date")
    starts = g["start_date"].drop_duplicates().reset_index(drop=True)
    gaps = starts.diff()
    i = int(gaps.idxmax())
    before, after = starts[i - 1], starts[i]
    per_year = g.groupby(g["start_date"].dt.year).size()
    il = g[(g["framework"] == "ILACS") & g["prev_grade_num"].notna()]
    years = il.groupby("prev_grade_num")["days_since_prev"].median() / 365.25
    n_tests = n_sig = 0
    for m in results.get("models", []):
        if m["model_id"] in SAME_TEST_AS_LOGODDS:
            continue
        for term, c in m["coefficients"].items():
            if term in WORKFORCE_TERMS and c.get("p_value") is not None:
                n_tests += 1
                n_sig += c["p_value"] < 0.05
    return {
        "pause_from": before.strftime("%-d %B %Y"), "pause_to": after.strftime("%-d %B %Y"),
        "pause_months": f"{gaps[i].days / 30.44:.0f}",
        "pause_year": str(before.year), "n_pause_year": str(int(per_year.get(before.year, 0))),
        "prev_year": str(before.year - 1), "n_prev_year": str(int(per_year.get(before.year - 1, 0))),
        **{f"years_after_{GRADE_WORDS[int(k)].split()[0].lower()}": f"{v:.1f}" for k, v in years.items()},
        "n_tests": str(n_tests), "n_sig": str(n_sig), "n_chance": f"{0.05 * n_tests:.0f}",
    }
