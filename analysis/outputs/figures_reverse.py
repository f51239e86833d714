"""Event-study figure of the reverse direction: TWFE and Callaway-Sant'Anna side by side."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .common import MEASURE_LABELS, model, save, theme

OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")
SERIES = [("rev_twfe_absorbing_{}", "TWFE", "#4c72b0", -0.12),
          ("rev_cs_never_absorbing_{}", "Callaway-Sant'Anna", "#c44e52", 0.12)]


def fig_reverse_event(results: dict):
    """Workforce measures around a first move to Inadequate, dated by publication (k = 0: first
    census after publication; k = −1 is the reference), with 95% CIs."""
    theme()
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), sharex=True)
    for ax, outcome in zip(axes, OUTCOMES):
        for pattern, label, colour, dx in SERIES:
            co = model(results, pattern.format(outcome))["coefficients"]
            ks = sorted(k for k in (int(t[2:]) for t in co) if -4 <= k <= 4)
            ks_all = sorted(ks + [-1])
            est = [0.0 if k == -1 else co[f"k={k}"]["estimate"] for k in ks_all]
            lo = [0.0 if k == -1 else co[f"k={k}"]["ci_low"] for k in ks_all]
            hi = [0.0 if k == -1 else co[f"k={k}"]["ci_high"] for k in ks_all]
            x = [k + dx for k in ks_all]
            ax.vlines(x, lo, hi, color=colour, lw=1)
            ax.plot(x, est, marker="o", ms=3, lw=1, color=colour, label=label)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.axvline(-0.5, color="0.5", ls="--", lw=0.8)
        ax.set_title(MEASURE_LABELS[outcome].split(" (")[0], fontsize=10)
    axes[0].set_ylabel("pp vs census before the judgement")
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.supxlabel("Censuses since the publication of the first Inadequate judgement (TWFE pools |k| ≥ 4)")
    fig.tight_layout()
    return save(fig, "fig-reverse-event")
