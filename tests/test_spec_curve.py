"""Specification-curve figure: sorting, the choices panel, its alt text and its colours, checked
against ``multiverse.csv`` and ``results.json`` (nothing typed in)."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.models.multiverse import CHOICES, CONTROL_PARTS
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
    return curve[(curve["status"] == "fitted") & (curve["term"] == term)]


# -- sorting -------------------------------------------------------------------------------------

def test_every_workforce_measure_including_turnover_is_drawn(curve):
    assert "turnover_rate" in figures.SPEC_TERMS
    assert set(figures.SPEC_TERMS) == set(curve.loc[curve["status"] == "fitted", "term"])
    assert len(figures.SPEC_TERMS) == len(set(figures.SPEC_TERMS))


@pytest.mark.parametrize("term", ["caseload", "agency_rate", "vacancy_rate", "turnover_rate"])
def test_every_fitted_specification_appears_once_sorted_by_estimate(curve, term):
    s = figures.spec_sorted(curve, term)
    fitted = _fitted(curve, term)
    assert sorted(s["spec_id"]) == sorted(fitted["spec_id"])  # each fitted spec once, nothing else
    assert s["worse_rating_std"].is_monotonic_increasing
    assert list(s.index) == list(range(len(s)))  # position on the curve
    est = fitted.set_index("spec_id")["worse_rating_std"]
    assert np.array_equal(s["worse_rating_std"].to_numpy(), np.sort(est.to_numpy()))
    assert (s["significant"] == (s["p_value"] < 0.05)).all()
    # the interval is on the same sign-aligned scale as the point and contains it
    assert ((s["worse_lo"] <= s["worse_rating_std"] + 1e-12) & (s["worse_rating_std"] <= s["worse_hi"] + 1e-12)).all()


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


@pytest.mark.parametrize("term", ["agency_rate", "turnover_rate"])
def test_spec_curve_is_one_column_with_headings_on_their_own_rows(curve, term):
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
        headings = [t.get_text() for t in ax_m.get_yticklabels() if t.get_fontweight() == "bold"]
        assert headings == list(figures.SPEC_CHOICES)  # each dimension heading is a row of its own
        assert len(labels) == len(figures.SPEC_CHOICES) + sum(len(v) for _, v in figures.SPEC_CHOICES.values())
        assert figures.text_overlaps(fig) == []
    finally:
        plt.close(fig)


def test_overlapping_labels_are_caught():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_yticks([0, 0.01], ["Inspections, LA effects", "Outcome"])  # two labels on one line
    try:
        assert ("Inspections, LA effects", "Outcome") in figures.text_overlaps(fig)
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
CLAIM = (r"{word}: (\d+)% of specifications point to a worse rating and (\d+)% have p below 0\.05; "
         r"the choice that moves the estimate most is the ([a-z ]+?)(?: \(among the other choices, the ([a-z ]+)\))?\.")


def _claims(text: str) -> dict[str, tuple[int, int, str, str | None]]:
    out = {}
    for t, word in WORDS.items():
        hit = re.search(CLAIM.format(word=word), text)
        assert hit, f"no claim for {word} in {text!r}"
        out[t] = (int(hit.group(1)), int(hit.group(2)), hit.group(3), hit.group(4))
    return out


def _alt_problems(text: str, curve: pd.DataFrame, results: dict | None = None) -> list[str]:
    """Each measure's shares against the data (pandas, not the figure's helpers); the choice
    that moves the estimate most against ``results.json["multiverse"]`` when given."""
    problems = []
    claims = _claims(text)
    for t, (worse, sig, moves, other) in claims.items():
        f = _fitted(curve, t)
        true_worse, true_sig = 100 * (f["worse_rating_std"] > 0).mean(), 100 * (f["p_value"] < 0.05).mean()
        if abs(worse - true_worse) > 0.5 + 1e-9:
            problems.append(f"{t}: alt says {worse}% worse, data {true_worse:.2f}%")
        if abs(sig - true_sig) > 0.5 + 1e-9:
            problems.append(f"{t}: alt says {sig}% with p < 0.05, data {true_sig:.2f}%")
        if results is not None:
            b = results["multiverse"]["by_term"][t]
            if moves != figures.CHOICE_WORDS[b["moves_most"]]:
                problems.append(f"{t}: alt says {moves} moves most, results say {b['moves_most']}")
            expected_other = (None if b["moves_most_excluding_outcome"] == b["moves_most"]
                              else figures.CHOICE_WORDS[b["moves_most_excluding_outcome"]])
            if other != expected_other:
                problems.append(f"{t}: alt says {other} among the others, results say {expected_other}")
    n = {len(_fitted(curve, t)) for t in WORDS}
    if len(n) == 1 and f"the {n.pop():,} fitted specifications" not in text:
        problems.append("number of fitted specifications missing or wrong")
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
    rows = (bent["term"] == "caseload") & (bent["status"] == "fitted")
    bent.loc[rows, ["estimate", "std_estimate", "worse_rating_std"]] *= -1
    lo = bent.loc[rows, "ci_low"].copy()
    bent.loc[rows, "ci_low"], bent.loc[rows, "ci_high"] = -bent.loc[rows, "ci_high"], -lo
    bent.loc[bent["term"] == "agency_rate", "p_value"] = 0.5
    new = _alt_all(bent)
    assert _alt_problems(new, bent) == []
    assert _alt_problems(text, bent) != []  # the old claims no longer fit the data
    old, now = _claims(text), _claims(new)
    f = _fitted(curve, "caseload")
    if (f["worse_rating_std"] != 0).all() and round(100 * (f["worse_rating_std"] > 0).mean()) != 50:
        assert now["caseload"][0] == 100 - old["caseload"][0]
    assert now["agency_rate"][1] == 0
