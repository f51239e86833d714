"""Rules from a real Quarto 1.10 render of 0.2.0 (issue 16), checked over the sources, the
generated includes and the lite output; each detector is first shown to find a planted case.

1. no ``var`` shortcode joined by a dash inside YAML metadata (Quarto dropped the year range);
2. no line starting with ``(@`` (an example list: "(1)" instead of "Section 5");
3. raw HTML tables opt out of Quarto's table processing (``<small>`` rewritten, layout lost, a
   warning in the typst pass); the HTML-only include sits in an ``html-table-processing="none"`` div;
4. inline code can wrap under Quarto's CSS; no long code in list items of the reading text;
5. the BibTeX block keeps one field per line in the lite PDF and HTML (typst code highlighted
   idiomatically in both engines: Quarto's default Skylighting tokens broke it mid-word);
6. callouts render alike: none in the sources; the plain div class is styled in style.css.
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from analysis import __version__, paths
from analysis.render import quarto_rules as rules
from analysis.render.lite import Document, RenderError, render, split_front_matter

REPORT = paths.ROOT / "report"
QMD = sorted(REPORT.glob("*.qmd"))


def _strings(node, where=""):
    """Every string value of a YAML tree, with its dotted key."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, f"{where}[{i}]")
    elif isinstance(node, str):
        yield where, node


def metadata_sources() -> dict[str, dict]:
    out = {"_quarto.yml": yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())}
    for q in QMD:
        meta, _ = split_front_matter(q.read_text(), str(q))
        out[q.name] = meta
    return out


# --- 1. metadata -------------------------------------------------------------------------------

def test_detector_finds_a_dash_joined_shortcode():
    assert rules.dash_joined_shortcodes("{{< var a >}}-{{< var b >}}")
    assert rules.dash_joined_shortcodes("{{< var a >}}\u2013{{< var b >}}")
    assert rules.dash_joined_shortcodes("2015-{{< var b >}}")
    assert rules.dash_joined_shortcodes("{{< var a >}}\u00a0to\u00a0{{< var b >}}")  # one Str token, too
    assert not rules.dash_joined_shortcodes("{{< var a >}} to {{< var b >}}")
    assert not rules.dash_joined_shortcodes("{{< var a >}} \u2013 {{< var b >}}")


def test_no_var_shortcode_joined_by_a_dash_in_metadata():
    bad = [f"{src}: {key}: {snippet!r}" for src, meta in metadata_sources().items()
           for key, value in _strings(meta) for snippet in rules.dash_joined_shortcodes(value)]
    assert bad == [], bad


# --- 2. example lists --------------------------------------------------------------------------

def test_detector_finds_an_example_list_marker():
    assert rules.example_list_lines("text\n(@sec-x) more") == [(2, "(@sec-x) more")]
    assert rules.example_list_lines("- item\n  (@tbl-y), more") == [(2, "  (@tbl-y), more")]
    assert rules.example_list_lines("```\n(@x)\n```\nsee (@sec-x)") == []


@pytest.mark.parametrize("path", QMD, ids=lambda p: p.name)
def test_no_line_starts_with_an_example_list_marker(path):
    bad = rules.example_list_lines(path.read_text(encoding="utf-8"))
    assert bad == [], f"{path.name}: lines read by pandoc as an example list: {bad}"


def test_no_generated_line_starts_with_an_example_list_marker(generated):
    bad = {p.name: found for p in generated if (found := rules.example_list_lines(p.read_text(encoding="utf-8")))}
    assert bad == {}, bad


# --- 3. raw HTML tables ------------------------------------------------------------------------

def test_detector_finds_a_raw_table_quarto_would_process():
    plain = "```{=html}\n<table><tr><td>1<small>x</small></td></tr></table>\n```\n"
    attr_only = '```{=html}\n<table data-quarto-disable-processing="true"><tr><td>1</td></tr></table>\n```\n'
    both = f'```{{=html}}\n{rules.RAW_TABLE_OPT_OUT}\n<table data-quarto-disable-processing="true"></table>\n```\n'
    assert rules.unprotected_raw_tables(plain) and rules.unprotected_raw_tables(attr_only)
    assert rules.unprotected_raw_tables(both) == []
    assert rules.unprotected_raw_tables("```{=html}\n<div>no table</div>\n```\n") == []


@pytest.fixture(scope="module")
def generated(outputs_built):
    return sorted((REPORT / "outputs").rglob("*.md"))


def test_raw_html_tables_opt_out_of_quarto_table_processing(generated):
    bad = [(p.name, found) for p in generated + QMD
           if (found := rules.unprotected_raw_tables(p.read_text(encoding="utf-8")))]
    assert bad == [], bad
    assert any(rules.TABLE_TAG_RE.search(p.read_text()) for p in generated), "no raw table found: rule ran on nothing"


