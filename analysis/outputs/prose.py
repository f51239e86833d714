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
