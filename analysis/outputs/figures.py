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
from .palette import (CHOICE_MARK_COLOUR, GRADE_COLOURS, GRADE_ORDER, INTERVAL_COLOUR,
                      SIGNIFICANCE_COLOURS, estimator_styles)

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
    fig.draw_without_rendering()  # layout only (text extents), no rasterising: a third of a save
    return float(fig.get_tightbbox(fig.canvas.get_renderer()).width) + 2 * TIGHT_PAD_IN


def min_text_px(fig, display_px: float = PHONE_PX, width_in: float | None = None) -> float:
    """Smallest visible text of ``fig`` in screen pixels when its saved image is ``display_px`` wide.

    Notes
    -----
    A font of ``s`` points in an image ``W`` inches wide shown ``P`` pixels wide measures
    ``s / 72 * P / W`` pixels; ``W`` is the saved (tight) width, :func:`saved_width_in`.
    """
    width_in = saved_width_in(fig) if width_in is None else width_in
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) / 72 * display_px / width_in if sizes else float("inf")


def save_checked(fig, name: str, colours: int | None = None):
    """Save after checking width and text size for a phone (ValueError if too small);
    ``colours``: write the PNG with an adaptive palette of that many colours (see ``save``)."""
    width = saved_width_in(fig)
    px = min_text_px(fig, width_in=width)  # one draw for both checks
    if width > MAX_WIDTH_IN + 1e-9 or px < MIN_TEXT_PX:
        plt.close(fig)
        raise ValueError(f"{name}: {width:.1f} in wide, smallest text {px:.1f} px at {PHONE_PX} px: "
                         f"not readable on a phone (limits {MAX_WIDTH_IN} in, {MIN_TEXT_PX} px)")
    return save(fig, name, colours=colours)


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
    # wide and short: it shares its page with the panel tables in the PDF (page-fill rule)
    fig, ax = plt.subplots(figsize=(5.8, 3.7))
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
    fig.legend(handles, labels, frameon=False, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    return save_checked(fig, "fig-panel-coefs")


#: the workforce measures of the multiverse, one figure each, in report order (agency use, the
#: headline, first) with the label of each figure
SPEC_TERMS = ["agency_rate", "caseload", "vacancy_rate", "turnover_rate"]
SPEC_FIGURES = {"agency_rate": "fig-spec-agency", "caseload": "fig-spec-caseload",
                "vacancy_rate": "fig-spec-vacancy", "turnover_rate": "fig-spec-turnover"}
#: rows of the choices panel, grouped by dimension: dimension heading -> (column of
#: ``multiverse.csv``, {level in the data: row label in plain words}). The controls are yes/no
#: choices each, read from the ``controls`` column ('none' or 'spending + region + ...').
SPEC_CHOICES: dict[str, tuple[str, dict[str, str]]] = {
    "Estimator": ("estimator", {"pooled_linear": "Pooled linear", "logit": "Pooled logit",
                                "ordered_logit": "Pooled ordered logit", "fe_linear": "LA fixed effects",
                                "cre_logit": "CRE logit", "cre_ordered_logit": "CRE ordered logit"}),
    "Outcome": ("outcome", {"grade": "Grade (1 to 4)", "good_or_better": "Good or better",
                            "inadequate": "Inadequate"}),
    "Timing": ("timing", {"census before": "Census before", "mean of two before": "Mean of two before",
                          "change over two years": "Change over 2 years"}),
    "Controls": ("controls", {"spending": "Spending", "region": "Region", "demand": "Demand",
                              "previous grade": "Previous grade"}),
    "Sample": ("sample", {"all": "All", "worker-level census": "Worker-level census", "ILACS only": "ILACS only",
                          "excl. London": "Excl. London", "excl. joint returns": "Excl. joint returns",
                          "SIF only": "SIF only"}),
}
#: the yes/no control dimensions (one per control in ``SPEC_CHOICES["Controls"]``)
CONTROL_DIMENSIONS = tuple(SPEC_CHOICES["Controls"][1])
#: the y axis of the curve (the scale of ``effect`` in ``multiverse.csv``)
SPEC_EFFECT_LABEL = "Standardised effect\n(above 0: worse rating)"


def spec_sorted(curve: pd.DataFrame, term: str) -> pd.DataFrame:
    """Fitted specifications of one workforce measure, sorted by the standardised effect.

    Parameters
    ----------
    curve : DataFrame
        ``multiverse.csv``: one row per distinct specification and term, with ``effect`` (fully
        standardised average marginal effect, + = worse rating), ``effect_low``,
        ``effect_high`` (its 95% interval) and ``p_value``.
    term : str
        Workforce measure, e.g. ``"turnover_rate"``.

    Returns
    -------
    DataFrame
        The rows of ``term`` in ascending order of ``effect`` (ties by ``spec_id``), indexed
        0..n-1 (the position on the curve), with ``significant`` (p < 0.05).

    Raises
    ------
    ValueError
        If the term has no specification or a specification appears twice.
    """
    d = curve[curve["term"] == term].copy()
    if d.empty:
        raise ValueError(f"no fitted specification for {term!r}")
    if d["spec_id"].duplicated().any():
        raise ValueError(f"{term}: specification(s) {sorted(d.loc[d['spec_id'].duplicated(), 'spec_id'])} "
                         f"appear more than once")
    d["significant"] = d["p_value"] < 0.05
    return d.sort_values(["effect", "spec_id"], kind="mergesort").reset_index(drop=True)


def choice_matrix(specs: pd.DataFrame) -> pd.DataFrame:
    """Which choice each specification made: one column per row of the choices panel.

    Parameters
    ----------
    specs : DataFrame
        Specifications (e.g. from :func:`spec_sorted`) with the columns ``estimator``,
        ``outcome``, ``timing``, ``controls`` and ``sample``.

    Returns
    -------
    DataFrame
        Boolean, one row per specification in the order given (same index), columns a
        MultiIndex (dimension heading, row label) in the order of :data:`SPEC_CHOICES`. Each
        specification has exactly one level of estimator, outcome, timing and sample; a control
        column is True when that control is included.

    Raises
    ------
    ValueError
        If a specification has a level (or control) without a label, so that no choice is lost.
    """
    cols = {}
    for heading, (column, levels) in SPEC_CHOICES.items():
        if column == "controls":
            parts = specs[column].map(lambda c: set() if c == "none" else set(c.split(" + ")))
            unknown = set().union(*parts) - set(levels) if len(parts) else set()
            for part, label in levels.items():
                cols[(heading, label)] = parts.map(lambda s, p=part: p in s).astype(bool)
        else:
            unknown = set(specs[column]) - set(levels)
            for level, label in levels.items():
                cols[(heading, label)] = specs[column] == level
        if unknown:
            raise ValueError(f"{column}: no label for {sorted(unknown)} (add it to SPEC_CHOICES)")
    out = pd.DataFrame(cols, index=specs.index)
    out.columns = pd.MultiIndex.from_tuples(out.columns, names=["dimension", "choice"])
    return out


def _curve_panel(ax, s: pd.DataFrame) -> None:
    """Sorted effects: interval band behind, points coloured by significance, zero line."""
    x = s.index.to_numpy()
    ax.fill_between(x, s["effect_low"], s["effect_high"], color=INTERVAL_COLOUR, lw=0, step="mid", zorder=1,
                    label="95% interval")
    ax.axhline(0, color="0.15", lw=0.8, zorder=2)
    for label, sig in (("p ≥ 0.05", False), ("p < 0.05", True)):
        part = s[s["significant"] == sig]
        ax.scatter(part.index, part["effect"], s=3, lw=0, color=SIGNIFICANCE_COLOURS[label],
                   zorder=3, label=label, rasterized=False)
    lo, hi = min(s["effect"].min(), 0.0), max(s["effect"].max(), 0.0)
    pad = 0.08 * (hi - lo)
    ax.set_ylim(lo - pad, hi + pad)  # every point shown; the widest intervals run off the panel
    ax.set_xlim(-0.5, len(s) - 0.5)
    ax.set_xticks([])
    ax.grid(axis="x", visible=False)


def choice_rows(m: pd.DataFrame) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """Rows of the choices panel.

    Parameters
    ----------
    m : DataFrame
        :func:`choice_matrix` of the specifications, in curve order.

    Returns
    -------
    (array, labels, headings)
        The marks, one row per choice, top to bottom; the row labels; and, per dimension
        heading, the row at which its group starts (the heading is written beside that row).
    """
    rows, labels, headings = [], [], {}
    for heading in dict.fromkeys(m.columns.get_level_values(0)):
        headings[heading] = len(rows)
        for label in m[heading].columns:
            rows.append(m[(heading, label)].to_numpy(dtype=float))
            labels.append(label)
    return np.vstack(rows), labels, headings


def _choices_panel(ax, m: pd.DataFrame) -> None:
    """Marks (dark) where a specification made a choice; the rows of each dimension under a
    heading written to the left of its first row, dimensions separated by lines."""
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.transforms import blended_transform_factory
    cmap = LinearSegmentedColormap.from_list("marks", ["#ffffff", CHOICE_MARK_COLOUR])
    marks, labels, headings = choice_rows(m)
    ax.imshow(marks, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="antialiased",
              extent=(-0.5, len(m) - 0.5, len(labels) - 0.5, -0.5))
    for first in headings.values():
        if first:
            ax.axhline(first - 0.5, color="0.55", lw=0.8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.tick_params(axis="y", length=0, pad=3, labelsize=SPEC_TEXT_PT)
    # headings in a column of their own at the figure's left edge (figure fraction in x, rows in y)
    where = blended_transform_factory(ax.figure.transFigure, ax.transData)
    for heading, first in headings.items():
        ax.text(0.01, first, heading, transform=where, ha="left", va="center", fontweight="bold",
                fontsize=SPEC_TEXT_PT)
    ax.set_xticks([])
    ax.grid(False)
    for side in ("left", "bottom", "right", "top"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_color("0.55")
        ax.spines[side].set_linewidth(0.8)


def text_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty texts of ``fig`` whose bounding boxes overlap.

    Tick labels of ticks outside the axis limits are not drawn (matplotlib keeps them visible
    but skips them), so they are left out."""
    fig.draw_without_rendering()  # layout only (text extents), no rasterising: a third of a save
    r = fig.canvas.get_renderer()
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - tol <= tick.get_loc() <= hi + tol:
                    hidden.update({id(tick.label1), id(tick.label2)})
    texts = [t for t in fig.findobj(plt.Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in texts]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if ba.x0 < bb.x1 and bb.x0 < ba.x1 and ba.y0 < bb.y1 and bb.y0 < ba.y1]


#: size of the specification-curve figure (inches): two fit on one A4 page of the PDF at
#: :data:`SPEC_PDF_WIDTH` of the text width (16.6 cm), with their captions
SPEC_WIDTH_IN, SPEC_ROW_IN, SPEC_CURVE_IN = 5.2, 0.135, 1.35
SPEC_PDF_WIDTH = 0.62
#: text size of the figure (points): 8.5 pt in a 5.3 in wide image is 8 px at 360 px
SPEC_TEXT_PT = 8.5


def draw_spec_curve(curve: pd.DataFrame, term: str):
    """The specification-curve figure of one workforce measure (not saved): a Figure.

    One column: the sorted standardised effects on top (points coloured by p < 0.05, 95%
    intervals as a light band behind them, a zero line) and, under it, one row per choice
    (Simonsohn, Simmons and Nelson 2020) marked dark in the columns of the specifications that
    made it, each dimension's rows under a bold heading at the left. With some 2,000
    specifications several share a pixel, so the marks read as a density: dark where every
    specification there made the choice. Text is 8.5 pt or larger (8 px at 360 px wide).
    """
    phone_theme()
    s = spec_sorted(curve, term)
    m = choice_matrix(s)
    n_rows = len(choice_rows(m)[1])
    # heights in inches, top to bottom: legend, curve, gap, choices (one row each), x label
    top, gap, bottom = 0.3, 0.1, 0.3
    height = top + SPEC_CURVE_IN + gap + n_rows * SPEC_ROW_IN + bottom
    fig = plt.figure(figsize=(SPEC_WIDTH_IN, height))
    left, right = 0.405, 0.985
    ax_m = fig.add_axes((left, bottom / height, right - left, n_rows * SPEC_ROW_IN / height))
    ax_c = fig.add_axes((left, (bottom + n_rows * SPEC_ROW_IN + gap) / height, right - left, SPEC_CURVE_IN / height))
    _curve_panel(ax_c, s)
    ax_c.set_ylabel(SPEC_EFFECT_LABEL, fontsize=SPEC_TEXT_PT)
    ax_c.tick_params(axis="y", labelsize=SPEC_TEXT_PT)
    handles, names = ax_c.get_legend_handles_labels()
    ax_c.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False,
                markerscale=3, handletextpad=0.3, columnspacing=1.2, borderaxespad=0.1, fontsize=SPEC_TEXT_PT)
    _choices_panel(ax_m, m)
    ax_m.set_xlabel(f"{len(s):,} distinct specifications, sorted by effect", fontsize=SPEC_TEXT_PT)
    fig.align_ylabels([ax_c, ax_m])
    return fig


def fig_spec_curve(curve: pd.DataFrame, term: str):
    """Specification curve of one workforce measure with its choices panel (see
    :func:`draw_spec_curve`), saved as ``SPEC_FIGURES[term]``.

    Parameters
    ----------
    curve : DataFrame
        ``multiverse.csv`` (see :func:`spec_sorted`).
    term : str
        Workforce measure, a key of :data:`SPEC_FIGURES`.

    Returns
    -------
    Path
        The PNG written by :func:`save_checked`.

    Raises
    ------
    ValueError
        If two texts of the figure overlap, or it is not readable on a phone.
    """
    name = SPEC_FIGURES[term]
    fig = draw_spec_curve(curve, term)
    clash = text_overlaps(fig)
    if clash:
        plt.close(fig)
        raise ValueError(f"{name}: texts overlap: {clash}")
    return save_checked(fig, name)


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


#: plain words for the multiverse's choice dimensions (keys of ``results.json["multiverse"]["choices"]``)
CHOICE_WORDS = {"estimator": "estimator", "outcome": "outcome coding", "timing": "timing",
                "controls": "controls", "sample": "sample"}
#: the estimator groups the alt text names (``design`` in ``multiverse.csv``)
DESIGN_WORDS = {"pooled": "pooled", "within": "within-council"}


def spec_curve_summary(curve: pd.DataFrame) -> pd.DataFrame:
    """Per workforce measure, what the specification curve shows.

    Parameters
    ----------
    curve : DataFrame
        ``multiverse.csv`` (see :func:`spec_sorted`).

    Returns
    -------
    DataFrame
        Indexed by term (order of :data:`SPEC_TERMS`): ``n_fitted``, ``share_worse`` (share of
        specifications with a positive effect, i.e. a worse rating), ``share_sig`` (share with
        p < 0.05), the same two shares for the pooled and the within-council designs
        (``share_worse_pooled`` ...), and ``moves_most`` (the choice whose levels' medians
        differ most), computed with :func:`analysis.models.multiverse.summarise`, the function
        that writes ``results.json["multiverse"]``.
    """
    from ..models.multiverse import summarise_table
    by_term = summarise_table(curve)
    rows = {}
    for t in SPEC_TERMS:
        s = spec_sorted(curve, t)
        r = {"n_fitted": len(s), "share_worse": float((s["effect"] > 0).mean()),
             "share_sig": float(s["significant"].mean()), "moves_most": by_term[t]["moves_most"]}
        for design in DESIGN_WORDS:
            part = s[s["design"] == design]
            r[f"n_{design}"] = len(part)
            r[f"share_worse_{design}"] = float((part["effect"] > 0).mean())
            r[f"share_sig_{design}"] = float(part["significant"].mean())
        rows[t] = r
    return pd.DataFrame.from_dict(rows, orient="index")


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def alt_spec_curve(curve: pd.DataFrame, term: str) -> str:
    """Alt text of :func:`fig_spec_curve` for ``term``, with numbers from :func:`spec_curve_summary`."""
    r = spec_curve_summary(curve).loc[term]
    designs = "; ".join(f"{_pct(r[f'share_worse_{d}'])} and {_pct(r[f'share_sig_{d}'])} of the "
                        f"{int(r[f'n_{d}']):,} {w} ones" for d, w in DESIGN_WORDS.items())
    return (f"Specification curve of the {SHORT[term].lower()}: the {int(r['n_fitted']):,} distinct "
            "specifications sorted by their standardised effect, signed so that positive means a worse "
            "rating, with 95% intervals; beneath it, a panel marks the estimator, outcome coding, timing, "
            f"controls and sample each specification used. {SHORT[term]}: {_pct(r['share_worse'])} of "
            f"specifications point to a worse rating and {_pct(r['share_sig'])} have p below 0.05 ({designs}); "
            f"the choice that moves the estimate most is the {CHOICE_WORDS[r['moves_most']]}.")


def alt_texts(panel: pd.DataFrame, results: dict, curve: pd.DataFrame) -> dict[str, str]:
    """Alt text of every figure, keyed as in ``_variables.yml`` (``alt.<key>``).

    Alt text goes into an HTML attribute, so it never contains a double quote.
    """
    out = {
        "fig_trends": alt_trends(panel),
        "fig_by_rating": alt_by_rating(panel),
        "fig_la_variation": alt_la_variation(panel),
        "fig_panel_coefs": alt_panel_coefficients(results),
        **{SPEC_FIGURES[t].replace("-", "_"): alt_spec_curve(curve, t) for t in SPEC_TERMS},
    }
    bad = [k for k, v in out.items() if '"' in v or "\n" in v]
    if bad:
        raise ValueError(f"alt text of {bad} contains a quote or line break")
    return out
