"""Specification-curve figures, multiverse tables and the robustness claims: sorting, the choices
panel, the size on a PDF page, alt text and colours, checked against ``multiverse.csv`` and
``results.json`` (nothing typed in)."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.models.multiverse_rules import CHOICES, CONTROL_PARTS
from analysis.outputs import figures, palette
from analysis.outputs.common import OUT

#: the dimensions with exactly one level per specification (controls are yes/no each)
SINGLE = [h for h, (col, _) in figures.SPEC_CHOICES.items() if col != "controls"]


@pytest.fixture(scope="module")
def curve():
    """``multiverse.csv`` (``make outputs`` is a no-op when it is up to date)."""
    subprocess.run(["make", "outputs"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    return pd.read_csv(OUT / "results" / "multiverse.csv")


@pytest.fixture(scope="module")
def results(curve):
    return json.loads((OUT / "results" / "results.json").read_text())


def _fitted(curve: pd.DataFrame, term: str) -> pd.DataFrame:
    return curve[curve["term"] == term]


# -- sorting -------------------------------------------------------------------------------------

def test_every_workforce_measure_including_turnover_is_drawn(curve):
    assert "turnover_rate" in figures.SPEC_TERMS
    assert set(figures.SPEC_TERMS) == set(curve["term"])
    assert len(figures.SPEC_TERMS) == len(set(figures.SPEC_TERMS))


@pytest.mark.parametrize("term", ["caseload", "agency_rate", "vacancy_rate", "turnover_rate"])
def test_every_distinct_specification_appears_once_sorted_by_effect(curve, term):
    s = figures.spec_sorted(curve, term)
    fitted = _fitted(curve, term)
    assert sorted(s["spec_id"]) == sorted(fitted["spec_id"])  # each distinct spec once, nothing else
    assert s["effect"].is_monotonic_increasing
    assert list(s.index) == list(range(len(s)))  # position on the curve
    assert np.array_equal(s["effect"].to_numpy(), np.sort(fitted["effect"].to_numpy()))
    assert (s["significant"] == (s["p_value"] < 0.05)).all()
    assert ((s["effect_low"] <= s["effect"]) & (s["effect"] <= s["effect_high"])).all()


def test_a_duplicated_specification_is_refused(curve):
    one = _fitted(curve, "caseload")
    with pytest.raises(ValueError, match="more than once"):
        figures.spec_sorted(pd.concat([curve, one.head(1)]), "caseload")


# -- choices panel -------------------------------------------------------------------------------

def _choices_back(m: pd.DataFrame) -> pd.DataFrame:
    """Each specification's choices read back from the matrix (in the data's own spelling)."""
    out = {}
    for heading, (column, levels) in figures.SPEC_CHOICES.items():
        label_to_level = {label: level for level, label in levels.items()}
        block = m[heading]
        if column == "controls":
            out[column] = block.apply(lambda r: " + ".join(label_to_level[c] for c in block.columns if r[c]) or "none",
                                      axis=1)
        else:
            out[column] = block.idxmax(axis=1).map(label_to_level)
    return pd.DataFrame(out)


@pytest.mark.parametrize("term", ["caseload", "turnover_rate"])
def test_choice_matrix_has_one_level_per_dimension_and_reads_back(curve, term):
    s = figures.spec_sorted(curve, term)
    m = figures.choice_matrix(s)
    assert m.index.equals(s.index) and m.dtypes.eq(bool).all()
    for heading in SINGLE:
        assert (m[heading].sum(axis=1) == 1).all(), heading
    # controls: one yes/no row per control, in the order the multiverse names them
    assert list(m["Controls"].columns) == [figures.SPEC_CHOICES["Controls"][1][c] for c in CONTROL_PARTS]
    back = _choices_back(m)
    for column in CHOICES:
        assert (back[column] == s[column]).all(), column
    # every level of every dimension of the multiverse has a row
    for column, levels in CHOICES.items():
        if column != "controls":
            heading = next(h for h, (c, _) in figures.SPEC_CHOICES.items() if c == column)
            assert set(figures.SPEC_CHOICES[heading][1]) == set(levels)


def test_an_unlabelled_choice_is_refused(curve):
    s = figures.spec_sorted(curve, "agency_rate").head(3).copy()
    s.loc[0, "sample"] = "Wales only"
    with pytest.raises(ValueError, match="Wales only"):
        figures.choice_matrix(s)
    s = figures.spec_sorted(curve, "agency_rate").head(3).copy()
    s.loc[0, "controls"] = "spending + weather"
    with pytest.raises(ValueError, match="weather"):
        figures.choice_matrix(s)


# -- the figure ----------------------------------------------------------------------------------

def test_one_figure_per_measure_agency_first():
    assert list(figures.SPEC_FIGURES) == figures.SPEC_TERMS and figures.SPEC_TERMS[0] == "agency_rate"
    assert list(figures.SPEC_FIGURES.values()) == ["fig-spec-agency", "fig-spec-caseload", "fig-spec-vacancy",
                                                   "fig-spec-turnover"]


@pytest.mark.parametrize("term", ["agency_rate", "caseload", "vacancy_rate", "turnover_rate"])
def test_spec_curve_figure_is_phone_readable_and_byte_stable(curve, tmp_path, monkeypatch, term):
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)  # never overwrite the report's own figure
    path = figures.fig_spec_curve(curve, term)  # save_checked: width and text size at 360 px
    assert path.name == f"{figures.SPEC_FIGURES[term]}.png"
    first = path.read_bytes()
    assert figures.fig_spec_curve(curve, term).read_bytes() == first


#: A4 with 2.2 cm margins: the text block is 16.6 cm wide and 25.3 cm tall
TEXT_WIDTH_CM, TEXT_HEIGHT_CM = 16.6, 25.3


def test_two_spec_curves_fit_on_one_pdf_page(curve, tmp_path, monkeypatch):
    """At the width the report gives them in the PDF, two figures and their captions (three
    lines each, the longest) fit in the text block; the report's figure blocks carry that width
    and the stylesheet gives the HTML image the whole column (8 px text at 360 px)."""
    from PIL import Image
    from analysis.outputs import common
    monkeypatch.setattr(common, "FIGURES", tmp_path)
    heights = []
    for term in figures.SPEC_TERMS:
        with Image.open(figures.fig_spec_curve(curve, term)) as im:
            w, h = im.size
        heights.append(TEXT_WIDTH_CM * figures.SPEC_PDF_WIDTH * h / w)
    caption_cm = 3 * 0.5 + 0.8  # three caption lines and the space around a figure
    assert 2 * (max(heights) + caption_cm) <= TEXT_HEIGHT_CM, heights
    qmd = (paths.ROOT / "report" / "robustness.qmd").read_text(encoding="utf-8")
    blocks = re.findall(r"\{#fig-spec-[^}]*\}", qmd)
    assert len(blocks) == len(figures.SPEC_TERMS)
    assert all(f'width="{round(100 * figures.SPEC_PDF_WIDTH)}%"' in b and ".speccurve" in b for b in blocks), blocks
    css = (paths.ROOT / "report" / "style.css").read_text(encoding="utf-8")
    assert re.search(r"img\.speccurve[^{]*\{[^}]*width:\s*100%\s*!important", css)


@pytest.mark.parametrize("term", ["agency_rate", "turnover_rate"])
def test_spec_curve_is_one_column_with_headings_beside_their_groups(curve, term):
    import matplotlib.pyplot as plt
    fig = figures.draw_spec_curve(curve, term)
    try:
        assert len(fig.axes) == 2
        ax_m = next(ax for ax in fig.axes if ax.get_images())  # the choices panel is an image
        ax_c = next(ax for ax in fig.axes if ax is not ax_m)
        r = fig.canvas.get_renderer()
        fig.canvas.draw()
        bc, bm = ax_c.get_window_extent(r), ax_m.get_window_extent(r)
        assert bc.y0 > bm.y1 and abs(bc.x0 - bm.x0) < 1 and abs(bc.x1 - bm.x1) < 1  # curve on top
        labels = [t.get_text() for t in ax_m.get_yticklabels()]
        assert labels == [label for _, levels in figures.SPEC_CHOICES.values() for label in levels.values()]
        # each dimension heading in bold at the left of its group's first row, left of every row label
        headings = {t.get_text(): t for t in ax_m.texts if t.get_fontweight() == "bold"}
        assert list(headings) == list(figures.SPEC_CHOICES)
        ticks = ax_m.get_yticklabels()
        left_of_labels = min(t.get_window_extent(r).x0 for t in ticks)
        first = 0
        for heading, (_, levels) in figures.SPEC_CHOICES.items():
            hb, tb = headings[heading].get_window_extent(r), ticks[first].get_window_extent(r)
            assert hb.x1 < left_of_labels and abs((hb.y0 + hb.y1) / 2 - (tb.y0 + tb.y1) / 2) < 2, heading
            first += len(levels)
        assert figures.text_overlaps(fig) == []
    finally:
        plt.close(fig)


def test_overlapping_labels_are_caught():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_yticks([0, 0.01], ["LA fixed effects", "Outcome"])  # two labels on one line
    try:
        assert ("LA fixed effects", "Outcome") in figures.text_overlaps(fig)
    finally:
        plt.close(fig)
    # a figure that overlaps is refused, not saved
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.5, 0.5, "Change over 2 years")
    ax.text(0.5, 0.5, "Controls")
    assert figures.text_overlaps(fig) == [("Change over 2 years", "Controls")]
    plt.close(fig)


def test_significance_colours_are_not_grade_colours_and_survive_colour_blindness():
    sig = list(palette.SIGNIFICANCE_COLOURS.values())
    assert not set(c.lower() for c in sig) & set(c.lower() for c in palette.GRADE_COLOURS.values())
    for kind in (None, "deuteranopia", "protanopia"):
        assert palette.min_delta_e(sig, kind) >= 20
        # points stay visible on the interval band behind them
        assert min(palette.min_delta_e([c, palette.INTERVAL_COLOUR], kind) for c in sig) >= 20


# -- alt text ------------------------------------------------------------------------------------

WORDS = {"caseload": "Caseload", "agency_rate": "Agency rate", "vacancy_rate": "Vacancy rate",
         "turnover_rate": "Turnover rate"}
CLAIM = (r"{word}: (\d+)% of specifications point to a worse rating and (\d+)% have p below 0\.05 "
         r"\((\d+)% and (\d+)% of the ([\d,]+) pooled ones; (\d+)% and (\d+)% of the ([\d,]+) within-council ones\); "
         r"the choice that moves the estimate most is the ([a-z ]+?)\.")


def _claims(text: str) -> dict[str, tuple]:
    out = {}
    for t, word in WORDS.items():
        hit = re.search(CLAIM.format(word=word), text)
        assert hit, f"no claim for {word} in {text!r}"
        g = hit.groups()
        out[t] = (int(g[0]), int(g[1]), {"pooled": (int(g[2]), int(g[3]), int(g[4].replace(",", ""))),
                                          "within": (int(g[5]), int(g[6]), int(g[7].replace(",", "")))}, g[8])
    return out


def _alt_problems(text: str, curve: pd.DataFrame, results: dict | None = None) -> list[str]:
    """Each measure's shares (overall and by design) against the data (pandas, not the figure's
    helpers); the choice that moves the estimate most against ``results.json["multiverse"]``."""
    problems = []
    for t, (worse, sig, by_design, moves) in _claims(text).items():
        f = _fitted(curve, t)
        checks = [("all", worse, sig, len(f), f)]
        checks += [(d, w, s_, n, f[f["design"] == d]) for d, (w, s_, n) in by_design.items()]
        for what, w, s_, n, part in checks:
            true_worse, true_sig = 100 * (part["effect"] > 0).mean(), 100 * (part["p_value"] < 0.05).mean()
            if abs(w - true_worse) > 0.5 + 1e-9 or abs(s_ - true_sig) > 0.5 + 1e-9 or n != len(part):
                problems.append(f"{t} ({what}): alt says {w}% worse, {s_}% significant of {n}; data "
                                f"{true_worse:.2f}%, {true_sig:.2f}% of {len(part)}")
        if results is not None:
            b = results["multiverse"]["by_term"][t]
            if moves != figures.CHOICE_WORDS[b["moves_most"]]:
                problems.append(f"{t}: alt says {moves} moves most, results say {b['moves_most']}")
    n = {len(_fitted(curve, t)) for t in WORDS}
    if len(n) == 1 and f"the {n.pop():,} distinct specifications" not in text:
        problems.append("number of distinct specifications missing or wrong")
    return problems


def _alt_all(curve: pd.DataFrame) -> str:
    """The four figures' alt texts together."""
    return " ".join(figures.alt_spec_curve(curve, t) for t in figures.SPEC_TERMS)


