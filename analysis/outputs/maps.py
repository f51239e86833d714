"""Hex maps of England's upper-tier LAs (matplotlib hexagons placed by ``hex_map_key.csv``).

One hexagon per entity alive in the last census year; the layout is Open Innovations' (MIT),
credited once for the group of maps, in the text above them (:func:`maps_markdown`), not inside
each image. Layers: latest Ofsted grade (the grade palette), agency rate, caseload,
spending per child (``spend_total_pc``, drawn when the panel has it) and the change in agency
rate since 2017. The first map is a key (:func:`map_key`): every hexagon carries the council's
three-letter map code (:func:`council_codes`, derived from its name by a written rule), the same
code that the council lookup (``lookup.py``) shows beside each name. :func:`maps_markdown` writes the figure blocks (caption, label, alt text computed
from the data) that ``report/descriptives.qmd`` includes, so a map without data is never
referenced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.patches import Patch, RegularPolygon

from .. import paths
from . import maps_svg
from .figures import phone_theme, save_checked
from .escape import md_attr
from .palette import DIVERGING_CMAP, GRADE_COLOURS, GRADE_ORDER, MISSING_COLOUR, SEQUENTIAL_CMAP

ATTRIBUTION = "Hex layout: Open Innovations hexmaps (MIT)"
BASE_YEAR = 2017
SQRT3 = np.sqrt(3.0)


def load_hex_key() -> pd.DataFrame:
    return pd.read_csv(paths.DERIVED / "hex_map_key.csv", dtype={"la_code": str, "hex_id": str})


def hex_centres(key: pd.DataFrame) -> pd.DataFrame:
    """Centres of pointy-top hexes in an ``odd-r`` layout, unit distance between neighbours.

    Notes
    -----
    x = q + (r mod 2) / 2 and y = r sqrt(3) / 2; the circumradius is 1 / sqrt(3).
    """
    return pd.DataFrame({"x": key["q"] + (key["r"] % 2) / 2, "y": key["r"] * SQRT3 / 2}).set_index(key["la_code"])


def latest_grades(inspections: pd.DataFrame) -> pd.DataFrame:
    """Latest graded inspection per entity: ``grade_label``, ``publication_date``."""
    g = inspections[inspections["overall_num"].notna()].sort_values(["la_code", "publication_date"])
    last = g.groupby("la_code").tail(1).set_index("la_code")
    label = last["overall_num"].astype(int).map(dict(enumerate(GRADE_ORDER, start=1)))
    return pd.DataFrame({"grade_label": label, "publication_date": last["publication_date"]})


def _require(panel: pd.DataFrame, column: str) -> None:
    if column not in panel.columns:
        raise KeyError(f"hex map needs column {column!r}, which la_year_panel.csv does not have "
                       "(it comes with the spending data of the data issue)")


def latest_values(panel: pd.DataFrame, column: str) -> tuple[pd.Series, int]:
    """Values of ``column`` in the last year in which any entity has one, by entity.

    Small LAs (City of London, Isles of Scilly: under 2,000 children) are left out, as in the
    rest of the report: their rates are too noisy to share a colour scale.
    """
    _require(panel, column)
    has = panel.dropna(subset=[column])
    if has.empty:
        raise ValueError(f"hex map: column {column!r} has no values")
    year = int(has["year"].max())
    rows = panel.loc[(panel["year"] == year) & ~panel["small_la"].astype(bool)]
    return rows.set_index("la_code")[column], year


def change_since(panel: pd.DataFrame, column: str, base: int = BASE_YEAR) -> tuple[pd.Series, int]:
    """``column`` in its last year minus its value in ``base`` (missing if either is missing)."""
    last, year = latest_values(panel, column)
    first = panel.loc[panel["year"] == base].set_index("la_code")[column]
    return (last - first.reindex(last.index)), year


def draw_hexes(ax, key: pd.DataFrame, colours: pd.Series) -> int:
    """Draw one hexagon per row of ``key`` filled with ``colours`` (by la_code); return count."""
    centres = hex_centres(key)
    hexes = [RegularPolygon((x, y), numVertices=6, radius=1 / SQRT3 * 0.96, orientation=0)
             for x, y in centres.itertuples(index=False)]
    fill = [c if isinstance(c, str) else MISSING_COLOUR for c in (colours.get(la) for la in centres.index)]
    ax.add_collection(PatchCollection(hexes, facecolors=fill, edgecolors="white", linewidths=0.4))
    ax.set_xlim(centres["x"].min() - 1, centres["x"].max() + 1)
    ax.set_ylim(centres["y"].min() - 1, centres["y"].max() + 1)
    ax.set_aspect("equal")
    ax.axis("off")
    return len(centres)


#: words a map code skips: joining words and the ", City of" / ", County of" of the official names
CODE_SKIP = frozenset({"and", "with", "upon", "on", "of", "the", "city", "county"})


def _code_words(name: str) -> list[str]:
    """Significant words of a council name, upper case, letters only: a parenthesis is dropped,
    hyphens, commas and full stops split words, and :data:`CODE_SKIP` words are skipped
    ('Kingston upon Hull, City of' -> KINGSTON, HULL; 'St. Helens' -> ST, HELENS)."""
    name = re.sub(r"\(.*?\)", " ", name)
    words = [w for w in re.split(r"[\s\-,.]+", name) if w and w.lower() not in CODE_SKIP]
    return [re.sub(r"[^A-Z]", "", w.upper()) for w in words if re.sub(r"[^A-Za-z]", "", w)]


def code_candidates(name: str) -> list[str]:
    """Three-letter codes for one name, most preferred first.

    Notes
    -----
    First choice: the initials of the first three significant words (three or more words:
    'Bath and North East Somerset' -> BNE); for two words the two initials and the second
    letter of the second word ('West Sussex' -> WSU); for one word its first three letters
    ('Leeds' -> LEE). Then every first letter + two later letters of the significant words
    written together, in their order (positions i < j in lexicographic order).
    """
    words = _code_words(name)
    if not words:
        raise ValueError(f"map code: no letters in council name {name!r}")
    letters = "".join(words)
    if len(words) >= 3:
        first = words[0][0] + words[1][0] + words[2][0]
    elif len(words) == 2:
        first = words[0][0] + words[1][:2] if len(words[1]) > 1 else words[0][:2] + words[1]
    else:
        first = letters[:3]
    out = [first] if len(first) == 3 else []
    for i in range(1, len(letters)):
        for j in range(i + 1, len(letters)):
            c = letters[0] + letters[i] + letters[j]
            if c not in out:
                out.append(c)
    return out


def council_codes(names: pd.Series) -> pd.Series:
    """Unique three-letter map code of each council (``names`` by la_code); deterministic.

    Notes
    -----
    Each council takes its first-choice code (:func:`code_candidates`) if no other council has
    the same first choice. Councils sharing a first choice are taken in alphabetical order of
    name (then la_code): the first keeps it, the others take their next candidate not already
    used. Raises ``ValueError`` if a council is left without a code.
    """
    cands = {la: code_candidates(str(n)) for la, n in names.items()}
    first = pd.Series({la: c[0] for la, c in cands.items()}, dtype=object)
    shared = first.duplicated(keep=False)
    codes = first[~shared].to_dict()
    used = set(codes.values())
    order = sorted(first.index[shared], key=lambda la: (str(names[la]), str(la)))
    for la in order:
        code = next((c for c in cands[la] if c not in used), None)
        if code is None:
            raise ValueError(f"map code: no free three-letter code for {names[la]!r}")
        codes[la] = code
        used.add(code)
    return pd.Series(codes, dtype=object).reindex(names.index).rename("map_code")


def latest_codes(panel: pd.DataFrame) -> pd.Series:
    """Map code by la_code of every entity alive in the last census year (names as in the panel)."""
    last = int(panel["year"].max())
    names = panel.loc[panel["year"] == last].set_index("la_code")["la_name"]
    return council_codes(names)


#: the key map's code labels: bold monospace (narrow, every letter the same width); size chosen
#: so that the codes measure at least :data:`figures.MIN_TEXT_PX` on a phone
KEY_FONT = {"family": "DejaVu Sans Mono", "weight": "bold", "size": 9.8}
KEY_FILL, KEY_EDGE = "#e6e9ed", "#57606a"


def map_key(key: pd.DataFrame, codes: pd.Series, name: str = "fig-map-key"):
    """Key map: every hexagon neutral grey, labelled with its council's map code (no data)."""
    phone_theme()
    fig, ax = plt.subplots(figsize=(6.0, 5.6))
    ax.set_title("Key: council map codes")
    centres = hex_centres(key)
    missing = [la for la in centres.index if not isinstance(codes.get(la), str)]
    if missing:
        plt.close(fig)
        raise ValueError(f"{name}: no map code for {missing}")
    draw_hexes(ax, key, pd.Series(KEY_FILL, index=centres.index))
    ax.collections[-1].set_edgecolor(KEY_EDGE)
    ax.collections[-1].set_linewidth(0.5)
    for la, (x, y) in centres.iterrows():
        ax.text(x, y, codes[la], ha="center", va="center", color="#1f2328", **KEY_FONT)
    ax.set_xlim(centres["x"].min() - 0.55, centres["x"].max() + 0.55)
    ax.set_ylim(centres["y"].min() - 0.65, centres["y"].max() + 0.65)
    fig.tight_layout(pad=0.2)
    return save_checked(fig, name, colours=KEY_COLOURS)


