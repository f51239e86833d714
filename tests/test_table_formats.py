"""The table formatting rules of issue 15 (item 7), checked over every generated table
(``report/outputs/tables/tbl-*.md``) and the captions that include them. The rules have one home,
:mod:`analysis.outputs.formats`; each checker below is also shown to catch a broken table (the
pre-issue-15 output is the fixture of :func:`test_checkers_catch_the_old_tables`).

* percentage points to one decimal and odds ratios to two, wherever the heading or the row's
  label (or its group heading) names the unit; no number with four or more decimals (a
  probability to four decimals is shown as pp);
* a p-value inside a cell carries its relation ("p = 0.085");
* relations spaced: "k = 0", never "k=0";
* no χ² under an interval ("[95% CI]") heading;
* no label repeated on consecutive rows (printed once per group), and no label that repeats its
  measure after the colon ("Spending per child: +£100 spending per child");
* every difference in sample size between the columns (rows of observations, inspections, LAs,
  events) is explained: by exclusion rows that add up, or by a note under the caption.
"""

from __future__ import annotations

import re

import pytest
import yaml

from analysis import paths
from analysis.outputs import formats
from analysis.outputs.build import report_text
from test_tables import parse

TABLES = paths.ROOT / "report" / "outputs" / "tables"
#: tables that are not estimates (dictionary, provenance, hashes, lookup)
NOT_RESULTS = {"tbl-dictionary", "tbl-provenance", "tbl-source-hashes", "tbl-sources", "tbl-lookup"}

DECIMALS_RE = re.compile(r"(?<![\w.])[−-]?\d[\d,]*\.(\d+)")
P_RE = re.compile(r"\bp \d|\bp<|\bp=")
RELATION_RE = re.compile(r"\b(?:k|M̄|M|n|df)(?:=|\s=(?=\S)|=\s)")
COUNT_ROW_RE = re.compile(r"^(Observations|Inspections|Inspections \(LAs\)|Inspections used|LAs|Events|N)\b")
P_HEADER_RE = re.compile(r"(^|\W)(p|p-value|Holm p|R-W p|Pre-trend p)(\W|$)|χ²|\bdf\b|MDE|per SD|Breakdown")
OR_RE = re.compile(r"odds ratio", re.I)
PP_RE = re.compile(r"\bpp\b")
NOTE_RE = re.compile(r"\{\{<\s*var\s+note\.(\w+)\s*>\}\}")


@pytest.fixture(scope="module")
def built(outputs_built):
    found = {p.stem: p.read_text(encoding="utf-8") for p in sorted(TABLES.glob("tbl-*.md"))}
    assert len(found) >= 19
    return found


@pytest.fixture(scope="module")
def notes(outputs_built) -> dict[str, str]:
    """Table label -> the note its caption prints (``{{< var note.x >}}``, resolved)."""
    variables = yaml.safe_load((paths.ROOT / "_variables.yml").read_text(encoding="utf-8"))
    out = {}
    for line in report_text().splitlines():
        label = re.search(r"\{#(tbl-[\w-]+)\}", line)
        if label and line.startswith(":"):
            out[label.group(1)] = " ".join(variables.get("note", {}).get(k, "") for k in NOTE_RE.findall(line))
    return out


# ---------------------------------------------------------------------------------------------
# checkers: each returns the problems found (empty = the rule holds)


def _unit(text: str) -> str | None:
    """The unit a heading names: odds ratio, grade points or log-odds ("points"), pp."""
    if OR_RE.search(text):
        return "or"
    if re.search(r"grade points|grade per|log-odds", text, re.I):
        return "points"
    if PP_RE.search(text) or re.search(r"percentage points|log points", text):
        return "pp"
    return None


def _row_unit(label: str) -> str | None:
    """The unit a row label names in brackets ("Vacancy rate (pp)"), not a change ("+5 pp")."""
    m = re.search(r"\(([^()]*)\)\s*$", label)
    return _unit(m.group(1)) if m else None


