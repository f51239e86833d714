"""Rules of ``report/typst-header.typ`` (shared by Quarto and the in-project engine), each checked
on a small document compiled with the real header, and shown to fail without the rule:

* short inline code (20 characters or fewer, e.g. ``G/(G-1)``) never breaks across lines;
* long inline code may break but keeps the size of short code (no second shrink);
* table rows are as tall as their text (small insets, tight leading).
"""

from __future__ import annotations

import re

import pytest

from analysis import paths

HEADER = paths.ROOT / "report" / "typst-header.typ"
PAGE = "#set page(width: 5cm, height: auto, margin: 0.3cm)\n#set text(size: 10pt)\n"


def compile_runs(tmp_path, body: str, header: str | None = None) -> tuple[str, list[tuple[float, str, float]]]:
    """(extracted text, [(baseline y, text, font size)]) of ``body`` compiled under the header."""
    typst = pytest.importorskip("typst")
    from pypdf import PdfReader
    src = tmp_path / "t.typ"
    src.write_text((HEADER.read_text(encoding="utf-8") if header is None else header) + PAGE + body,
                   encoding="utf-8")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(typst.compile(str(src)))
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            runs.append((round(tm[5] * cm[3] + cm[5], 2), text.strip(), round(size * tm[0] * cm[0], 2)))
    page = PdfReader(pdf).pages[0]
    text = page.extract_text(visitor_text=visit)
    return text, runs


def _short_code_body() -> str:
    # the span at every offset of a narrow line: somewhere it falls on the line's end
    return "\n".join(f"{'x' * k} `G/(G-1)` y." for k in range(1, 16))


def short_code_broken(text: str) -> int:
    """Number of ``G/(G-1)`` spans split over two lines."""
    return text.count("G/") - text.count("G/(G-1)")


def test_short_code_never_breaks(tmp_path):
    text, _ = compile_runs(tmp_path, _short_code_body())
    assert text.count("G/(G-1)") == 15 and short_code_broken(text) == 0, text


def test_the_short_code_check_catches_a_break(tmp_path):
    old = re.sub(r"\} else \{ box\(it\) \}", "} else { it }", HEADER.read_text(encoding="utf-8"))
    assert old != HEADER.read_text(encoding="utf-8")
    text, _ = compile_runs(tmp_path, _short_code_body(), old)
    assert short_code_broken(text) > 0


def test_long_code_breaks_and_keeps_the_code_size(tmp_path):
    long = "analysis/outputs/figures.py::fig_national_trends"
    _, runs = compile_runs(tmp_path, f"`short` and `{long}`")
    short_size = next(s for _, t, s in runs if t == "short")
    long_sizes = {s for _, t, s in runs if t and t in long and t not in ("short", "and")}
    assert long_sizes == {short_size}, (short_size, long_sizes)
    assert len({y for y, t, _ in runs if t and t in long}) > 1  # it wrapped on the 5 cm page


def test_table_rows_are_as_tall_as_their_text(tmp_path):
    rows = "".join(f"[Row {i}], [`c{i}`]," for i in range(4))
    _, runs = compile_runs(tmp_path, f"#table(columns: 2, {rows} [Line one #linebreak() Line two], [x])")
    ys = sorted({y for y, t, _ in runs if t.startswith("Row")}, reverse=True)
    pitch = [a - b for a, b in zip(ys, ys[1:])]
    assert len(pitch) == 3
    # 8 pt text: one-line rows 10.3 pt apart (4 pt insets gave 13.3 pt)
    assert max(pitch) <= 11.5, pitch
    # lines inside a cell: 8 pt text, 0.45 em leading (typst's default 0.65 em gave 11.7 pt)
    one, two = (next(y for y, t, _ in runs if t.startswith(w)) for w in ("Line one", "Line two"))
    assert one - two <= 10.8, one - two


def _image_heights_cm(tmp_path, body: str, header: str | None = None) -> list[float]:
    """Heights (cm) of the images drawn on the first page of ``body`` on an A4 page."""
    typst = pytest.importorskip("typst")
    from PIL import Image
    from pypdf import PdfReader
    Image.new("RGB", (1000, 1800), "white").save(tmp_path / "tall.png", dpi=(200, 200))  # 12.7 x 22.9 cm
    src = tmp_path / "img.typ"
    src.write_text((HEADER.read_text(encoding="utf-8") if header is None else header)
                   + "#set page(paper: \"a4\", margin: 2.2cm)\n" + body, encoding="utf-8")
    pdf = tmp_path / "img.pdf"
    pdf.write_bytes(typst.compile(str(src)))
    heights = []

    def visit(op, args, cm, tm):
        if op == b"Do":
            heights.append(abs(cm[3]) / 72 * 2.54)
    PdfReader(pdf).pages[0].extract_text(visitor_operand_before=visit)
    return heights


def test_a_tall_figure_is_scaled_to_half_a_page(tmp_path):
    body = '#figure(image("tall.png"), caption: [Tall])'
    assert _image_heights_cm(tmp_path, body) == [pytest.approx(13.0, abs=0.05)]
    old = HEADER.read_text(encoding="utf-8").split("#show image:")[0]  # without the rule
    assert _image_heights_cm(tmp_path, body, old)[0] > 20


def test_hex_maps_are_full_width_in_the_pdf_and_inline_svg_in_html():
    """Each PDF map carries width="100%" (a figure attribute Quarto and pandoc both write into
    typst), so its legend prints at 8 pt or more; in HTML the same label is a figure div holding
    the inline SVG map (maps_svg.py)."""
    maps_md = (paths.ROOT / "report" / "outputs" / "maps.md").read_text(encoding="utf-8")
    blocks = re.findall(r"\{#fig-map-[^}]*\}", maps_md)
    pdf_maps = [b for b in blocks if ".hexmap-svg" not in b]
    data_maps = [b for b in pdf_maps if not b.startswith("{#fig-map-key ")]
    assert len(data_maps) >= 4 and all('.hexmap' in b and 'width="100%"' in b for b in data_maps), blocks
    assert pdf_maps[0].startswith('{#fig-map-key .hexmap .hexmap-key width="100%"'), pdf_maps[0]
    svg_maps = [b for b in blocks if ".hexmap-svg" in b]
    assert [b.split()[0] for b in svg_maps] == [b.split()[0] for b in pdf_maps]
    css = (paths.ROOT / "report" / "style.css").read_text(encoding="utf-8")
    assert re.search(r"img\.hexmap[^{]*\{[^}]*width:\s*auto\s*!important", css)