def test_alt_text_of_spec_curve_matches_the_data_and_results(curve, results):
    assert _alt_problems(_alt_all(curve), curve, results) == []
    for t, word in WORDS.items():  # each figure's alt text speaks of its own measure only
        text = figures.alt_spec_curve(curve, t)
        assert [w for w in WORDS.values() if f"{w}: " in text] == [word]
    alts = figures.alt_texts(*_alt_inputs(curve))
    for t, name in figures.SPEC_FIGURES.items():
        assert alts[name.replace("-", "_")] == figures.alt_spec_curve(curve, t)


def _alt_inputs(curve):
    from analysis.derived import load_derived
    from analysis.outputs.common import load_results
    return load_derived()[0], load_results(), curve


def test_alt_text_follows_perturbed_data(curve):
    """Flip caseload's signs and make agency insignificant: the claims must move with the data,
    and the checker must catch the old text."""
    text = _alt_all(curve)
    bent = curve.copy()
    rows = bent["term"] == "caseload"
    bent.loc[rows, ["estimate", "ame", "effect"]] *= -1
    lo = bent.loc[rows, "effect_low"].copy()
    bent.loc[rows, "effect_low"], bent.loc[rows, "effect_high"] = -bent.loc[rows, "effect_high"], -lo
    bent.loc[bent["term"] == "agency_rate", "p_value"] = 0.5
    new = _alt_all(bent)
    assert _alt_problems(new, bent) == []
    assert _alt_problems(text, bent) != []  # the old claims no longer fit the data
    old, now = _claims(text), _claims(new)
    f = _fitted(curve, "caseload")
    if (f["effect"] != 0).all() and round(100 * (f["effect"] > 0).mean()) != 50:
        assert now["caseload"][0] == 100 - old["caseload"][0]
    assert now["agency_rate"][1] == 0


