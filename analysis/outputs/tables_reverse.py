"""Tables of the reverse-direction event study (markdown).

Rows are grouped under heading rows (an outcome, a restriction) instead of repeating a label;
estimates are percentage points (rates) or log points (FTE counts, 100 x change in ln) to one
decimal, intervals "[lo, hi]" (:func:`analysis.outputs.common.interval`)."""

from __future__ import annotations

import pandas as pd

from .common import model
from .formats import PP_DIGITS, fmt, fmt_p, interval, k_label
from .formats import ci as _ci
from .tables import md

RATES = ("agency_rate", "vacancy_rate", "turnover_rate")
DECOMPOSITION = ("log_posts", "log_inpost", "log_agency_fte")
OUTCOMES = RATES
#: short names of every reverse outcome (with its unit in the tables that mix units)
NAMES = {"agency_rate": "Agency worker rate", "vacancy_rate": "Vacancy rate", "turnover_rate": "Turnover rate",
         "log_posts": "Funded posts", "log_inpost": "Staff in post", "log_agency_fte": "Agency workers"}
UNITS = {o: "pp" for o in RATES} | {o: "log points" for o in DECOMPOSITION}
#: event times shown: the TWFE window (k = -1 is the reference; TWFE bins k <= -4 and k >= +4)
KS = (-4, -3, -2, -1, 0, 1, 2, 3, 4)
REFERENCE_K = -1
DESIGNS = (("TWFE", "rev_twfe_absorbing_{}"),
           ("Callaway-Sant'Anna", "rev_cs_never_absorbing_{}"),
           ("TWFE, truncated at exit", "rev_twfe_truncated_{}"))


def ci(est: float, lo: float, hi: float) -> str:
    """Estimate and 95% interval, one decimal (pp and log points alike)."""
    return _ci(est, lo, hi, PP_DIGITS)


def _cell(m: dict, k: int) -> str:
    if k == REFERENCE_K:
        return "reference"
    c = m["coefficients"].get(f"k={k}")
    return ci(c["estimate"], c["ci_low"], c["ci_high"]) if c else "–"


def event_times(m: dict) -> list[int]:
    """Event times a model estimated (from its coefficient names ``k=<int>``)."""
    return sorted(int(k[2:]) for k in m["coefficients"] if k.startswith("k="))


def tbl_reverse_event(results: dict) -> str:
    """Event-time estimates of the three rates (pp, 95% CI): a heading row per outcome, then one
    row per event time k = -4..+4, the number of events and the pre-trend test; one column per
    estimator. Callaway-Sant'Anna estimates beyond +-4 are in results.json (caption)."""
    rows = []
    for outcome in RATES:
        ms = [model(results, pattern.format(outcome)) for _, pattern in DESIGNS]
        rows.append([f"{NAMES[outcome]} (pp)", *[""] * len(DESIGNS)])
        for k in KS:
            rows.append([k_label(k), *[_cell(m, k) for m in ms]])
        rows.append(["Events", *[str(m["stats"]["n_events"]) for m in ms]])
        rows.append(["Pre-trend p", *[fmt_p(m["stats"]["pre_trend_wald"]["p_value"]) for m in ms]])
    return md(pd.DataFrame(rows, columns=["Event time", *[label for label, _ in DESIGNS]]), "lrrr")


def tbl_reverse_design(results: dict) -> str:
    """Who is treated, who is a control, who is excluded and why, for all censuses and for the
    censuses 2017+; each column adds up to the LAs with a graded judgement."""
    rev = results["reverse"]
    cols = [rev["counts"], rev["counts_census_2017"]]
    rows = [["LAs with a graded judgement", *[str(c["n_las"]) for c in cols]],
            ["Treated: first move to Inadequate, after an observed better grade", *[str(c["treated"]) for c in cols]],
            ["  of which later left Inadequate", *[str(c["treated_exiting_inadequate"]) for c in cols]],
            ["Controls: never rated Inadequate in the window", *[str(c["controls"]) for c in cols]],
            ["Excluded", "", ""]]
    for j, e in enumerate(cols[0]["excluded"]):
        reason = e["reason"]
        rows.append([f"  {reason[0].upper()}{reason[1:]}", *[str(c["excluded"][j]["n"]) for c in cols]])
    return md(pd.DataFrame(rows, columns=["Group", "All censuses", "Censuses 2017+"]), "lrr")


def tbl_reverse_sample(results: dict) -> str:
    """LAs in each outcome's balanced panel (observed at every census of the window), treated
    and controls, for all censuses and for the censuses 2017+."""
    b = results["reverse"]["balanced"]
    rows = []
    for outcome in (*RATES, *DECOMPOSITION):
        p, c = b[f"rev_cs_never_absorbing_{outcome}"], b[f"rev_cs_never_absorbing_{outcome}_2017"]
        rows.append([NAMES[outcome], f"{p['events']} of {p['treated_in_design']}", f"{p['controls']} of {p['controls_in_design']}",
                     f"{c['events']} of {c['treated_in_design']}", f"{c['controls']} of {c['controls_in_design']}"])
    return md(pd.DataFrame(rows, columns=["Outcome", "Treated, all censuses", "Controls, all censuses",
                                          "Treated, 2017+", "Controls, 2017+"]), "lrrrr")


