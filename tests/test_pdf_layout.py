"""Print quality of the PDF (issue 15, item 6), read from the rendered lite PDF with poppler
(:mod:`pdf_layout`):

* no page more than a third empty, except the page before a top-level Section (or appendix,
  references) starts and the last page; a page of floats only (figures and tables, no body
  text; LaTeX's float page) no more than half empty;
* no table split leaving two body rows or fewer on a page;
* no identifier (inline code) broken across lines other than after "_", "/", ".", ":" or "-";
* the specification curves two to a page.

Each checker is first shown to fail on a small document typeset the old way (tables breakable
everywhere, code breakable between any two characters) and to pass with the project's
``report/typst-header.typ``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import pdf_layout as layout
from analysis import __version__, paths

pytestmark = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
                                reason="poppler's pdftotext/pdftoppm not installed")

HEADER = paths.ROOT / "report" / "typst-header.typ"
MAX_BLANK = 1 / 3
#: a page of floats only (figures and tables, no body text) may be up to half empty
MAX_BLANK_FLOAT_PAGE = 1 / 2
MIN_ROWS = 3


def margin_y_cm() -> float:
    cfg = yaml.safe_load((paths.ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    return float(str(cfg["format"]["typst"]["margin"]["y"]).removesuffix("cm"))


# ---------------------------------------------------------------------------------------------
# the rules, as functions of a PDF


def underfilled_pages(pdf: Path) -> list[str]:
    by_page = layout.lines(pdf)
    starts = layout.section_start_pages(by_page)
    last = max(by_page)
    floats = layout.float_pages(by_page)
    blank = layout.blank_fractions(pdf, margin_y_cm())
    return [f"page {p}: {b:.0%} of the text block empty" for p, b in blank.items()
            if b > (MAX_BLANK_FLOAT_PAGE if p in floats else MAX_BLANK) and p != last and p + 1 not in starts]


def orphaned_rows(pdf: Path) -> list[str]:
    return [f"Table {t}: {n} body row(s) on page {p}" for t, p, n in layout.split_table_rows(layout.lines(pdf))
            if n < MIN_ROWS]


def broken_code(pdf: Path, identifiers: set[str]) -> list[str]:
    return layout.broken_identifiers(pdf, identifiers)


# ---------------------------------------------------------------------------------------------
# a small document typeset the old way fails, with the project's header passes

def old_header() -> str:
    """The project's header as it was before issue 15: every table breakable wherever it falls
    (no float, no fit test) and inline code breakable between any two characters."""
    text = HEADER.read_text(encoding="utf-8")
    text = text[:text.index("// (after the markers' rule")]
    start = text.index("#show raw.where(block: false)")
    end = text.index("} else { box(it) }", start) + len("} else { box(it) }")
    return text[:start] + "#show raw.where(block: false): it => it.text.clusters().map(c => box(c)).join()" + text[end:]


PARAGRAPHS = 12  # the table starts at the foot of page 1: one row there, the old way
IDENT = "tbl_fwd_magnitudes_and_more_words"


def _doc(header: str) -> str:
    rows = ", ".join(f"[row {i}], [{i}]" for i in range(30))
    filler = "Some words of body text that fill the page. " * 9
    return f"""#set page(paper: "a4", margin: (x: 2.2cm, y: {margin_y_cm()}cm))
#set text(size: 10pt)
{header}
{(filler + chr(10) + chr(10)) * PARAGRAPHS}
#figure(table(columns: 2, {rows}), caption: [A table of thirty rows])

{filler} {"word " * 88} `{IDENT}` {filler}
"""


def _typeset(tmp: Path, header: str) -> Path:
    import typst
    src = tmp / "doc.typ"
    src.write_text(_doc(header), encoding="utf-8")
    out = tmp / "doc.pdf"
    typst.compile(str(src), output=str(out))
    return out


def test_checkers_fail_on_the_old_layout_and_pass_with_the_header(tmp_path):
    old = _typeset(tmp_path, old_header())
    assert orphaned_rows(old), "the table should leave one row at the foot of page 1"
    assert broken_code(old, {IDENT}), "the old rule breaks code between any two characters"
    (tmp_path / "new").mkdir()
    new = _typeset(tmp_path / "new", HEADER.read_text(encoding="utf-8"))
    assert not orphaned_rows(new)
    assert not broken_code(new, {IDENT})
    assert not underfilled_pages(new)


def test_an_underfilled_page_is_found(tmp_path):
    import typst
    src = tmp_path / "d.typ"
    src.write_text('#set page(paper: "a4", margin: 2.2cm)\nShort page.\n#pagebreak()\nAnother.\n'
                   '#pagebreak()\nLast.\n', encoding="utf-8")
    typst.compile(str(src), output=str(tmp_path / "d.pdf"))
    assert underfilled_pages(tmp_path / "d.pdf") == ["page 1: 99% of the text block empty",
                                                     "page 2: 99% of the text block empty"]


# ---------------------------------------------------------------------------------------------
# the report


@pytest.fixture(scope="module")
def report_pdf() -> Path:
    """The report's lite PDF (``make report RENDER_ENGINE=lite``: a no-op when up to date)."""
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return paths.ROOT / "_output" / f"report-v{__version__}.pdf"


def test_no_page_more_than_a_third_empty(report_pdf):
    assert not underfilled_pages(report_pdf)


def test_no_table_leaves_two_rows_or_fewer_on_a_page(report_pdf):
    assert not orphaned_rows(report_pdf)


def test_no_identifier_broken_mid_word(report_pdf):
    html = report_pdf.with_suffix(".html").read_text(encoding="utf-8")
    identifiers = layout.code_spans(html)
    assert len(identifiers) > 20
    assert not broken_code(report_pdf, identifiers)


def test_specification_curves_two_to_a_page(report_pdf):
    by_page = layout.lines(report_pdf)
    per_page = {p: sum(1 for l in ls if l.text.startswith("Figure") and ": Specification curve" in l.text)
                for p, ls in by_page.items()}
    pages = {p: n for p, n in per_page.items() if n}
    assert sum(pages.values()) == 4 and set(pages.values()) == {2}, pages
