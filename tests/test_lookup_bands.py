"""Lookup bands name their polarity, an older value gets no band, and every missing latest value
has a reason (documented in data/reference/missing_reasons.csv, or derived from the panel)."""

from __future__ import annotations

import html as html_lib

import numpy as np
import pandas as pd
import pytest

from analysis.derived import load_derived
from analysis.errors import DataError
from analysis.outputs import lookup, missing


@pytest.fixture(scope="module")
def built():
    panel, insp = load_derived()
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours())
    measures = lookup._measures(panel)
    y = int(panel["year"].max())
    notes = lookup.missing_notes(panel, frame, measures, y)
    html = html_lib.unescape(lookup.lookup_html(frame, measures, y, None, notes))
    md = lookup.lookup_markdown(frame, measures, y, None, notes).replace("\\", "")
    return panel, frame, measures, y, notes, html, md


def test_every_measure_has_a_stated_polarity_and_the_key_says_which_end_is_pressure(built):
    panel, frame, measures, y, notes, html, md = built
    assert set(measures) <= set(lookup.POLARITY)
    for text in (html, md):
        assert "highest-pressure quarter" in text and "lowest-pressure quarter" in text
        assert "high the highest-pressure quarter" in text
        assert "higher value means more workforce pressure" in text
        assert "Q4" not in text and "Q1" not in text
        if "spend_total_pc" in measures:
            assert "Spending per child is not a pressure measure" in text


def test_an_older_value_gets_no_band_and_says_latest_year(built):
    panel, frame, measures, y, notes, html, md = built
    kc = frame.set_index("la_name").loc["Kensington and Chelsea"]
    assert int(kc["agency_rate_year"]) == 2020 and pd.isna(kc["agency_rate_q"])
    row = next(r for r in html.split("<tr ")[1:] if ">Kensington and Chelsea<" in r)
    assert "latest 2020" in row
    # every band is from the latest census only
    for m in measures:
        has_band = frame[f"{m}_q"].notna()
        assert (frame.loc[has_band, f"{m}_year"] == y).all()
        assert frame.loc[frame[f"{m}_year"] == y, f"{m}_q"].notna().all()


def test_missing_latest_values_have_a_reason_with_source(built):
    panel, frame, measures, y, notes, html, md = built
    cyber = [n for n in notes if "cyberattack in November 2025" in n]
    assert len(cyber) == 1 and cyber[0].startswith("Kensington and Chelsea, Westminster (")
    assert "source: DfE, Local Authority Interactive Tool" in cyber[0]
    for text in (html, md):
        assert f"no {y} value" in text and "cyberattack in November 2025" in text
    # every council without a latest-census value is named in some note
    for m in measures:
        for name in frame.loc[frame[f"{m}_year"].ne(y) | frame[m].isna(), "la_name"]:
            assert any(name in n for n in notes), (name, m)


def test_generic_reasons_are_derived_from_the_panel():
    p = pd.DataFrame({"la_code": ["A"] * 3 + ["B"] * 2 + ["C"] * 3, "year": [2020, 2021, 2022, 2021, 2022, 2020, 2021, 2022],
                      "caseload": [1.0, np.nan, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan]})
    p = pd.concat([p, pd.DataFrame({"la_code": ["D"], "year": [2020], "caseload": [7.0]})])
    doc = pd.DataFrame({"la_code": ["C"], "measure": ["caseload"], "year": [2022], "reason": ["cyberattack"],
                        "source": ["DfE note"]})
    out = missing.missing_years(p, ["caseload"], doc).set_index(["la_code", "year"])["reason"]
    assert out[("A", 2021)] == missing.NOT_PUBLISHED
    assert out[("B", 2020)] == missing.NOT_YET.format(first=2021)
    assert out[("C", 2022)] == "cyberattack"
    assert out[("D", 2021)] == missing.ABOLISHED.format(last=2020)
    assert len(out) == 5


def test_reason_table_errors_name_file_line_and_value(tmp_path):
    cols = ",".join(missing.COLUMNS)
    for row, msg in (("207,K,2025,2024,caseload,r,s", "line 2: year range 2025-2024"),
                     ("207,K,20x5,2025,caseload,r,s", "line 2, columns first_year/last_year: '20x5'"),
                     ("207,K,2025,2025,caseloads,r,s", "line 2, column measures: unknown measure 'caseloads'"),
                     ("207,K,2025,2025,caseload,r,", "line 2, column source: empty value")):
        f = tmp_path / "reasons.csv"
        f.write_text(cols + "\n" + row + "\n", encoding="utf-8")
        with pytest.raises(DataError, match="reasons.csv, " + msg.replace("(", r"\(").replace(")", r"\)")):
            missing.load_reasons(f, measures=("caseload",), years=(2015, 2025))
    assert len(missing.load_reasons(measures=tuple(load_derived()[0].columns), years=(2015, 2025))) >= 8
