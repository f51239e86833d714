"""Accessibility and the cover (issue 15, items 5 and 8).

* The PDF is tagged (StructTreeRoot, MarkInfo Marked true), declares PDF/UA-1 in its XMP
  metadata (pdfuaid:part 1), sets its language, and every figure's structure element carries the
  figure's alt text. Both engines ask typst for the same standard (``format: typst:
  pdf-standard`` in ``_quarto.yml``).
* The HTML declares its language and uses a deliberate system font stack (no web font).
* The cover gives title, subtitle (years, version, date), authors, contact and how to cite, but
  no commit or hash (those are in the reproducibility block of Appendix C, whose stamp names the
  engine of each format: the HTML is never made by typst).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from analysis import __version__, paths
from analysis.render.lite import Document, RenderError, add_image_alt, image_alts, pdf_standards

HTML = paths.ROOT / "_output" / f"report-v{__version__}.html"
PDF = paths.ROOT / "_output" / f"report-v{__version__}.pdf"


@pytest.fixture(scope="module")
def rendered():
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return HTML, PDF


@pytest.fixture(scope="module")
def variables(rendered):
    return yaml.safe_load((paths.ROOT / "_variables.yml").read_text(encoding="utf-8"))


def struct_elements(reader) -> list:
    """Every structure element (dictionary with /S) of a tagged PDF, in tree order."""
    from pypdf.generic import ArrayObject, DictionaryObject
    out = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, ArrayObject):
            for child in node:
                walk(child)
        elif isinstance(node, DictionaryObject):
            if "/S" in node:
                out.append(node)
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"])
    return out


def pdfua_part(reader) -> str | None:
    """The PDF/UA part declared in the XMP metadata (``pdfuaid:part``), as element or attribute."""
    root = reader.trailer["/Root"]
    if "/Metadata" not in root:
        return None
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    m = re.search(r"<pdfuaid:part>\s*(\d+)\s*</pdfuaid:part>|pdfuaid:part=\"(\d+)\"", xmp)
    return (m.group(1) or m.group(2)) if m else None


def test_pdf_is_tagged_and_declares_pdf_ua_1(rendered):
    from pypdf import PdfReader
    reader = PdfReader(rendered[1])
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert pdfua_part(reader) == "1"
    assert root["/Lang"] == Document.load().meta["lang"] == "en-GB"
    kinds = [str(e["/S"]) for e in struct_elements(reader)]
    for role in ("/H1", "/H2", "/P", "/Table", "/TH", "/Figure", "/L"):
        assert role in kinds, role


def test_every_pdf_figure_carries_its_alt_text(rendered):
    from pypdf import PdfReader
    figures = [e for e in struct_elements(PdfReader(rendered[1])) if str(e["/S"]) == "/Figure"]
    md = (paths.ROOT / "_build" / "lite" / "report.typst.md").read_text(encoding="utf-8")
    alts = list(image_alts(md).values())
    assert len(figures) == len(alts) >= 16
    assert [str(f["/Alt"]) for f in figures] == alts


def test_both_engines_ask_for_pdf_ua_1():
    """Quarto reads ``format: typst: pdf-standard`` (quarto-cli schema document-pdfa.yml); the
    in-project engine hands the same value to typst-py."""
    ty = Document.load().meta["format"]["typst"]
    assert ty["pdf-standard"] == "ua-1"
    assert pdf_standards(ty) == ["ua-1"] and pdf_standards({"pdf-standard": ["a-2b", "ua-1"]}) == ["a-2b", "ua-1"]
    assert pdf_standards({}) == []


def test_an_image_without_alt_text_stops_the_render():
    src = '#figure(image("outputs/figures/a.png"), caption: [A])\n#box(image("outputs/figures/b.png", width: 50%))'
    out = add_image_alt(src, {"outputs/figures/a.png": 'Bars "high" \\ low', "outputs/figures/b.png": "B"})
    assert 'image("outputs/figures/a.png", alt: "Bars \\"high\\" \\\\ low")' in out
    assert 'image("outputs/figures/b.png", alt: "B", width: 50%)' in out
    with pytest.raises(RenderError, match="no alt text"):
        add_image_alt(src, {"outputs/figures/a.png": "A"})


def test_typst_refuses_ua_1_without_alt_text(tmp_path):
    """The standard is enforced, not only declared: typst will not write a PDF/UA-1 file with an
    image that has no alt text (the reason the in-project engine adds them)."""
    import typst
    from PIL import Image
    Image.new("RGB", (4, 4), "white").save(tmp_path / "x.png")
    (tmp_path / "bad.typ").write_text('#set document(title: [T])\n#set text(lang: "en")\n= T\n#image("x.png")\n')
    (tmp_path / "good.typ").write_text('#set document(title: [T])\n#set text(lang: "en")\n= T\n#image("x.png", alt: "A white square")\n')
    with pytest.raises(Exception, match="alt"):
        typst.compile(str(tmp_path / "bad.typ"), pdf_standards=["ua-1"])
    assert typst.compile(str(tmp_path / "good.typ"), pdf_standards=["ua-1"])[:5] == b"%PDF-"


def test_html_declares_its_language_and_a_system_font_stack(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*\blang="en-GB"', html)
    assert "@font-face" not in html and "fonts.googleapis" not in html
    css = (paths.ROOT / "report" / "style.css").read_text(encoding="utf-8")
    assert "system font stack" in css.lower()
    generic = ("serif", "sans-serif", "monospace", "system-ui")
    declared = re.findall(r"--font-[\w-]+\s*:\s*([^;]+);", css) + re.findall(r"font-family\s*:\s*([^;}]+)", html)
    assert declared
    for stack in declared:
        last = stack.strip().split(",")[-1].strip().strip('"')
        assert last in generic or last.startswith("var(--font-") or last == "inherit", stack


def test_accessibility_statement_is_in_the_appendix_and_true(rendered):
    text = (paths.ROOT / "report" / "accessibility.qmd").read_text(encoding="utf-8")
    assert text.startswith("# Appendix G: Accessibility {.unnumbered #sec-accessibility}")
    assert "PDF/UA-1" in text and "language" in text and "text alternative" in text
    assert "{{< include accessibility.qmd >}}" in (paths.ROOT / "report" / "report.qmd").read_text()
    html = rendered[0].read_text(encoding="utf-8")
    assert 'id="sec-accessibility"' in html
    from pypdf import PdfReader
    assert pdfua_part(PdfReader(rendered[1])) == "1"  # the claim the statement makes


def _cover_contact() -> str:
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    return cff["contact"][0]["website"]


def test_cover_has_authors_contact_and_citation_but_no_hashes(rendered, variables):
    from pypdf import PdfReader
    b = variables["build"]
    first = re.sub(r"\s+", " ", PdfReader(rendered[1]).pages[0].extract_text())
    for value in ("CSC Workforce Analysis Team", "Contact", _cover_contact(), "How to cite",
                  b["version"], b["date_text"], variables["data"]["first_year"], variables["data"]["last_year"]):
        assert value in first, value
    commit = b["commit"].split(" + ")[0]
    assert commit not in first and b["panel_sha"] not in first and "typst" not in first.lower()
    html = rendered[0].read_text(encoding="utf-8")
    header = re.sub(r"\s+", " ", re.search(r"<header id=\"title-block-header\">.*?</header>", html, re.S).group(0))
    cover = re.sub(r"\s+", " ", re.search(r'<div id="cover" class="cover">.*?</div>', html, re.S).group(0))
    assert b["date_text"] in header and commit not in header + cover
    assert _cover_contact() in cover and "CSC Workforce Analysis Team" in header


def test_contact_of_the_cover_is_the_one_in_citation_cff():
    qmd = (paths.ROOT / "report" / "report.qmd").read_text(encoding="utf-8")
    urls = set(re.findall(r"<(https?://[^>]+)>", qmd))
    assert urls == {_cover_contact()}
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["preferred-citation"]["contact"] == cff["contact"]
    assert _cover_contact().startswith(cff["repository-code"]) and _cover_contact().endswith("/issues")


def test_reproducibility_block_names_the_engine_of_each_format(rendered, variables):
    b = variables["build"]
    assert "typst" not in b["engine_html"].lower() and "typst" in b["engine_pdf"].lower()
    html = rendered[0].read_text(encoding="utf-8")
    section = re.search(r'<section id="sec-reproducibility".*?</section>', html, re.S).group(0)
    stamp = re.search(r'<div id="stamp".*?</div>', section, re.S).group(0)
    assert f"HTML rendered with {b['engine_html']};" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", stamp))
    assert b["commit"] in stamp and b["panel_sha"] in stamp


def _subtitle_lines(pdf) -> list[list[tuple[float, float]]]:
    """Word boxes (x_min, x_max) per line of the cover's subtitle, from pdftotext -bbox."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in
             re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]
    start = next(i for i, w in enumerate(words) if w[4] == "Caseloads,")
    end = next(i for i, w in enumerate(words) if i > start and w[4] == "CSC")
    lines: dict[float, list] = {}
    for x0, y0, x1, _, _ in words[start:end]:
        lines.setdefault(round(y0), []).append((x0, x1))
    return [sorted(v) for _, v in sorted(lines.items())]


