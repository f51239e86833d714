"""The headline chart of the key findings: the share of inspections judged Good or better by
quarter of agency use at the census before fieldwork, raw and adjusted, with 95% intervals.

The numbers come from :func:`analysis.models.quarters.quarter_table` on the headline sample
(:func:`headline_sample`, the one place that names the sample and the adjustment set). The figure
is sized and checked for a phone like every figure (:func:`figures.save_checked`); its alt text
(:func:`alt_key_findings`) states the numbers it shows.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..models.forward import drop_separated_cells, logit_design
from ..models.forward_checks import variant_frame
from ..models.forward_data import DEFAULT_CONTROLS, available_controls
from ..models.frame import inspection_frame
from ..models.quarters import QUARTERS, quarter_table
from .figures import phone_theme, save_checked
from .palette import estimator_styles

TERM = "agency_rate"
KIND_LABELS = {"raw": "As observed",
               "adjusted": "Adjusted for the other workforce measures, the previous\njudgement, demand, deprivation, spending, region and period"}


def headline_sample(panel: pd.DataFrame, insp: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The headline sample (one row per inspection) and the adjustment set of the chart: the
    primary design (analysis/models/primary.py) rebuilt as its fit builds it (the analysis frame
    with the feedback controls, cells that separate Good or better dropped, the binary logit's
    design: other workforce measures, demand, population, spending, previous grade, inspection
    type, framework, IDACI, region and two-year inspection periods), with agency use left out
    of the adjustment set because the chart sets it by quarter."""
    kept, _ = available_controls(DEFAULT_CONTROLS, panel)
    ff = variant_frame(inspection_frame(panel, insp, controls=kept), census17=False, feedback=True)
    ff = ff.complete(["idaci_2019"], "idaci_2019 missing")
    ff, _ = drop_separated_cells(ff, "good_or_better", "idaci_2019")
    x = logit_design(ff, "idaci_2019")
    controls = [c for c in x.columns if c != TERM]
    df = pd.concat([ff.data[["la_code", "inspection_year", "good_or_better", TERM]], x[controls]], axis=1)
    return df, controls


def headline_quarters(panel: pd.DataFrame, insp: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(headline sample, tidy table of the chart: :func:`quarter_table`)."""
    df, controls = headline_sample(panel, insp)
    return df, quarter_table(df, controls, TERM)


def quarter_labels(table: pd.DataFrame) -> list[str]:
    """x labels: the quarter's name and its range of agency use (percent of the workforce)."""
    raw = table[table["kind"] == "raw"].sort_values("quarter")
    out = []
    for _, r in raw.iterrows():
        name = QUARTERS[int(r["quarter"])].capitalize()
        out.append(f"{name}\n{r['low_edge']:.0f}\u2013{r['high_edge']:.0f}%")
    return out


def fig_key_findings(table: pd.DataFrame, base_rate: float):
    """Dot-and-interval chart, raw and adjusted side by side in each quarter, the base rate as a
    dashed line."""
    phone_theme()
    fig, ax = plt.subplots(figsize=(5.6, 3.9))
    styles = estimator_styles(2)
    for j, kind in enumerate(("raw", "adjusted")):
        t = table[table["kind"] == kind].sort_values("quarter")
        x = t["quarter"].to_numpy() + (j - 0.5) * 0.28
        y = 100 * t["share"].to_numpy()
        err = np.vstack([y - 100 * t["ci_low"].to_numpy(), 100 * t["ci_high"].to_numpy() - y])
        colour, marker = styles[j]
        ax.errorbar(x, y, yerr=err, fmt=marker, color=colour, ms=7, capsize=3, lw=1.6, label=KIND_LABELS[kind])
    ax.axhline(100 * base_rate, ls="--", lw=1, color="#555555")
    ax.text(3.45, 100 * base_rate + 1.2, f"All: {100 * base_rate:.0f}%", ha="right", va="bottom", fontsize=10,
            color="#333333")
    ax.set_xticks(range(4), quarter_labels(table))
    ax.set_xlim(-0.5, 3.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel("Judged Good or better (%)")
    ax.set_xlabel("Quarter of inspections by agency use at the census before")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.27), ncol=1, frameon=False)
    return save_checked(fig, "fig-key-findings", colours=64)


def alt_key_findings(table: pd.DataFrame, base_rate: float) -> str:
    """The chart in words: each quarter's range and its raw and adjusted shares with intervals."""
    parts = []
    for q in range(4):
        r = table[(table["quarter"] == q) & (table["kind"] == "raw")].iloc[0]
        a = table[(table["quarter"] == q) & (table["kind"] == "adjusted")].iloc[0]
        parts.append(f"{QUARTERS[q]} quarter ({r['low_edge']:.0f} to {r['high_edge']:.0f}% agency, {int(r['n'])} "
                     f"inspections): {100 * r['share']:.0f}% observed (95% interval {100 * r['ci_low']:.0f} to "
                     f"{100 * r['ci_high']:.0f}%), {100 * a['share']:.0f}% adjusted ({100 * a['ci_low']:.0f} to "
                     f"{100 * a['ci_high']:.0f}%)")
    return (f"Dot chart of the share of inspections judged Good or better in each quarter of agency use, as "
            f"observed and adjusted, with 95% intervals; dashed line: all inspections, {100 * base_rate:.0f}%. "
            + "; ".join(parts) + ".")