def _div_stack_at_raw_blocks(text: str) -> list[tuple[str, str]]:
    """(attributes of the enclosing divs, the raw block's content) for each ```{=html} block."""
    out, stack, block = [], [], None
    for line in text.split("\n"):
        if block is not None:
            if line.startswith("```"):
                out.append((" ".join(stack), "\n".join(block)))
                block = None
            else:
                block.append(line)
            continue
        if line.startswith("```{=html}"):
            block = []
            continue
        m = re.match(r"^(:{3,})\s*(\{.*\})?\s*$", line)
        if m and m.group(2):
            stack.append(m.group(2))
        elif m:
            stack and stack.pop()
    return out


def test_raw_html_includes_sit_in_html_only_unprocessed_divs(generated):
    """Every include of generated raw HTML is inside a ``content-visible when-format="html"``
    div, or every raw HTML block inside the generated file sits in such a div itself (the maps:
    an SVG for the HTML, the PNG for typst); a raw HTML *table* is also inside an
    ``html-table-processing="none"`` div (Quarto >= 1.4 skips tables under it in every pass: no
    parse, no warning in the typst pass)."""
    raw = {p.relative_to(REPORT).as_posix(): p.read_text() for p in generated if "```{=html}" in p.read_text()}
    assert raw, "no raw HTML include generated"
    for q in QMD:
        stack = []
        for line in q.read_text().split("\n"):
            m = re.match(r"^(:{3,})\s*(\{.*\})?\s*$", line)
            if m and m.group(2):
                stack.append(m.group(2))
            elif m:
                stack and stack.pop()
            inc = re.search(r"\{\{<\s*include\s+(\S+)\s*>\}\}", line)
            if inc and inc.group(1) in raw:
                site = " ".join(stack)
                for inner, content in _div_stack_at_raw_blocks(raw[inc.group(1)]):
                    attrs = site + " " + inner
                    assert 'when-format="html"' in attrs, f"{q.name}: raw HTML of {inc.group(1)} is not HTML-only"
                    if "<table" in content:
                        assert ('html-table-processing="none"' in attrs
                                or "quarto-html-table-processing: none" in content), \
                            f"{q.name}: {inc.group(1)}: a raw HTML table not in an unprocessed div"


def test_raw_html_rule_catches_a_raw_block_outside_an_html_div():
    text = "::: {.content-visible when-format=\"html\"}\n```{=html}\n<svg></svg>\n```\n:::\n\n```{=html}\n<table></table>\n```\n"
    found = _div_stack_at_raw_blocks(text)
    assert [('when-format="html"' in a) for a, _ in found] == [True, False]


# --- 4. inline code ----------------------------------------------------------------------------

def test_detector_finds_long_code_in_a_list_item():
    text = "- an item\n  (`analysis/models/reverse.py::check_reverse_timing`).\n\nProse `analysis/models/reverse.py`.\n"
    assert rules.long_code_in_list_items(text) == [(2, "analysis/models/reverse.py::check_reverse_timing")]


@pytest.mark.parametrize("path", QMD, ids=lambda p: p.name)
def test_no_long_code_in_list_items(path):
    bad = rules.long_code_in_list_items(path.read_text(encoding="utf-8"))
    assert bad == [], f"{path.name}: long inline code in a list item (runs past a phone screen): {bad}"


QUARTO_CODE_CSS = "code { white-space: pre; }"  # what Quarto's own stylesheet sets (issue 16, finding 4)


def _page(tmp: Path, css: str) -> Path:
    page = tmp / "code.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{QUARTO_CODE_CSS}</style>"
                    f"<style>{css}</style></head><body><ul><li>The timing check "
                    "(<code>analysis/models/reverse.py::check_reverse_timing_of_every_event</code>) and "
                    "<code>report/outputs/results/results.json</code> in a list item.</li></ul>"
                    "<pre><code>line one stays one line</code></pre></body></html>", encoding="utf-8")
    return page


def test_inline_code_wraps_under_quartos_css(tmp_path):
    from test_html_browser import chromium_binary, probe
    chromium = chromium_binary()
    css = (REPORT / "style.css").read_text(encoding="utf-8")
    assert probe(chromium, _page(tmp_path, "body{margin:0 8px}"), 400, tmp_path)["scrollWidth"] > 400, \
        "the probe page must overflow without the report's CSS (else the test cannot fail)"
    result = probe(chromium, _page(tmp_path, css), 400, tmp_path)
    assert result["scrollWidth"] <= result["clientWidth"], result["wide"]


# --- 5. the BibTeX block -----------------------------------------------------------------------

BIB_FIELDS = ("title", "author", "institution", "type", "number", "note", "year", "month")