def stretched(lines: list[list[tuple[float, float]]]) -> bool:
    """Do the word gaps differ between lines? Unjustified text has one space width throughout;
    justification widens the gaps of every line but the last."""
    gaps = [b[0] - a[1] for line in lines for a, b in zip(line, line[1:])]
    return max(gaps) - min(gaps) > 0.2


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext not installed")
def test_cover_subtitle_is_centred_not_justified(rendered):
    from pypdf import PdfReader
    width = float(PdfReader(rendered[1]).pages[0].mediabox.width)
    lines = _subtitle_lines(rendered[1])
    assert len(lines) >= 2
    assert not stretched(lines), f"stretched spaces in the subtitle: {lines}"
    for line in lines:
        left, right = line[0][0], width - line[-1][1]
        assert abs(left - right) < 3.0, f"subtitle line not centred: {left:.1f} vs {right:.1f}"


def _centred_lines(tmp_path, header: str) -> list[list[tuple[float, float]]]:
    """Word boxes per line of a long centred subtitle under ``header`` in a document that, like
    the pandoc and Quarto templates, sets ``justify: true`` after the header."""
    typst = pytest.importorskip("typst")
    body = ("#show: doc => { set par(justify: true); doc }\n#set page(width: 12cm, height: auto, margin: 1cm)\n"
            "#align(center, block[#text(size: 12pt, weight: \"bold\")[Caseloads, vacancies, agency use and "
            "turnover in upper-tier local authorities, a long subtitle that runs over several lines of the "
            "title page of the report]])\n")
    (tmp_path / "c.typ").write_text(header + "\n" + body, encoding="utf-8")
    (tmp_path / "c.pdf").write_bytes(typst.compile(str(tmp_path / "c.typ")))
    out = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "c.pdf"), "-"], check=True, capture_output=True,
                         text=True).stdout
    lines: dict[int, list] = {}
    for x0, y0, x1 in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"', out):
        lines.setdefault(round(float(y0)), []).append((float(x0), float(x1)))
    return [sorted(v) for _, v in sorted(lines.items())]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext not installed")
def test_header_keeps_centred_text_unjustified_under_a_justifying_template(tmp_path):
    """``#show align: set par(justify: false)`` in report/typst-header.typ: without it the
    template's justify stretches a centred subtitle's spaces (the review's finding)."""
    header = (paths.ROOT / "report" / "typst-header.typ").read_text(encoding="utf-8")
    rule = "#show align: set par(justify: false)"
    assert rule in header
    assert len(_centred_lines(tmp_path, header)) >= 3
    assert not stretched(_centred_lines(tmp_path, header))
    assert stretched(_centred_lines(tmp_path, header.replace(rule, "")))
