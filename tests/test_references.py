"""References: every cited key has an entry in ``report/references.bib``, and every method, data
source and tool the text names cites its reference where it is first named.

The names and their keys are listed in one place, ``data/reference/named_methods.yml``.
Violations in files that other engineers are rewriting are listed in ``prose_pending.yml``
(see ``reading_text.py``).
"""

from __future__ import annotations

import re

import pytest
import yaml

from analysis import paths
from analysis.render.lite import Document, expand, select_format

import reading_text

pytestmark = pytest.mark.usefixtures("outputs_built")

BIB = paths.ROOT / "report" / "references.bib"
NAMED = yaml.safe_load((paths.REFERENCE / "named_methods.yml").read_text(encoding="utf-8"))
CITE_RE = re.compile(r"(?<![\w.@])-?@([A-Za-z][\w:.-]*[\w])")
CROSS_REF = ("fig-", "tbl-", "sec-", "eq-")


def bib_entries(text: str | None = None) -> dict[str, dict[str, str]]:
    """key -> {field: value} of a BibTeX file (``@type{key, field = {value} ...}``)."""
    text = BIB.read_text(encoding="utf-8") if text is None else text
    entries = {}
    for m in re.finditer(r"^@(\w+)\{([^,\s]+),(.*?)^\}", text, re.S | re.M):
        fields = dict(re.findall(r"^\s*(\w+)\s*=\s*[{\"](.*?)[}\"],?\s*$", m.group(3), re.M))
        entries[m.group(2)] = {"type": m.group(1).lower(), **{k.lower(): v for k, v in fields.items()}}
    return entries


def cited_keys(text: str) -> set[str]:
    """Citation keys used in markdown (cross-references @fig-/@tbl-/@sec- excluded)."""
    return {k for k in CITE_RE.findall(text) if not k.startswith(CROSS_REF)}


def first_mentions(paras: list[tuple[str, str]], named: list[dict]) -> list[tuple[dict, str, str]]:
    """(entry, file, paragraph) where each named method/source is first named in reading order;
    a citation of one of its keys names it too (the citation prints the authors)."""
    out = []
    for entry in named:
        pattern = re.compile(entry["pattern"])
        for file, para in paras:
            if pattern.search(para) or cited_keys(para) & set(entry["cite"]):
                out.append((entry, file, para))
                break
    return out


def uncited_first_mentions(paras: list[tuple[str, str]], named: list[dict]) -> set[tuple[str, str]]:
    """(file, name) of each named method/source whose first mention cites none of its keys."""
    bad = set()
    for entry, file, para in first_mentions(paras, named):
        if not cited_keys(para) & set(entry["cite"]):
            bad.add((reading_text.source_file(file), entry["name"]))
    return bad


def _whole_document(fmt: str) -> str:
    doc = Document.load()
    text = select_format(expand(doc.body, doc.path, doc.variables, base=doc.base), fmt)
    return reading_text.clean(text)  # code blocks (the BibTeX entry) are not citations


@pytest.mark.parametrize("fmt", ["html", "typst"])
def test_every_cited_key_has_an_entry(fmt):
    keys = set(bib_entries())
    cited = cited_keys(_whole_document(fmt))
    assert cited, "no citation found"
    assert not cited - keys, f"cited without an entry in references.bib: {sorted(cited - keys)}"


def test_the_key_scanner_sees_citations_and_not_cross_references():
    text = "As [@nao2016; -@webb2022, p. 3] and @callaway2021 show (@fig-trends, @sec-data); a@b.c"
    assert cited_keys(text) == {"nao2016", "webb2022", "callaway2021"}


def test_every_named_method_lists_keys_that_exist():
    keys = set(bib_entries())
    for entry in NAMED:
        assert entry["cite"] and set(entry["cite"]) <= keys, entry
        re.compile(entry["pattern"])


def test_every_bib_entry_is_complete_and_its_doi_well_formed():
    entries = bib_entries()
    assert len(entries) >= 38
    for key, e in entries.items():
        assert e.get("title") and e.get("year", "").isdigit(), key
        assert e.get("author") or e.get("institution"), key
        if "doi" in e:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", e["doi"]), (key, e["doi"])
        if e["type"] in ("misc", "software", "techreport"):
            assert e.get("url") or e.get("doi"), f"{key}: a report, release or tool needs its address"


def test_webb_doi_is_the_publishers():
    """The DOI of Webb, Bennett and Bywaters (2022) on the Cambridge University Press record
    (the one in the earlier references.bib, S1474746422000276, was wrong)."""
    assert bib_entries()["webb2022"]["doi"] == "10.1017/S147474642200001X"


def test_named_methods_cite_their_reference_where_first_named():
    found = set()
    for fmt in ("html", "typst"):
        found |= uncited_first_mentions(reading_text.paragraphs(fmt), NAMED)
    reading_text.check_against_pending("citation", found)


def test_first_mention_check_fails_without_the_citation():
    named = [{"name": "Holm adjustment", "pattern": r"\bHolm\b", "cite": ["holm1979"]}]
    cited = [("a.qmd", "Adjusted by Holm's method [@holm1979]."), ("b.qmd", "Holm again.")]
    uncited = [("a.qmd", "Adjusted by Holm's method."), ("b.qmd", "Holm [@holm1979].")]
    assert uncited_first_mentions(cited, named) == set()
    assert uncited_first_mentions(uncited, named) == {("a.qmd", "Holm adjustment")}