def _is_heading(row: list[str]) -> bool:
    return bool(row[0]) and not any(c.strip() for c in row[1:])


def wrong_decimals(markdown: str) -> list[str]:
    """pp to one decimal, odds ratios to two (unit from the column heading, else from the row
    label or its group heading); nothing to four decimals or more."""
    header, _, rows = parse(markdown)
    bad, group = [], None
    for row in rows:
        if _is_heading(row):
            group = _row_unit(row[0]) or _unit(row[0])
            continue
        row_unit = _row_unit(row[0]) or group
        for col, c in zip(header[1:], row[1:]):
            found = [len(d) for d in DECIMALS_RE.findall(c)]
            if any(n >= 4 for n in found):
                bad.append(f"{row[0]!r} / {col!r}: {c!r} (four or more decimals)")
            if COUNT_ROW_RE.match(row[0]) or P_HEADER_RE.search(col) or P_HEADER_RE.match(row[0]):
                continue
            unit = _unit(col) or row_unit
            want = {"pp": formats.PP_DIGITS, "or": formats.OR_DIGITS, "points": formats.POINT_DIGITS}.get(unit)
            if want is not None and any(n != want for n in found):
                bad.append(f"{row[0]!r} / {col!r}: {c!r} ({unit} wants {want} decimals)")
    return bad


def bare_p_or_relation(markdown: str) -> list[str]:
    """"p 0.085" without its relation, "k=0" or "k =0" unspaced."""
    header, _, rows = parse(markdown)
    return [c for c in [*header, *(c for r in rows for c in r)] if P_RE.search(c) or RELATION_RE.search(c)]


def chi2_under_interval(markdown: str) -> list[str]:
    header, _, rows = parse(markdown)
    return [f"{col!r}: {c!r}" for r in rows for col, c in zip(header, r) if "χ²" in c and "CI" in col]


def repeated_labels(markdown: str) -> list[str]:
    """A row label equal to the previous row's, or "X: ... X" (the measure repeated)."""
    _, _, rows = parse(markdown)
    bad = [f"{b[0]!r} repeated" for a, b in zip(rows, rows[1:]) if a[0] and a[0] == b[0]]
    for r in rows:
        head, sep, tail = r[0].partition(":")
        if sep and head.strip() and re.search(rf"\b{re.escape(head.strip())}\b", tail, re.I):
            bad.append(f"{r[0]!r} repeats {head.strip()!r}")
    return bad


def _count(cell: str) -> int | None:
    m = re.match(r"\s*(\d[\d,]*)", cell)
    return int(m.group(1).replace(",", "")) if m else None


def unexplained_sample_sizes(markdown: str, note: str) -> list[str]:
    """Count rows whose columns differ, in a table without a note and whose exclusion rows
    ("− reason") do not add up to the difference."""
    header, _, rows = parse(markdown)
    drops = [r for r in rows if r[0].startswith("−")]
    bad = []
    for r in rows:
        if not COUNT_ROW_RE.match(r[0]):
            continue
        counts = [n for n in map(_count, r[1:]) if n is not None]
        if len(set(counts)) <= 1 or note.strip():
            continue
        if drops and r[0] == "Inspections used":
            total = next(x for x in rows if x[0].startswith("Graded inspections"))
            if all(_count(t) - sum(_count(d[i]) for d in drops) == _count(u)
                   for i, (t, u) in enumerate(zip(total[1:], r[1:]), start=1)):
                continue
        if drops and r[0] == "LAs":  # fewer LAs only where fewer inspections were used
            used = next(x for x in rows if x[0] == "Inspections used")[1:]
            if all(used[i] != used[0] for i, c in enumerate(r[1:]) if c != r[1]):
                continue
        bad.append(f"{r[0]!r}: {counts} differ with no note")
    return bad


# ---------------------------------------------------------------------------------------------
# each checker catches a broken table

