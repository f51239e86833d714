"""No number is typed by hand into the report prose.

Every digit in a .qmd must come from a ``{{< var >}}`` / ``{{< include >}}`` shortcode, or belong
to a short list of definitional constants (grade coding, units, significance conventions, index
names), each listed below with its reason. Code, cross-reference labels and citation keys are
ignored.
"""

from __future__ import annotations

import re

import pytest

from analysis import paths

QMD = sorted((paths.ROOT / "report").glob("*.qmd"))

#: phrases with digits that are definitions, not results (reason in the comment)
ALLOWED = [
    r"IDACI 2019", r"IoD 2019", r"IMD 2019",            # names of the official indices
    r"Indices of Deprivation 2019", r"PDF/UA-1",         # the indices' title; the accessibility standard
    r"sha256",                                           # name of the hash function
    r"1-4", r"1 \(Outstanding\)", r"4 \(Inadequate\)", r"from 1 \(Outstanding\) to 4",
    r"1 Outstanding to 4 Inadequate",                    # the grade coding
    r"10,000",                                           # rate unit
    r"30 September", r"31 March",                        # census and count dates (definitions)
    r"N−1", r"N-1",                                      # population year convention
    r"95%",                                              # confidence level
    r"p < 0\.05", r"p < 0\.01", r"p < 0\.001",           # significance conventions
    r"\(0/1\)", r"χ²",
    r"[Ss]ection 47", r"[Ss]ection 251",                # statutory names (Children Act s47; s251 return)
    r"aged 0-17",                                        # child population definition (ONS, DfE)

    r"section 251", r"aged 0 to 17",                     # the s251 return's name; child age range
    r"\bs251\b", r"Children Act 1989",                   # abbreviation of the return; statute name
    r"k = [−+-]?\d",                                    # event-time labels (definitions)
]


def prose_digits(text: str) -> list[str]:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)          # code blocks
    text = re.sub(r"`[^`]*`", " ", text)                        # inline code
    text = re.sub(r"\{\{<.*?>\}\}", " ", text)                  # shortcodes
    text = re.sub(r"\{[#.][^}]*\}", " ", text)                  # attributes and labels
    text = re.sub(r"-?@[\w:-]+", " ", text)                     # citations and cross-references
    text = re.sub(r"\]\([^)]*\)", "]", text)                    # link and image targets
    for phrase in ALLOWED:
        text = re.sub(phrase.replace(" ", r"\s+"), " ", text)
    return re.findall(r"[^\s]*\d[^\s]*", text)


@pytest.mark.parametrize("qmd", QMD, ids=lambda p: p.name)
def test_no_hand_typed_numbers(qmd):
    found = prose_digits(qmd.read_text(encoding="utf-8"))
    assert not found, f"{qmd.name}: numbers typed into prose: {found[:10]} (use {{{{< var >}}}})"


def test_scanner_catches_typed_numbers():
    assert prose_digits("The caseload fell to 15.2 in 2024.") == ["15.2", "2024."]
    assert prose_digits("Effect {{< var fe.caseload >}} (@tbl-panel) [@nao2016]; 95% CI.") == []
