"""The one palette for the four Ofsted grades, used by every figure and map, and a separate
qualitative palette for estimators and other non-grade series.

ColorBrewer's 4-class diverging **RdBu** scheme (Cynthia Brewer, colorbrewer2.org; marked
"colorblind safe" there), reversed so that blue is Outstanding and red Inadequate. The two inner
classes are light and the outer ones dark, so the order also survives greyscale printing.

:func:`simulate_cvd` and :func:`min_delta_e` let a test check the palette under simulated
deuteranopia and protanopia (Machado, Oliveira and Fernandes 2009, severity 1.0) by the smallest
CIE76 colour difference between any two grades in CIELAB.

Estimators, models and event kinds are never drawn in grade colours (a red series would read as
"Inadequate"): they use :data:`ESTIMATOR_COLOURS`, dark colours from Paul Tol's colour-blind-safe
"muted" scheme (indigo, green, wine; personal.sron.nl/~pault) with Okabe and Ito's reddish purple
and black, each paired with its own marker (:data:`ESTIMATOR_MARKERS`) so that the series differ
without colour too. A test checks that these colours stay apart from each other and from every grade
colour under the same simulation, and have at least 3:1 contrast against white (WCAG 1.4.11).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

GRADE_ORDER = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
#: name of the scheme the colours are taken from (documented in the report)
PALETTE_NAME = "ColorBrewer RdBu, 4 classes (reversed)"
#: ColorBrewer RdBu 4-class, published order red -> blue
COLORBREWER_RDBU_4 = ("#ca0020", "#f4a582", "#92c5de", "#0571b0")
GRADE_COLOURS: dict[str, str] = dict(zip(GRADE_ORDER, reversed(COLORBREWER_RDBU_4)))
#: colour for a missing value in maps and tables
MISSING_COLOUR = "#d9d9d9"
#: sequential colour map for continuous map layers (viridis: perceptually uniform, CVD-safe)
SEQUENTIAL_CMAP = "viridis"
#: diverging colour map for changes (ColorBrewer PuOr, CVD-safe)
DIVERGING_CMAP = "PuOr_r"
#: significance of an estimate in coefficient plots, kept apart from the grade colours: Okabe and
#: Ito's (2008) colour-universal-design orange for p < 0.05 and a mid grey otherwise (distinct
#: under simulated deuteranopia and protanopia; tested)
SIGNIFICANCE_COLOURS: dict[str, str] = {"p < 0.05": "#E69F00", "p ≥ 0.05": "#8c8c8c"}
#: light band drawn behind points for their 95% intervals
INTERVAL_COLOUR = "#dadada"
#: marks of the choices panel of a specification curve
CHOICE_MARK_COLOUR = "#3a3a3a"

#: name of the estimator palette (documented in the report)
ESTIMATOR_PALETTE_NAME = "Paul Tol muted (indigo, green, wine) + Okabe-Ito (black, reddish purple)"
#: qualitative colours for estimators and other non-grade series, in order of use
ESTIMATOR_COLOURS: tuple[str, ...] = ("#000000", "#117733", "#cc79a7", "#332288", "#882255")
#: one marker per estimator colour (same order), so series differ in shape as well
ESTIMATOR_MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v")

# Machado et al. (2009) simulation matrices, severity 1.0, applied to linear RGB
MACHADO_2009 = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}


def hex_to_rgb(colour: str) -> np.ndarray:
    """``#rrggbb`` -> sRGB in [0, 1]."""
    c = colour.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    return np.array([int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _linear_to_lab(lin: np.ndarray) -> np.ndarray:
    """Linear sRGB -> CIELAB (D65).

    Notes
    -----
    XYZ = M lin with the sRGB D65 matrix; f(t) = t^(1/3) if t > (6/29)^3 else
    t / (3 (6/29)^2) + 4/29; L = 116 f(Y/Yn) - 16, a = 500 (f(X/Xn) - f(Y/Yn)),
    b = 200 (f(Y/Yn) - f(Z/Zn)).
    """
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = m @ np.clip(lin, 0, 1)
    white = np.array([0.95047, 1.0, 1.08883])
    t = xyz / white
    d = 6 / 29
    f = np.where(t > d ** 3, np.cbrt(t), t / (3 * d ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def simulate_cvd(colour: str, kind: str | None) -> np.ndarray:
    """CIELAB coordinates of ``colour`` as seen with colour-vision deficiency ``kind``
    (``"deuteranopia"``, ``"protanopia"``, or ``None`` for normal vision)."""
    lin = _to_linear(hex_to_rgb(colour))
    if kind is not None:
        lin = MACHADO_2009[kind] @ lin
    return _linear_to_lab(lin)


def min_delta_e(colours: list[str], kind: str | None) -> float:
    """Smallest CIE76 difference (Euclidean distance in CIELAB) between any two colours.

    Notes
    -----
    Delta E*ab = sqrt(dL^2 + da^2 + db^2); about 2.3 is a just-noticeable difference, and 20 or
    more distinguishes categories at a glance.
    """
    labs = [simulate_cvd(c, kind) for c in colours]
    return float(min(np.linalg.norm(a - b) for a, b in combinations(labs, 2)))


def grade_colours(order: list[str] | None = None) -> list[str]:
    """Colours of the grades in ``order`` (default: Outstanding first)."""
    return [GRADE_COLOURS[g] for g in (order or GRADE_ORDER)]


def estimator_styles(n: int) -> list[tuple[str, str]]:
    """(colour, marker) of the first ``n`` estimators (ValueError if the palette is too short)."""
    if n > len(ESTIMATOR_COLOURS):
        raise ValueError(f"{n} series but only {len(ESTIMATOR_COLOURS)} estimator colours")
    return list(zip(ESTIMATOR_COLOURS[:n], ESTIMATOR_MARKERS[:n]))


def min_delta_e_between(first: list[str], second: list[str], kind: str | None) -> float:
    """Smallest CIE76 difference between a colour of ``first`` and a colour of ``second``."""
    a = [simulate_cvd(c, kind) for c in first]
    b = [simulate_cvd(c, kind) for c in second]
    return float(min(np.linalg.norm(x - y) for x in a for y in b))


def contrast_with_white(colour: str) -> float:
    """WCAG contrast ratio of ``colour`` against white, (1.05) / (L + 0.05) with L the relative
    luminance 0.2126 R + 0.7152 G + 0.0722 B of linear sRGB."""
    lin = _to_linear(hex_to_rgb(colour))
    return 1.05 / (float(lin @ np.array([0.2126, 0.7152, 0.0722])) + 0.05)