#: colours kept in the key map's PNG: grey hexagons and dark text need few, and the
#: self-contained HTML stays under its size limit (the full-colour file is four times as large)
KEY_COLOURS = 32


def _figure(title: str):
    phone_theme()
    fig, ax = plt.subplots(figsize=(6.0, 5.9))
    ax.set_title(title)
    return fig, ax


def map_grades(key: pd.DataFrame, grades: pd.Series, name: str = "fig-map-grade"):
    """Hex map of the latest Ofsted grade (categorical, grade palette)."""
    fig, ax = _figure("Latest Ofsted grade")
    draw_hexes(ax, key, grades.map(GRADE_COLOURS))
    handles = [Patch(facecolor=GRADE_COLOURS[g], label=g) for g in GRADE_ORDER]
    if grades.isna().any():
        handles.append(Patch(facecolor=MISSING_COLOUR, label="no graded inspection"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False)
    fig.tight_layout()
    # categorical (four grades and grey): a small palette keeps the self-contained HTML small
    return save_checked(fig, name, colours=KEY_COLOURS)


def value_colours(values: pd.Series, diverging: bool = False):
    """(hex colour by la_code of the finite values, norm, cmap): viridis, or PuOr centred on zero."""
    finite = values.dropna().astype(float)
    if diverging:
        lim = float(np.nanmax(np.abs(finite))) or 1.0
        norm, cmap = TwoSlopeNorm(0.0, -lim, lim), plt.get_cmap(DIVERGING_CMAP)
    else:
        norm, cmap = Normalize(float(finite.min()), float(finite.max())), plt.get_cmap(SEQUENTIAL_CMAP)
    colours = finite.map(lambda x: "#%02x%02x%02x" % tuple(int(round(255 * c)) for c in cmap(norm(x))[:3]))
    return colours, norm, cmap


#: printed size (points) of the labels naming the lowest and highest council on a PDF map
EXTREME_PT = 9.5


def label_extremes(ax, key: pd.DataFrame, v: pd.Series, names: pd.Series, fmt) -> str:
    """Mark the highest and lowest council on the map: a black outline and the letter H or L in
    its hexagon (black or white, whichever contrasts with the fill); return the line naming them
    ('H highest: Havering (41.7%) · L lowest: ...'), printed under the colour bar."""
    centres = hex_centres(key)
    finite = v.dropna()
    parts = []
    for letter, word, la in (("H", "highest", finite.idxmax()), ("L", "lowest", finite.idxmin())):
        x, y = centres.loc[la]
        ax.add_patch(RegularPolygon((x, y), numVertices=6, radius=1 / SQRT3 * 0.96, orientation=0,
                                    facecolor="none", edgecolor="#000000", linewidth=1.6, zorder=3))
        fill = ax.collections[-1].get_facecolors()[list(centres.index).index(la)]
        light = 0.2126 * fill[0] + 0.7152 * fill[1] + 0.0722 * fill[2] > 0.45
        ax.text(x, y, letter, ha="center", va="center", fontsize=EXTREME_PT, fontweight="bold",
                color="#000000" if light else "#ffffff", zorder=4)
        parts.append(f"{letter} {word}: {figure_name(names.get(la, la))} ({fmt(finite[la])})")
    line = " · ".join(parts)
    # one line while it fits the figure's width, else one line each (long names)
    return line if len(line) <= EXTREMES_ONE_LINE else "\n".join(parts)


#: longest extremes label kept on one line under the colour bar (characters at EXTREME_PT)
EXTREMES_ONE_LINE = 70


#: longest council name printed on a PDF map (the longest real name, "Kingston upon Hull, City of",
#: has 27 characters); a longer value (bad or hostile data) is cut with an ellipsis so that it
#: cannot widen the figure beyond the page. The alt text and the HTML keep the full name.
FIGURE_NAME_MAX = 40


def figure_name(name: object) -> str:
    """A council name as a figure label: one line, at most :data:`FIGURE_NAME_MAX` characters,
    and with matplotlib's mathtext sign escaped (``$`` would start a formula)."""
    text = " ".join(str(name).split())
    if len(text) > FIGURE_NAME_MAX:
        text = text[:FIGURE_NAME_MAX - 1] + "…"
    return text.replace("$", r"\$")


def map_values(key: pd.DataFrame, values: pd.Series, title: str, label: str, name: str,
               diverging: bool = False, names: pd.Series | None = None, fmt=None):
    """Hex map of a continuous measure (viridis; PuOr centred on zero for a change); with
    ``names`` and ``fmt`` the lowest and highest councils are named on the map."""
    fig, ax = _figure(title)
    v = values.reindex(key["la_code"]).astype(float)
    finite = v.dropna()
    if finite.empty:
        plt.close(fig)
        raise ValueError(f"{name}: no values to map")
    colours, norm, cmap = value_colours(v, diverging)
    draw_hexes(ax, key, colours)
    extremes = label_extremes(ax, key, v, names, fmt) if names is not None and fmt is not None else ""
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.045, pad=0.02, shrink=0.8)
    n_missing = int(v.isna().sum())
    cb.set_label(label + (f"; grey: no data or small LA ({n_missing})" if n_missing else "")
                 + (f"\n{extremes}" if extremes else ""))
    fig.tight_layout()
    return save_checked(fig, name)


