"""The one home of the table formatting rules (issue 15, item 7): every ``tables*.py`` formats its
numbers, intervals, p-values, event times and grouped rows through these functions, and
``tests/test_table_formats.py`` checks every generated table against the same rules.

Rules
-----
* one unit per quantity: percentage points (pp) to :data:`PP_DIGITS` decimal, odds ratios to
  :data:`OR_DIGITS`, grade points and log-odds to :data:`POINT_DIGITS`, p-values to
  :data:`P_DIGITS` (a probability is always shown as pp, 100 x the probability);
* a p-value inside a cell carries its relation: "p = 0.085", "p < 0.001";
* relations are spaced: "k = 0", "k = +1", "M̄ = 0.5";
* a label is printed once per group (a heading row, :func:`grouped`), never on every row;
* a label does not repeat its measure ("Vacancy rate: +5 pp", not "Vacancy: +5 pp vacancy");
* a test statistic (χ²) never sits under an interval heading;
* every difference in sample size between the columns of a table is explained in a note
  (:func:`sample_note`, printed under the table's caption).
"""

from __future__ import annotations

import re

import pandas as pd

PP_DIGITS = 1
OR_DIGITS = 2
POINT_DIGITS = 3
P_DIGITS = 3

#: non-breaking space: keeps a confidence interval on one line ("[−7.2,\u00a02.2]" never wraps
#: inside its brackets in the PDF or HTML)
NBSP = "\u00a0"


def missing(x: object) -> bool:
    """True for None, NaN and pandas' missing markers: printed as "–", never "nan" or "None"."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(x != x)  # NaN is the one value unequal to itself
    except (TypeError, ValueError):
        return False


def fmt(x: float | None, digits: int = 2) -> str:
    """Fixed ``digits`` decimals with a true minus sign; missing -> "–"; a value that rounds to
    zero prints without a sign (0.0, never −0.0)."""
    if missing(x):
        return "–"
    text = f"{x:,.{digits}f}"
    if not any(ch in "123456789" for ch in text):  # rounds to zero: no sign
        text = text.lstrip("-")
    return text.replace("-", "−")


def fmt_bound(x: float | None, digits: int = 2) -> str:
    """An interval end: :func:`fmt`, except that a non-zero end that rounds to zero is written
    "just below 0" / "just above 0": [just below 0, 10.8] for a lower end of −0.03, which
    ``fmt`` would print 0.0 (read as touching zero) while a table column keeps one precision and
    never shows −0.0."""
    if rounds_to_zero(x, digits):
        return "just below 0" if x < 0 else "just above 0"
    return fmt(x, digits)


def rounds_to_zero(x: float | None, digits: int) -> bool:
    """True if ``x`` is non-zero but prints as zero at ``digits`` decimals."""
    return not missing(x) and x != 0 and not any(ch in "123456789" for ch in f"{x:.{digits}f}")


def fmt_p(p: float | None) -> str:
    """A p-value in a p-value column: "0.085" or "< 0.001"."""
    if missing(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.{P_DIGITS}f}"


def fmt_p_prose(p: float | None) -> str:
    """p-value with its relation sign, for prose: '< 0.001' or '= 0.474'."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"= {p:.{P_DIGITS}f}"


def p_cell(p: float | None) -> str:
    """A p-value inside a cell of another quantity: "p = 0.085", "p < 0.001" (never "p 0.085")."""
    return "–" if missing(p) else f"p {fmt_p_prose(p)}"


def interval(lo: str, hi: str) -> str:
    """A 95% interval of two formatted ends, "[lo,<NBSP>hi]": one unbreakable word."""
    return f"[{lo},{NBSP}{hi}]"


def ci(est: float, lo: float, hi: float, digits: int) -> str:
    """"estimate [lo, hi]" with ``digits`` decimals; an end that is non-zero but rounds to zero is
    written in words (:func:`fmt_bound`: "just below 0"), never 0.0 or −0.0."""
    return f"{fmt(est, digits)} {interval(fmt_bound(lo, digits), fmt_bound(hi, digits))}"


def pp(x: float | None, probability: bool = False) -> str:
    """Percentage points to :data:`PP_DIGITS` decimal; ``probability``: ``x`` is a probability
    (or a coefficient on one) and is shown as 100 x ``x``."""
    return fmt(None if missing(x) else (100 * x if probability else x), PP_DIGITS)


