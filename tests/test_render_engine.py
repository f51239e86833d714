"""The render engines on small projects: data print literally (never as markup), a checkout path
with a double quote works, missing tools give one clear line, and the Quarto route fails loudly
(no silent fallback) and records the engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import string
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.outputs.tables import code, escape_md, md
from analysis.render.__main__ import main
from analysis.render.lite import Document, render

PAYLOADS = ["<img src=x onerror=alert(1)>", "{{< include /etc/hostname >}}", "$x^2$", "*b*",
            "@fig-trends", "@nao2016", "one ` backtick", "#hash", "[left", "right]"]

FRONT = """---
title: "Tiny"
author:
  - name: "Team"
lang: en-GB
bibliography: references.bib
csl: chicago-author-date.csl
number-sections: true
format:
  html:
    theme: none
    css: style.css
    embed-resources: true
    html-math-method: mathml
    toc: true
  typst:
    citeproc: true
    toc: false
    include-in-header: typst-header.typ
---
"""


def make_project(root: Path) -> Path:
    """A one-document project laid out like the report, with a table of hostile cells."""
    (root / "report" / "outputs" / "tables").mkdir(parents=True)
    for name in ("references.bib", "chicago-author-date.csl", "style.css", "typst-header.typ"):
        shutil.copy(paths.ROOT / "report" / name, root / "report" / name)
    (root / "_quarto.yml").write_text("project:\n  type: default\n  render:\n    - report/report.qmd\n")
    rows = [[f"row{i}", p, code("abc123def456")] for i, p in enumerate(PAYLOADS)]
    rows.append(["last", "still a cell after the backtick", "end"])
    table = md(pd.DataFrame(rows, columns=["Key", "Value", "Hash"]))
    (root / "report" / "outputs" / "tables" / "evil.md").write_text(table)
    (root / "report" / "report.qmd").write_text(
        FRONT + "\n# Data {#sec-data}\n\nSee @tbl-evil and [@nao2016].\n\n"
        "{{< include outputs/tables/evil.md >}}\n\n: Hostile cells {#tbl-evil}\n\n"
        "# References {.unnumbered}\n\n::: {#refs}\n:::\n")
    return root


@pytest.fixture(scope="module")
def quoted_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("proj") / 'check "out" dir'
    root.mkdir()
    return make_project(root)


@pytest.fixture(scope="module")
def rendered(quoted_project):
    written = render(Document.load(quoted_project), quoted_project / "_output", "r")
    return quoted_project, written


def test_table_source_text_is_escaped_for_quarto(quoted_project):
    """The Quarto route reads the same table file: no shortcode opener, and every ASCII
    punctuation character of a data cell is backslash-escaped (pandoc "Backslash escapes")."""
    text = (quoted_project / "report/outputs/tables/evil.md").read_text()
    assert "{{<" not in text and ">}}" not in text
    for p in PAYLOADS:
        esc = escape_md(p)
        assert esc in text
        assert all(esc[i - 1] == "\\" for i, ch in enumerate(esc) if ch in string.punctuation and ch != "\\")


def test_hostile_cells_print_literally_in_html(rendered):
    root, written = rendered
    html = written["html"].read_text(encoding="utf-8")
    body = html[html.index("<table"):html.index("</table>")]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in body
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else None
    assert "{{&lt; include /etc/hostname &gt;}}" in body
    if hostname:
        assert hostname not in body
    assert "$x^2$" in body and "<math" not in body
    assert "*b*" in body and "<em>b</em>" not in body
    assert "@fig-trends" in body and "@nao2016" in body and 'href="#ref-nao2016"' not in body
    assert "one ` backtick" in body and "still a cell after the backtick" in body
    assert "#hash" in body and "[left" in body and "right]" in body
    assert body.count("<tr") == len(PAYLOADS) + 2
    assert '<th scope="row"' in body
    # the prose citation outside the table is a real citation
    assert 'href="#ref-nao2016"' in html


def test_hostile_cells_print_literally_in_pdf(rendered):
    from pypdf import PdfReader
    _, written = rendered
    text = "".join(p.extract_text() for p in PdfReader(written["pdf"]).pages).replace("\u200b", "")
    for p in PAYLOADS:
        assert p in text, p
    assert "still a cell after the backtick" in text


def test_checkout_path_with_a_double_quote_renders(rendered):
    root, written = rendered
    assert '"' in str(root)
    assert written["html"].exists() and "<style" in written["html"].read_text()
    assert written["pdf"].read_bytes().startswith(b"%PDF")


def _run_main(args, env_extra=None, pythonpath_first=None):
    env = {**os.environ, **(env_extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath_first, str(paths.ROOT)]))
    return subprocess.run([sys.executable, "-m", "analysis.render", *args], cwd=paths.ROOT, env=env,
                          capture_output=True, text=True)


def test_missing_pandoc_is_one_clear_line(tmp_path):
    root = make_project(tmp_path / "p")
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "pypandoc.py").write_text("raise ImportError('pypandoc removed for the test')\n")
    r = _run_main(["--engine", "lite", "--root", str(root), "--out", str(tmp_path / "out")],
                  {"PATH": "/nonexistent"}, str(shadow))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: pandoc not found")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _fake_quarto(bindir: Path, body: str) -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    script = bindir / "quarto"
    script.write_text("#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 1.10.18; exit 0; fi\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_auto_fails_loudly_when_quarto_fails(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p")
    _fake_quarto(tmp_path / "bin", "echo 'ERROR: Book contents must include a home page' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    assert main(["--engine", "auto", "--root", str(root), "--out", str(out)]) == 2
    assert not out.exists() or not list(out.iterdir())  # nothing rendered by another engine


def test_auto_failure_message_says_how_to_force_the_in_project_engine(tmp_path, monkeypatch, capsys):
    root = make_project(tmp_path / "p")
    _fake_quarto(tmp_path / "bin", "echo 'ERROR: boom' >&2\nexit 1\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    main(["--engine", "auto", "--root", str(root), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "quarto render failed" in err and "RENDER_ENGINE=lite" in err and err.count("\n") == 1


def test_quarto_route_copies_versioned_outputs_and_records_the_engine(tmp_path, monkeypatch):
    """With a stand-in for the Quarto CLI that writes what Quarto writes for this project type
    (<output-dir>/report/report.html and .pdf), the route renders once, copies to the versioned
    names, adds row headers and records the engine."""
    root = make_project(tmp_path / "p")
    _fake_quarto(tmp_path / "bin", 'out="$3"; mkdir -p "$out/report"\n'
                 'printf "<table><tbody><tr><td>a</td><td>1</td></tr></tbody></table>" > "$out/report/report.html"\n'
                 'printf "%%PDF-1.7 fake" > "$out/report/report.pdf"\n'
                 'echo "$@" > "$out/args"\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "out"
    assert main(["--engine", "auto", "--root", str(root), "--out", str(out)]) == 0
    from analysis import __version__
    html = (out / f"report-v{__version__}.html").read_text()
    assert '<th scope="row">a</th>' in html
    assert (out / f"report-v{__version__}.pdf").read_bytes().startswith(b"%PDF")
    record = json.loads((out / f"report-v{__version__}.render.json").read_text())
    assert record["engine"] == "quarto" and "1.10.18" in record["description"]
    args = (root / "_build" / "quarto" / "args").read_text().split()
    assert args[0] == "render" and "--to" not in args  # one call renders both formats


def test_failed_render_leaves_previous_outputs_untouched(tmp_path):
    root = make_project(tmp_path / "p")
    out = root / "_output"
    render(Document.load(root), out, "r", ("pdf",))
    before = (out / "r.pdf").read_bytes()
    (root / "report" / "typst-header.typ").write_text("#let broken = (\n")
    with pytest.raises(Exception, match="typst failed"):
        render(Document.load(root), out, "r", ("pdf",))
    assert (out / "r.pdf").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["r.pdf"]  # no temporary file left behind


def test_markup_cells_survive_a_dataframe_round_trip():
    """Formatted cells (code spans, cross-references) are emitted as markup even when pandas
    stores the column in its own string dtype (pandas 3 with pyarrow)."""
    import pandas as pd

    from analysis.outputs.tables import Markup, code, md
    table = md(pd.DataFrame({"Output": [Markup("@fig-x"), "plain *text*"], "Made by": [code("a.py::f"), code("b")]}))
    assert "| @fig-x |" in table and "`a.py::f`" in table and r"plain \*text\*" in table


def test_table_caption_moves_out_of_the_scrolling_table():
    """A pandoc table caption becomes a figcaption outside the table (it would be clipped with a
    wide table on a phone); the id stays the cross-reference target and names the table."""
    from analysis.render.lite import caption_outside_table, postprocess_html
    html = ('<p>x</p>\n<table id="tbl-a" style="width:100%;">\n<caption>Table 1: A &amp; B</caption>\n'
            "<thead><tr><th>h</th></tr></thead><tbody><tr><td>r</td><td>1</td></tr></tbody>\n</table>\n"
            "<table><caption>raw</caption><tr><td>1</td></tr></table>")
    out = postprocess_html(html)
    assert '<figure class="table" id="tbl-a">\n<figcaption id="tbl-a-caption">Table 1: A &amp; B</figcaption>' in out
    assert '<table aria-labelledby="tbl-a-caption" style="width:100%;">' in out
    assert '<th scope="row">r</th>' in out and out.count("<caption>") == 1  # table without id untouched
    assert caption_outside_table(out) == out  # idempotent; Quarto's figcaption tables are left alone
