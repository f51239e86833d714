"""Page geometry of the lite engine's PDF equals ``_quarto.yml``'s (issue 16, item 8).

Quarto's typst template calls ``set page(paper: <papersize>, margin: (x: .., y: ..))`` with the
``format: typst`` options; pandoc's template ignored the dotted ``-V margin.x`` of 0.2.0 and used
its default 1.25 in margins (3.2 cm: 43 pages against Quarto's 38). The checks read the page box
(pypdf's mediabox) and the text block (pdftotext -bbox word boxes) of the PDF and compare them
with the values in ``_quarto.yml``, converted to points here, independently of the renderer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from analysis import __version__, paths
from analysis.render.lite import Document, RenderError, page_geometry, render

PT_PER = {"pt": 1.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4}
#: ISO 216 and US sizes in points (width, height)
PAPER_PT = {"a4": (210 * PT_PER["mm"], 297 * PT_PER["mm"]), "a5": (148 * PT_PER["mm"], 210 * PT_PER["mm"]),
            "us-letter": (8.5 * 72, 11 * 72)}
WORD_RE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">|'
                     r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')
needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext not installed")


def to_pt(length: str) -> float:
    m = re.fullmatch(r"([\d.]+)(pt|in|cm|mm)", str(length).strip())
    assert m, f"length {length!r} in _quarto.yml is not in pt, in, cm or mm"
    return float(m.group(1)) * PT_PER[m.group(2)]


def expected() -> dict:
    """Paper (points) and margins (points, left/right/top/bottom) from the project's _quarto.yml."""
    ty = yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())["format"]["typst"]
    m = ty["margin"]
    x, y = m.get("x"), m.get("y")
    sides = {"left": m.get("left", x), "right": m.get("right", x), "top": m.get("top", y),
             "bottom": m.get("bottom", y)}
    return {"paper": PAPER_PT[ty["papersize"]], "margin": {k: to_pt(v) for k, v in sides.items()},
            "fontsize": to_pt(ty["fontsize"]), "typst": ty}


def page_boxes(pdf: Path) -> list[tuple[float, float]]:
    from pypdf import PdfReader
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(pdf).pages]


def body_lines(pdf: Path, margin_top: float, margin_bottom: float, fontsize: float):
    """Lines of body text as (page, xMin, yMin, xMax, yMax), from pdftotext -bbox word boxes
    grouped by page and baseline. The page header ("Table 3 (continued)") and the page
    number sit in the top and bottom margins, as in Quarto's template, and are left out."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    words, page, height = [], 0, 0.0
    for m in WORD_RE.finditer(out):
        if m.group(1):
            page, height = page + 1, float(m.group(2))
            continue
        x0, y0, x1, y1 = (float(v) for v in m.groups()[2:])
        if margin_top - 0.4 * fontsize <= y0 < height - margin_bottom:
            words.append((page, x0, y0, x1, y1))
    # body text only: words as tall as the most common word (tables are set smaller, and their
    # cells are inset from the text block)
    body = mode(w[4] - w[2] for w in words)
    lines: dict[tuple[int, float], list[float]] = {}
    for page, x0, y0, x1, y1 in words:
        if abs((y1 - y0) - body) > 0.2:
            continue
        box = lines.setdefault((page, round(y1, 1)), [x0, y0, x1, y1])
        box[:] = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
    return [(p, *box) for (p, _), box in sorted(lines.items())]


def mode(values) -> float:
    return Counter(round(v, 1) for v in values).most_common(1)[0][0]


def check_text_block(pdf: Path, exp: dict) -> None:
    """Every page has the paper size; the text block's edges (the most common left and right
    ends of lines: justified text runs from margin to margin; the most common top of a page's
    first line) sit on the margins; nothing starts left of the left margin and nothing runs past
    the right margin by more than typst's hanging punctuation (0.3 em)."""
    w, h = exp["paper"]
    mg, fs = exp["margin"], exp["fontsize"]
    for i, (pw, ph) in enumerate(page_boxes(pdf), 1):
        assert abs(pw - w) < 0.5 and abs(ph - h) < 0.5, f"page {i} is {pw:.1f} x {ph:.1f} pt, not {w:.1f} x {h:.1f}"
    lines = body_lines(pdf, mg["top"], mg["bottom"], fs)
    left, right = mode(ln[1] for ln in lines), mode(ln[3] for ln in lines)
    first = {}
    for ln in lines:
        first.setdefault(ln[0], ln[2])
    top, bottom = mode(first.values()), max(ln[4] for ln in lines)
    assert abs(left - mg["left"]) < 0.5, f"text starts {left:.1f} pt from the left edge, not {mg['left']:.1f}"
    assert abs((w - right) - mg["right"]) < 0.5, f"text ends {w - right:.1f} pt from the right edge, not {mg['right']:.1f}"
    # a line's box starts at the font's ascender, which typst puts above the margin (its frame
    # starts at the cap height): up to 0.4 em above the margin, never below it
    assert mg["top"] - 0.4 * fs <= top <= mg["top"] + 0.5, f"text starts {top:.1f} pt from the top, not {mg['top']:.1f}"
    # ... and its last line's box ends at the font's descender, below typst's frame (baseline)
    assert bottom <= h - mg["bottom"] + 0.3 * fs, f"text runs to {h - bottom:.1f} pt from the bottom edge"
    assert min(ln[1] for ln in lines) > mg["left"] - 0.5, "a line starts in the left margin"
    over = max(ln[3] for ln in lines) - (w - mg["right"])
    assert over < 0.3 * fs, f"a line runs {over:.1f} pt into the right margin"


