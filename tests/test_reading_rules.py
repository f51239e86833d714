"""Reading rules for the whole report (issue 15, item 5).

* Every abbreviation in the glossary (Appendix F, ``report/glossary.qmd``, the one list) is
  defined where the reader first meets it, in reading order after includes are expanded:
  "single inspection framework (SIF)", "SIF (single inspection framework)", or a link to the
  glossary; and every abbreviation the text uses is in the glossary.
* The report calls its parts Sections, never chapters.
* The reading text, as rendered (the lite HTML and PDF, every section but the data dictionary,
  provenance, reproducibility and citation appendices), holds no code paths, file or module
  names, code spans, JSON keys or identifiers, package versions or hashes.

Violations in files other engineers are rewriting are listed in ``prose_pending.yml``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html import unescape

import pytest

from analysis import __version__, paths

import reading_text

pytestmark = pytest.mark.usefixtures("outputs_built")

GLOSSARY = paths.ROOT / "report" / "glossary.qmd"
STOPWORDS = {"with", "from", "that", "this", "their", "which", "under", "into", "when", "here"}
#: all-capital words that are names or formats, not abbreviations a reader needs spelt out
NOT_ABBREVIATIONS = {"PDF", "HTML", "CSV", "UA", "MIT", "CSC", "II", "BibTeX", "HexJSON", "ColorBrewer"}
ABBREVIATION_RE = re.compile(r"(?<![\w/#-])(?:[A-Z][A-Za-z]*[A-Z]|s251|pp)(?![\w/-])")


def glossary() -> dict[str, str]:
    """term -> its words in full (the definition up to the first colon or full stop)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    terms = {}
    for m in re.finditer(r"^(\S[^\n]*)\n:\s+([^\n]+(?:\n  [^\n]+)*)", text, re.M):
        term, definition = m.group(1).strip(), " ".join(m.group(2).split())
        terms[term] = re.split(r"[:.]", definition, maxsplit=1)[0]
    return terms


def _occurrences(term: str, text: str):
    flags = re.I if " " in term else 0
    return re.finditer(r"(?<![\w-])" + re.escape(term) + r"s?(?![\w-])", text, flags)


