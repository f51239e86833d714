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


# the formatting rules have one home (formats.py); re-exported here for the older imports
from .formats import NBSP, fmt, fmt_bound, fmt_p, fmt_p_prose, interval, missing, rounds_to_zero  # noqa: E402,F401