#: printed width of a hex map, of the text width: full width, so legends print at 8 pt or more.
#: A figure attribute both engines honour (pandoc and Quarto write ``image(.., width: 50%)`` in
#: typst); in HTML ``report/style.css`` lets ``img.hexmap`` take its own width (no larger than
#: the screen), so the maps stay full width on a phone.
PDF_WIDTH = "100%"
#: the key map is printed full text width so that its codes can be read on paper
KEY_WIDTH = "100%"


@dataclass(frozen=True)
class MapSpec:
    """One map: its label, caption and alt text (computed from the data)."""

    name: str
    caption: str
    alt: str
    #: printed width in the PDF (:data:`PDF_WIDTH` for the data maps; the key is full width)
    width: str = PDF_WIDTH
    #: extra class ("hexmap-key": ``report/style.css`` lets the key grow wider on a desktop)
    extra_class: str = ""
    #: the HTML version: inline SVG map (a link and a title per hexagon) and its legend
    html: str = ""


def _range_alt(what: str, v: pd.Series, names: pd.Series, unit: str, digits: int = 1) -> str:
    v = v.dropna()
    lo, hi = v.idxmin(), v.idxmax()
    f = (lambda x: f"{x:,.{digits}f}{unit}") if unit != "£" else (lambda x: f"£{x:,.0f}")
    return (f"Hex map of {len(v)} councils, {what}: median {f(v.median())}, lowest {f(v[lo])} in "
            f"{names.get(lo, lo)}, highest {f(v[hi])} in {names.get(hi, hi)}")