def _key_words(phrase: str) -> set[str]:
    return {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z']{4,}", phrase)} - STOPWORDS


def _mostly(wanted: set[str], text: str) -> bool:
    found = {w for w in wanted if re.search(r"(?i)\b" + re.escape(w), text)}
    return not wanted or len(found) >= max(1, round(2 * len(wanted) / 3))


def defined_here(term: str, long_form: str, text: str, pos: int, end: int) -> bool:
    """Is the use of ``term`` at ``text[pos:end]`` its definition? A link to the glossary,
    "long form (TERM)" with most words of the long form just before the parenthesis, or
    "TERM (long form)" (one word may stand between, as in "section 47 enquiries (...)") with most
    of them inside it."""
    if text[max(0, pos - 1):pos] == "[" and re.match(r"s?\]\(#(?:sec-glossary|gloss-)", text[end:end + 20]):
        return True
    wanted = _key_words(long_form) - _key_words(term)
    if re.search(r"\(\s*$", text[max(0, pos - 3):pos]):
        return _mostly(wanted, text[max(0, pos - 150):pos])
    m = re.match(r"s?(?:\s+[\w'-]+)?\s*\(([^)]*)\)", text[end:end + 300])
    return bool(m) and _mostly(wanted, m.group(1))


def undefined_first_uses(paras: list[tuple[str, str]], terms: dict[str, str]) -> dict[str, str]:
    """term -> file where it is first used without being defined there (the glossary itself,
    which defines every term, does not count as a use)."""
    text, owners, offset = "", [], 0
    for file, para in paras:
        if file == GLOSSARY.name:
            continue
        owners.append((offset, file))
        text += para + "\n\n"
        offset = len(text)
    bad = {}
    for term, long_form in terms.items():
        m = next(_occurrences(term, text), None)
        if m and not defined_here(term, long_form, text, m.start(), m.end()):
            bad[term] = next(f for o, f in reversed(owners) if o <= m.start())
    return bad


def test_every_abbreviation_is_defined_at_first_use():
    """In the reading order of each format (the HTML and the PDF differ in the lookup)."""
    found = set()
    for fmt in ("html", "typst"):
        bad = undefined_first_uses(reading_text.paragraphs(fmt, keep_links=True), glossary())
        found |= {(reading_text.source_file(f), t) for t, f in bad.items()}
    reading_text.check_against_pending("abbreviation", found)


def test_first_use_check_accepts_definitions_and_fails_on_bare_use():
    terms = {"SIF": "Single inspection framework", "pp": "Percentage points",
             "section 47": "Section 47 enquiry under the Children Act"}
    good = [("a.qmd", "Under the single inspection framework (SIF) councils... SIF again."),
            ("b.qmd", "A change of 3 percentage points (pp); pp later."),
            ("c.qmd", "Section 47 enquiries (investigations under the Children Act 1989)")]
    assert undefined_first_uses(good, terms) == {}
    assert undefined_first_uses([("a.qmd", "The [SIF](#sec-glossary) grades.")], terms) == {}
    bare = [("a.qmd", "SIF grades were worse (SIF means single inspection framework later).")]
    assert undefined_first_uses(bare, {"SIF": terms["SIF"]}) == {"SIF": "a.qmd"}
    assert undefined_first_uses([("b.qmd", "A fall of 3 pp.")], terms) == {"pp": "b.qmd"}


def map_codes() -> set[str]:
    """The three-letter map codes of the councils (defined by the map key and the lookup)."""
    from analysis.derived import load_derived
    from analysis.outputs.maps import latest_codes
    return set(latest_codes(load_derived()[0]))


def test_glossary_lists_every_abbreviation_the_text_uses():
    terms = set(glossary()) | map_codes()
    used = {}
    for fmt in ("html", "typst"):
        for file, para in reading_text.paragraphs(fmt):
            for m in ABBREVIATION_RE.finditer(para):
                tok = m.group(0)
                base = tok[:-1] if tok.endswith("s") and tok[:-1] in terms else tok
                if base not in terms and base not in NOT_ABBREVIATIONS:
                    used.setdefault(base, reading_text.source_file(file))
    reading_text.check_against_pending("glossary", {(f, t) for t, f in used.items()})


def test_glossary_is_in_the_report_and_sorted():
    terms = list(glossary())
    assert len(terms) >= 30
    assert terms == sorted(terms, key=str.lower), "keep the glossary in alphabetical order"
    for required in ("IMD", "IDACI", "pp", "LPM", "TWFE", "SIF", "ILACS", "FE", "CRE", "CI", "MDE",
                     "s251", "CSWW", "CIN", "CLA", "CPP", "ICPC", "LA", "SN", "section 47"):
        assert required in terms, required
    assert "{{< include glossary.qmd >}}" in (paths.ROOT / "report" / "report.qmd").read_text()


CHAPTER_RE = re.compile(r"\b[Cc]hapters?\b")


def test_the_report_says_section_not_chapter():
    found = {(reading_text.source_file(f), "chapter") for fmt in ("html", "typst")
             for f, p in reading_text.paragraphs(fmt) if CHAPTER_RE.search(p)}
    reading_text.check_against_pending("chapter", found)


def test_the_chapter_check_sees_the_word():
    assert CHAPTER_RE.search("This chapter is the primary design.") and not CHAPTER_RE.search("Section 5")


# --- code in the rendered reading text ------------------------------------------------------

CODE_RULES = {
    "code path": re.compile(r"(?<![\w/.])(?:[\w.-]+/)+[\w.-]+\.(?:py|md|toml|csv|json|ya?ml|qmd|typ|css|cff)\b"
                            r"|\b\w+\.(?:py|json|toml|cff|qmd|parquet)\b|\w::\w"),
    "identifier": re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-])"),
    "module": re.compile(r"\b(?:analysis|statsmodels|linearmodels|pandas|numpy|scipy|seaborn|matplotlib|typst|"
                         r"pypandoc|differences)\.[A-Za-z_]\w*|\b(?:PanelOLS|ConditionalLogit|OrderedModel|"
                         r"RandomEffects|BetweenOLS|FirstDifferenceOLS|PooledOLS|BinomialBayesMixedGLM|ATTgt)\b"),
    "version": re.compile(r"\b(?:pandoc|typst(?:-py)?|Quarto|Python|pandas|statsmodels|linearmodels|seaborn|"
                          r"matplotlib|numpy|differences|uv)\s+v?\d+(?:\.\d+)+|(?<![\w.])v?\d+\.\d+\.\d+(?![\w.])"),
    "hash": re.compile(r"(?<![\w-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,64}(?![\w-])"),
}
URL_RE = re.compile(r"https?://\S+|doi\.org/\S+|\b10\.\d{4,9}/\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:org|app|com|uk|io|net)\b(?:/\S*)?")


