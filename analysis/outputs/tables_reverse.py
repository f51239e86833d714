"""Tables of the reverse-direction event study and the multiverse (markdown)."""

from __future__ import annotations

import pandas as pd

from .common import MEASURE_LABELS, fmt, fmt_p, model
from .tables import md

OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")
KS = (-4, -3, -2, 0, 1, 2, 3, 4)


def _cell(m: dict, k: int) -> str:
    c = m["coefficients"].get(f"k={k}")
    return f"{fmt(c['estimate'], 1)} [{fmt(c['ci_low'], 1)}, {fmt(c['ci_high'], 1)}]" if c else "–"


def tbl_reverse_event(results: dict) -> str:
    """Event-time estimates (pp, 95% CI) by estimator, with the previous design for comparison."""
    rows = []
    designs = [("Previous design (TWFE, census-year dating)", "event_inadequate_{}"),
               ("TWFE, clean controls", "rev_twfe_absorbing_{}"),
               ("Callaway-Sant'Anna, never-Inadequate controls", "rev_cs_never_absorbing_{}"),
               ("TWFE, clean controls, truncated at exit", "rev_twfe_truncated_{}")]
    for outcome in OUTCOMES:
        for label, pattern in designs:
            m = model(results, pattern.format(outcome))
            st = m["stats"]
            rows.append([MEASURE_LABELS[outcome].split(" (")[0], label, str(st["n_events"]),
                         *[_cell(m, k) for k in (-2, 0, 1, 2, 4)], fmt_p(st["pre_trend_wald"]["p_value"])])
    cols = ["Outcome (pp)", "Design", "Events", "k = −2", "k = 0", "k = +1", "k = +2", "k = +4", "Pre-trend p"]
    return md(pd.DataFrame(rows, columns=cols), "llrrrrrrr")


def tbl_reverse_design(results: dict) -> str:
    """Who is treated, who is a control, who is excluded, and why."""
    c = results["reverse"]["counts"]
    rows = [["Treated: first move to Inadequate, after an observed better grade", str(c["treated"])],
            ["  of which later left Inadequate", str(c["treated_exiting_inadequate"])],
            ["Controls: never rated Inadequate in the window", str(c["controls"])],
            ["Excluded: first observed grade Inadequate (no observed move)",
             str(c["excluded_first_observed_inadequate"])],
            ["Excluded: move before the first census (no pre-period)", str(c["excluded_no_pre_period"])]]
    return md(pd.DataFrame(rows, columns=["Group", "LAs"]), "lr")


def tbl_multiverse(results: dict) -> str:
    """Per workforce term: median sign-aligned standardised estimate, shares, and the choice that
    moves the estimate most (range of medians across its levels)."""
    mv = results["multiverse"]
    rows = []
    for t, b in mv["by_term"].items():
        ch = b["choices"]
        rows.append([MEASURE_LABELS[t].split(" (")[0], str(b["n_fitted"]), fmt(b["median_worse_rating_std"], 3),
                     f"{fmt(b['min'], 3)} to {fmt(b['max'], 3)}", f"{100 * b['share_positive']:.0f}%",
                     f"{100 * b['share_significant_5pct']:.0f}%",
                     f"{b['moves_most']} ({fmt(ch[b['moves_most']]['range_of_medians'], 3)})",
                     f"{b['moves_most_excluding_outcome']} "
                     f"({fmt(ch[b['moves_most_excluding_outcome']]['range_of_medians'], 3)})"])
    return md(pd.DataFrame(rows, columns=["Measure", "Fitted", "Median per SD", "Range", "Worse-rating sign",
                                          "p < 0.05", "Moves most (range)", "Excluding outcome (range)"]),
              "lrrrrrll")
