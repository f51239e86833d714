"""Reader-facing components: grade palette, phone-sized figures, alt text against the numbers,
the NAO comparison sentence, hex maps and the council lookup."""

from __future__ import annotations

import re
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.derived import load_derived
from analysis.outputs import figures, lookup, maps, palette, prose
from analysis.outputs.common import GRADE_PALETTE, OUT

NUM = r"(-?[\d,]+\.\d+|-?\d+)"


@pytest.fixture(scope="module")
def derived():
    return load_derived()


@pytest.fixture(scope="module")
def results():
    """Model results (``make outputs`` is a no-op when they are up to date)."""
    subprocess.run(["make", "outputs"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    import json
    return json.loads((OUT / "results" / "results.json").read_text()), pd.read_csv(OUT / "results" / "multiverse.csv")


# -- palette ------------------------------------------------------------------------------------

def test_palette_is_colorbrewer_rdbu_and_used_by_the_figures():
    assert palette.GRADE_ORDER == ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    # ColorBrewer RdBu, 4 classes (colorbrewer2.org), blue = Outstanding
    assert palette.grade_colours() == ["#0571b0", "#92c5de", "#f4a582", "#ca0020"]
    assert GRADE_PALETTE is palette.GRADE_COLOURS
    assert figures.GRADE_COLOURS is palette.GRADE_COLOURS and maps.GRADE_COLOURS is palette.GRADE_COLOURS


def test_cielab_conversion_matches_reference_values():
    # sRGB white and pure red in CIELAB (D65): (100, 0, 0) and (53.24, 80.09, 67.20)
    assert np.allclose(palette.simulate_cvd("#ffffff", None), [100, 0, 0], atol=0.01)
    assert np.allclose(palette.simulate_cvd("#ff0000", None), [53.24, 80.09, 67.20], atol=0.02)
    # a grey is grey for every viewer (Machado rows sum to 1)
    for kind in ("deuteranopia", "protanopia"):
        lab = palette.simulate_cvd("#808080", kind)
        assert abs(lab[1]) < 0.5 and abs(lab[2]) < 0.5


@pytest.mark.parametrize("kind", [None, "deuteranopia", "protanopia"])
def test_grades_stay_distinct_under_colour_blindness(kind):
    assert palette.min_delta_e(palette.grade_colours(), kind) >= 20


def test_the_old_red_green_palette_fails_the_simulation():
    old = ["#1b7837", "#7fbf7b", "#f4a582", "#b2182b"]  # the palette before issue 10
    assert palette.min_delta_e(old, "deuteranopia") < 20


# -- phone-sized figures ------------------------------------------------------------------------

def test_small_text_is_refused(tmp_path):
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.set_title("tiny", fontsize=6)
    assert figures.min_text_px(fig) < figures.MIN_TEXT_PX
    with pytest.raises(ValueError, match="not readable on a phone"):
        figures.save_checked(fig, "never-written")
    assert not (OUT / "figures" / "never-written.png").exists()


def test_panel_figures_are_phone_sized(derived):
    panel, _ = derived
    figures.phone_theme()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.set_title("t")
    ax.set_xlabel("x")
    assert figures.min_text_px(fig) >= figures.MIN_TEXT_PX
    plt.close(fig)
    for fn in (figures.fig_national_trends, figures.fig_by_rating, figures.fig_la_variation):
        assert fn(panel).exists()  # save_checked raises if too wide or text too small


# -- alt text against the numbers ----------------------------------------------------------------

def _values(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(NUM, text)]


def alt_trends_problems(text: str, panel: pd.DataFrame) -> list[str]:
    """Each 'X in 2017 and Y in 2025' claim against medians computed with numpy."""
    p = panel[~panel["small_la"]]
    problems = []
    for m, word in (("caseload", "caseload"), ("vacancy_rate", "vacancy rate"), ("agency_rate", "agency rate"),
                    ("turnover_rate", "turnover rate")):
        hit = re.search(word + r" " + NUM + r"%? in 2017 and " + NUM + r"%? in (\d{4})", text)
        if not hit:
            problems.append(f"no claim for {word}")
            continue
        a, b, year = float(hit.group(1)), float(hit.group(2)), int(hit.group(3))
        for claimed, y in ((a, 2017), (b, year)):
            true = np.median(p.loc[(p["year"] == y), m].dropna().to_numpy())
            if abs(claimed - true) > 0.05 + 1e-9:
                problems.append(f"{word} {y}: alt says {claimed}, data {true:.3f}")
    return problems


def test_alt_text_of_trends_matches_the_data(derived):
    panel, _ = derived
    text = figures.alt_trends(panel)
    assert alt_trends_problems(text, panel) == []
    tampered = text.replace("in 2017", "in 2017", 1)
    hit = re.search(r"caseload (\d+\.\d)", tampered)
    tampered = tampered.replace(hit.group(0), f"caseload {float(hit.group(1)) + 0.3:.1f}", 1)
    assert alt_trends_problems(tampered, panel), "a wrong number must be caught"


def test_alt_text_of_boxplots_matches_the_medians(derived):
    panel, _ = derived
    text = figures.alt_by_rating(panel)
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"] & panel["grade_label"].notna()]
    for col, label in (("caseload", "Median caseload"), ("agency_rate", "Median agency rate")):
        part = re.search(label + r": (.*?)\.(?: |$)", text).group(1)
        for g in palette.GRADE_ORDER:
            claimed = float(re.search(re.escape(g) + r" " + NUM, part).group(1))
            true = float(np.median(d.loc[d["grade_label"] == g, col].dropna().to_numpy()))
            assert abs(claimed - true) <= 0.05 + 1e-9, (col, g, claimed, true)


def test_alt_text_of_scatter_matches_the_data(derived):
    panel, _ = derived
    text = figures.alt_la_variation(panel)
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"]]
    means = d.groupby("la_code")[["caseload", "agency_rate"]].mean()
    graded = d.dropna(subset=["grade_label"])["la_code"].unique()
    means = means.loc[means.index.isin(graded)].dropna()
    hit = re.search(r"of (\d+) local authorities.*caseload ranges from " + NUM + " to " + NUM
                    + " and mean agency rate from " + NUM + "% to " + NUM + r"%; the correlation between them is "
                    + NUM, text)
    n, lo_c, hi_c, lo_a, hi_a, r = (float(x) for x in hit.groups())
    assert n == len(means)
    assert abs(lo_c - means["caseload"].min()) <= 0.05 and abs(hi_c - means["caseload"].max()) <= 0.05
    assert abs(lo_a - means["agency_rate"].min()) <= 0.05 and abs(hi_a - means["agency_rate"].max()) <= 0.05
    assert abs(r - np.corrcoef(means["caseload"], means["agency_rate"])[0, 1]) <= 0.005


def test_alt_text_of_event_study_matches_results(results):
    res, _ = results
    text = figures.alt_event_study(res)
    models = {m["model_id"]: m for m in res["models"]}
    for kind, phrase in (("inadequate", "a move to Inadequate"), ("upgrade", "an upgrade")):
        part = re.search(f"One year after {phrase}: " + r"(.*?)\.(?: |$)", text).group(1)
        k1 = {}
        for o, word in (("agency_rate", "agency rate"), ("vacancy_rate", "vacancy rate"), ("turnover_rate", "turnover rate")):
            claimed = float(re.search(word + r" " + NUM + " pp", part).group(1))
            k1[word] = models[f"event_{kind}_{o}"]["coefficients"]["k=1"]["estimate"]
            assert abs(claimed - k1[word]) <= 0.05 + 1e-9
        largest = max(k1, key=lambda w: abs(k1[w]))
        assert f"largest change is in {largest}" in part


# the specification curve's alt text: tests/test_spec_curve.py


def test_alt_texts_are_attribute_safe(derived, results):
    panel, _ = derived
    res, curve = results
    alts = figures.alt_texts(panel, res, curve)
    assert set(alts) == {"fig_trends", "fig_by_rating", "fig_la_variation", "fig_panel_coefs",
                         "fig_event_study", "fig_spec_curve"}
    assert all('"' not in a and len(a) > 60 for a in alts.values())


# -- NAO comparison sentence ---------------------------------------------------------------------

def test_gradient_sentence_says_what_the_means_show(derived):
    mono = pd.Series([8.0, 14.0, 17.0, 28.0], index=palette.GRADE_ORDER)
    assert "rises with every step" in prose.gradient_sentence(mono, "agency_rate")
    broken = pd.Series([15.2, 16.1, 17.2, 17.0], index=palette.GRADE_ORDER)
    s = prose.gradient_sentence(broken, "caseload")
    assert "does not rise" in s and "highest under Requires improvement" in s
    assert "from Requires improvement to Inadequate" in s
    panel, _ = derived
    m = prose.grade_means(panel)
    text = prose.nao_comparison(panel)
    rises = (m["caseload"].round(1).diff().dropna() > 0).all()
    assert ("Mean caseload rises with every step" in text) == rises


# -- maps ----------------------------------------------------------------------------------------

def test_every_entity_is_drawn_once():
    key = maps.load_hex_key()
    fig, ax = plt.subplots()
    n = maps.draw_hexes(ax, key, pd.Series(dtype=object))
    assert n == len(key) == len(ax.collections[0].get_paths())
    centres = maps.hex_centres(key)
    assert not centres.duplicated().any()
    # neighbouring hexes are one unit apart (odd-r geometry)
    x = centres.to_numpy()
    dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    assert dist.min() == pytest.approx(1.0)
    plt.close(fig)


def test_spending_map_needs_its_column_and_draws_it(derived, tmp_path, monkeypatch):
    panel, insp = derived
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)  # never overwrite the report's own figures
    absent = panel.drop(columns=["spend_total_pc"])
    with pytest.raises(KeyError, match="spend_total_pc"):
        maps.latest_values(absent, "spend_total_pc")
    fake = panel.copy()
    rng = np.random.default_rng(1)
    fake["spend_total_pc"] = np.where(fake["year"] >= 2016, rng.uniform(500, 1500, len(fake)), np.nan)
    fake["spend_total"] = fake["spend_total_pc"] * fake["child_pop"]
    specs = maps.build_maps(fake, insp)
    names = [s.name for s in specs]
    assert "fig-map-spend" in names
    assert (tmp_path / "fig-map-spend.png").exists()
    spend = next(s for s in specs if s.name == "fig-map-spend")
    v, _ = maps.latest_values(fake, "spend_total_pc")
    assert f"median £{v.median():,.0f}" in spend.alt
    assert "fig-map-spend" not in [s.name for s in maps.build_maps(absent, insp)]


def test_grade_map_alt_counts_latest_grades(derived):
    panel, insp = derived
    spec = maps.build_maps(panel, insp)[0]
    g = insp.dropna(subset=["overall_num"])
    latest = g.loc[g.groupby("la_code")["publication_date"].idxmax()].set_index("la_code")["overall_num"]
    latest = latest.reindex(maps.load_hex_key()["la_code"])
    for num, name in enumerate(palette.GRADE_ORDER, start=1):
        assert f"{int((latest == num).sum())} {name}" in spec.alt
    assert "Open Innovations" in maps.maps_markdown([spec])


# -- council lookup ------------------------------------------------------------------------------

def test_lookup_lists_every_council_alive_in_the_latest_census_once(derived):
    panel, insp = derived
    lookup.write_lookup(panel, insp)
    alive = panel.loc[panel["year"] == panel["year"].max()]
    html = (OUT / "tables" / "lookup.html").read_text(encoding="utf-8")
    md = (OUT / "tables" / "tbl-lookup.md").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-search="[^"]*">', html)
    assert len(rows) == len(alive)
    md_rows = [line for line in md.splitlines()[2:] if line.startswith("|")]
    assert len(md_rows) == len(alive)
    import html as html_lib
    names = [html_lib.unescape(n) for n in re.findall(r'<th scope="row" data-sort="[^"]*">([^<]*)<small>', html)]
    assert sorted(names) == sorted(alive["la_name"])
    assert "http://" not in html and "https://" not in html  # self-contained: no CDN
    assert (OUT / "tables" / "lookup-raw.md").read_text().startswith("```{=html}\n")