def code_violations(text: str) -> set[tuple[str, str]]:
    """(rule, matched text) of code that reached the reading text."""
    text = URL_RE.sub(" ", text)
    text = re.sub(rf"\b[Vv]ersion {re.escape(__version__)}\b", " ", text)  # the report's own version
    return {(rule, m.group(0)) for rule, rx in CODE_RULES.items() for m in rx.finditer(text)}


def html_reading_text(html: str) -> str:
    """Visible text of the HTML without the exempt appendices, scripts and styles; inline code
    spans become ``<code>x</code>`` markers so that a code span is itself a violation."""
    html = re.sub(r"<(script|style|head)\b.*?</\1>", " ", html, flags=re.S)
    for ident in reading_text.EXEMPT:
        html = re.sub(rf'<section id="{ident}"[^>]*>.*?(?=<section id="[^"]+" class="level1|</body>)', " ",
                      html, flags=re.S)
    html = re.sub(r"<code\b[^>]*>(.*?)</code>", lambda m: f" CODE[{m.group(1)}] ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def pdf_reading_text(pdf) -> str:
    """Text of the PDF pages after the contents, without the exempt appendices (from the page
    where Appendix A starts to the page before Appendix E)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = out.split("\f")
    start = next(i for i, p in enumerate(pages) if i > 1 and re.search(r"^\s*Appendix A: Data dictionary", p, re.M))
    stop = next(i for i, p in enumerate(pages) if i > start and re.search(r"^\s*Appendix E: Council lookup", p, re.M))
    head, tail = pages[start], pages[stop]
    keep = pages[:start] + [head[:re.search(r"^\s*Appendix A: Data dictionary", head, re.M).start()]]
    keep += [tail[re.search(r"^\s*Appendix E: Council lookup", tail, re.M).start():]] + pages[stop + 1:]
    return re.sub(r"-\n\s*", "-", "\n".join(keep))


def _owner(item: str) -> str:
    """The source file (under report/, generated includes included) holding ``item``, as written
    or markdown-escaped; the appendix of exempt sections is not searched."""
    files = [p for p in sorted((paths.ROOT / "report").glob("*.qmd")) if p.name != "appendix.qmd"]
    files += sorted((paths.ROOT / "report" / "outputs").rglob("*.md"))
    escaped = re.sub(r"([_*\\/.,:;()\[\]-])", r"\\\1", item)
    for path in files:
        text = path.read_text(encoding="utf-8")
        if item in text or escaped in text or item.replace("_", "\\_") in text:
            return path.name
    return "rendered"


@pytest.fixture(scope="module")
def rendered_files():
    subprocess.run(["make", "report", "RENDER_ENGINE=lite"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    out = paths.ROOT / "_output"
    return out / f"report-v{__version__}.html", out / f"report-v{__version__}.pdf"


def _code_found(text: str) -> set[tuple[str, str]]:
    found = set()
    for rule, item in code_violations(text):
        found.add((_owner(item), f"{rule}: {item}"))
    for m in re.finditer(r"CODE\[(.*?)\]", text, re.S):
        item = unescape(m.group(1)).strip()
        found.add((_owner(f"`{item}`") if _owner(f"`{item}`") != "rendered" else _owner(item), f"code span: {item}"))
    return found


def test_no_code_in_the_rendered_html_reading_text(rendered_files):
    text = html_reading_text(rendered_files[0].read_text(encoding="utf-8"))
    assert "Summary" in text and "Appendix F: Glossary" in text and "Data dictionary" not in text
    reading_text.check_against_pending("code-html", _code_found(text))


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler's pdftotext not installed")
def test_no_code_in_the_rendered_pdf_reading_text(rendered_files):
    text = pdf_reading_text(rendered_files[1])
    assert "Glossary" in text and "la_year_panel" not in text
    # by kind only: where the PDF breaks a line inside an identifier depends on the layout
    found = {(f, i.split(":")[0]) for f, i in _code_found(text) if not i.startswith("code span")}
    reading_text.check_against_pending("code-pdf", found)


def test_code_rules_catch_each_kind():
    text = ("see analysis/models/timing.py::validate_forward_timing and results.json under "
            "pre_trend_fail; linearmodels PanelOLS; typst-py 0.15.2; commit abde989b2b; version 0.2.0")
    rules = {r for r, _ in code_violations(text.replace("version 0.2.0", f"version {__version__}"))}
    assert rules == {"code path", "identifier", "module", "version", "hash"}
    clean = ("In the first census, 2016, agency use was 25.9% (95% CI [−1.2, 3.4]); "
             "see https://doi.org/10.1017/S147474642200001X and Section 4.2.")
    assert code_violations(clean) == set()
