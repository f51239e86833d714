"""Event-study figure of the reverse direction: TWFE and Callaway-Sant'Anna side by side.

The two estimators are drawn in the estimator palette with a marker each (never in grade colours),
one outcome a row so that the text stays readable on a phone (:func:`figures.save_checked`).
:func:`alt_reverse_event` states what the estimates show, computed from the same series.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import MEASURE_LABELS, model
from .figures import phone_theme, save_checked
from .palette import estimator_styles

OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")
#: (model id pattern, label, horizontal offset); colours and markers from the estimator palette
ESTIMATORS = [("rev_twfe_absorbing_{}", "TWFE", -0.12),
              ("rev_cs_never_absorbing_{}", "Callaway-Sant'Anna", 0.12)]
SERIES = [(pattern, label, colour, marker, dx)
          for (pattern, label, dx), (colour, marker) in zip(ESTIMATORS, estimator_styles(len(ESTIMATORS)))]
K_RANGE = (-4, 4)


def reverse_series(results: dict, pattern: str, outcome: str) -> pd.DataFrame:
    """Event-time estimates ``k``, ``est``, ``lo``, ``hi`` for |k| <= 4; k = −1 is the reference (0)."""
    co = model(results, pattern.format(outcome))["coefficients"]
    ks = sorted([k for k in (int(t[2:]) for t in co) if K_RANGE[0] <= k <= K_RANGE[1]] + [-1])
    get = lambda k, f: 0.0 if k == -1 else co[f"k={k}"][f]  # noqa: E731
    return pd.DataFrame({"k": ks, "est": [get(k, "estimate") for k in ks],
                         "lo": [get(k, "ci_low") for k in ks], "hi": [get(k, "ci_high") for k in ks]})


def fig_reverse_event(results: dict):
    """Workforce measures around a first move to Inadequate, dated by publication (k = 0: first
    census after publication; k = −1 is the reference), with 95% CIs."""
    phone_theme()
    fig, axes = plt.subplots(len(OUTCOMES), 1, figsize=(5.5, 7.6), sharex=True)
    for ax, outcome in zip(axes, OUTCOMES):
        for pattern, label, colour, marker, dx in SERIES:
            s = reverse_series(results, pattern, outcome)
            x = s["k"] + dx
            ax.vlines(x, s["lo"], s["hi"], color=colour, lw=1.2)
            ax.plot(x, s["est"], marker=marker, ms=4.5, lw=1.2, color=colour, label=label)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.axvline(-0.5, color="0.5", ls="--", lw=0.8)
        ax.set_title(MEASURE_LABELS[outcome].split(" (")[0])
        ax.set_ylabel("pp vs census before")
    axes[-1].set_xticks(range(K_RANGE[0], K_RANGE[1] + 1))
    axes[-1].set_xlabel("Censuses since the first Inadequate judgement\nwas published (TWFE pools |k| ≥ 4)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_checked(fig, "fig-reverse-event")


def _n(x: float) -> str:
    return f"{x:.1f}"


def alt_reverse_event(results: dict) -> str:
    """What the figure shows, in numbers: for each outcome and estimator the estimate four censuses
    before the judgement and at the first census after it (pp against the census before), and
    whether the 95% interval at k = 0 excludes zero."""
    parts = []
    for outcome in OUTCOMES:
        word = MEASURE_LABELS[outcome].split(" (")[0].lower().replace("agency worker", "agency")
        bits = []
        for pattern, label, *_ in SERIES:
            s = reverse_series(results, pattern, outcome).set_index("k")
            k0 = s.loc[0]
            excl = "excluding zero" if k0["lo"] > 0 or k0["hi"] < 0 else "including zero"
            bits.append(f"{label} {_n(s.loc[K_RANGE[0], 'est'])} pp at k = {K_RANGE[0]} and "
                        f"{_n(k0['est'])} pp at k = 0 (interval {excl})")
        parts.append(f"{word}: " + ", ".join(bits))
    return ("Three event-study panels comparing TWFE and Callaway-Sant'Anna estimates, in percentage points "
            "relative to the census before a first Inadequate judgement was published. " + "; ".join(parts) + ".")

