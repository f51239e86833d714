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


def fmt_bound(x: float | None, digits: int = 2, max_extra: int = 3) -> str:
    """An interval end: like :func:`fmt`, but a non-zero value that would round to zero gets
    more decimals (up to ``max_extra`` more) so its sign shows: −0.03, not 0.0, as the lower
    end of an interval whose p-value is 0.051."""
    if missing(x):
        return "–"
    for d in range(digits, digits + max_extra + 1):
        text = fmt(x, d)
        if any(ch in "123456789" for ch in text):
            return text
    return fmt(x, digits)


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