FRONT = """---
title: "Geometry"
lang: en-GB
bibliography: references.bib
csl: chicago-author-date.csl
format:
  typst:
    citeproc: true
    toc: false
    include-in-header: typst-header.typ
---
"""


@pytest.fixture(scope="module")
def small_pdf(tmp_path_factory) -> Path:
    """Three pages of justified text rendered by the lite engine with the project's _quarto.yml
    format options and typst header."""
    root = tmp_path_factory.mktemp("geometry")
    (root / "report").mkdir()
    for name in ("references.bib", "chicago-author-date.csl", "typst-header.typ"):
        shutil.copy(paths.ROOT / "report" / name, root / "report" / name)
    cfg = yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())
    cfg["project"]["render"] = ["report/report.qmd"]
    (root / "_quarto.yml").write_text(yaml.safe_dump(cfg))
    para = " ".join(["Workforce pressure and inspection grades in the census of each year."] * 12)
    (root / "report" / "report.qmd").write_text(FRONT + "\n# Text\n\n" + "\n\n".join([para] * 24) + "\n")
    return render(Document.load(root), root / "_output", "g", ("pdf",))["pdf"]


@needs_pdftotext
def test_lite_pdf_has_the_page_box_and_text_block_of_quarto_yml(small_pdf):
    check_text_block(small_pdf, expected())


def test_geometry_passes_the_margin_map_as_quarto_does():
    geo = page_geometry(expected()["typst"])
    assert geo["margin"] == {k: str(v) for k, v in expected()["typst"]["margin"].items()}
    assert geo["papersize"] == expected()["typst"]["papersize"]


@pytest.mark.parametrize("bad", [{"margin": {"x": "2.2 cm"}}, {"margin": {"side": "1cm"}}, {"fontsize": "ten"}])
def test_a_bad_geometry_option_is_one_clear_error(bad):
    with pytest.raises(RenderError, match="format: typst"):
        page_geometry({"papersize": "a4", "margin": {"x": "2cm", "y": "2cm"}, "fontsize": "10pt", **bad})


@pytest.fixture(scope="module")
def report_pdf() -> Path:
    """The report's lite PDF (``make report RENDER_ENGINE=lite``: a no-op when up to date)."""
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return paths.ROOT / "_output" / f"report-v{__version__}.pdf"


@needs_pdftotext
def test_report_pdf_has_the_page_box_and_text_block_of_quarto_yml(report_pdf):
    check_text_block(report_pdf, expected())