def test_typst_code_is_highlighted_idiomatically_in_both_engines():
    """Quarto >= 1.9 writes typst code as Skylighting tokens unless ``syntax-highlighting:
    idiomatic``; the lite engine follows the same option (and Quarto's default without it)."""
    from analysis.render.lite import syntax_highlighting
    typst = yaml.safe_load((paths.ROOT / "_quarto.yml").read_text())["format"]["typst"]
    assert typst.get("syntax-highlighting") == "idiomatic"
    assert syntax_highlighting(typst) == "--syntax-highlighting=idiomatic"
    assert syntax_highlighting({}) == "--syntax-highlighting=pygments"  # Quarto's default: Skylighting


def test_lite_typst_has_no_skylighting_tokens(report_files):
    typ = (paths.ROOT / "_build" / "lite" / "report.typ").read_text(encoding="utf-8")
    assert "#Skylighting(" not in typ and "NormalTok(" not in typ.split("#show: doc")[-1]


def bibtex_lines(text: str) -> list[str]:
    """The lines of the BibTeX entry, from '@techreport{' to the closing brace."""
    start = text.index("@techreport{")
    lines = []
    for line in text[start:].split("\n"):
        lines.append(line.strip())
        if line.strip() == "}":
            break
    return lines


def check_one_field_per_line(lines: list[str]) -> None:
    """Opening line, then exactly one line per field (none wrapped onto a second line), then '}'."""
    assert lines[0].startswith("@techreport{") and lines[0].endswith(","), lines[:2]
    fields = [m.group(1) if (m := re.match(r"^(\w+) *= *\S", ln)) else ln for ln in lines[1:-1]]
    assert fields == list(BIB_FIELDS), f"not one field per line: {lines}"
    assert lines[-1] == "}"


@pytest.fixture(scope="module")
def report_files():
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return paths.ROOT / "_output" / f"report-v{__version__}.html", paths.ROOT / "_output" / f"report-v{__version__}.pdf"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext not installed")
def test_bibtex_block_keeps_one_field_per_line_in_the_pdf(report_files):
    text = subprocess.run(["pdftotext", "-layout", str(report_files[1]), "-"], check=True,
                          capture_output=True, text=True).stdout
    check_one_field_per_line(bibtex_lines(text))


def test_bibtex_block_keeps_one_field_per_line_in_the_html(report_files):
    page = report_files[0].read_text(encoding="utf-8")
    m = re.search(r"<pre[^>]*>(?:<code[^>]*>)?(@techreport\{.*?)</code>", page, re.S)
    assert m, "no <pre> block with the BibTeX entry"
    check_one_field_per_line(bibtex_lines(html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1)))))


# --- 6. callouts -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", QMD, ids=lambda p: p.name)
def test_no_callouts_in_the_sources(path):
    assert rules.callouts(path.read_text(encoding="utf-8")) == []


def test_plain_boxes_are_styled_in_the_stylesheet():
    css = (REPORT / "style.css").read_text(encoding="utf-8")
    classes = {c for q in QMD for c in re.findall(r"^:{3,}\s*\{\.([\w-]+)\}\s*$", q.read_text(), re.M)}
    assert "caveat" in classes
    for cls in classes - {"unnumbered"}:
        assert re.search(rf"\.{cls}\b[^{{]*\{{", css), f"div class .{cls} has no rule in report/style.css"


# --- the lite engine refuses what Quarto renders differently ------------------------------------

FRONT = """---
title: "Rules"
subtitle: "{subtitle}"
lang: en-GB
bibliography: references.bib
csl: chicago-author-date.csl
format:
  typst:
    citeproc: true
    include-in-header: typst-header.typ
---
"""


@pytest.mark.parametrize("subtitle, body, message", [
    ("{{< var a.x >}}-{{< var a.y >}}", "# One {#sec-one}\n\nText.\n", "joined by a dash"),
    ("plain", "# One {#sec-one}\n\nText, see\n(@sec-one) for more.\n", "example list"),
    ("plain", "# One {#sec-one}\n\n```{=html}\n<table><tr><td>1</td></tr></table>\n```\n", "raw HTML table"),
    ("plain", "# One {#sec-one}\n\n::: {.callout-warning}\nText.\n:::\n", "callouts"),
])
def test_lite_engine_refuses_what_quarto_renders_differently(tmp_path, subtitle, body, message):
    (tmp_path / "report").mkdir()
    for name in ("references.bib", "chicago-author-date.csl", "typst-header.typ"):
        shutil.copy(REPORT / name, tmp_path / "report" / name)
    (tmp_path / "_quarto.yml").write_text("project:\n  type: default\n  render:\n    - report/report.qmd\n")
    (tmp_path / "_variables.yml").write_text("a:\n  x: 2015\n  y: 2025\n")
    (tmp_path / "report" / "report.qmd").write_text(FRONT.replace("{subtitle}", subtitle) + body)
    with pytest.raises(RenderError, match=message):
        render(Document.load(tmp_path), tmp_path / "_output", "r", ("pdf",))