def _fmt_value(unit: str, digits: int = 1):
    """Formatter of one map's values: '£1,328', '14.3%', '15.3', '+2.1 pp'."""
    if unit == "£":
        return lambda x: f"£{x:,.0f}"
    if unit == " pp":
        return lambda x: f"{x:+,.{digits}f} pp".replace("-", "−")
    return lambda x: f"{x:,.{digits}f}{unit}"


def _svg_values(name: str, key: pd.DataFrame, v: pd.Series, names: pd.Series, gss: pd.Series, codes: pd.Series,
                what: str, fmt, label: str, diverging: bool = False) -> str:
    """The HTML map of a continuous measure: hexagons coloured as the PNG, titles, legend."""
    centres = hex_centres(key)
    v = v.reindex(centres.index).astype(float)
    colours, norm, cmap = value_colours(v, diverging)
    fills = {la: colours.get(la, MISSING_COLOUR) for la in centres.index}
    titles = {la: f"{names.get(la, la)} ({codes.get(la, '')}): {what} "
                  + (fmt(v[la]) if pd.notna(v[la]) else "no data") for la in centres.index}
    finite = v.dropna()
    lo, hi = finite.idxmin(), finite.idxmax()
    legend = maps_svg.continuous_legend(cmap, norm, label, (str(names.get(lo, lo)), fmt(finite[lo])),
                                        (str(names.get(hi, hi)), fmt(finite[hi])), int(v.isna().sum()), MISSING_COLOUR)
    svg = maps_svg.svg_hexmap(name, centres, fills, titles, gss.to_dict(), label=f"{what}: select a council to open its profile")
    return maps_svg.figure_html(svg, legend)


