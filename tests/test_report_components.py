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
from analysis.outputs.escape import html_text
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


@pytest.mark.parametrize("kind", [None, "deuteranopia", "protanopia"])
def test_estimator_palette_is_colour_blind_safe_and_apart_from_the_grades(kind):
    est = list(palette.ESTIMATOR_COLOURS)
    assert len(set(c.lower() for c in est)) == len(est) == len(set(palette.ESTIMATOR_MARKERS))
    assert not set(c.lower() for c in est) & set(palette.grade_colours())
    assert palette.min_delta_e(est, kind) >= 20  # as the grades among themselves
    assert palette.min_delta_e_between(est, palette.grade_colours(), kind) >= 15  # never read as a grade
    assert all(palette.contrast_with_white(c) >= 3 for c in est)  # lines and markers on white


def test_the_estimator_check_fails_on_grade_like_colours():
    """seaborn's 'colorblind' blue and vermilion (used before) sit on top of the grade blue and red."""
    old = ["#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc"]
    assert palette.min_delta_e_between(old, palette.grade_colours(), None) < 15
    assert palette.contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert palette.contrast_with_white("#000000") == pytest.approx(21.0)
    with pytest.raises(ValueError):
        palette.estimator_styles(len(palette.ESTIMATOR_COLOURS) + 1)


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


# the specification curve's alt text: tests/test_spec_curve.py


def test_alt_texts_are_attribute_safe(derived, results):
    panel, _ = derived
    res, curve = results
    alts = figures.alt_texts(panel, res, curve)
    assert set(alts) == {"fig_trends", "fig_by_rating", "fig_la_variation", "fig_panel_coefs",
                         "fig_spec_agency", "fig_spec_caseload", "fig_spec_vacancy",
                         "fig_spec_turnover"}
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
    spec = next(s for s in maps.build_maps(panel, insp) if s.name == "fig-map-grade")
    g = insp.dropna(subset=["overall_num"])
    latest = g.loc[g.groupby("la_code")["publication_date"].idxmax()].set_index("la_code")["overall_num"]
    latest = latest.reindex(maps.load_hex_key()["la_code"])
    for num, name in enumerate(palette.GRADE_ORDER, start=1):
        assert f"{int((latest == num).sum())} {name}" in spec.alt
    assert "Open Innovations" in maps.maps_markdown([spec])


def test_map_codes_are_unique_three_letters_one_per_council_alive(derived):
    panel, _ = derived
    last = panel.loc[panel["year"] == panel["year"].max()]
    codes = maps.latest_codes(panel)
    assert sorted(codes.index) == sorted(last["la_code"]) and codes.notna().all()
    assert codes.is_unique
    assert all(re.fullmatch(r"[A-Z]{3}", c) for c in codes)
    names = last.set_index("la_code")["la_name"]
    assert all(codes[la][0] == maps._code_words(names[la])[0][0] for la in codes.index)
    # the written rule: first choices, and a shared first choice kept by the first name alphabetically
    assert codes[names[names == "Bournemouth, Christchurch and Poole"].index[0]] == "BCP"
    assert codes[names[names == "Kingston upon Hull, City of"].index[0]] == "KHU"
    assert codes[names[names == "Barnet"].index[0]] == "BAR" and codes[names[names == "Barnsley"].index[0]] != "BAR"
    # deterministic: the order of the input does not matter
    shuffled = names.sample(frac=1.0, random_state=3)
    assert maps.council_codes(shuffled).reindex(codes.index).equals(codes)
    # every hexagon of the key map has a code
    assert set(maps.load_hex_key()["la_code"]) <= set(codes.index)


def test_map_codes_resolve_clashes_and_fail_loudly():
    names = pd.Series({"1": "Barnet", "2": "Barnsley", "3": "Barn", "4": "West Sussex", "5": "Bath and North East Somerset"})
    c = maps.council_codes(names)
    assert c.is_unique and c["3"] == "BAR" and c["4"] == "WSU" and c["5"] == "BNE"
    # a name that cannot get a code of its own stops the build
    with pytest.raises(ValueError, match="no free"):
        maps.council_codes(pd.Series({"1": "Abb", "2": "Abb", "3": "Abb x"}))
    with pytest.raises(ValueError, match="no letters"):
        maps.code_candidates("(2021)")


