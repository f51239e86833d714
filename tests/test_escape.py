"""One escaping function per target (analysis/outputs/escape.py), checked through the real
readers: pandoc for markdown text and attributes, Python's HTML parser for HTML, typst for typst."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from html.parser import HTMLParser

import pytest

from analysis.outputs import escape

PAYLOADS = [
    "{{< include /etc/hostname >}}", "{{< var data.first_year >}}", "@fig-x [@smith2020]",
    "Evil\n```{=html}\n<a href=\"javascript:alert(1)\">x</a>\n```\n", "::: {.callout}\nx\n:::",
    "<script>alert(1)</script>", "#set page(width: 1cm)", "$x$ \\(y\\)", '"q" & &amp; \\ back',
    "*em* _u_ `c` [l](javascript:alert(1)) <http://x> ~s~ ^t^ -- ...", "}{ } {#id .cls}",
]


def norm(s: str) -> str:
    return " ".join(s.split())


def pandoc(markdown: str, to: str = "html") -> str:
    from analysis.render.lite import _pandoc
    return subprocess.run([_pandoc(), "-f", "markdown", "-t", to], input=markdown, capture_output=True,
                          text=True, check=True).stdout


class Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.attrs, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_and_md_attr_read_back_literally_through_pandoc(payload):
    text = escape.md_text(payload)
    attr = escape.md_attr(payload)
    for out in (text, attr):
        assert "{{<" not in out and ">}}" not in out and "\n" not in out and "```" not in out and ":::" not in out
    out = pandoc(f"A {text} Z\n\n![cap](x.png){{#fig-a fig-alt=\"{attr}\"}}\n")
    p = Collect()
    p.feed(out)
    assert norm(f"A {payload} Z") in norm("".join(p.text)), out
    alts = [v for k, v in p.attrs if k == "data-fig-alt"]
    assert alts == [norm(payload)], out
    assert p.tags.count("a") == 0 and "script" not in p.tags and "code" not in p.tags and "em" not in p.tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_and_attr_are_inert_in_a_raw_block(payload):
    frag = f'<p title="{escape.html_attr(payload)}">{escape.html_text(payload)}</p>'
    for out in (escape.html_attr(payload), escape.html_text(payload)):
        for bad in ("{{<", "\n", "`", ":", "@", "$", "<", '"', "\\"):
            assert bad not in out, (bad, out)
    out = pandoc(f"```{{=html}}\n{frag}\n```\n\nafter\n")
    p = Collect()
    p.feed(out)
    assert p.tags == ["p", "p"]  # the fragment, then "after": the raw block was not closed early
    assert dict(p.attrs)["title"] == norm(payload) and norm(payload) in norm("".join(p.text))


def test_html_href_refuses_script_schemes():
    for url in ("javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "vbscript:x", "data:text/html,<b>", "//evil.example"):
        assert escape.html_href(url) == "#"
    assert escape.html_href("https://example.org/a?b=1&c=2") == "https&#58;//example.org/a?b=1&#38;c=2"
    assert html_lib.unescape(escape.html_href("data:text/csv;base64,QQ==")) == "data:text/csv;base64,QQ=="
    assert escape.html_href("downloads/lookup.csv") == "downloads/lookup.csv"


def test_csv_cell_defuses_formulas_and_keeps_numbers():
    assert escape.csv_cell('=HYPERLINK("x")') == "'=HYPERLINK(\"x\")"
    for s in ("+1", "-2+3", "@SUM(A1)", "\tx"):
        assert escape.csv_cell(s) == "'" + s
    assert escape.csv_cell(-1.5) == -1.5 and escape.csv_cell("Leeds") == "Leeds"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_typst_string_and_content_print_literally(payload, tmp_path):
    typst = pytest.importorskip("typst")
    src = tmp_path / "t.typ"
    s = escape.typst_string(payload)
    assert "{{<" not in s and "\n" not in s and "@" not in s and "$" not in s
    src.write_text(f"#set page(width: 20cm, height: auto)\nS: #{s}\n\nC: {escape.typst_content(payload)}.end\n",
                   encoding="utf-8")
    pdf = tmp_path / "t.pdf"
    typst.compile(str(src), output=str(pdf))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "S:" + re.sub(r"\s+", "", payload) in flat
    assert "C:" + re.sub(r"\s+", "", payload) + ".end" in flat


def test_yaml_var_refuses_markup():
    assert escape.yaml_var("1,387") == "1,387"
    for bad in ("a\nb", "{{< var x >}}", "```", ":::", "<script>"):
        with pytest.raises(ValueError, match="_variables.yml"):
            escape.yaml_var(bad)


def test_break_long_words_only_breaks_long_words():
    assert escape.break_long_words("Kingston upon Hull") == "Kingston upon Hull"
    long = "x" * 30
    assert escape.break_long_words(long).replace(escape.ZWSP, "") == long
    assert escape.break_long_words(long).count(escape.ZWSP) == 29