def build_maps(panel: pd.DataFrame, inspections: pd.DataFrame, key: pd.DataFrame | None = None) -> list[MapSpec]:
    """Draw every map the data allow; return their specs (name, caption, alt text, HTML map)."""
    key = load_hex_key() if key is None else key
    last = int(panel["year"].max())
    names = panel.loc[panel["year"] == last].set_index("la_code")["la_name"]
    gss = panel.loc[panel["year"] == last].set_index("la_code")["gss_code"]
    centres = hex_centres(key)
    specs: list[MapSpec] = []

    codes = latest_codes(panel)
    map_key(key, codes)
    key_svg = maps_svg.svg_hexmap(
        "fig-map-key", centres, {la: KEY_FILL for la in centres.index},
        {la: f"{names.get(la, la)} ({codes[la]})" for la in centres.index}, gss.to_dict(),
        labels=codes.to_dict(), label="Key map: each council's three-letter code; select a council to open its profile")
    specs.append(MapSpec(
        "fig-map-key",
        "Key to the maps: each council's hexagon with its three-letter map code. The council lookup "
        "(Appendix E) gives the code beside each council's name.",
        f"Hex map key of {len(key)} councils, each hexagon labelled with its three-letter map code; "
        "the council lookup in Appendix E lists the code beside each name.",
        width=KEY_WIDTH, extra_class="hexmap-key", html=maps_svg.figure_html(key_svg, "", key=True)))

    grades = latest_grades(inspections).reindex(key["la_code"])["grade_label"]
    map_grades(key, grades)
    counts = grades.value_counts()
    alt = (f"Hex map of {len(key)} councils by latest Ofsted grade: "
           + ", ".join(f"{int(counts.get(g, 0))} {g}" for g in GRADE_ORDER)
           + f", {int(grades.isna().sum())} without a graded inspection")
    if grades.isna().sum() == 0:
        alt = alt.rsplit(",", 1)[0]
    g_fill = {la: GRADE_COLOURS.get(grades.get(la), MISSING_COLOUR) if isinstance(grades.get(la), str)
              else MISSING_COLOUR for la in centres.index}
    g_title = {la: f"{names.get(la, la)} ({codes.get(la, '')}): latest Ofsted grade "
               + (grades[la] if isinstance(grades.get(la), str) else "none") for la in centres.index}
    items = [(GRADE_COLOURS[g], f"{g} ({int(counts.get(g, 0))})") for g in GRADE_ORDER]
    if grades.isna().any():
        items.append((MISSING_COLOUR, f"no graded inspection ({int(grades.isna().sum())})"))
    grade_html = maps_svg.figure_html(
        maps_svg.svg_hexmap("fig-map-grade", centres, g_fill, g_title, gss.to_dict(),
                            label="Latest Ofsted grade: select a council to open its profile"),
        maps_svg.swatch_legend(items))
    specs.append(MapSpec("fig-map-grade", "Latest Ofsted overall effectiveness grade of each council.", alt + ".",
                         html=grade_html))

    for col, title, unit, label in (("agency_rate", "Agency worker rate", "%", "agency rate (%)"),
                                    ("caseload", "Caseload", "", "cases per FTE")):
        v, year = latest_values(panel, col)
        name = f"fig-map-{col.replace('_', '-')}"
        fmt = _fmt_value(unit)
        map_values(key, v, f"{title}, {year}", label, name, names=names, fmt=fmt)
        specs.append(MapSpec(name, f"{title} of each council, census {year}; grey: no data, or fewer than 2,000 children.",
                             _range_alt(f"{title.lower()} {year}", v.reindex(key["la_code"]), names, unit) + ".",
                             html=_svg_values(name, key, v, names, gss, codes, f"{title.lower()} {year}", fmt,
                                              f"{title}, {year}: {label}")))

    if "spend_total_pc" in panel.columns:
        v, year = latest_values(panel, "spend_total_pc")
        fmt = _fmt_value("£")
        map_values(key, v, f"Spending per child, {year - 1}-{str(year)[2:]}", "£ per child aged 0-17",
                   "fig-map-spend", names=names, fmt=fmt)
        specs.append(MapSpec("fig-map-spend",
                             f"Gross children's services spending (section 251 outturn) per child aged 0-17, "
                             f"financial year ending March {year}; grey: no data, or fewer than 2,000 children.",
                             _range_alt(f"spending per child {year}", v.reindex(key["la_code"]), names, "£") + ".",
                             html=_svg_values("fig-map-spend", key, v, names, gss, codes,
                                              f"spending per child {year - 1}-{str(year)[2:]}", fmt,
                                              f"Spending per child, {year - 1}-{str(year)[2:]}: £ per child aged 0-17, cash terms")))

    ch, year = change_since(panel, "agency_rate")
    fmt = _fmt_value(" pp")
    map_values(key, ch, f"Change in agency rate, {BASE_YEAR}-{year}", "percentage points",
               "fig-map-agency-change", diverging=True, names=names, fmt=fmt)
    c = ch.reindex(key["la_code"]).dropna()
    alt = (_range_alt(f"change in agency rate {BASE_YEAR} to {year} in percentage points", c, names, " pp")
           + f"; {int((c > 0).sum())} councils rose, {int((c < 0).sum())} fell and {int((c == 0).sum())} "
           "did not change.")
    specs.append(MapSpec("fig-map-agency-change",
                         f"Change in agency worker rate from {BASE_YEAR} to {year} (percentage points); grey: "
                         f"council not in both years, or fewer than 2,000 children.", alt,
                         html=_svg_values("fig-map-agency-change", key, ch, names, gss, codes,
                                          f"change in agency rate {BASE_YEAR}-{year}", fmt,
                                          f"Change in agency rate, {BASE_YEAR}-{year}: percentage points", diverging=True)))
    # the SVG's accessible name starts with the map's alt text (as the PNG's alt in the PDF)
    return [replace(s, html=s.html.replace('aria-label="', f'aria-label="{maps_svg.escape_html(s.alt)} ', 1))
            for s in specs]


