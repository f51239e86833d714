"""Tables of the reverse-direction event study (markdown)."""

from __future__ import annotations

import pandas as pd

from .common import MEASURE_LABELS, fmt, fmt_p, interval, model
from .tables import md

OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")
#: event times shown: the TWFE window (k = -1 is the reference; TWFE bins k <= -4 and k >= +4)
KS = (-4, -3, -2, -1, 0, 1, 2, 3, 4)
REFERENCE_K = -1
DESIGNS = (("Previous design", "event_inadequate_{}"),
           ("TWFE, clean controls", "rev_twfe_absorbing_{}"),
           ("Callaway-Sant'Anna", "rev_cs_never_absorbing_{}"),
           ("TWFE, truncated at exit", "rev_twfe_truncated_{}"))


def k_label(k: int) -> str:
    return "k = 0" if k == 0 else f"k = {'+' if k > 0 else '−'}{abs(k)}"


def _cell(m: dict, k: int) -> str:
    if k == REFERENCE_K:
        return "reference"
    c = m["coefficients"].get(f"k={k}")
    return f"{fmt(c['estimate'], 1)} {interval(fmt(c['ci_low'], 1), fmt(c['ci_high'], 1))}" if c else "–"


def event_times(m: dict) -> list[int]:
    """Event times a model estimated (from its coefficient names ``k=<int>``)."""
    return sorted(int(k[2:]) for k in m["coefficients"] if k.startswith("k="))


def tbl_reverse_event(results: dict) -> str:
    """Event-time estimates (pp, 95% CI): one row per outcome and event time k = -4..+4, one
    column per design (the previous design for comparison), then the number of events and the
    pre-trend test. Callaway-Sant'Anna estimates beyond +-4 are in results.json (caption)."""
    rows = []
    for outcome in OUTCOMES:
        name = MEASURE_LABELS[outcome].split(" (")[0]
        ms = [model(results, pattern.format(outcome)) for _, pattern in DESIGNS]
        for k in KS:
            rows.append([name, k_label(k), *[_cell(m, k) for m in ms]])
        rows.append([name, "Events", *[str(m["stats"]["n_events"]) for m in ms]])
        rows.append([name, "Pre-trend p", *[fmt_p(m["stats"]["pre_trend_wald"]["p_value"]) for m in ms]])
    cols = ["Outcome (pp)", "Event time", *[label for label, _ in DESIGNS]]
    return md(pd.DataFrame(rows, columns=cols), "llrrrr")


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