def test_key_map_prints_every_code_in_its_hexagon_and_is_cited(derived, tmp_path, monkeypatch):
    panel, insp = derived
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)
    drawn = {}
    real = maps.save_checked
    monkeypatch.setattr(maps, "save_checked", lambda fig, name, **kw: drawn.setdefault(name, fig) and real(fig, name, **kw))
    specs = maps.build_maps(panel, insp)
    assert specs[0].name == "fig-map-key" and (tmp_path / "fig-map-key.png").exists()
    key, codes = maps.load_hex_key(), maps.latest_codes(panel)
    texts = [t for t in drawn["fig-map-key"].axes[0].texts]
    assert sorted(t.get_text() for t in texts) == sorted(codes.reindex(key["la_code"]))
    centres = maps.hex_centres(key)
    where = {t.get_text(): t.get_position() for t in texts}
    for la, (x, y) in centres.iterrows():
        assert where[codes[la]] == pytest.approx((x, y)), la
    # neutral: one fill for every hexagon (no data encoded)
    fills = drawn["fig-map-key"].axes[0].collections[0].get_facecolors()
    assert len({tuple(f) for f in fills}) == 1
    assert f"{len(key)} councils" in specs[0].alt
    block = maps.maps_markdown(specs)
    assert '{#fig-map-key .hexmap .hexmap-key width="100%"' in block
    assert block.index("fig-map-key") < block.index("fig-map-grade")
    prose = (paths.ROOT / "report" / "descriptives.qmd").read_text(encoding="utf-8")
    assert "@fig-map-key" in prose
    # a council without a code cannot be drawn
    with pytest.raises(ValueError, match="no map code"):
        maps.map_key(key, codes.drop(codes.index[0]))


