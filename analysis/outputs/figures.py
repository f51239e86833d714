"""Figures of the report (seaborn). Each function writes one PNG and returns its path.

Grades are drawn in the one grade palette and estimators or event kinds in the separate
estimator palette with one marker each (:mod:`analysis.outputs.palette`). Every figure is sized
for a phone: :func:`save_checked` refuses a figure whose saved image (tight bounding box) is more
than :data:`MAX_WIDTH_IN` inches wide or whose smallest text would be under :data:`MIN_TEXT_PX`
pixels when the image is shown :data:`PHONE_PX` pixels wide. Legends sit outside the plotting
area (below or above the panels), never over data. The alt text of each figure is computed from the same data by
:func:`alt_texts` (written to ``_variables.yml`` as ``alt.<figure>``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .common import MEASURE_LABELS, model, save, theme
from .palette import GRADE_COLOURS, GRADE_ORDER, estimator_styles

TREND_MEASURES = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate"]
#: display width of a figure on a phone (400 px viewport less the page margins)
PHONE_PX = 360
#: smallest text allowed at that width
MIN_TEXT_PX = 8.0
MAX_WIDTH_IN = 6.0
SHORT = {"caseload": "Caseload", "vacancy_rate": "Vacancy rate", "agency_rate": "Agency rate",
         "turnover_rate": "Turnover rate", "absence_rate": "Absence rate"}
GRADE_SHORT = {"Outstanding": "Outstanding", "Good": "Good", "Requires improvement": "Requires\nimprovement",
               "Inadequate": "Inadequate"}


def phone_theme() -> None:
    """The report theme with text large enough for a phone."""
    theme()
    plt.rcParams.update({"font.size": 11, "axes.titlesize": 11.5, "axes.labelsize": 11,
                         "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
                         "legend.title_fontsize": 10, "figure.titlesize": 11.5})


#: padding that ``savefig(bbox_inches="tight")`` adds around the tight bounding box (inches)
TIGHT_PAD_IN = 0.1


def saved_width_in(fig) -> float:
    """Width in inches of the image ``save`` writes: the tight bounding box of everything drawn
    (a legend below the axes or a long label can make it wider than the figure) plus padding."""
    fig.canvas.draw()
    return float(fig.get_tightbbox(fig.canvas.get_renderer()).width) + 2 * TIGHT_PAD_IN


def min_text_px(fig, display_px: float = PHONE_PX) -> float:
    """Smallest visible text of ``fig`` in screen pixels when its saved image is ``display_px`` wide.

    Notes
    -----
    A font of ``s`` points in an image ``W`` inches wide shown ``P`` pixels wide measures
    ``s / 72 * P / W`` pixels; ``W`` is the saved (tight) width, :func:`saved_width_in`.
    """
    width_in = saved_width_in(fig)
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) / 72 * display_px / width_in if sizes else float("inf")


def save_checked(fig, name: str):
    """Save after checking width and text size for a phone (ValueError if too small)."""
    width = saved_width_in(fig)
    px = min_text_px(fig)
    if width > MAX_WIDTH_IN + 1e-9 or px < MIN_TEXT_PX:
        plt.close(fig)
        raise ValueError(f"{name}: {width:.1f} in wide, smallest text {px:.1f} px at {PHONE_PX} px: "
                         f"not readable on a phone (limits {MAX_WIDTH_IN} in, {MIN_TEXT_PX} px)")
    return save(fig, name)


def _trend_table(panel: pd.DataFrame, measure: str) -> pd.DataFrame:
    g = panel[~panel["small_la"]].groupby("year")[measure]
    return pd.DataFrame({"median": g.median(), "q1": g.quantile(0.25), "q3": g.quantile(0.75)}).dropna()


def fig_national_trends(panel: pd.DataFrame):
    """Median and inter-quartile range across LAs of four pressure measures, 2015-2025."""
    phone_theme()
    fig, axes = plt.subplots(2, 2, figsize=(6, 5.4), sharex=True)
    for ax, m in zip(axes.flat, TREND_MEASURES):
        q = _trend_table(panel, m)
        ax.fill_between(q.index, q["q1"], q["q3"], color="#4c72b0", alpha=0.25, label="middle half of LAs")
        ax.plot(q.index, q["median"], marker="o", ms=3, color="#4c72b0", label="median LA")
        ax.axvline(2016.5, color="0.4", ls="--", lw=1)
        ax.set_title(MEASURE_LABELS[m])
        ax.set_xlabel("")
        ax.set_xticks([2015, 2019, 2023])
    # legend above the panels, never over the data
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.supxlabel("Census year (30 September); dashed: new collection")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    return save_checked(fig, "fig-trends")


def fig_by_rating(panel: pd.DataFrame):
    """Caseload and agency rate by the Ofsted grade in force, 2017-2025 (worker-level data)."""
    phone_theme()
    d = _by_rating_data(panel)
    fig, axes = plt.subplots(2, 1, figsize=(5.5, 6.2), sharex=True)
    for ax, m in zip(axes, ["caseload", "agency_rate"]):
        sns.boxplot(data=d, x="grade_label", y=m, hue="grade_label", order=GRADE_ORDER, palette=GRADE_COLOURS,
                    ax=ax, fliersize=2, legend=False)
        ax.set_xlabel("")
        ax.set_ylabel(MEASURE_LABELS[m])
        ax.set_xticks(range(4), [GRADE_SHORT[g] for g in GRADE_ORDER])
    axes[0].set_title("LA-years 2017-2025 by grade in force")
    fig.tight_layout()
    return save_checked(fig, "fig-by-rating")


def _by_rating_data(panel: pd.DataFrame) -> pd.DataFrame:
    return panel[(panel["year"] >= 2017) & ~panel["small_la"] & panel["grade_label"].notna()]


def _la_means(panel: pd.DataFrame) -> pd.DataFrame:
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"]]
    means = d.groupby("la_code")[["caseload", "agency_rate"]].mean()
    latest = d.dropna(subset=["grade_label"]).sort_values("year").groupby("la_code")["grade_label"].last()
    return means.join(latest).dropna()


def fig_la_variation(panel: pd.DataFrame):
    """LA means 2017-2025: caseload against agency rate, coloured by the latest grade."""
    phone_theme()
    means = _la_means(panel)
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    sns.scatterplot(data=means, x="caseload", y="agency_rate", hue="grade_label", hue_order=GRADE_ORDER,
                    palette=GRADE_COLOURS, ax=ax, s=30, edgecolor="0.25", linewidth=0.4)
    ax.set_xlabel("Mean caseload 2017-2025")
    ax.set_ylabel("Mean agency rate 2017-2025 (%)")
    # legend below the plot, never over the points
    handles, labels = ax.get_legend_handles_labels()
    ax.get_legend().remove()
    fig.legend(handles, labels, title="Latest grade", frameon=False, loc="lower center", ncol=2,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.15, 1, 1))
    return save_checked(fig, "fig-la-variation")


PANEL_ESTIMATORS = {"pooled": "Pooled OLS", "random": "Random effects", "between": "Between",
                    "fe_twoway": "LA + year FE", "first_difference": "First differences"}


def _panel_coef_table(results: dict) -> pd.DataFrame:
    rows = []
    for est, label in PANEL_ESTIMATORS.items():
        m = model(results, f"panel_{est}_grade_num")
        for term in MEASURE_LABELS:
            c = m["coefficients"][term]
            scale = c["std_estimate"] / c["estimate"] if c["estimate"] else np.nan
            rows.append({"estimator": label, "term": term, "est": c["std_estimate"],
                         "lo": c["ci_low"] * scale, "hi": c["ci_high"] * scale})
    return pd.DataFrame(rows)


def fig_panel_coefficients(results: dict):
    """Standardised coefficients (per SD) of the five pressure measures on the grade, by estimator."""
    phone_theme()
    d = _panel_coef_table(results)
    fig, ax = plt.subplots(figsize=(5.0, 6.4))
    terms = list(MEASURE_LABELS)
    styles = estimator_styles(len(PANEL_ESTIMATORS))  # estimator palette + markers, not grade colours
    for i, (est, (color, mk)) in enumerate(zip(PANEL_ESTIMATORS.values(), styles)):
        s = d[d["estimator"] == est].set_index("term").loc[terms]
        y = np.arange(len(terms)) + (i - 2) * 0.15
        ax.errorbar(s["est"], y, xerr=[s["est"] - s["lo"], s["hi"] - s["est"]], fmt=mk, ms=5,
                    color=color, label=est, capsize=2, lw=1.2)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(range(len(terms)), [SHORT[t] for t in terms])
    ax.invert_yaxis()
    ax.set_xlabel("Change in grade (1 Outstanding to 4 Inadequate)\nper SD of the measure, 95% CI")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return save_checked(fig, "fig-panel-coefs")


EVENT_OUTCOMES = ["agency_rate", "vacancy_rate", "turnover_rate"]
#: event kinds, each with a colour and marker of the estimator palette (a grade colour would read
#: as the grade itself: an upgrade need not be to Outstanding)
EVENT_KINDS = {kind: (label, *style) for (kind, label), style in
               zip({"inadequate": "Move to Inadequate", "upgrade": "Upgrade"}.items(), estimator_styles(2))}


def _event_series(results: dict, kind: str, outcome: str) -> pd.DataFrame:
    co = model(results, f"event_{kind}_{outcome}")["coefficients"]
    ks = sorted([int(k[2:]) for k in co] + [-1])
    return pd.DataFrame({"k": ks,
                         "est": [0.0 if k == -1 else co[f"k={k}"]["estimate"] for k in ks],
                         "lo": [0.0 if k == -1 else co[f"k={k}"]["ci_low"] for k in ks],
                         "hi": [0.0 if k == -1 else co[f"k={k}"]["ci_high"] for k in ks]})


def fig_event_study(results: dict):
    """Workforce measures in the years around a change of grade (event study, LA + year effects).

    Left column: a move to Inadequate; right column: an upgrade; rows: agency, vacancy, turnover
    (two panels a row, so that the text stays readable on a phone).
    """
    phone_theme()
    fig, axes = plt.subplots(3, 2, figsize=(5.5, 7.0), sharex=True)
    for c, (kind, (label, colour, marker)) in enumerate(EVENT_KINDS.items()):
        for r, outcome in enumerate(EVENT_OUTCOMES):
            s = _event_series(results, kind, outcome)
            ax = axes[r, c]
            ax.fill_between(s["k"], s["lo"], s["hi"], alpha=0.15, color=colour, lw=0)
            ax.plot(s["k"], s["est"], marker=marker, ms=4, color=colour)
            ax.axhline(0, color="0.3", lw=0.8)
            ax.axvline(-0.5, color="0.5", ls="--", lw=0.8)
            ax.set_xticks([-4, -2, 0, 2, 4])
            if r == 0:
                ax.set_title(label)
            if c == 0:
                ax.set_ylabel(f"{SHORT[outcome]}\npp vs year −1")
    fig.supxlabel("Years since the grade changed (ends pooled)")
    fig.tight_layout()
    return save_checked(fig, "fig-event-study")


SPEC_TERMS = ["caseload", "agency_rate", "vacancy_rate"]


def _spec_curve_data(curve: pd.DataFrame) -> pd.DataFrame:
    d = curve[curve["status"] == "fitted"].copy()
    sign = np.where(d["outcome"] == "good_or_better", -1.0, 1.0)
    scale = d["std_estimate"] / d["estimate"]
    d["lo"] = sign * np.where(sign > 0, d["ci_low"], d["ci_high"]) * scale
    d["hi"] = sign * np.where(sign > 0, d["ci_high"], d["ci_low"]) * scale
    return d


def fig_spec_curve(curve: pd.DataFrame):
    """Specification curve: sign-aligned standardised estimates, sorted, with 95% CIs."""
    phone_theme()
    d = _spec_curve_data(curve)
    fig, axes = plt.subplots(3, 1, figsize=(5.8, 7.4))
    for ax, t in zip(axes, SPEC_TERMS):
        s = d[d["term"] == t].sort_values("worse_rating_std").reset_index(drop=True)
        sig = s["p_value"] < 0.05
        ax.vlines(s.index, s["lo"], s["hi"], color="0.8", lw=0.6)
        ax.scatter(s.index[~sig], s.loc[~sig, "worse_rating_std"], s=7, color="0.45", marker="o", label="p ≥ 0.05")
        ax.scatter(s.index[sig], s.loc[sig, "worse_rating_std"], s=9, color=GRADE_COLOURS["Inadequate"],
                   marker="D", label="p < 0.05")
        ax.axhline(0, color="0.2", lw=0.8)
        ax.set_title(SHORT[t])
        ax.set_ylabel("per SD")
    axes[-1].set_xlabel("specifications, sorted by estimate")
    axes[0].legend(frameon=False, loc="upper left")
    fig.supylabel("Worse rating (sign-aligned)")
    fig.tight_layout()
    return save_checked(fig, "fig-spec-curve")


# ---------------------------------------------------------------------------------------------
# Alt text: what each figure shows, in words and numbers computed from the same data


def _n(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def alt_trends(panel: pd.DataFrame) -> str:
    parts = []
    for m in TREND_MEASURES:
        q = _trend_table(panel, m)["median"]
        unit = "" if m == "caseload" else "%"
        parts.append(f"{SHORT[m].lower()} {_n(q.loc[2017])}{unit} in 2017 and {_n(q.iloc[-1])}{unit} in "
                     f"{q.index[-1]}")
    return ("Four line charts of the median local authority with the middle half shaded, by census year. "
            "Median " + "; ".join(parts) + ".")


def alt_by_rating(panel: pd.DataFrame) -> str:
    d = _by_rating_data(panel)
    med = d.groupby("grade_label")[["caseload", "agency_rate"]].median()
    cl = ", ".join(f"{g} {_n(med.loc[g, 'caseload'])}" for g in GRADE_ORDER)
    ag = ", ".join(f"{g} {_n(med.loc[g, 'agency_rate'])}%" for g in GRADE_ORDER)
    return (f"Box plots of caseload and agency rate for each Ofsted grade, LA-years 2017 to 2025. "
            f"Median caseload: {cl}. Median agency rate: {ag}.")


def alt_la_variation(panel: pd.DataFrame) -> str:
    m = _la_means(panel)
    r = m["caseload"].corr(m["agency_rate"])
    return (f"Scatter plot of {len(m)} local authorities, mean caseload against mean agency rate 2017 to 2025, "
            f"coloured by latest grade. Mean caseload ranges from {_n(m['caseload'].min())} to "
            f"{_n(m['caseload'].max())} and mean agency rate from {_n(m['agency_rate'].min())}% to "
            f"{_n(m['agency_rate'].max())}%; the correlation between them is {_n(r, 2)}.")


def alt_panel_coefficients(results: dict) -> str:
    d = _panel_coef_table(results)
    n_est = len(PANEL_ESTIMATORS)
    parts = []
    for t in MEASURE_LABELS:
        s = d[d["term"] == t]
        parts.append(f"{SHORT[t].lower()} positive in {int((s['est'] > 0).sum())} of {n_est}, "
                     f"interval excluding zero in {int(((s['lo'] > 0) | (s['hi'] < 0)).sum())}")
    return ("Dot plot of standardised coefficients with 95% intervals for five estimators; positive means a "
            "worse grade. " + "; ".join(parts) + ".")


def alt_event_study(results: dict) -> str:
    parts = []
    events = {"inadequate": "a move to Inadequate", "upgrade": "an upgrade"}
    for kind, label in events.items():
        s = {o: _event_series(results, kind, o).set_index("k")["est"] for o in EVENT_OUTCOMES}
        one = ", ".join(f"{SHORT[o].lower()} {_n(s[o].loc[1])} pp" for o in EVENT_OUTCOMES)
        biggest = max(EVENT_OUTCOMES, key=lambda o: abs(s[o].loc[1]))
        parts.append(f"One year after {label}: {one}; the largest change is in {SHORT[biggest].lower()}")
    return ("Six line charts of agency, vacancy and turnover rates relative to the year before a change of "
            "grade, with 95% intervals. " + ". ".join(parts) + ".")


def alt_spec_curve(curve: pd.DataFrame) -> str:
    d = _spec_curve_data(curve)
    parts = []
    for t in SPEC_TERMS:
        s = d[d["term"] == t]
        parts.append(f"{SHORT[t].lower()}: median {_n(s['worse_rating_std'].median(), 3)} per SD, "
                     f"{int((s['p_value'] < 0.05).sum())} of {len(s)} with p below 0.05")
    return ("Three specification curves, each model's sign-aligned estimate sorted with its 95% interval. "
            + "; ".join(parts) + ".")


def alt_texts(panel: pd.DataFrame, results: dict, curve: pd.DataFrame) -> dict[str, str]:
    """Alt text of every figure, keyed as in ``_variables.yml`` (``alt.<key>``).

    Alt text goes into an HTML attribute, so it never contains a double quote.
    """
    out = {
        "fig_trends": alt_trends(panel),
        "fig_by_rating": alt_by_rating(panel),
        "fig_la_variation": alt_la_variation(panel),
        "fig_panel_coefs": alt_panel_coefficients(results),
        "fig_event_study": alt_event_study(results),
        "fig_spec_curve": alt_spec_curve(curve),
    }
    bad = [k for k, v in out.items() if '"' in v or "\n" in v]
    if bad:
        raise ValueError(f"alt text of {bad} contains a quote or line break")
    return out
