"""The rendered report: both formats build, references resolve, nothing external is linked,
the PDF carries the version and the key numbers of the results file, and figure/table counts
match the sources."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis import __version__, paths
from analysis.render.lite import Document, RenderError, expand, number_document, resolve_refs, select_format

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


def _source_labels(kind: str, fmt: str = "html") -> list[str]:
    """Labels of the document as one format sees it: includes (e.g. the generated maps) expanded
    and content for the other format dropped (the PDF-only lookup table has no HTML label)."""
    doc = Document.load()
    text = select_format(expand(doc.body, doc.path, doc.variables, base=doc.base), fmt)
    return re.findall(r"\{#(" + kind + r"-[\w-]+)", text)


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
    # every figure is an embedded PNG, except the hex maps: inline SVG (a link per hexagon)
    n_svg = html.count('<svg class="csc-hexmap"')
    assert n_svg == len([f for f in _source_labels("fig") if f.startswith("fig-map-")]) >= 5
    assert html.count("data:image/png;base64") + n_svg == len(_source_labels("fig"))


def test_figure_and_table_counts_match_sources(rendered, pdf_text):
    html = rendered[0].read_text(encoding="utf-8")
    figs, tbls = _source_labels("fig"), _source_labels("tbl")
    assert len(figs) >= 15 and len(tbls) >= 18  # 10 figures (four specification curves) + key map + 4-5 maps; 18 tables in HTML (+ the PDF lookup)
    for f in figs:
        assert f'id="{f}"' in html
    for i in range(1, len(figs) + 1):
        assert f"Figure {i}:" in pdf_text
    assert f"Figure {len(figs) + 1}:" not in pdf_text
    pdf_tbls = _source_labels("tbl", "typst")
    assert set(tbls) <= set(pdf_tbls)
    for i in range(1, len(pdf_tbls) + 1):
        assert f"Table {i}:" in pdf_text
    assert f"Table {len(pdf_tbls) + 1}:" not in pdf_text


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
    # each continuation page says so; the first page and pages of other content do not
    number = re.search(r"Table (\d+): Columns of the derived tables", pages[caption]).group(1)
    assert f"Table {number} (continued)" not in pages[caption]
    for t in pages[caption + 1:last + 1]:
        assert f"Table {number} (continued)" in t
    for t in pages[:caption]:
        for m in re.finditer(r"Table (\d+) \(continued\)", t):
            assert re.search(rf"Table {m.group(1)}:", "".join(pages)), m.group(0)


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
        str(results["primary"]["n"]),
        f"{results['primary']['terms']['agency_rate']['ame_pp']:.1f}".replace("-", ""),
        f"{results['multiverse']['counts']['distinct']:,}",
        f"{_model(results, 'rev_cs_never_absorbing_agency_rate')['coefficients']['k=0']['estimate']:.1f}",
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
    svgs = re.findall(r'<svg class="csc-hexmap"[^>]*>', html)  # the hex maps: inline SVG, named by aria-label
    assert len(imgs) + len(svgs) == len(_source_labels("fig"))
    for img in imgs:
        alt = re.search(r'\salt="([^"]+)"', img)
        assert alt and len(alt.group(1)) > 30 and not alt.group(1).startswith("Figure"), img[:200]
    for svg in svgs:
        alt = re.search(r'\saria-label="([^"]+)"', svg)
        assert alt and alt.group(1).startswith("Hex map") and len(alt.group(1)) > 30, svg[:200]


def test_citations_and_bibliography(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert 'id="refs"' in html
    for key in ("nao2016", "webb2022", "wilkins2020", "callaway2021", "hausman1978", "pandoc", "typst"):
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
    """As Quarto numbers ONE document: sections 1, 1.1 referenced as "Section"; figures and tables
    1..n through the document; appendix headings unnumbered, lettered in their text."""
    text = ("# Summary {.unnumbered}\n\n# One {#sec-one}\n\n## Sub {#sec-sub}\n\n"
            "![cap](x.png){#fig-a fig-alt=\"alt\"}\n\n| a |\n|---|\n| 1 |\n\n: cap {#tbl-a}\n\n"
            "# Two {#sec-two}\n\n![c2](y.png){#fig-b fig-alt=\"alt\"}\n\n"
            "# Appendix A: Extra {.unnumbered #sec-extra}\n\n## A.1 More {.unnumbered}\n")
    out, num = number_document(text)
    assert num.labels == {"sec-one": "Section 1", "sec-sub": "Section 1.1", "fig-a": "Figure 1",
                          "tbl-a": "Table 1", "sec-two": "Section 2", "fig-b": "Figure 2"}
    assert "Figure 1: cap" in out and ": Table 1: cap" in out and "Figure 2: c2" in out
    assert "[Section 1.1](#sec-sub)" in resolve_refs("see @sec-sub", num)
    assert "Chapter" not in out
    with pytest.raises(RenderError, match="unnumbered"):
        resolve_refs("see @sec-extra", num)
    with pytest.raises(RenderError, match="under an unnumbered"):
        number_document("# Appendix A {.unnumbered}\n\n## Numbered sub\n")


def test_conditional_content_by_format():
    text = ("a\n\n::: {.content-visible when-format=\"html\"}\nH\n:::\n\n"
            "::: {.content-visible when-format=\"typst\"}\nT\n:::\n\n"
            "::: {.content-hidden when-format=\"html\"}\nnot-html\n:::\n\n::: {.note}\nkept\n:::\n")
    html, typ = select_format(text, "html"), select_format(text, "typst")
    assert "H" in html.split() and "T" not in html.split() and "not-html" not in html and "kept" in html
    assert "T" in typ.split() and "H" not in typ.split() and "not-html" in typ and "::: {.note}" in typ
    with pytest.raises(RenderError, match="LaTeX"):
        select_format('::: {.content-visible when-format="pdf"}\nx\n:::\n', "typst")


def test_escaped_shortcode_prints_literally_and_include_resolves_from_main_document(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "part.qmd").write_text("part {{< var a.b >}}")
    main = tmp_path / "main.qmd"
    out = expand("x {{{< var a.b >}}} {{< include part.qmd >}}", main, {"a": {"b": "V"}}, base=tmp_path, root=tmp_path)
    assert out == "x {{< var a.b >}} part V"


def test_document_loads_from_quarto_config():
    doc = Document.load()
    assert doc.path.name == "report.qmd" and doc.meta["title"]


def test_pdf_is_byte_identical_across_rebuilds(rendered, tmp_path):
    """Same sources, same HTML and PDF: typst's creation/modification dates come from the commit time (or
    SOURCE_DATE_EPOCH), and its XMP ids from the content."""
    from analysis.render.lite import render
    doc = Document.load()
    first = render(doc, tmp_path / "a", "r")
    second = render(doc, tmp_path / "b", "r")
    assert first["pdf"].read_bytes() == second["pdf"].read_bytes()
    assert first["html"].read_bytes() == second["html"].read_bytes()


def test_html_tables_have_row_headers_and_the_stamp(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert html.count('<th scope="row"') > 50
    stamp = re.search(r'<div id="stamp".*?</div>', html, re.S).group(0)
    for key in ("Version", "commit", "sha256", "rendered with"):
        assert key in stamp
    assert "Chapter" not in re.sub(r"<[^>]+>", " ", html)


def test_html_is_one_small_file_without_remote_resources(rendered):
    html = rendered[0].read_text(encoding="utf-8")
    assert rendered[0].stat().st_size < 5_000_000
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.sub(r"<a\b[^>]*>", "", html))
    assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", html) and "@import" not in html


def test_captions_carry_no_code_paths_and_provenance_is_in_the_appendix(rendered, pdf_text):
    for q in QMD:
        for line in q.read_text().splitlines():
            if line.startswith((": ", "![")):
                assert "analysis/" not in line and ".py::" not in line, (q.name, line[:80])
    prov = json.loads((paths.ROOT / "report/outputs/provenance.json").read_text())
    text = re.sub(r"\s", "", pdf_text)  # long code may wrap between characters
    for fn in prov.values():
        assert fn.split("::")[1] in text


def test_bibtex_block_has_a_year_and_stays_on_one_page(rendered):
    from pypdf import PdfReader
    pages = [p.extract_text() for p in PdfReader(rendered[1]).pages]
    start = [i for i, t in enumerate(pages) if "@techreport{" in t]
    assert len(start) == 1
    page = pages[start[0]]
    assert re.search(r"year\s*=\s*\d{4},", page)
    assert page.index("@techreport{") < page.index("month")  # whole entry on the same page


def _layout(html_path: Path, width: int, tmp_path: Path) -> str:
    """Load the HTML in headless Chromium inside a ``width``-px frame; report the page's scroll
    width, client width and any element outside tables wider than the frame."""
    (tmp_path / "r.html").write_bytes(html_path.read_bytes())
    (tmp_path / "wrap.html").write_text(
        f'<html><body style="margin:0"><iframe id="f" src="r.html" style="width:{width}px;height:800px;border:0">'
        "</iframe><script>document.getElementById('f').onload = function () {"
        " var d = this.contentDocument, w = d.documentElement, wide = [];"
        " d.querySelectorAll('body *').forEach(function (e) { var r = e.getBoundingClientRect();"
        "  if (r.right > w.clientWidth + 1 && !e.closest('table') && !e.closest('.csc-mapscroll') && wide.length < 5)"
        " wide.push(e.tagName); });"
        " document.title = 'SW=' + w.scrollWidth + ';CW=' + w.clientWidth + ';' + wide.join(','); };"
        "</script></body></html>")
    out = subprocess.run([shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          "--allow-file-access-from-files", "--virtual-time-budget=5000", "--window-size=1400,900",
                          "--dump-dom", (tmp_path / "wrap.html").as_uri()], capture_output=True, text=True, timeout=120)
    return re.search(r"<title>([^<]*)</title>", out.stdout).group(1)


@pytest.mark.skipif(not shutil.which("chromium"), reason="headless chromium not installed")
@pytest.mark.parametrize("width", [400, 1280])
def test_html_never_scrolls_sideways(rendered, tmp_path, width):
    """At 400 px only a table's own box (or the key map's) may scroll; the page never does (tables are display:block
    with overflow-x:auto; long URLs, hashes and code wrap)."""
    title = _layout(rendered[0], width, tmp_path)
    sw, cw, wide = re.fullmatch(r"SW=(\d+);CW=(\d+);(.*)", title).groups()
    assert int(sw) <= int(cw) and not wide, title


def _lowest_text_y(page) -> float:
    """Lowest baseline of body text on a PDF page (the page number in the footer excluded)."""
    ys = []
    def visit(text, cm, tm, font, size):
        if text.strip() and not text.strip().isdigit():
            ys.append(tm[5] * cm[3] + cm[5])
    page.extract_text(visitor_text=visit)
    return min(ys) if ys else float(page.mediabox.height)


def test_no_half_empty_page_before_a_table(rendered):
    """A table that starts a page must not leave the page before it half empty (it would, if
    typst could not break the table's figure and pushed it whole to the next page)."""
    from pypdf import PdfReader
    pages = PdfReader(rendered[1]).pages
    texts = [p.extract_text() for p in pages]
    checked = 0
    for i in range(3, len(pages)):  # after the title page and the contents
        if re.match(r"\s*Table \d+:", texts[i]):
            height = float(pages[i - 1].mediabox.height)
            assert _lowest_text_y(pages[i - 1]) < height / 2, f"page {i} is half empty before a table"
            checked += 1
    # (no table may happen to start a page in a given build: then there is nothing to check)


def test_pdf_title_page_has_version_date_and_how_to_cite_and_contents_follow(rendered):
    """The title page names version and date; the commit and hashes are in Appendix C (issue 15)."""
    from pypdf import PdfReader
    pages = [p.extract_text() for p in PdfReader(rendered[1]).pages]
    variables = yaml.safe_load((paths.ROOT / "_variables.yml").read_text())["build"]
    first = re.sub(r"\s+", " ", pages[0])
    for value in (variables["version"], variables["date_text"], "How to cite"):
        assert value in first, value
    assert variables["commit"].split(" + ")[0] not in first
    assert "Summary" not in first  # the title page stands alone
    assert pages[1].lstrip().startswith("Contents")


def test_spending_magnitudes_are_on_the_log_scale(results):
    """+£100 per child on a log-spending coefficient is beta * log((m + 100) / m) at the median m,
    not 100 * beta (which gave infinite odds ratios)."""
    import math

    from analysis.models.magnitudes import log_change_at_median
    assert log_change_at_median(pd.Series([math.log(900), math.log(1000), math.log(1100)]), 100) == \
        pytest.approx(math.log(1.1))
    fw = results["forward"]
    ml = next(m for m in fw["models"] if m["model_id"] == "fwd_mlogit_good_census_before")
    beta = ml["coefficients"]["log_spend_total_pc"]["estimate"]
    orr = fw["magnitudes"]["multilevel_logit"]["log_spend_total_pc"]["odds_ratio"]
    dlog = math.log(orr) / beta
    assert 0.03 < dlog < 0.2  # +£100 on a median of roughly £500-£3,000 per child


def test_table_captions_stay_with_their_tables(rendered):
    """A table caption (above the table) never sits alone at the foot of a page: the first
    header cell of its table follows it on the same page (typst-header.typ: sticky captions)."""
    from pypdf import PdfReader
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in PdfReader(rendered[1]).pages]
    labels = _source_labels("tbl", "typst")
    checked = 0
    for number, label in enumerate(labels, start=1):
        table = paths.ROOT / "report" / "outputs" / "tables" / f"{label}.md"
        header = next(ln for ln in table.read_text(encoding="utf-8").splitlines() if ln.startswith("|"))
        first = next(c for c in (re.sub(r"\\(.)", r"\1", c).strip() for c in re.split(r"(?<!\\)\|", header)[1:-1]) if c)
        first = first.split()[0]
        page = next(p for p in pages if f"Table {number}: " in p)
        after = page[page.index(f"Table {number}: "):]
        assert first in after, f"Table {number} ({label}): caption at the foot of a page, its table on the next"
        checked += 1
    assert checked == len(labels) >= 19


def test_no_interval_wraps_inside_its_brackets_in_the_pdf(pdf_text):
    """A line of the PDF never ends inside an interval ("[−7.2," then "2.2]" on the next line)."""
    broken = [ln.strip() for ln in pdf_text.splitlines() if re.search(r"\[[−\d.]+,(\s*$|\s{3,})", ln)]
    assert broken == []