def test_lookup_code_is_the_code_on_the_map(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    last = panel.loc[panel["year"] == panel["year"].max()].set_index("la_name")
    codes = maps.latest_codes(panel)
    hrows, mrows = _html_rows(html), _md_rows(md)
    assert len(hrows) == len(mrows) == len(last)
    for h, m in zip(hrows, mrows):
        name = h[0][1].rstrip("†‡")
        expect = f"{lookup.MAP_LABEL} {codes[last.loc[name, 'la_code']]}"
        assert h[0][2].endswith(expect), (name, h[0][2])
        assert m[0].split("\n")[0].rstrip("†‡") == name and m[0].split("\n")[1] == expect, m[0]
    # searchable by code, and the key says what the code is
    barnet = re.search(r'<tr data-search="(barnet [^"]*)">', html).group(1)
    assert barnet.endswith(f" 302 &#124; {codes['302'].lower()}"), barnet
    assert lookup.MAP_LABEL in [s for s, _ in lookup.legend(lookup._measures(panel), int(panel["year"].max()), "pdf")]
    assert "map code" in html and "hex maps" in md


# -- council lookup ------------------------------------------------------------------------------

def _lookup_files(panel, insp):
    """(html fragment, markdown) as written by the build."""
    lookup.write_lookup(panel, insp)
    return ((OUT / "tables" / "lookup.html").read_text(encoding="utf-8"),
            (OUT / "tables" / "tbl-lookup.md").read_text(encoding="utf-8"))


def _html_rows(html: str) -> list[list[tuple[str, str, str]]]:
    """Body rows of the lookup: per cell (data-sort, main text, text of the small lines)."""
    import html as html_lib
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr [^>]*>(.*?)</tr>", body, flags=re.S):
        cells = []
        for sort, inner in re.findall(r'<t[dh][^>]*data-sort="([^"]*)">(.*?)</t[dh]>', tr, flags=re.S):
            # the council name is a link to its profile (<a href="#council-...">): its text is the cell's
            main = html_lib.unescape(re.sub(r'^<a href="(?:#|&#35;)council-[^"<>]+">(.*)</a>$', r"\1", inner.split("<small>", 1)[0]))
            smalls = [html_lib.unescape(x) for x in re.findall(r"<small>(.*?)</small>", inner)]
            cells.append((html_lib.unescape(sort), main, " ".join(smalls)))
        rows.append(cells)
    return rows


def _md_rows(md: str) -> list[list[str]]:
    """Body rows of the PDF table, one string per cell with its lines joined by newlines."""
    table = [line for line in md.splitlines() if line.startswith("| ")]
    out = []
    for line in table[1:]:
        cells = re.split(r"(?<!\\) \| ", line[2:-2])
        out.append([re.sub(r"\\(.)", r"\1", c.replace(lookup.BR, "\n")) for c in cells])
    return out


def test_lookup_lists_every_council_alive_in_the_latest_census_once(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    alive = panel.loc[panel["year"] == panel["year"].max()]
    rows = re.findall(r'<tr data-search="[^"]*">', html)
    assert len(rows) == len(alive)
    md_rows = _md_rows(md)
    assert len(md_rows) == len(alive)
    marks = lookup.SMALL + lookup.JOINT
    names = [r[0][1].rstrip(marks) for r in _html_rows(html)]
    assert sorted(names) == sorted(alive["la_name"])
    assert sorted(r[0].split("\n")[0].rstrip(marks) for r in md_rows) == sorted(alive["la_name"])
    assert "http://" not in html and "https://" not in html  # self-contained: no CDN
    assert (OUT / "tables" / "lookup-raw.md").read_text().startswith("```{=html}\n")


def test_lookup_has_no_nan_or_none(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    # and with gaps: a council with no caseload ever, one never graded, one whose neighbours lack
    # values (too few for a median)
    p = panel.copy()
    p.loc[p["la_code"] == "383", ["caseload", "cases"]] = np.nan
    nb = lookup.load_neighbours()
    nb = nb[(nb["grouping"] == lookup.NEIGHBOUR_GROUPING) & (nb["la_code"] == "380")]["neighbour_la_code"]
    p.loc[p["la_code"].isin(nb), "turnover_rate"] = np.nan
    frame = lookup.lookup_frame(p, insp[insp["la_code"] != "381"], lookup.load_neighbours())
    measures, y = lookup._measures(p), int(p["year"].max())
    gappy = lookup.lookup_html(frame, measures, y), lookup.lookup_markdown(frame, measures, y)
    assert "not graded" in gappy[0] and "SN –" in gappy[0] and "–" in gappy[1]
    for h, m in ((html, md), gappy):
        visible = re.sub(r"<(style|script)>.*?</\1>", "", h, flags=re.S)
        assert "Eng " in visible and "<style>" in h
        for text in (visible, m):
            assert not re.search(r"\b(nan|nat|none|inf)\b", text, flags=re.I)


def test_lookup_grade_sort_keys_follow_grade_order(derived):
    """The grade column sorts numerically by Outstanding < Good < Requires improvement <
    Inadequate (ascending = best first), not by date or alphabetically; never graded sorts last."""
    panel, insp = derived
    html, _ = _lookup_files(panel, insp)
    heads = re.findall(r"<th scope=\"col\"([^>]*)>", html)
    assert 'data-type="number"' in heads[1]
    order = ["O", "G", "RI", "I"]  # Outstanding, Good, Requires improvement, Inadequate
    seen = set()
    for row in _html_rows(html):
        sort, grade, _ = row[1]
        if grade.startswith("not graded"):
            assert sort == ""
        else:
            abbr, month = grade.rstrip(lookup.UNGRADED).split(" ")
            assert re.fullmatch(r"\d{4}-\d{2}", month)
            assert float(sort) == order.index(abbr) + 1
            seen.add(abbr)
    assert seen == set(order)


def _defined(items) -> set[str]:
    return {tok for sym, _ in items for tok in sym.split(", ")}


ABBREV = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Za-z0-9]{0,2}(?![A-Za-z0-9])")
PLAIN = set(".,-():;/'%") | {" ", "\n"}


def _undefined(texts: list[str], names: list[str], defined: set[str]) -> set[str]:
    """Abbreviations (capitalised words of 1-3 letters or digits, e.g. 'Q3') and symbols in ``texts``, and symbols in
    ``names`` (council names may hold short words such as 'St'), that ``defined`` lacks."""
    used = {w for t in texts for w in ABBREV.findall(t)}
    used |= {ch for t in texts + names for ch in t if not ch.isalnum() and ch not in PLAIN}
    return used - defined


def test_lookup_defines_every_abbreviation_and_symbol(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    y = int(panel["year"].max())
    measures = lookup._measures(panel)
    rows = _html_rows(html)
    heads = [h for pair in re.findall(r'<th scope="col" title="([^"]*)"[^>]*>(.*?)</th>', html) for h in pair]
    heads = [re.sub(r"<[^>]+>", "", h) for h in heads]
    texts = heads + [c[1] + " " + c[2] for r in rows for c in r[1:]]
    defined = _defined(lookup.legend(measures, y, "html"))
    assert _undefined(texts, [r[0][1] for r in rows], defined) == set()
    legend_html = html.split('class="csc-legend"', 1)[1].split("</details>", 1)[0]
    assert all(f"<b>{html_text(s)}</b>" in legend_html for s, _ in lookup.legend(measures, y, "html"))
    md_rows = _md_rows(md)
    md_heads = [re.sub(r"\\(.)", r"\1", h) for h in md.split("\n| ", 1)[1].split(" |\n", 1)[0].split(" | ")]
    defined_md = {re.sub(r"\\(.)", r"\1", s) for s in re.findall(r"^- \*\*((?:\\.|[^*\\])*)\*\* ", md, flags=re.M)}
    defined_md = {tok for s in defined_md for tok in s.split(", ")}
    assert _undefined(md_heads + [c for r in md_rows for c in r[1:]], [r[0] for r in md_rows], defined_md) == set()
    # the check itself catches an undefined abbreviation and symbol
    assert _undefined(["12.0 X↗ Q5"], ["Leeds¶"], defined) == {"X", "↗", "¶", "Q5"}
    new = set(lookup.BANDS) | {lookup.STALE, lookup.UNGRADED, "latest"}
    assert {"S", "Eng", "SN", "FTE", "†", "‡", "§", "–"} | new <= defined and {"S", "RI", "§"} | (new - {"latest"} - set(lookup.BANDS)) | set(lookup.BANDS_PDF) <= defined_md


def html_lib_escape(s: str) -> str:
    import html as html_lib
    return html_lib.escape(s)


def test_lookup_flags_small_councils_and_joint_returns(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    last = panel[panel["year"] == panel["year"].max()].set_index("la_name")
    small, joint = set(last.index[last["small_la"]]), set(last.index[last["joint_return"]])
    assert {"City of London", "Isles of Scilly"} <= small
    assert {"Kingston upon Thames", "Richmond upon Thames"} <= joint and len(joint) == 3  # + Northamptonshire
    for names in ([r[0][1] for r in _html_rows(html)], [r[0].split("\n")[0] for r in _md_rows(md)]):
        assert len(names) == len(last)
        for shown in names:
            name = shown.rstrip(lookup.SMALL + lookup.JOINT)
            assert (lookup.SMALL in shown) == (name in small), shown
            assert (lookup.JOINT in shown) == (name in joint), shown


def test_lookup_older_values_compare_with_the_same_year_and_show_it(derived):
    """A council whose latest value is older than the census year is compared with England and
    its neighbours in that year, and the year is printed on its own line."""
    panel, insp = derived
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours()).set_index("la_code")
    html, md = _lookup_files(panel, insp)
    y = int(panel["year"].max())
    stale = frame[frame["caseload_year"] < y]
    assert len(stale) >= 1
    la = stale.index[0]
    yr = int(stale.loc[la, "caseload_year"])
    d = panel[(panel["year"] == yr) & ~((panel["la_code"] == "318") & panel["joint_return"])]
    d = d.dropna(subset=["cases", "case_holders_fte"])
    assert frame.loc[la, "caseload_england"] == pytest.approx(d["cases"].sum() / d["case_holders_fte"].sum())
    assert frame.loc[la, "caseload_england"] != pytest.approx(lookup.england_value(panel[panel["year"] == y], "caseload"))
    measures = list(lookup._measures(panel))
    name = frame.loc[la, "la_name"]
    hrow = next(r for r in _html_rows(html) if r[0][1].rstrip("†‡") == name)
    mrow = next(r for r in _md_rows(md) if r[0].split("\n")[0].rstrip("†‡") == name)
    col = 2 + measures.index("caseload")
    assert hrow[col][2].startswith(f"latest {yr} ") and mrow[col].split("\n")[0].endswith(f" '{yr % 100:02d}")
    # an older value gets no band (it is not the council's current position among councils)
    assert not any(hrow[col][1].endswith(" " + b) for b in lookup.BANDS), hrow[col]
    assert pd.isna(frame.loc[la, "caseload_q"])
    fresh = frame[frame["caseload_year"] == y].iloc[0]["la_name"]
    frow = next(r for r in _html_rows(html) if r[0][1].rstrip("†‡") == fresh)
    assert not frow[col][2].startswith("latest ")
    assert frow[col][1].split(" ")[-1] in lookup.BANDS
    frow_md = next(r for r in _md_rows(md) if r[0].split("\n")[0].rstrip("†‡") == fresh)
    assert "'" not in frow_md[col]


def test_lookup_marks_zero_and_identical_agency_vacancy_as_published(derived):
    panel, insp = derived
    html, md = _lookup_files(panel, insp)
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours())
    measures = list(lookup._measures(panel))
    rows = {r[0][1].rstrip("†‡"): r for r in _html_rows(html)}
    ia, iv = 2 + measures.index("agency_rate"), 2 + measures.index("vacancy_rate")
    n_marked = 0
    for f in frame.itertuples():
        same = round(f.agency_rate, 1) == round(f.vacancy_rate, 1) and f.agency_rate_year == f.vacancy_rate_year
        for m, i in (("agency_rate", ia), ("vacancy_rate", iv)):
            v = getattr(f, m)
            expect = bool(pd.notna(v) and (v == 0 or same))
            assert (lookup.PUBLISHED in rows[f.la_name][i][1]) == expect, (f.la_name, m)
            n_marked += expect
    assert n_marked >= 10
    assert lookup.PUBLISHED in rows["Brighton and Hove"][ia][1] and lookup.PUBLISHED not in rows["Barnet"][ia][1]


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
    import html as html_lib
    assert "<script>alert(1)" not in html and html_lib.escape(nasty) not in html
    assert html_lib.unescape(html).count(nasty) >= 1 and "&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;x&#34;" in html
    md = lookup.lookup_markdown(frame, measures, int(p["year"].max()))
    md = md.replace("\u200b", "")  # over-long words may break anywhere in the PDF
    line = next(line for line in md.splitlines() if "alert" in line)
    assert r"\<script\>" in line and r"\| \*y\*" in line and r"\[z\]\(u\)" in line
    head = next(line for line in md.splitlines() if line.startswith("| Council"))
    assert line.count(" | ") == head.count(" | ")  # the row keeps its columns


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
    def head(text):
        return next(line for line in text.splitlines() if line.startswith("| Council"))
    assert "Spend £" in head(md) and "cash terms" in md
    absent = panel.drop(columns=["spend_total_pc"])
    md_absent = lookup.lookup_markdown(frame.reset_index(), lookup._measures(absent), y)
    assert "Spend" not in head(md_absent) and "S spending" not in md_absent


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


# -- figures: phone width, legends, estimator colours (review of the PDF/HTML) --------------------

FIGURE_MODULES = ("figures.py", "figures_reverse.py", "maps.py")


def test_saved_width_counts_a_legend_that_sticks_out():
    figures.phone_theme()
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    ax.plot([0, 1], [0, 1], label="a very long legend label that sticks far out of the figure")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    assert figures.saved_width_in(fig) > 6.0
    with pytest.raises(ValueError, match="not readable on a phone"):
        figures.save_checked(fig, "never-written")
    assert not (OUT / "figures" / "never-written.png").exists()


def test_every_figure_goes_through_the_phone_check():
    """Only ``save_checked`` calls the unchecked ``save``; no figure module saves around it."""
    src = {m: (paths.ROOT / "analysis" / "outputs" / m).read_text(encoding="utf-8") for m in FIGURE_MODULES}
    calls = {m: len(re.findall(r"(?<![\w.])save\(fig", s)) for m, s in src.items()}
    assert calls == {"figures.py": 1, "figures_reverse.py": 0, "maps.py": 0}, calls


def test_saved_figures_are_readable_at_phone_width(results):
    """Each saved PNG, shown :data:`figures.PHONE_PX` wide, keeps the theme's smallest font at
    :data:`figures.MIN_TEXT_PX` or more (savefig.dpi 200: width in inches = pixels / 200)."""
    import matplotlib as mpl
    figures.phone_theme()
    smallest_pt = min(mpl.rcParams[k] for k in ("font.size", "xtick.labelsize", "ytick.labelsize",
                                                "legend.fontsize", "axes.labelsize", "axes.titlesize"))
    from PIL import Image
    pngs = sorted((OUT / "figures").glob("*.png"))
    assert len(pngs) >= 11
    too_small = {}
    for png in pngs:
        width_in = Image.open(png).size[0] / mpl.rcParams["savefig.dpi"]
        px = smallest_pt / 72 * figures.PHONE_PX / width_in
        if width_in > figures.MAX_WIDTH_IN + 2 * figures.TIGHT_PAD_IN or px < figures.MIN_TEXT_PX:
            too_small[png.name] = (round(width_in, 2), round(px, 1))
    assert too_small == {}


def _drawn_figures(results, derived, monkeypatch, tmp_path):
    """Every figure of the report as drawn just before saving: name -> Figure."""
    from analysis.outputs import common, figures_reverse
    monkeypatch.setattr(common, "FIGURES", tmp_path)
    drawn = {}

    def keep(fig, name, colours=None):
        fig.canvas.draw()
        drawn[name] = fig
        return tmp_path / f"{name}.png"

    monkeypatch.setattr(figures, "save", keep)
    panel, insp = derived
    res, _ = results
    figures.fig_national_trends(panel)
    figures.fig_by_rating(panel)
    figures.fig_la_variation(panel)
    figures.fig_panel_coefficients(res)
    figures_reverse.fig_reverse_event(res)
    curve = pd.read_csv(paths.ROOT / "report" / "outputs" / "results" / "multiverse.csv")
    for term in figures.SPEC_TERMS:
        figures.fig_spec_curve(curve, term)
    maps.build_maps(panel, insp)
    return drawn


def legends_over_axes(fig) -> list[str]:
    """Legends whose box overlaps the plotting area of any axes (data may sit under them)."""
    r = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    bad = []
    for lg in legends:
        lb = lg.get_window_extent(r)
        for ax in fig.axes:
            if ax.axison and ax.get_window_extent(r).overlaps(lb):
                bad.append(f"legend {[t.get_text() for t in lg.get_texts()][:2]} over axes {ax.get_title()!r}")
    return bad


@pytest.fixture
def drawn(results, derived, monkeypatch, tmp_path):
    """Every figure as drawn just before saving (closed after the test)."""
    figs = _drawn_figures(results, derived, monkeypatch, tmp_path)
    yield figs
    for f in figs.values():
        plt.close(f)


def test_no_legend_is_drawn_over_a_plot(drawn):
    assert {"fig-trends", "fig-la-variation", "fig-panel-coefs", "fig-reverse-event", "fig-map-grade"} <= set(drawn)
    assert {n: legends_over_axes(f) for n, f in drawn.items() if legends_over_axes(f)} == {}
    # the check can fail: a legend inside the axes is caught
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="x")
    ax.legend(loc="upper left")
    fig.canvas.draw()
    assert legends_over_axes(fig)
    plt.close(fig)


def test_estimator_figures_use_the_estimator_palette_not_the_grade_colours(drawn):
    from matplotlib.colors import to_hex
    grade = set(palette.grade_colours())
    allowed = {c.lower() for c in palette.ESTIMATOR_COLOURS}
    for name in ("fig-panel-coefs", "fig-reverse-event"):
        marked = [(to_hex(line.get_color()), line.get_marker()) for ax in drawn[name].axes
                  for line in ax.get_lines() if line.get_marker() not in (None, "None", "", " ", "|", "_")]
        used = {c for c, _ in marked}  # ("|" and "_": error-bar caps)
        assert used and used <= allowed and not used & grade, (name, used)
        # one marker per colour, a different one for each colour
        assert len(set(marked)) == len(used) == len({m for _, m in marked}), (name, marked)


def test_hex_credit_is_given_once_in_the_text_not_in_the_images(drawn, derived):
    maps_drawn = [f for n, f in drawn.items() if n.startswith("fig-map-")]
    assert len(maps_drawn) >= 4
    for f in maps_drawn:
        assert not [t for t in f.findobj(plt.Text) if "Open Innovations" in t.get_text()]
    panel, insp = derived
    md = maps.maps_markdown(maps.build_maps(panel, insp))
    assert md.count("Open Innovations") == 1 and md.index("Open Innovations") < md.index("![")
    assert (OUT / "maps.md").read_text(encoding="utf-8").count("Open Innovations") == 1


def test_alt_text_of_reverse_event_study_matches_results(results):
    from analysis.outputs import figures_reverse
    res, _ = results
    models = {m["model_id"]: m for m in res["models"]}
    honest = res["reverse"]["honest"]
    mbar = res["reverse"]["benchmarks"]["mbar"]

    def problems(text, outcomes):
        out = []
        for o in outcomes:
            word = figures_reverse.TITLES[o].split(" (")[0].lower()
            unit = "log points" if o.startswith("log_") else "pp"
            part = re.search(re.escape(word) + r": (.*?)(?:\); |\)\.$)", text)
            if not part:
                out.append(f"no claim for {word}")
                continue
            hit = re.search(NUM + f" {unit} at k = -4 and " + NUM + f" {unit} at k = 0 \\(95% interval (excluding|including) "
                            f"zero; relative-magnitudes interval with M̄ = {mbar:g} from " + NUM + " to " + NUM
                            + r", (excluding|including) zero", part.group(1))
            if not hit:
                out.append(f"no numbers for {word}")
                continue
            co = models[f"rev_cs_never_absorbing_{o}"]["coefficients"]
            rm = next(r for r in honest[f"rev_cs_never_absorbing_{o}"]["by_k"]["k=0"]["relative_magnitudes"]
                      if r["mbar"] == mbar)
            for got, want in ((hit.group(1), co["k=-4"]["estimate"]), (hit.group(2), co["k=0"]["estimate"]),
                              (hit.group(4), rm["lo"]), (hit.group(5), rm["hi"])):
                if abs(float(got) - want) > 0.05 + 1e-9:
                    out.append(f"{word}: {got} vs {want:.2f}")
            for claim, lo, hi in ((hit.group(3), co["k=0"]["ci_low"], co["k=0"]["ci_high"]), (hit.group(6), rm["lo"], rm["hi"])):
                if (claim == "excluding") != (lo > 0 or hi < 0):
                    out.append(f"{word}: interval claim")
        return out

    for fn, outcomes in ((figures_reverse.alt_reverse_event, figures_reverse.RATES),
                         (figures_reverse.alt_reverse_decomposition, figures_reverse.DECOMPOSITION)):
        text = fn(res)
        assert problems(text, outcomes) == [], problems(text, outcomes)
        flipped = text.replace("excluding zero", "@").replace("including zero", "excluding zero").replace("@", "including zero")
        assert problems(flipped, outcomes), "a wrong claim about the interval must be caught"
        hit = re.search(r"(-?\d+\.\d) (pp|log points) at k = -4", text)
        assert problems(text.replace(hit.group(0), f"{float(hit.group(1)) + 0.3:.1f} {hit.group(2)} at k = -4", 1), outcomes)
    # the report uses the computed alt texts, not hand-written ones
    qmd = (paths.ROOT / "report" / "reverse.qmd").read_text(encoding="utf-8")
    assert 'fig-alt="{{< var alt.fig_reverse_event >}}"' in qmd
    assert 'fig-alt="{{< var alt.fig_reverse_decomposition >}}"' in qmd


def map_alt_problems(alt: str, values: pd.Series, names: pd.Series) -> list[str]:
    """The median / lowest / highest claim of a map's alt text against values computed here."""
    v = values.dropna()
    num = r"(-?\d[\d,]*(?:\.\d+)?)"  # 1,366 or -3.0
    hit = re.search(r"of (\d+) councils.*?: median £?" + num + r"[% ]*(?:pp)?, lowest £?" + num
                    + r"[% ]*(?:pp)? in (.+?), highest £?" + num + r"[% ]*(?:pp)? in (.+?)[;.]", alt)
    if not hit:
        return ["no median/lowest/highest claim"]
    n, med, lo, lo_name, hi, hi_name = hit.groups()
    out = []
    if int(n) != len(v):
        out.append(f"{n} councils, data {len(v)}")
    tol = 0.5 if "£" in alt else 0.05
    for claimed, true, what in ((med, float(np.median(v)), "median"), (lo, v.min(), "lowest"), (hi, v.max(), "highest")):
        if abs(float(claimed.replace(",", "")) - true) > tol + 1e-9:
            out.append(f"{what}: alt {claimed}, data {true:.3f}")
    if lo_name != names.get(v.idxmin()) or hi_name != names.get(v.idxmax()):
        out.append("wrong council named")
    return out


def test_alt_texts_of_value_maps_match_the_data(derived):
    panel, insp = derived
    specs = {s.name: s for s in maps.build_maps(panel, insp)}
    key = maps.load_hex_key()["la_code"]
    last = int(panel["year"].max())
    names = panel.loc[panel["year"] == last].set_index("la_code")["la_name"]
    big = panel[~panel["small_la"].astype(bool)]
    for name, col in (("fig-map-agency-rate", "agency_rate"), ("fig-map-caseload", "caseload"),
                      ("fig-map-spend", "spend_total_pc")):
        if name not in specs:
            continue
        year = int(big.dropna(subset=[col])["year"].max())
        v = big[big["year"] == year].set_index("la_code")[col].reindex(key)
        assert map_alt_problems(specs[name].alt, v, names) == [], name
    # change map: values and the rose / fell / unchanged counts
    a = big.pivot_table(index="la_code", columns="year", values="agency_rate")
    ch = (a[int(big.dropna(subset=["agency_rate"])["year"].max())] - a[maps.BASE_YEAR]).reindex(key)
    alt = specs["fig-map-agency-change"].alt
    assert map_alt_problems(alt, ch, names) == []
    c = ch.dropna()
    assert f"{int((c > 0).sum())} councils rose, {int((c < 0).sum())} fell" in alt
    # the check can fail
    v = big[big["year"] == last].set_index("la_code")["caseload"].reindex(key)
    hit = re.search(r"median " + NUM, specs["fig-map-caseload"].alt)
    wrong = specs["fig-map-caseload"].alt.replace(hit.group(0), f"median {float(hit.group(1)) + 0.4:.1f}")
    assert map_alt_problems(wrong, v, names)


def _lookup_by_council(panel, insp):
    """(html, md, HTML rows by council name, PDF rows by council name): flags stripped from names."""
    html, md = _lookup_files(panel, insp)
    hrows = {r[0][1].rstrip("†‡"): r for r in _html_rows(html)}
    mrows = {r[0].split("\n")[0].rstrip("†‡"): r for r in _md_rows(md)}
    return html, md, hrows, mrows


def test_lookup_quartiles_match_a_direct_pandas_computation(derived):
    """Q1-Q4 of every shown value: its quarter among the councils' values in the same year
    (pandas quantiles; the joint Kingston + Richmond return once), in both formats; the key
    states the inter-quartile range of the latest year."""
    panel, insp = derived
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours())
    html, md, hrows, mrows = _lookup_by_council(panel, insp)
    measures = list(lookup._measures(panel))
    y = int(panel["year"].max())
    for m in measures:
        for f in frame.itertuples():
            v = getattr(f, m)
            if pd.isna(v):
                continue
            yr = int(getattr(f, f"{m}_year"))
            vals = panel[(panel["year"] == yr) & ~((panel["la_code"] == "318") & panel["joint_return"].astype(bool))][m].dropna()
            q25, q50, q75 = vals.quantile([0.25, 0.5, 0.75])
            k = 0 if v <= q25 else 1 if v <= q50 else 2 if v <= q75 else 3
            expect, expect_pdf = lookup.BANDS[k], lookup.BANDS_PDF[k]
            col = 2 + measures.index(m)
            if yr != y:  # an older value gets no band
                assert hrows[f.la_name][col][1].split()[-1] not in lookup.BANDS, (f.la_name, m)
                assert not set(lookup.BANDS_PDF) & set(mrows[f.la_name][col].split("\n")[0].split()), (f.la_name, m)
                continue
            assert hrows[f.la_name][col][1].split()[-1] == expect, (f.la_name, m)
            assert expect_pdf in mrows[f.la_name][col].split("\n")[0].split(), (f.la_name, m)
        last = panel[(panel["year"] == y) & ~((panel["la_code"] == "318") & panel["joint_return"].astype(bool))][m].dropna()
        d = lookup._measures(panel)[m][3]
        lo, hi = (f"{x:,.{d}f}" for x in last.quantile([0.25, 0.75]))
        for text in (html, md.replace("\\", "")):
            assert f"{lo}–" in text and hi in text, (m, lo, hi)
    # every quarter is used, roughly a quarter each
    counts = frame["caseload_q"].value_counts()
    assert set(counts.index) == {1, 2, 3, 4} and counts.min() >= 30