OLD_CRE = """| Outcome | Term | Within LA \\[95\\% CI\\] | Between LAs \\[95\\% CI\\] |
|:--|:--|--:|--:|
| Good or better | Caseload | −0\\.0125 \\[−0\\.0374\\, 0\\.0123\\] | −0\\.0178 \\[−0\\.0437\\, 0\\.0080\\] |
| Good or better | Wald\\: LA means \\= 0 | χ² \\= 8\\.2\\, df \\= 4 | p 0\\.085 |
"""
OLD_MAGNITUDES = """| Change | Ordered logit\\: AME\\, pp | Conditional logit\\: odds ratio |
|:--|--:|--:|
| Spending per child\\: \\+£100 spending per child | 0\\.72 \\[−1\\.8\\, 3\\.3\\] | 1\\.581 \\[0\\.88\\, 2\\.86\\] |
| Inspections \\(LAs\\) | 347 \\(149\\) | 156 \\(61\\) |
"""
OLD_EVENT = """| Event time | TWFE |
|:--|--:|
| Vacancy rate \\(pp\\) |  |
| k\\=0 | 8\\.45 \\[4\\.3\\, 12\\.5\\] |
"""
OLD_SAMPLE = """|  | A | B |
|:--|--:|--:|
| Graded inspections | 10 | 10 |
| − no census | 1 | 2 |
| Inspections used | 9 | 7 |
"""


def test_checkers_catch_the_old_tables():
    assert len(wrong_decimals(OLD_CRE)) == 2  # four decimals, both columns
    assert wrong_decimals(OLD_MAGNITUDES) and wrong_decimals(OLD_EVENT)
    assert bare_p_or_relation(OLD_CRE) and bare_p_or_relation(OLD_EVENT)
    assert chi2_under_interval(OLD_CRE)
    assert repeated_labels(OLD_CRE) and repeated_labels(OLD_MAGNITUDES)
    assert unexplained_sample_sizes(OLD_MAGNITUDES, "")
    assert not unexplained_sample_sizes(OLD_MAGNITUDES, "Note: the conditional logit ...")
    assert unexplained_sample_sizes(OLD_SAMPLE, "")  # 10 − 2 ≠ 7
    assert not unexplained_sample_sizes(OLD_SAMPLE.replace("| 7 |", "| 8 |"), "")


@pytest.mark.parametrize("checker", [wrong_decimals, bare_p_or_relation, chi2_under_interval, repeated_labels])
def test_every_table_keeps_the_formatting_rules(built, checker):
    bad = {name: found for name, md in built.items() if name not in NOT_RESULTS and (found := checker(md))}
    assert not bad, bad


def test_every_sample_size_difference_is_explained(built, notes):
    bad = {name: found for name, md in built.items()
           if name not in NOT_RESULTS and (found := unexplained_sample_sizes(md, notes.get(name, "")))}
    assert not bad, bad


def test_the_panel_note_names_why_within_models_have_more_observations(notes):
    """LA + year FE 1,387 observations against pooled 1,384: the councils without IDACI 2019."""
    note = notes["tbl-panel-good"]
    assert "IDACI" in note and "Cumberland" in note and "Westmorland" in note


def test_change_label_and_sample_note():
    assert formats.change_label("Spending per child", "+£100 spending per child (at the median)") == \
        "Spending per child: +£100 (at the median)"
    assert formats.k_label(0) == "k = 0" and formats.k_label(1) == "k = +1" and formats.k_label(-2) == "k = −2"
    assert formats.p_cell(0.0851) == "p = 0.085" and formats.p_cell(0.0001) == "p < 0.001"
    assert formats.sample_note({"a": 5, "b": 5}, {}) == ""
    with pytest.raises(ValueError, match="no reason"):
        formats.sample_note({"a": 5, "b": 5, "c": 3}, {})
    assert formats.sample_note({"a": 5, "b": 5, "c": 3}, {"c": "it drops two"}) == \
        "A and b: 5 observations; c: 3, because it drops two."
    assert formats.grouped([["G", "x", "1"], ["G", "y", "2"]], heading=str) == [["G", ""], ["x", "1"], ["y", "2"]]
