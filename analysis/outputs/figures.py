"""Figures of the report (seaborn). Each function writes one PNG and returns its path."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .common import GRADE_ORDER, GRADE_PALETTE, MEASURE_LABELS, model, save, theme

TREND_MEASURES = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate"]


def fig_national_trends(panel: pd.DataFrame):
    """Median and inter-quartile range across LAs of four pressure measures, 2015-2025."""
    theme()
    fig, axes = plt.subplots(2, 2, figsize=(8, 5.2), sharex=True)
    for ax, m in zip(axes.flat, TREND_MEASURES):
        g = panel[~panel["small_la"]].groupby("year")[m]
        q = pd.DataFrame({"median": g.median(), "q1": g.quantile(0.25), "q3": g.quantile(0.75)}).dropna()
        ax.fill_between(q.index, q["q1"], q["q3"], color="#4c72b0", alpha=0.25, label="middle half of LAs")
        ax.plot(q.index, q["median"], marker="o", color="#4c72b0", label="median LA")
        ax.axvline(2016.5, color="0.4", ls="--", lw=1)
        ax.set_title(MEASURE_LABELS[m], fontsize=10)
        ax.set_xlabel("")
    axes[0, 0].text(2016.6, axes[0, 0].get_ylim()[1], " new collection", va="top", fontsize=8, color="0.3")
    axes[0, 0].legend(loc="lower left", fontsize=8, frameon=False)
    fig.supxlabel("Census year (30 September)")
    fig.tight_layout()
    return save(fig, "fig-trends")


def fig_by_rating(panel: pd.DataFrame):
    """Caseload and agency rate by the Ofsted grade in force, 2017-2025 (worker-level data)."""
    theme()
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"] & panel["grade_label"].notna()]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, m in zip(axes, ["caseload", "agency_rate"]):
        sns.boxplot(data=d, x="grade_label", y=m, hue="grade_label", order=GRADE_ORDER, palette=GRADE_PALETTE,
                    ax=ax, fliersize=2, legend=False)
        ax.set_xlabel("")
        ax.set_ylabel(MEASURE_LABELS[m])
        ax.set_xticks(range(4), ["Outstanding", "Good", "Requires\nimprovement", "Inadequate"], fontsize=8)
    fig.suptitle("LA-years 2017-2025 by grade in force at the census", fontsize=10)
    fig.tight_layout()
    return save(fig, "fig-by-rating")


def fig_la_variation(panel: pd.DataFrame):
    """LA means 2017-2025: caseload against agency rate, coloured by the latest grade."""
    theme()
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"]]
    means = d.groupby("la_code")[["caseload", "agency_rate"]].mean()
    latest = d.dropna(subset=["grade_label"]).sort_values("year").groupby("la_code")["grade_label"].last()
    means = means.join(latest).dropna()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    sns.scatterplot(data=means, x="caseload", y="agency_rate", hue="grade_label", hue_order=GRADE_ORDER,
                    palette=GRADE_PALETTE, ax=ax, s=28, edgecolor="0.3", linewidth=0.3)
    ax.set_xlabel("Mean caseload 2017-2025")
    ax.set_ylabel("Mean agency worker rate 2017-2025 (%)")
    ax.legend(title="Latest grade", fontsize=8, title_fontsize=8, frameon=False)
    fig.tight_layout()
    return save(fig, "fig-la-variation")


def fig_panel_coefficients(results: dict):
    """Standardised coefficients (per SD) of the five pressure measures on the grade, by estimator."""
    theme()
    names = {"pooled": "Pooled OLS", "random": "Random effects", "between": "Between",
             "fe_twoway": "LA + year FE", "first_difference": "First differences"}
    rows = []
    for est, label in names.items():
        m = model(results, f"panel_{est}_grade_num")
        for term in MEASURE_LABELS:
            c = m["coefficients"][term]
            scale = c["std_estimate"] / c["estimate"] if c["estimate"] else np.nan
            rows.append({"estimator": label, "term": MEASURE_LABELS[term], "est": c["std_estimate"],
                         "lo": c["ci_low"] * scale, "hi": c["ci_high"] * scale})
    d = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    palette = sns.color_palette("deep", len(names))
    terms = list(MEASURE_LABELS.values())
    for i, (est, color) in enumerate(zip(names.values(), palette)):
        s = d[d["estimator"] == est].set_index("term").loc[terms]
        y = np.arange(len(terms)) + (i - 2) * 0.15
        ax.errorbar(s["est"], y, xerr=[s["est"] - s["lo"], s["hi"] - s["est"]], fmt="o", ms=4,
                    color=color, label=est, capsize=2, lw=1)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(range(len(terms)), terms)
    ax.invert_yaxis()
    ax.set_xlabel("Change in grade (1 Outstanding to 4 Inadequate) per SD of the measure, 95% CI")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    return save(fig, "fig-panel-coefs")


def fig_event_study(results: dict):
    """Workforce measures in the years around a change of grade (event study, LA + year effects)."""
    theme()
    fig, axes = plt.subplots(2, 3, figsize=(8.5, 4.8), sharex=True)
    for r, kind in enumerate(["inadequate", "upgrade"]):
        for c, outcome in enumerate(["agency_rate", "vacancy_rate", "turnover_rate"]):
            m = model(results, f"event_{kind}_{outcome}")
            co = m["coefficients"]
            ks = sorted([int(k[2:]) for k in co] + [-1])
            est = [0.0 if k == -1 else co[f"k={k}"]["estimate"] for k in ks]
            lo = [0.0 if k == -1 else co[f"k={k}"]["ci_low"] for k in ks]
            hi = [0.0 if k == -1 else co[f"k={k}"]["ci_high"] for k in ks]
            ax = axes[r, c]
            ax.fill_between(ks, lo, hi, alpha=0.2, color="#c44e52" if kind == "inadequate" else "#55a868")
            ax.plot(ks, est, marker="o", ms=3, color="#c44e52" if kind == "inadequate" else "#55a868")
            ax.axhline(0, color="0.3", lw=0.8)
            ax.axvline(-0.5, color="0.5", ls="--", lw=0.8)
            ax.set_title(f"{MEASURE_LABELS[outcome].split(' (')[0]}: {'to Inadequate' if kind == 'inadequate' else 'upgrade'}",
                         fontsize=9)
            if c == 0:
                ax.set_ylabel("pp vs year −1")
    fig.supxlabel("Years since the grade in force changed (endpoints pooled)")
    fig.tight_layout()
    return save(fig, "fig-event-study")


def fig_spec_curve(curve: pd.DataFrame):
    """Specification curve: sign-aligned standardised estimates, sorted, with 95% CIs."""
    theme()
    d = curve[curve["status"] == "fitted"].copy()
    sign = np.where(d["outcome"] == "good_or_better", -1.0, 1.0)
    scale = d["std_estimate"] / d["estimate"]
    d["lo"] = sign * np.where(sign > 0, d["ci_low"], d["ci_high"]) * scale
    d["hi"] = sign * np.where(sign > 0, d["ci_high"], d["ci_low"]) * scale
    terms = ["caseload", "agency_rate", "vacancy_rate"]
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.4), sharey=False)
    for ax, t in zip(axes, terms):
        s = d[d["term"] == t].sort_values("worse_rating_std").reset_index(drop=True)
        sig = s["p_value"] < 0.05
        ax.vlines(s.index, s["lo"], s["hi"], color="0.75", lw=0.6)
        ax.scatter(s.index[~sig], s.loc[~sig, "worse_rating_std"], s=5, color="0.45", label="p ≥ 0.05")
        ax.scatter(s.index[sig], s.loc[sig, "worse_rating_std"], s=5, color="#c44e52", label="p < 0.05")
        ax.axhline(0, color="0.2", lw=0.8)
        ax.set_title(MEASURE_LABELS[t].split(" (")[0], fontsize=10)
        ax.set_xlabel("specifications, sorted")
    axes[0].set_ylabel("worse rating per SD (sign-aligned)")
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return save(fig, "fig-spec-curve")