def tbl_reverse_decomposition(results: dict) -> str:
    """The vacancy rate and its parts (Callaway-Sant'Anna, 95% CI): k = 0, +1, +2, the pre-trend
    test, the trend-robust k = 0 interval under relative magnitudes with the benchmark Mbar, and k = 0
    with the censuses 2017+ only."""
    rows = []
    h_all = results["reverse"]["honest"]
    mbar = results["reverse"]["benchmarks"]["mbar"]
    for outcome in ("vacancy_rate", *DECOMPOSITION[:2], "agency_rate", DECOMPOSITION[2]):
        m = model(results, f"rev_cs_never_absorbing_{outcome}")
        m17 = model(results, f"rev_cs_never_absorbing_{outcome}_2017")
        rm1 = _rm(h_all[f"rev_cs_never_absorbing_{outcome}"]["by_k"]["k=0"], mbar)
        rows.append([f"{NAMES[outcome]} ({UNITS[outcome]})", *[_cell(m, k) for k in (0, 1, 2)],
                     fmt_p(m["stats"]["pre_trend_wald"]["p_value"]), interval(fmt(rm1["lo"], 1), fmt(rm1["hi"], 1)),
                     _cell(m17, 0)])
    return md(pd.DataFrame(rows, columns=["Outcome", "k = 0", "k = +1", "k = +2", "Pre-trend p",
                                          f"k = 0, M̄ = {mbar:g}", "k = 0, 2017+"]), "lrrrrrr")


def _rm(by_k: dict, mbar: float) -> dict:
    return next(r for r in by_k["relative_magnitudes"] if r["mbar"] == mbar)


def _bd(x) -> str:
    """A breakdown value: '–' if the conventional interval already includes zero."""
    return "–" if x is None else fmt(x, 1)


def tbl_reverse_honest(results: dict, outcomes=RATES) -> str:
    """Trend-robust intervals at k = 0 (Rambachan-Roth): conventional, relative magnitudes over
    the Mbar grid, smoothness over the M grid, the breakdown values and two linear
    extrapolations of the pre-trend; one column per outcome."""
    hs = [results["reverse"]["honest"][f"rev_cs_never_absorbing_{o}"] for o in outcomes]
    k0 = [h["by_k"]["k=0"] for h in hs]
    iv = lambda lo, hi: interval(fmt(lo, 1), fmt(hi, 1))  # noqa: E731
    rows = [["Parallel trends (conventional 95% CI)", *[ci(k["estimate"], k["original"]["lo"], k["original"]["hi"]) for k in k0]],
            ["Relative magnitudes: post-period change at most M̄ × largest pre-period change", *[""] * len(hs)]]
    for j, mbar in enumerate(hs[0]["mbar_grid"]):
        rows.append([f"  M̄ = {fmt(mbar, 1)}", *[iv(k["relative_magnitudes"][j]["lo"], k["relative_magnitudes"][j]["hi"]) for k in k0]])
    rows.append(["Smoothness: slope of the trend changes by at most M per census", *[""] * len(hs)])
    for j, m in enumerate(hs[0]["m_grid"]):
        rows.append([f"  M = {fmt(m, 1)}", *[iv(k["smoothness"][j]["lo"], k["smoothness"][j]["hi"]) for k in k0]])
    rows.append(["Breakdown value: largest restriction whose interval excludes 0", *[""] * len(hs)])
    rows.append(["  M̄", *[_bd(h["breakdown_mbar_k0"]) for h in hs]])
    rows.append(["  M", *[_bd(h["breakdown_m_k0"]) for h in hs]])
    rows.append(["Pre-trend line extrapolated to k = 0", *[""] * len(hs)])
    for key, label in (("linear_k-4_to_-1", "  Fitted to k = −4 to −1"), ("two_point_k-2_to_-1", "  Through k = −2 and −1")):
        rows.append([label, *[ci(h["extrapolation_k0"][key]["estimate"], h["extrapolation_k0"][key]["ci_low"],
                                 h["extrapolation_k0"][key]["ci_high"]) for h in hs]])
    unit = UNITS[outcomes[0]]
    return md(pd.DataFrame(rows, columns=["k = 0", *[f"{NAMES[o]} ({unit})" for o in outcomes]]), "l" + "r" * len(hs))


def tbl_reverse_honest_decomposition(results: dict) -> str:
    """:func:`tbl_reverse_honest` for funded posts, staff in post and agency workers (log points)."""
    return tbl_reverse_honest(results, DECOMPOSITION)


def tbl_reverse_choices(results: dict) -> str:
    """k = 0 under the primary design and the two named choices (Callaway-Sant'Anna, 95% CI), and
    the breakdown value of the relative-magnitudes bound under each."""
    h = results["reverse"]["honest"]
    rows = []
    for outcome in (*RATES, *DECOMPOSITION):
        ids = [f"rev_cs_never_absorbing_{outcome}{suffix}" for suffix in ("", "_overlap", "_2017")]
        rows.append([f"{NAMES[outcome]} ({UNITS[outcome]})", *[_cell(model(results, i), 0) for i in ids],
                     ", ".join(_bd(h[i]["breakdown_mbar_k0"]) for i in ids)])
    return md(pd.DataFrame(rows, columns=["Outcome", "Primary", "Overlapping events kept", "Censuses 2017+",
                                          "Breakdown M̄: primary, kept, 2017+"]), "lrrrr")
