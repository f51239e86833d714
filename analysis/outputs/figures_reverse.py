"""Event-study figures of the reverse direction: Callaway-Sant'Anna estimates with 95% intervals
and, at k = 0, +1 and +2, the trend-robust (honest) intervals under two restrictions.

The estimates and the two restrictions are drawn in the estimator palette with a marker each
(never in grade colours), one outcome a row so that the text stays readable on a phone
(:func:`figures.save_checked`). :func:`alt_reverse_event` states what the estimates show, computed
from the same series.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import model
from .figures import phone_theme, save_checked
from .palette import estimator_styles

RATES = ("agency_rate", "vacancy_rate", "turnover_rate")
DECOMPOSITION = ("vacancy_rate", "log_posts", "log_inpost")
OUTCOMES = RATES
TITLES = {"agency_rate": "Agency worker rate (pp)", "vacancy_rate": "Vacancy rate (pp)",
          "turnover_rate": "Turnover rate (pp)", "log_posts": "Funded posts (log points)",
          "log_inpost": "Staff in post (log points)", "log_agency_fte": "Agency workers (log points)"}
K_RANGE = (-4, 4)
#: the honest restrictions drawn (the benchmarks of results.json): key, grid field, label, offset
BOUNDS = [("relative_magnitudes", "mbar", "Relative magnitudes, M̄ = {:g}", 0.18),
          ("smoothness", "m", "Linear pre-trend (smoothness, M = {:g})", 0.36)]
STYLES = estimator_styles(1 + len(BOUNDS))


def reverse_series(results: dict, outcome: str) -> pd.DataFrame:
    """Callaway-Sant'Anna event-time estimates ``k``, ``est``, ``lo``, ``hi`` for |k| <= 4; k = −1
    is the reference (0)."""
    co = model(results, f"rev_cs_never_absorbing_{outcome}")["coefficients"]
    ks = sorted([k for k in (int(t[2:]) for t in co) if K_RANGE[0] <= k <= K_RANGE[1]] + [-1])
    get = lambda k, f: 0.0 if k == -1 else co[f"k={k}"][f]  # noqa: E731
    return pd.DataFrame({"k": ks, "est": [get(k, "estimate") for k in ks],
                         "lo": [get(k, "ci_low") for k in ks], "hi": [get(k, "ci_high") for k in ks]})


def honest_series(results: dict, outcome: str, key: str, field: str, value: float) -> pd.DataFrame:
    """The honest interval ``lo``, ``hi`` at k = 0, +1, +2 under one restriction value."""
    h = results["reverse"]["honest"][f"rev_cs_never_absorbing_{outcome}"]["by_k"]
    rows = []
    for name, by in h.items():
        r = next(x for x in by[key] if x[field] == value)
        rows.append({"k": int(name[2:]), "lo": r["lo"], "hi": r["hi"]})
    return pd.DataFrame(rows)


def _draw(results: dict, outcomes: tuple, name: str):
    phone_theme()
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(5.5, 7.8), sharex=True)
    colour, marker = STYLES[0]
    for ax, outcome in zip(axes, outcomes):
        s = reverse_series(results, outcome)
        ax.vlines(s["k"], s["lo"], s["hi"], color=colour, lw=1.2)
        ax.plot(s["k"], s["est"], marker=marker, ms=4.5, lw=1.2, color=colour,
                label="Callaway-Sant'Anna, 95% CI (parallel trends)")
        for (key, field, label, dx), (c, m) in zip(BOUNDS, STYLES[1:]):
            value = results["reverse"]["benchmarks"][field]
            label = label.format(value)
            h = honest_series(results, outcome, key, field, value)
            x = h["k"] + dx
            ax.vlines(x, h["lo"], h["hi"], color=c, lw=2.0)
            ax.plot(x, h["lo"], ls="none", marker=m, ms=4, color=c, label=label)
            ax.plot(x, h["hi"], ls="none", marker=m, ms=4, color=c)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.axvline(-0.5, color="0.5", ls="--", lw=0.8)
        ax.set_title(TITLES[outcome])
    axes[-1].set_xticks(range(K_RANGE[0], K_RANGE[1] + 1))
    axes[-1].set_xlabel("Censuses since the first Inadequate judgement was published\n(k = −1: the census before, the reference)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=1, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.89))
    return save_checked(fig, name)


def fig_reverse_event(results: dict):
    """Agency, vacancy and turnover rates around a first move to Inadequate, dated by
    publication, with the honest intervals at k = 0, +1, +2."""
    return _draw(results, RATES, "fig-reverse-event")


def fig_reverse_decomposition(results: dict):
    """The vacancy rate, funded posts and staff in post around the same events."""
    return _draw(results, DECOMPOSITION, "fig-reverse-decomposition")


def _n(x: float) -> str:
    return f"{x:.1f}"


def _alt(results: dict, outcomes: tuple, what: str) -> str:
    parts = []
    for outcome in outcomes:
        s = reverse_series(results, outcome).set_index("k")
        k0 = s.loc[0]
        mbar = results["reverse"]["benchmarks"]["mbar"]
        rm = honest_series(results, outcome, "relative_magnitudes", "mbar", mbar).set_index("k").loc[0]
        excl = lambda lo, hi: "excluding zero" if lo > 0 or hi < 0 else "including zero"  # noqa: E731
        unit = "log points" if outcome.startswith("log_") else "pp"
        parts.append(f"{TITLES[outcome].split(' (')[0].lower()}: {_n(s.loc[K_RANGE[0], 'est'])} {unit} at k = {K_RANGE[0]} and "
                     f"{_n(k0['est'])} {unit} at k = 0 (95% interval {excl(k0['lo'], k0['hi'])}; relative-magnitudes "
                     f"interval with M̄ = {mbar:g} from {_n(rm['lo'])} to {_n(rm['hi'])}, {excl(rm['lo'], rm['hi'])})")
    return (f"Three event-study panels of {what}, Callaway-Sant'Anna estimates relative to the census before a "
            "first Inadequate judgement was published, with trend-robust intervals after it. " + "; ".join(parts) + ".")


def alt_reverse_event(results: dict) -> str:
    """What the rates figure shows, in numbers (the estimate four censuses before and at the first
    census after the judgement, and whether the conventional and honest intervals exclude zero)."""
    return _alt(results, RATES, "agency, vacancy and turnover rates")


def alt_reverse_decomposition(results: dict) -> str:
    """What the decomposition figure shows, in numbers."""
    return _alt(results, DECOMPOSITION, "the vacancy rate, funded posts and staff in post")