def maps_markdown(specs: list[MapSpec]) -> str:
    """Figure blocks for the report, after one sentence crediting the hex layout (once for the
    whole group, not in every caption or image); alt text goes through :func:`escape.md_attr`.

    HTML: each map is a figure div holding the inline SVG (:mod:`maps_svg`), the stylesheet once
    before the first; PDF: the PNG at :data:`PDF_WIDTH` of the text width."""
    blocks = [f"{ATTRIBUTION}, for all maps below. In the HTML version, hover over or tap a hexagon to see "
              "the council and its value; select it to open the council's profile.\n"] if specs else []
    if any(s.html for s in specs):
        blocks.append(f'::: {{.content-visible when-format="html"}}\n```{{=html}}\n<style>{maps_svg.CSS}</style>\n```\n:::\n')
    for s in specs:
        alt = md_attr(s.alt)
        png = (f"![{s.caption}](outputs/figures/{s.name}.png)"
               f"{{#{s.name} .hexmap{' .' + s.extra_class if s.extra_class else ''} width=\"{s.width}\" fig-alt=\"{alt}\"}}\n")
        if not s.html:
            blocks.append(png)
            continue
        blocks.append(f'::: {{.content-visible when-format="html"}}\n::: {{#{s.name} .hexmap-svg}}\n'
                      f"```{{=html}}\n{s.html}\n```\n\n{s.caption}\n:::\n:::\n\n"
                      f'::: {{.content-visible when-format="typst"}}\n{png}:::\n')
    return "\n".join(blocks)
