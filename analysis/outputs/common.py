"""Shared look and formatting for report outputs."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .. import paths  # noqa: E402

OUT = paths.ROOT / "report" / "outputs"
FIGURES = OUT / "figures"
TABLES = OUT / "tables"
RESULTS = OUT / "results" / "results.json"
from .palette import GRADE_COLOURS as GRADE_PALETTE, GRADE_ORDER  # noqa: E402  one palette (palette.py)
MEASURE_LABELS = {
    "caseload": "Caseload (cases per FTE)", "vacancy_rate": "Vacancy rate (%)",
    "agency_rate": "Agency worker rate (%)", "turnover_rate": "Turnover rate (%)",
    "absence_rate": "Sickness absence rate (%)",
}


def theme() -> None:
    """One theme for every figure."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.05,
                  rc={"figure.dpi": 100, "savefig.dpi": 200, "axes.titleweight": "bold",
                      "axes.spines.right": False, "axes.spines.top": False,
                      "svg.hashsalt": "csc", "path.simplify": True})


def save(fig, name: str, colours: int | None = None) -> Path:
    """Save a figure as PNG without time-stamped metadata (byte-stable). ``colours``: rewrite
    it with an adaptive palette of that many colours (median cut, no dithering: deterministic),
    for a figure of few colours whose full-colour file would weigh on the self-contained HTML."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    fig.savefig(path, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    if colours:
        from PIL import Image
        with Image.open(path) as im:
            small = im.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT,
                                               dither=Image.Dither.NONE)
        small.save(path, optimize=True)
    return path


def load_results() -> dict:
    return json.loads(RESULTS.read_text())


def model(results: dict, model_id: str) -> dict:
    for m in results["models"]:
        if m["model_id"] == model_id:
            return m
    raise KeyError(f"model {model_id!r} not in {RESULTS}")


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
    if missing(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_p_prose(p: float | None) -> str:
    """p-value with its relation sign, for prose: '< 0.001' or '= 0.474'."""
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


#: non-breaking space: keeps a confidence interval on one line ("[−7.2,\u00a02.2]" never wraps
#: inside its brackets in the PDF or HTML)
NBSP = "\u00a0"


def interval(lo: str, hi: str) -> str:
    """A 95% interval of two formatted ends, "[lo,<NBSP>hi]": one unbreakable word."""
    return f"[{lo},{NBSP}{hi}]"
