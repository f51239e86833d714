"""The rendered report: both formats build, references resolve, nothing external is linked,
the PDF carries the version and the key numbers of the results file, and figure/table counts
match the sources."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from analysis import __version__, paths
from analysis.render.lite import Book, RenderError, assemble, expand, number_document, resolve_refs

QMD = sorted((paths.ROOT / "report").glob("*.qmd"))


@pytest.fixture(scope="session")
def rendered():
    """Run the real build (`make report`): models, outputs and both formats (in-project renderer,
    so that the same checks run whether or not Quarto is installed)."""
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    html = paths.ROOT / "_output" / f"report-v{__version__}.html"
    pdf = paths.ROOT / "_output" / f"report-v{__version__}.pdf"
    assert html.exists() and pdf.exists()
    return html, pdf


@pytest.fixture(scope="session")
def pdf_text(rendered):
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(rendered[1]), "-"], check=True,
                              capture_output=True, text=True).stdout
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(rendered[1]).pages)


@pytest.fixture(scope="session")
def results(rendered):
    return json.loads((paths.ROOT / "report/outputs/results/results.json").read_text())


def _source_labels(kind: str) -> list[str]:
    labels = []
    for q in QMD:
        labels += re.findall(r"\{#(" + kind + r"-[\w-]+)", q.read_text())
    return labels


def test_html_has_no_unresolved_references(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    for bad in ("??", "?@", "@fig-", "@tbl-", "@sec-", "{{<", ">}}"):
        assert bad not in body, f"unresolved '{bad}' in the HTML"


def test_html_is_self_contained(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    external = re.findall(r"<(?:img|script|link|iframe|source|video|audio)\b[^>]*?(?:src|href)=\"(https?:)?//", html)
    assert not external, external
    assert "@import" not in html and "url(http" not in html
    assert html.count("data:image/png;base64") == len(_source_labels("fig"))


def test_figure_and_table_counts_match_sources(rendered, pdf_text):
    html = rendered[0].read_text(encoding="utf-8")
    figs, tbls = _source_labels("fig"), _source_labels("tbl")
    assert len(figs) == 6 and len(tbls) == 16  # 10 + six forward-design / replication tables
    for f in figs:
        assert f'id="{f}"' in html
    for i in range(1, len(figs) + 1):
        assert f"Figure {i}:" in pdf_text
    assert f"Figure {len(figs) + 1}:" not in pdf_text
    for i in range(1, len(tbls) + 1):
        assert f"Table {i}:" in pdf_text
    assert f"Table {len(tbls) + 1}:" not in pdf_text


def test_long_tables_break_across_pages(rendered):
    """The data dictionary (~100 rows) cannot fit on one page: it must flow over pages rather than
    overprint itself at the foot of one (a typst figure that is not allowed to break)."""
    from pypdf import PdfReader
    pages = [p.extract_text() for p in PdfReader(rendered[1]).pages]
    caption = next(i for i, t in enumerate(pages) if "Columns of the derived tables" in t)
    first = next(i for i, t in enumerate(pages) if i >= caption and "la_code" in t)
    last = max(i for i, t in enumerate(pages) if "census_in_panel" in t)
    assert last > first, "the data dictionary is squeezed onto one page"
    lines = [ln for t in pages[first:last + 1] for ln in t.splitlines()]
    assert len(lines) > 100


def _model(results, model_id):
    return next(m for m in results["models"] if m["model_id"] == model_id)


def test_pdf_has_version_and_key_numbers_from_results(pdf_text, results):
    text = re.sub(r"\s+", " ", pdf_text).replace("−", "-")
    assert f"version {__version__}" in text
    fe = _model(results, "panel_fe_twoway_grade_num")["coefficients"]
    expected = [
        f"{fe['agency_rate']['std_estimate']:.3f}",
        f"{fe['caseload']['std_estimate']:.3f}",
        f"{results['hausman']['grade_num']['statistic']:.1f}",
        str(_model(results, "ologit_logodds")["stats"]["nobs"]),
        f"{100 * _model(results, 'ologit_ame_good')['coefficients']['agency_rate']['estimate']:.2f}",
        str(results["spec_curve"]["n_fitted"]),
        f"{_model(results, 'event_inadequate_agency_rate')['coefficients']['k=0']['estimate']:.1f}",
    ]
    for number in expected:
        assert number in text, f"{number} (from results.json) not in the PDF"


def test_html_numbers_equal_pdf_numbers(rendered, pdf_text):
    """Same sources, same numbers: the summary's numbers appear in both formats."""
    variables = yaml.safe_load((paths.ROOT / "_variables.yml").read_text())
    html = re.sub(r"<[^>]+>", " ", rendered[0].read_text(encoding="utf-8"))
    for key in ("agency_rate", "caseload"):
        v = variables["fe"][key]
        assert v in html and v.replace("−", "-") in pdf_text.replace("−", "-")


def test_every_figure_has_alt_text(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) == len(_source_labels("fig"))
    for img in imgs:
        alt = re.search(r'\salt="([^"]+)"', img)
        assert alt and len(alt.group(1)) > 30 and not alt.group(1).startswith("Figure"), img[:200]


def test_citations_and_bibliography(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert 'id="refs"' in html
    for key in ("nao2016", "webb2022", "wilkins2019"):
        assert f"ref-{key}" in html, key


def test_unknown_variable_is_an_error(tmp_path):
    qmd = tmp_path / "a.qmd"
    qmd.write_text("Value {{< var nope.missing >}}.")
    with pytest.raises(RenderError, match="nope.missing"):
        expand(qmd.read_text(), qmd, {"build": {}})


def test_unknown_cross_reference_is_an_error():
    text, num = number_document([("# A {#sec-a}\n\nSee @fig-missing.", False)])
    with pytest.raises(RenderError, match="fig-missing"):
        resolve_refs(text, num)


def test_numbering_of_sections_figures_tables_and_appendix():
    parts = [("# One {#sec-one}\n\n## Sub {#sec-sub}\n\n![cap](x.png){#fig-a fig-alt=\"alt\"}\n\n| a |\n|---|\n| 1 |\n\n: cap {#tbl-a}\n", False),
             ("# Extra {#sec-extra}\n", True)]
    text, num = number_document(parts)
    assert num.labels == {"sec-one": "Chapter 1", "sec-sub": "Section 1.1", "fig-a": "Figure 1",
                          "tbl-a": "Table 1", "sec-extra": "Appendix A"}
    assert "Figure 1: cap" in text and ": Table 1: cap" in text
    assert "[Section 1.1](#sec-sub)" in resolve_refs("see @sec-sub", num)


def test_every_chapter_listed_and_assembles():
    book = Book.load()
    listed = {p.name for p in book.chapters + book.appendices}
    assert listed == {q.name for q in QMD}