def test_lookup_comparisons_are_computed_independently(derived):
    panel, insp = derived
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours()).set_index("la_code")
    y = int(panel["year"].max())
    d = panel[(panel["year"] == y) & ~((panel["la_code"] == "318") & panel["joint_return"])]
    d = d.dropna(subset=["cases", "case_holders_fte"])
    assert frame.loc["383", "caseload_england"] == pytest.approx(d["cases"].sum() / d["case_holders_fte"].sum())
    sn = pd.read_csv(paths.DERIVED / "statistical_neighbours.csv", dtype=str)
    nb = sn[(sn["grouping"] == "DfE SN 2025") & (sn["la_code"] == "383")]["neighbour_la_code"]
    vals = panel[(panel["year"] == y) & panel["la_code"].isin(nb)]["agency_rate"].dropna()
    assert frame.loc["383", "agency_rate_sn"] == pytest.approx(float(np.median(vals)))
    first = panel[(panel["la_code"] == "383") & (panel["year"] == 2017)]["caseload"].iloc[0]
    assert frame.loc["383", "caseload_change"] == pytest.approx(frame.loc["383", "caseload"] - first)


def test_lookup_escapes_values(derived):
    panel, insp = derived
    nasty = '<script>alert(1)</script> & "x" | *y* [z](u)'
    p = panel.copy()
    p.loc[p["la_code"] == "383", "la_name"] = nasty
    frame = lookup.lookup_frame(p, insp, lookup.load_neighbours())
    measures = lookup._measures(p)
    html = lookup.lookup_html(frame, measures, int(p["year"].max()))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in html
    md = lookup.lookup_markdown(frame, measures, int(p["year"].max()))
    line = next(line for line in md.splitlines() if "alert" in line)
    assert r"\<script\>" in line and r"\| \*y\*" in line and r"\[z\]\(u\)" in line
    assert line.count(" | ") == md.splitlines()[0].count(" | ")  # the row keeps its columns


