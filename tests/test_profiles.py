"""Council profiles and the HTML hex maps (analysis/outputs/profiles*.py, maps_svg.py).

Values are checked against the committed derived tables read here with plain pandas (not
through the profile code): five councils' series, England figures from the summed counts, the
statistical-neighbour medians, the named neighbours, the inspection history and the rank.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.outputs import maps, profiles, profiles_html, profiles_typst
from analysis.outputs.profile_escape import escape_typst

FIVE = ("Leeds", "Birmingham", "Cornwall", "Kensington and Chelsea", "North Yorkshire")
DIGITS = {"caseload": 1, "vacancy_rate": 1, "agency_rate": 1, "turnover_rate": 1, "spend_total_pc": 0}


@pytest.fixture(scope="module")
def tables():
    panel = pd.read_csv(paths.DERIVED / "la_year_panel.csv", dtype={"la_code": str})
    insp = pd.read_csv(paths.DERIVED / "inspections.csv", dtype={"la_code": str})
    nb = pd.read_csv(paths.DERIVED / "statistical_neighbours.csv", dtype={"la_code": str, "neighbour_la_code": str})
    return panel, insp, nb


@pytest.fixture(scope="module")
def built(tables):
    from analysis.derived import load_derived
    panel, insp = load_derived()
    p = profiles.build_profiles(panel, insp)
    return p, profiles_html.profile_data(p)


def _council(data, name):
    return next(c for c in data["councils"] if c["name"] == name)


def test_one_profile_per_council_alive_with_a_unique_anchor(tables, built):
    panel, _, _ = tables
    p, data = built
    last = panel[panel["year"] == panel["year"].max()]
    assert sorted(c["id"] for c in data["councils"]) == sorted(last["gss_code"])
    frag = profiles_html.profiles_html(p)
    ids = re.findall(r'<details class="csc-prof" id="(council-[^"]+)"', frag)
    assert len(ids) == len(set(ids)) == len(last)
    assert set(ids) == {f"council-{g}" for g in last["gss_code"]}


@pytest.mark.parametrize("name", FIVE)
def test_profile_values_equal_the_committed_tables(tables, built, name):
    panel, insp, nb = tables
    _, data = built
    c = _council(data, name)
    rows = panel[panel["la_name"] == name].set_index("year")
    la = rows["la_code"].iloc[0]
    years = data["years"]
    assert years[0] == 2015 and years[-1] == int(panel["year"].max())
    for m, d in DIGITS.items():
        want = [None if (y not in rows.index or pd.isna(rows.loc[y, m])) else round(float(rows.loc[y, m]), d)
                for y in years]
        assert c["v"][m] == want, (name, m)
        # neighbour median: the DfE SN 2025 neighbours' values that year, median if >= 5 have one
        sn = nb[(nb["la_code"] == la) & (nb["grouping"] == "DfE SN 2025")].sort_values("neighbour_rank")
        for i, y in enumerate(years):
            vals = panel[(panel["year"] == y) & panel["la_code"].isin(sn["neighbour_la_code"])][m].dropna()
            exp = round(float(np.median(vals)), d) if len(vals) >= 5 else None
            assert c["sn"][m][i] == exp, (name, m, y)
        # named neighbours in rank order, each with its value in the council's latest year
        names = panel.drop_duplicates("la_code", keep="last").set_index("la_code")["la_name"]
        assert [n[1] for n in c["nb"]] == [names[x] for x in sn["neighbour_la_code"]]
    # inspections: every one of the council's rows, in publication order, with the sub-judgements
    g = insp[insp["la_code"] == la].sort_values(["publication_date", "start_date"])
    grade = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
    assert [r[0] for r in c["insp"]] == list(g["publication_date"])
    assert [r[3] for r in c["insp"]] == [grade.get(x, "") if pd.notna(x) else "" for x in g["overall_num"]]
    assert [r[5] for r in c["insp"]] == [grade.get(x, "") if pd.notna(x) else "" for x in g["help_protection_num"]]


def test_england_figures_are_summed_counts(tables, built):
    """England agency rate = 100 x sum(agency FTE) / sum(agency + in-post FTE), the joint
    Kingston + Richmond return once; spending = total spend / total children."""
    panel, _, _ = tables
    _, data = built
    for i, y in enumerate(data["years"]):
        rows = panel[(panel["year"] == y) & ~((panel["la_code"] == "318") & panel["joint_return"])]
        a = rows.dropna(subset=["agency_fte", "inpost_fte"])
        exp = 100 * a["agency_fte"].sum() / (a["agency_fte"].sum() + a["inpost_fte"].sum())
        assert data["england"]["agency_rate"][i] == round(exp, 1), y
        s = rows.dropna(subset=["spend_total", "spend_total_pc"])
        s = s[s["spend_total_pc"] > 0]
        if len(s):
            exp = s["spend_total"].sum() / (s["spend_total"] / s["spend_total_pc"]).sum()
            assert data["england"]["spend_total_pc"][i] == round(exp, 0), y


def test_position_rank_and_polarity_aware_bands(tables, built):
    panel, _, _ = tables
    p, data = built
    leeds = _council(data, "Leeds")
    for m in DIGITS:
        year, value, rank, n, pct, words = leeds["pos"][m]
        rows = panel[(panel["year"] == year) & ~((panel["la_code"] == "318") & panel["joint_return"])]
        rows = rows.dropna(subset=[m])
        v = float(rows.loc[rows["la_name"] == "Leeds", m].iloc[0])
        assert n == len(rows) and rank == 1 + int((rows[m] < v).sum()) and value == round(v, DIGITS[m])
        q1, q2, q3 = np.percentile(rows[m], [25, 50, 75])
        quarter = 1 + int(v > q1) + int(v > q2) + int(v > q3)
        assert words.startswith(["lowest", "second", "third", "highest"][quarter - 1]), (m, words)
    assert profiles.band(4, "pressure").endswith("(most pressure)")
    assert profiles.band(1, "pressure").endswith("(least pressure)")
    assert "pressure" not in profiles.band(4, None) and profiles.band(4, None).endswith("(highest spending)")


def test_every_missing_year_has_a_reason(tables, built, tmp_path):
    panel, insp, nb = tables
    p, data = built
    miss = p.series[p.series["value"].isna()]
    assert (miss["reason"] != "").all() and (p.series.loc[p.series["value"].notna(), "reason"] == "").all()
    s = p.series.set_index(["la_code", "measure", "year"])["reason"]
    code = dict(zip(panel["la_name"], panel["la_code"]))
    assert s[(code["Leeds"], "caseload", 2015)] == profiles.NOT_COLLECTED  # no caseload in the 2015 collection
    assert s[(code["Cumberland"], "agency_rate", 2020)] == profiles.NO_ROW  # formed in 2023
    kc = code["Kensington and Chelsea"]
    if not profiles.MISSING_REASONS.is_file():
        assert s[(kc, "agency_rate", 2025)] == profiles.NO_RETURN
    # a recorded reason is used, for one measure or for every measure of that year
    from analysis.derived import load_derived
    panel2, insp2 = load_derived()
    rec = pd.DataFrame({"la_code": [kc, kc], "year": [2025, 2025], "measure": ["agency_rate", ""],
                        "reason": ["no agency figure", "cyber attack (November 2025): no census return"]})
    p2 = profiles.build_profiles(panel2, insp2, reasons=rec)
    s2 = p2.series.set_index(["la_code", "measure", "year"])["reason"]
    assert s2[(kc, "agency_rate", 2025)] == "no agency figure"
    assert s2[(kc, "caseload", 2025)] == "cyber attack (November 2025): no census return"
    # the reference table's layout (year ranges, ';'-separated measures) is read too
    ref = tmp_path / "ref.csv"
    ref.write_text("la_code,la_name,first_year,last_year,measures,reason,source\n"
                   f"{kc},Kensington and Chelsea,2024,2025,caseload;agency_rate,cyberattack,DfE\n", encoding="utf-8")
    r = profiles.load_missing_reasons(ref)
    assert sorted(zip(r["year"], r["measure"])) == [(2024, "agency_rate"), (2024, "caseload"),
                                                     (2025, "agency_rate"), (2025, "caseload")]
    assert set(r["reason"]) == {"cyberattack"} and set(r["la_code"]) == {kc}
        # a reasons file with a bad row fails naming file, column and line
    bad = tmp_path / "missing_reasons.csv"
    bad.write_text("la_code,year,reason\n207,2025,cyber attack\n213,twenty,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing_reasons.csv: column 'year' has 'twenty' on line 3"):
        profiles.load_missing_reasons(bad)
    bad.write_text("la_code,year,reason\n207,2025,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"column 'reason' is empty on line 2"):
        profiles.load_missing_reasons(bad)


def test_data_values_are_escaped_in_html_and_typst(built, tmp_path):
    """A council name that is markup stays text: the JSON cannot close its script element, the
    summary shows it escaped, and typst prints it literally."""
    p, _ = built
    evil = '</script><b>A&B</b> "#set" \\ ] [x] $y$ @ref'
    councils = p.councils.copy()
    councils.loc[0, "la_name"] = evil
    import dataclasses
    q = dataclasses.replace(p, councils=councils)
    frag = profiles_html.profiles_html(q)
    script = re.search(r'<script type="application/json" id="csc-prof-data">(.*?)</script>', frag, re.S).group(1)
    assert "<" not in script and ">" not in script and "&" not in script
    assert json.loads(script)["councils"][0]["name"] == evil
    import html as html_lib
    summary = re.search(r"<summary>(.*?)<small>", frag).group(1)
    assert "<" not in summary and html_lib.unescape(summary) == evil
    import typst
    src = tmp_path / "t.typ"
    src.write_text(profiles_typst.PRELUDE + "#" + profiles_typst.council_block(
        q, councils.loc[0, "la_code"], q.series.set_index(["la_code", "measure", "year"]).sort_index().loc[councils.loc[0, "la_code"]],
        q.position.set_index(["la_code", "measure"]), q.neighbours.iloc[:0], q.inspections.iloc[:0],
        next(councils.itertuples(index=False)))[1:], encoding="utf-8")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(typst.compile(str(src)))
    import subprocess
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert '</script><b>A&B</b> "#set" \\ ] [x] $y$ @ref' in " ".join(text.split())
    assert escape_typst('a"b\\c') == '"a\\"b\\\\c"'


def test_profiles_are_deterministic(built):
    p, _ = built
    from analysis.derived import load_derived
    panel, insp = load_derived()
    again = profiles.build_profiles(panel, insp)
    assert profiles_html.profiles_html(again) == profiles_html.profiles_html(p)
    assert profiles_typst.profiles_typst(again) == profiles_typst.profiles_typst(p)


def test_html_maps_link_every_hexagon_to_its_profile_with_a_title(tables, tmp_path, monkeypatch):
    panel, insp, _ = tables
    from analysis.derived import load_derived
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)
    panel, insp = load_derived()
    specs = maps.build_maps(panel, insp)
    key = maps.load_hex_key()
    last = panel[panel["year"] == panel["year"].max()].set_index("la_code")
    import html as html_lib
    from dataclasses import replace
    for s in specs:
        links = re.findall(r'<a href="#council-([^"]+)" data-council="([^"]+)"><title>([^<]*)</title>', s.html)
        assert len(links) == len(key), s.name
        assert {g for g, _, _ in links} == set(last.loc[key["la_code"], "gss_code"]), s.name
        gss_name = dict(zip(last["gss_code"], last["la_name"]))
        for g, g2, title in links:
            assert g == g2 and html_lib.unescape(title).startswith(gss_name[g]), (s.name, title)
        md = maps.maps_markdown([s])
        assert f"::: {{#{s.name} .hexmap-svg}}" in md and f"{{#{s.name} .hexmap" in md  # HTML and PDF figure
    # a value map's hexagon title carries the council's value; its legend names the extremes
    agency = next(s for s in specs if s.name == "fig-map-agency-rate")
    agency = replace(agency, html=html_lib.unescape(agency.html))
    v, year = maps.latest_values(panel, "agency_rate")
    v = v.reindex(key["la_code"]).dropna()
    leeds = last.index[last["la_name"] == "Leeds"][0]
    assert f"Leeds (LEE): agency worker rate {year} {v[leeds]:.1f}%" in agency.html
    assert f"Highest: <b>{last.loc[v.idxmax(), 'la_name']}</b> ({v.max():.1f}%)" in agency.html
    assert f"Lowest: <b>{last.loc[v.idxmin(), 'la_name']}</b> ({v.min():.1f}%)" in agency.html


def test_pdf_maps_name_the_extremes_at_full_width(tmp_path, monkeypatch):
    from analysis.derived import load_derived
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)
    panel, insp = load_derived()
    drawn = {}
    real = maps.save_checked
    monkeypatch.setattr(maps, "save_checked", lambda fig, name, **kw: drawn.setdefault(name, fig) and real(fig, name, **kw))
    specs = maps.build_maps(panel, insp)
    assert all(s.width == "100%" for s in specs)
    v, _ = maps.latest_values(panel, "caseload")
    v = v.reindex(maps.load_hex_key()["la_code"]).dropna()
    names = panel[panel["year"] == panel["year"].max()].set_index("la_code")["la_name"]
    fig = drawn["fig-map-caseload"]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_xlabel() for ax in fig.axes]
    joined = "\n".join(texts)
    assert f"H highest: {names[v.idxmax()]} ({v.max():.1f})" in joined
    assert f"L lowest: {names[v.idxmin()]} ({v.min():.1f})" in joined
    # every text of every map prints at 8 pt or more at full text width (figure <= text width)
    for name, f in drawn.items():
        sizes = [t.get_fontsize() for t in f.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
                 if getattr(t, "get_text")().strip()]
        assert min(sizes) >= 8.0, name


def test_neighbour_median_needs_five_neighbours_with_a_value(tables):
    """With only four of Leeds's neighbours reporting agency in 2024 the median is missing; with
    five it is their median."""
    from analysis.derived import load_derived
    panel, insp = load_derived()
    _, _, nb = tables
    la = panel.loc[panel["la_name"] == "Leeds", "la_code"].iloc[0]
    sn = list(nb[(nb["la_code"] == la) & (nb["grouping"] == "DfE SN 2025")].sort_values("neighbour_rank")["neighbour_la_code"])
    for keep, expect_missing in ((4, True), (5, False)):
        p = panel.copy()
        p.loc[p["la_code"].isin(sn[keep:]) & (p["year"] == 2024), "agency_rate"] = np.nan
        s = profiles.build_profiles(p, insp).series.set_index(["la_code", "measure", "year"])["sn_median"]
        got = s[(la, "agency_rate", 2024)]
        vals = p[p["la_code"].isin(sn[:keep]) & (p["year"] == 2024)]["agency_rate"]
        assert pd.isna(got) if expect_missing else got == pytest.approx(float(np.median(vals)))


def test_lookup_names_link_to_their_profiles():
    from analysis.derived import load_derived
    from analysis.outputs import lookup
    panel, insp = load_derived()
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours())
    html = lookup.lookup_html(frame, lookup._measures(panel), int(panel["year"].max()))
    links = re.findall(r'<th scope="row" data-sort="[^"]*"><a href="(?:#|&#35;)council-([^"]+)">([^<]*)</a>', html)
    last = panel[panel["year"] == panel["year"].max()]
    assert len(links) == len(last)
    gss = dict(zip(last["la_name"], last["gss_code"]))
    assert all(gss[re.sub("[†‡]", "", name.replace("&amp;", "&"))] == g for g, name in links)