# -- tables and the prose built on them ----------------------------------------------------------

def test_multiverse_tables_match_results(results):
    from analysis.outputs import tables_multiverse
    mv = results["multiverse"]
    counts = tables_multiverse.tbl_multiverse_counts(results)
    distinct = next(line for line in counts.splitlines() if line.startswith("| Distinct"))
    cells = [c.strip().replace("\\,", "").replace(",", "") for c in distinct.strip("|").split("|")]
    assert int(cells[1]) == mv["counts"]["distinct"]
    assert [int(c) for c in cells[2:]] == [mv["counts_by_estimator"][e]["distinct"]
                                            for e in figures.SPEC_CHOICES["Estimator"][1]]
    shares = tables_multiverse.tbl_multiverse(results)
    fe = next(line for line in shares.splitlines() if line.startswith("| LA fixed effects |"))
    lv = mv["by_term"]["agency_rate"]["by_choice"]["estimator"]["levels"]["fe_linear"]
    assert f"{100 * lv['share_worse']:.0f} \\/ {100 * lv['share_significant']:.0f}" in fe
    # no repeated row labels: groups are heading rows
    labels = [line.split("|")[1].strip() for line in shares.splitlines()[2:]]
    assert len(labels) == len(set(labels))


def test_robustness_claims_hold(results):
    """The directions the robustness and summary text state, from results.json."""
    by = results["multiverse"]["by_term"]
    c = results["multiverse"]["counts"]
    ag, cl, vac = by["agency_rate"], by["caseload"], by["vacancy_rate"]
    des = ag["by_choice"]["design"]["levels"]
    # 'agree on the direction and roughly on the size but not on precision'
    assert des["pooled"]["share_worse"] > 0.9 and des["within"]["share_worse"] > 0.9
    assert 2 / 3 < des["within"]["median"] / des["pooled"]["median"] < 3 / 2
    assert des["within"]["share_significant"] < des["pooled"]["share_significant"] - 0.2
    # summary: 'but in only ... of the within-council specifications'
    est = ag["by_choice"]["estimator"]["levels"]
    assert max(est[e]["share_significant"] for e in ("fe_linear", "cre_logit", "cre_ordered_logit")) < \
        min(est[e]["share_significant"] for e in ("pooled_linear", "logit", "ordered_logit"))
    # caseload on worker-level censuses: 'fewer ... but ... more'; agency 'hardly changes'
    smp = cl["by_choice"]["sample"]["levels"]
    assert smp["worker-level census"]["share_worse"] < smp["all"]["share_worse"]
    assert smp["worker-level census"]["share_significant"] > smp["all"]["share_significant"]
    asmp = ag["by_choice"]["sample"]["levels"]
    assert abs(asmp["worker-level census"]["share_significant"] - asmp["all"]["share_significant"]) < 0.05
    # 'Vacancies point the other way'
    assert vac["share_worse"] < 0.5 and vac["share_worse_among_significant"] < 0.5
    # 'mostly because a period, a region or the previous grade meets only one outcome value'
    assert c["refused_by_data"]["by_rule"]["separation"] > c["refused_by_data"]["total"] / 2