def test_lookup_shows_spending_when_the_panel_has_it(derived):
    panel, insp = derived
    fake = panel.copy()
    rng = np.random.default_rng(2)
    fake["spend_total_pc"] = np.where(fake["year"] >= 2016, rng.uniform(500, 1500, len(fake)), np.nan)
    fake["spend_total"] = fake["spend_total_pc"] * fake["child_pop"]
    frame = lookup.lookup_frame(fake, insp, lookup.load_neighbours()).set_index("la_code")
    y = int(fake["year"].max())
    d = fake[(fake["year"] == y) & ~((fake["la_code"] == "318") & fake["joint_return"])].dropna(subset=["spend_total"])
    assert frame.loc["383", "spend_total_pc_england"] == pytest.approx(d["spend_total"].sum() / d["child_pop"].sum())
    md = lookup.lookup_markdown(frame.reset_index(), lookup._measures(fake), y)
    assert "Spend £" in md.splitlines()[0]
    absent = panel.drop(columns=["spend_total_pc"])
    assert "Spend" not in lookup.lookup_markdown(frame.reset_index(), lookup._measures(absent), y).splitlines()[0]


def test_alt_text_of_panel_coefficients_matches_results(results):
    res, _ = results
    text = figures.alt_panel_coefficients(res)
    models = {m["model_id"]: m for m in res["models"]}
    for term, word in (("caseload", "caseload"), ("agency_rate", "agency rate"), ("vacancy_rate", "vacancy rate"),
                       ("turnover_rate", "turnover rate"), ("absence_rate", "absence rate")):
        hit = re.search(word + r" positive in (\d) of (\d), interval excluding zero in (\d)", text)
        cs = [models[f"panel_{e}_grade_num"]["coefficients"][term] for e in figures.PANEL_ESTIMATORS]
        assert int(hit.group(1)) == sum(c["estimate"] > 0 for c in cs)  # std estimate has the same sign
        assert int(hit.group(2)) == len(cs)
        assert int(hit.group(3)) == sum(c["ci_low"] > 0 or c["ci_high"] < 0 for c in cs)