def pp_ci(est: float, lo: float, hi: float, probability: bool = False) -> str:
    """Percentage points with the 95% interval (see :func:`pp`)."""
    s = 100 if probability else 1
    return ci(s * est, s * lo, s * hi, PP_DIGITS)


def pp_se(est: float, se: float, probability: bool = False) -> str:
    """"estimate (SE)" in percentage points."""
    return f"{pp(est, probability)} ({pp(se, probability)})"


def odds_ci(est: float, lo: float, hi: float) -> str:
    """An odds ratio with its 95% interval, :data:`OR_DIGITS` decimals."""
    return ci(est, lo, hi, OR_DIGITS)


def points_ci(est: float, lo: float, hi: float) -> str:
    """Grade points (or log-odds) with the 95% interval, :data:`POINT_DIGITS` decimals."""
    return ci(est, lo, hi, POINT_DIGITS)


def points_se(est: float, se: float, scale: float = 1.0) -> str:
    """"estimate (SE)" in grade points or log-odds, :data:`POINT_DIGITS` decimals."""
    return f"{fmt(scale * est, POINT_DIGITS)} ({fmt(scale * se, POINT_DIGITS)})"


def k_label(k: int) -> str:
    """An event time, spaced and signed: "k = 0", "k = +1", "k = −2"."""
    return "k = 0" if k == 0 else f"k = {'+' if k > 0 else '−'}{abs(k)}"


def change_label(measure: str, change: str) -> str:
    """"Measure: change" without the measure repeated in the change:
    ("Spending per child", "+£100 spending per child (at the median)") ->
    "Spending per child: +£100 (at the median)".

    >>> change_label("Vacancy", "+5 pp vacancy")
    'Vacancy: +5 pp'
    """
    text = re.sub(re.escape(measure), "", change, flags=re.I)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return f"{measure}: {text}"


def percent(share: float) -> str:
    """A share (0-1) as a whole percentage, without the sign (the heading carries "%")."""
    return f"{100 * share:.0f}"


def bold(text: str):
    """A group heading cell: the escaped text in bold (markdown, kept as it is by ``tables.md``)."""
    from .tables import Markup, escape_md  # tables imports this module
    return Markup(f"**{escape_md(text)}**")


def heading_row(text: str, width: int) -> list:
    """A heading row of a grouped table: the bold label, the other cells empty."""
    return [bold(text), *[""] * (width - 1)]


def grouped(rows: list[list[object]], heading=bold) -> list[list[object]]:
    """Rows whose first cell is a group label, printed once: a heading row (the label, other
    cells empty) before each group, the label dropped from the group's rows (their second cell
    becomes the row label). ``heading`` marks up the heading cell (e.g. bold)."""
    out: list[list[object]] = []
    last = object()
    for label, *rest in rows:
        if label != last:
            out.append([heading(label), *[""] * (len(rest) - 1)])
            last = label
        out.append(list(rest))
    return out


def sample_note(counts: dict[str, int], reasons: dict[str, str], what: str = "observations") -> str:
    """A note explaining why columns differ in sample size: "Pooled and random effects: 1,384
    observations; LA + year FE: 1,387, because ...". ``counts``: column (as the note names it) ->
    size; ``reasons``: column -> why it differs from the most common size ("because" clause).
    Empty if all sizes are equal.

    Raises
    ------
    ValueError
        If a column whose size differs from the most common size has no reason.
    """
    sizes = list(counts.values())
    if len(set(sizes)) <= 1:
        return ""
    common = max(set(sizes), key=lambda s: (sizes.count(s), s))
    odd = [c for c, n in counts.items() if n != common]
    unexplained = [c for c in odd if c not in reasons]
    if unexplained:
        raise ValueError(f"sample_note: columns {unexplained} differ in {what} "
                         f"({[counts[c] for c in unexplained]} against {common:,}) with no reason")
    same = [c for c, n in counts.items() if n == common]
    names = same[0] if len(same) == 1 else f"{', '.join(same[:-1])} and {same[-1]}"
    parts = [f"{names[:1].upper()}{names[1:]}: {common:,} {what}"]
    parts += [f"{c}: {counts[c]:,}, because {reasons[c]}" for c in odd]
    return "; ".join(parts) + "."