def test_lookup_flags_out_of_date_values(derived):
    """A value more than two years before the latest census carries the out-of-date mark (and its
    year); a value from a recent year does not."""
    panel, insp = derived
    frame = lookup.lookup_frame(panel, insp, lookup.load_neighbours())
    html, md, hrows, mrows = _lookup_by_council(panel, insp)
    measures = list(lookup._measures(panel))
    y = int(panel["year"].max())
    n = 0
    for f in frame.itertuples():
        for m in measures:
            yr = getattr(f, f"{m}_year")
            stale = bool(pd.notna(yr) and yr < y - 2)
            col = 2 + measures.index(m)
            assert (lookup.STALE in hrows[f.la_name][col][1]) == stale, (f.la_name, m)
            assert (lookup.STALE in mrows[f.la_name][col]) == stale, (f.la_name, m)
            if stale:
                assert f"latest {int(yr)}{lookup.STALE}" in hrows[f.la_name][col][2]
                assert f"'{int(yr) % 100:02d}" in mrows[f.la_name][col]
            n += stale
    ia = 2 + measures.index("agency_rate")
    assert lookup.STALE in hrows["Kensington and Chelsea"][ia][1] and lookup.STALE in hrows["Westminster"][ia][1]
    assert n >= 2
    assert f"only the latest census ({y})" in html and f"only the latest census \\({y}\\)" in md


def test_lookup_flags_councils_inspected_since_under_the_ungraded_2026_framework(derived):
    panel, insp = derived
    html, md, hrows, mrows = _lookup_by_council(panel, insp)
    ug = insp[(insp["framework"] == "ILACS-2026") & insp["overall_num"].isna()]
    graded = insp[insp["overall_num"].notna()].groupby("la_code")["publication_date"].max()
    newest = ug.groupby("la_code")["publication_date"].max()
    newest = newest[newest > graded.reindex(newest.index).fillna("")]
    alive = panel[panel["year"] == panel["year"].max()].set_index("la_code")["la_name"]
    flagged = {alive[c]: d for c, d in newest.items() if c in alive.index}
    assert len(flagged) >= 5
    for name, row in hrows.items():
        is_flagged = name in flagged
        assert (lookup.UNGRADED in row[1][1]) == is_flagged, name
        assert (lookup.UNGRADED in mrows[name][1]) == is_flagged, name
        if is_flagged:
            month = str(flagged[name])[:7]
            assert f"{month} 2026 framework, ungraded" in row[1][2]
            assert f"{lookup.UNGRADED}{month}" in mrows[name][1]
    assert "Liverpool" in flagged


def test_lookup_out_of_date_boundary_is_two_years(derived):
    """With the latest census in year y: a value from y-3 is out of date, one from y-2 is not."""
    panel, insp = derived
    y = int(panel["year"].max())
    p = panel.copy()
    p.loc[(p["la_code"] == "383") & (p["year"] > y - 3), ["caseload", "cases"]] = np.nan  # latest y-3
    p.loc[(p["la_code"] == "384") & (p["year"] > y - 2), ["caseload", "cases"]] = np.nan  # latest y-2
    frame = lookup.lookup_frame(p, insp, lookup.load_neighbours()).set_index("la_code")
    assert frame.loc["383", "caseload_year"] == y - 3 and frame.loc["383", "caseload_stale"]
    assert frame.loc["384", "caseload_year"] == y - 2 and not frame.loc["384", "caseload_stale"]
    rows = {r[0][1].rstrip("†‡"): r for r in _html_rows(lookup.lookup_html(frame.reset_index(), lookup._measures(p), y))}
    col = 2 + list(lookup._measures(p)).index("caseload")
    assert lookup.STALE in rows[frame.loc["383", "la_name"]][col][1]
    assert lookup.STALE not in rows[frame.loc["384", "la_name"]][col][1]
