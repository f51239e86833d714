"""Tables of the report as markdown pipe tables (captions and labels live in the .qmd).

Data are text, never markup: :func:`md` escapes every cell (see :func:`escape_md`), so a value
such as ``<img src=x onerror=alert(1)>``, ``{{< include /etc/hostname >}}``, ``$x^2$``, ``*b*``,
``@fig-trends``, a lone backtick or the typst specials ``#[]`` prints literally in HTML and PDF
under both engines. A cell that is deliberately formatted is wrapped in :class:`Markup` (for
example by :func:`code`, a code span for hashes and column names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..data.sources import load_registry
from .escape import md_text
from .common import GRADE_ORDER, MEASURE_LABELS, model
from .formats import OR_DIGITS, fmt, fmt_p, interval, missing, odds_ci, pp_ci, pp_se, points_se, sample_note

ESTIMATOR_LABELS = {"pooled": "Pooled", "random": "Random eff.", "between": "Between",
                    "fe_twoway": "LA + year FE", "first_difference": "First diff."}
CONTROL_LABELS = {"cin_rate": "Children in need per 10k", "cpp_rate": "Child protection plans per 10k",
                  "cla_rate": "Children looked after per 10k", "log_child_pop": "log child population",
                  "idaci_2019": "IDACI 2019", "ilacs": "ILACS framework"}


@dataclass(frozen=True)
class Markup:
    """A cell value that is already valid markdown and is emitted as it is (not escaped).

    Deliberately not a ``str`` subclass: pandas 3 stores string columns in its own string dtype
    (Arrow-backed when pyarrow is installed), which turns a ``str`` subclass back into a plain
    ``str`` and would silently escape the markup. A non-string object stays an object.
    """

    text: str

    def __str__(self) -> str:
        return self.text

    def __len__(self) -> int:
        return len(self.text)


#: Quarto scans the raw text for shortcodes before pandoc parses it, so these must never reach
#: it from data, not even inside a code span (https://quarto.org/docs/extensions/shortcodes.html).
_SHORTCODE_RE = re.compile(r"\{\{<|>\}\}")


#: whitespace a line may break at: every kind but the non-breaking space (``str.split()`` would
#: also split at U+00A0, which keeps an interval such as "[−7.2,\u00a02.2]" together)
_BREAKABLE_RE = re.compile(r"[ \t\n\r\f\v]+")


def words(text: str) -> list[str]:
    """The unbreakable words of ``text``: split at breakable whitespace only (not at U+00A0)."""
    return [w for w in _BREAKABLE_RE.split(text) if w]


#: markdown text escaping lives in :mod:`.escape` (one function per target); the old name stays
escape_md = md_text


def code(value: object) -> Markup:
    """A code span holding ``value`` literally (hashes, column names).

    The fence is one backtick longer than the longest run of backticks in the value. A value that
    contains a shortcode delimiter, a pipe (cell separator) or a line break falls back to escaped plain text, because
    Quarto expands shortcodes even inside code spans.
    """
    text = str(value)
    if not text or "\n" in text or "|" in text or _SHORTCODE_RE.search(text):
        return Markup(escape_md(text))
    run = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


def cell(value: object) -> str:
    """One table cell as markdown: :class:`Markup` as it is, a missing value (None, NaN, NA) as
    "–" (never "nan" or "None"), anything else escaped."""
    if isinstance(value, Markup):
        return str(value)
    return "–" if missing(value) else escape_md(value)


#: Width of the PDF text column in characters of the 8 pt table face (A4 less 2 x 2.2 cm margins
#: is about 470 pt; a character of Libertinus Serif at 8 pt is about 4 pt wide), less 2 characters
#: of cell inset per column. Monospace (code) characters count 1.3.
TEXT_WIDTH_CHARS = 116
CODE_FACTOR = 1.3


def _visible(value: object) -> tuple[str, float]:
    """(text as printed, width factor) of one cell: code spans without their fences."""
    if isinstance(value, Markup) and value.text.startswith("`"):
        return value.text.strip("`").strip(), CODE_FACTOR
    return ("–" if missing(value) else " ".join(words(str(value)))), 1.0


def column_widths(df: pd.DataFrame) -> list[int]:
    """Relative column widths (in characters) that fit the PDF text column.

    Each column gets at least its longest unbreakable word (header included), so no word runs
    into the next column; the rest of the line is shared in proportion to how much longer each
    column's longest cell is. Typst and HTML wrap cells at spaces only, so a column narrower than
    its longest word overprints its neighbour in the PDF.
    """
    need, want = [], []
    for i, c in enumerate(df.columns):
        vals = [_visible(c), *(_visible(v) for v in df.iloc[:, i])]
        word = max(max((len(w) for w in words(t)), default=1) * f for t, f in vals)
        # code longer than 20 characters may break between characters (typst-header.typ, style.css)
        word = max(min(word, 16 * CODE_FACTOR), 3)
        need.append(word + 1)
        want.append(max(word + 1, min(max(len(t) * f for t, f in vals), 60)))
    budget = TEXT_WIDTH_CHARS - 2 * len(need)
    if sum(want) <= budget:
        return [max(round(w), 3) for w in want]
    spare = budget - sum(need)
    extra = [w - n for w, n in zip(want, need)]
    share = [e * spare / sum(extra) if spare > 0 and sum(extra) else 0 for e in extra]
    return [max(round(n + s), 3) for n, s in zip(need, share)]


def min_width_chars(df: pd.DataFrame) -> float:
    """Characters the table needs at least (longest word of every column plus cell insets)."""
    total = 0.0
    for i, c in enumerate(df.columns):
        vals = [_visible(c), *(_visible(v) for v in df.iloc[:, i])]
        word = max(max((len(w) for w in words(t)), default=1) * f for t, f in vals)
        total += max(min(word, 16 * CODE_FACTOR), 3) + 1 + 2
    return total


def md(df: pd.DataFrame, align: str | None = None, widths: list[int] | None = None) -> str:
    """Pipe table; ``align`` is one character per column (l/r/c); ``widths`` (relative) override
    the default (:func:`column_widths`: every column at least as wide as its longest word).

    Every header and body cell goes through :func:`cell` (data are escaped, :class:`Markup` is
    kept). The first column is the row header: the renderer marks it up as ``<th scope="row">``
    in HTML (:func:`analysis.render.lite.row_headers`).
    """
    cols = [str(c) for c in df.columns]
    align = align or "l" + "r" * (len(cols) - 1)
    # dash counts set pandoc's relative column widths: proportional to the widest cell
    if widths is None:
        widths = column_widths(df)
    rule = {"l": lambda w: ":" + "-" * w, "r": lambda w: "-" * w + ":", "c": lambda w: ":" + "-" * w + ":"}
    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |",
             "|" + "|".join(rule[a](w) for a, w in zip(align, widths)) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _top_level_parts(text: str) -> list[str]:
    """``text`` split at ";" outside brackets (a split inside "(official statistics; previous
    vintage)" would cut off the closing bracket)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "([") - (ch in ")]")
        if ch == ";" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def source_names(reg: dict) -> dict[str, str]:
    """Display name of each source: its publication up to the first top-level "; ", with the
    next part added where two sources would otherwise share a name (three tables of the same
    children-in-need release)."""
    parts = {k: _top_level_parts(s.publication) for k, s in reg.items()}
    first = [p[0] for p in parts.values()]
    return {k: p[0] if first.count(p[0]) == 1 or len(p) == 1 else f"{p[0]}: {p[1]}"
            for k, p in parts.items()}


def is_transcribed(source) -> bool:
    """The project's own transcription of official documents (the SIF and ILACS report grades):
    official content under the OGL, but not a file the publisher released."""
    return "transcribed" in source.publisher.lower()


def is_official(source) -> bool:
    """A file released by a government publisher under the Open Government Licence, as opposed to
    a transcription of official reports or a community file such as the MIT-licensed hex layout."""
    return source.licence.upper().startswith("OGL") and not is_transcribed(source)


def source_status(source) -> str:
    if is_transcribed(source):
        return "transcribed from official reports (OGL v3.0)"
    return "official, OGL v3.0" if is_official(source) else f"community file, {source.licence}; not official"


HASH_CHARS = 12


#: technical detail of a registry entry that belongs to the reproducibility appendix, not to the
#: reading text: repository commits (with their date), file names and repository slugs
_TECHNICAL_RE = re.compile(r",?\s*\b(?:repository )?commit [0-9a-f]{7,40}(?:\s*\(\d{4}-\d{2}-\d{2}\))?"
                           r"|\s*\b[\w-]+\.(?:parquet|csv|xlsx|ods|hexjson|json)\b"
                           r"|,?\s*\b[a-z][\w-]*/[a-z][\w-]*\b")


def reading_label(text: str) -> str:
    """A registry text as the reading text shows it: commits, file names and repository slugs
    removed (they are in the reproducibility appendix), LAIT's "LAC" written as the report's CLA.

    >>> reading_label("LAIT data extract bds_long_0.parquet, repository commit 2e30e395 (2026-04-08): s251")
    'LAIT data extract: s251'
    """
    text = _TECHNICAL_RE.sub("", text)
    return re.sub(r"\bLAC\b", "CLA", re.sub(r"\s{2,}", " ", text)).strip()


def tbl_sources() -> str:
    """Raw sources: name, publisher, years and status. Their sha256 fingerprints, registry keys,
    files and commits are in the reproducibility appendix (:func:`tbl_source_hashes`), not in
    the reading text (:func:`reading_label`)."""
    reg = load_registry()
    names = source_names(reg)
    rows = [{"Source": reading_label(names[k]), "Publisher": s.publisher.split(" (")[0],
             "Years": reading_label(s.years or ""), "Status": source_status(s)}
            for k, s in reg.items()]
    return md(pd.DataFrame(rows), "llll")


def tbl_source_hashes() -> str:
    """Registry key and full sha256 of every raw source, in the order of the sources table."""
    reg = load_registry()
    rows = [[code(k), code(s.sha256)] for k, s in reg.items()]
    return md(pd.DataFrame(rows, columns=["Source (registry key)", "sha256"]), "ll")


def tbl_coverage(panel: pd.DataFrame) -> str:
    cols = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate", "cla_rate", "grade_num"]
    g = panel.groupby("year")
    out = pd.DataFrame({"Year": g.size().index, "LAs": g.size().to_numpy()})
    names = {"caseload": "caseload", "vacancy_rate": "vacancy", "agency_rate": "agency",
             "turnover_rate": "turnover", "cla_rate": "CLA rate", "grade_num": "grade"}
    for c in cols:
        out[f"missing {names[c]}"] = g[c].apply(lambda s: int(s.isna().sum())).to_numpy()
    return md(out)


def tbl_by_grade(panel: pd.DataFrame) -> str:
    d = panel[(panel["year"] >= 2017) & ~panel["small_la"] & panel["grade_label"].notna()]
    g = d.groupby("grade_label")
    out = pd.DataFrame({
        "Grade in force": GRADE_ORDER,
        "LA-years": [int(g.size().get(k, 0)) for k in GRADE_ORDER],
        **{MEASURE_LABELS[m]: [fmt(g[m].mean().get(k), 1) for k in GRADE_ORDER]
           for m in ["caseload", "vacancy_rate", "agency_rate", "turnover_rate"]},
    })
    return md(out)


#: demand rates are per 10,000 children, so a coefficient per one child per 10k is tiny; the panel
#: tables show it per a realistic difference instead, so every cell has the same three decimals
RATE_SCALE = {"cin_rate": 100, "cpp_rate": 10, "cla_rate": 10}
#: IDACI (a 0-1 score; LAs span roughly 0.05-0.35) is shown per this change of the score, not per
#: unit, which spans the whole scale (issue 10: an odds ratio of "0.392 [0.000, 313.211]")
IDACI_UNIT = 0.1


def _coef_cell(c: dict, scale: float = 1, outcome: str = "grade_num") -> str:
    """'estimate (SE)', no stars: grade points to three decimals, Good or better (a probability)
    in percentage points to one decimal (:mod:`analysis.outputs.formats`)."""
    if outcome == "good_or_better":
        return pp_se(scale * c["estimate"], scale * c["std_error"], probability=True)
    return points_se(c["estimate"], c["std_error"], scale)


#: the unit of every cell of a panel table, in its first header cell
PANEL_UNITS = {"grade_num": "Grade points (SE)", "good_or_better": "Good or better, pp (SE)"}


def _panel_table(results: dict, outcome: str) -> str:
    rows = []
    ids = {e: f"panel_{e}_{outcome}" for e in ESTIMATOR_LABELS}
    terms = list(MEASURE_LABELS) + list(CONTROL_LABELS)
    for t in terms:
        if t == "ilacs":
            continue
        label = MEASURE_LABELS.get(t, CONTROL_LABELS.get(t))
        if t in RATE_SCALE:
            label = label.replace(" per 10k", f" (per +{RATE_SCALE[t]} per 10k)")
        scale = RATE_SCALE.get(t, IDACI_UNIT if t == "idaci_2019" else 1)
        if t == "idaci_2019":
            label = f"{label} (per {IDACI_UNIT:g} of the score)"
        cells = []
        for mid in ids.values():
            c = model(results, mid)["coefficients"].get(t)
            cells.append("not identified" if c is None and t == "idaci_2019" else
                         "–" if c is None else _coef_cell(c, scale, outcome))
        rows.append([label, *cells])
    rows.append(["Year effects", *["no" if e == "between" else "yes" for e in ids]])
    rows.append(["Observations", *[f"{model(results, m)['stats']['nobs']:,}" for m in ids.values()]])
    rows.append(["LAs", *[str(model(results, m)["stats"]["n_las"]) for m in ids.values()]])
    return md(pd.DataFrame(rows, columns=[PANEL_UNITS[outcome], *ESTIMATOR_LABELS.values()]))


def tbl_panel_grade(results: dict) -> str:
    return _panel_table(results, "grade_num")


def tbl_panel_good(results: dict) -> str:
    return _panel_table(results, "good_or_better")


#: how the note names each panel estimator
ESTIMATOR_NOTE_NAMES = {"pooled": "pooled", "random": "random effects", "between": "between",
                        "fe_twoway": "LA + year FE", "first_difference": "first differences"}


def note_panel(results: dict, panel: pd.DataFrame, outcome: str) -> str:
    """Why the panel models' samples differ (:func:`formats.sample_note`): the LA-years the
    within-LA models keep because they need no IDACI (named from the model frames), one row
    per LA for the between model, the first census of each run for first differences."""
    from ..models.spec import model_frame
    from ..run_models import main_specs
    specs = dict(main_specs(outcome))
    ids = {e: f"panel_{e}_{outcome}" for e in ESTIMATOR_LABELS}
    counts = {ESTIMATOR_NOTE_NAMES[e]: model(results, m)["stats"]["nobs"] for e, m in ids.items()}
    pooled = model_frame(specs[ids["pooled"]], panel).index
    within = model_frame(specs[ids["fe_twoway"]], panel).index
    extra = within.difference(pooled)
    names = panel.set_index(["la_code", "year"]).loc[extra, "la_name"].drop_duplicates().tolist()
    idaci = "it needs no IDACI 2019 (constant within an LA)"
    if names:
        idaci += f", which is not published for {' or '.join(names)} ({len(extra)} LA-years)"
    reasons = {"between": "it has one row per LA (the LA's means over its years)",
               "LA + year FE": idaci,
               "first differences": "each LA's first census (or first after a gap) has no earlier census "
                                    "to difference from, while, as under LA + year FE, the LA-years "
                                    "without IDACI are kept"}
    note = sample_note(counts, reasons)
    return note + " The grouped (LA) counts differ for the same reasons." if note else note


def panel_notes(results: dict, panel: pd.DataFrame) -> dict[str, str]:
    """Table notes of the panel tables (``{{< var note.tbl_panel_grade >}}`` in the captions)."""
    return {"tbl_panel_grade": note_panel(results, panel, "grade_num"),
            "tbl_panel_good": note_panel(results, panel, "good_or_better")}


def tbl_hausman(results: dict) -> str:
    rows = []
    for outcome, label in [("grade_num", "Grade (1-4)"), ("good_or_better", "Good or better (0/1)")]:
        h = results["hausman"][outcome]
        rows.append([label, fmt(h["statistic"], 1), str(h["df"]), fmt_p(h["p_value"]), f"{h['nobs']:,}"])
    return md(pd.DataFrame(rows, columns=["Outcome", "χ²", "df", "p-value", "Observations"]))


#: short names of the derived tables in the dictionary (its "Table" column)
DERIVED_TABLE_NAMES = {"la_year_panel": "panel", "inspections": "insp.", "hex_map_key": "hex key",
                       "statistical_neighbours": "neigh."}


def tbl_dictionary(dictionary: pd.DataFrame) -> str:
    d = dictionary[["table", "column", "meaning", "unit", "missing"]].copy()
    # a derived table without a short name keeps its own name (never "nan")
    d["table"] = d["table"].map(lambda t: DERIVED_TABLE_NAMES.get(t, t))
    d["column"] = d["column"].map(code)
    return md(d.rename(columns=str.capitalize), "llllr")


#: readable names of the outputs that exist in one format only (no cross-reference can reach them)
ONE_FORMAT_NAMES = {"tbl-lookup": "Council lookup table (Appendix E; PDF table, searchable table in the HTML)"}


def tbl_provenance(made: dict[str, str], labels: set[str]) -> str:
    """Which function made each figure and table (from ``report/outputs/provenance.json``).

    ``labels`` are the cross-reference labels defined in the report sources: those are shown as
    cross-references ("Figure 3"), others by their readable name in :data:`ONE_FORMAT_NAMES`
    (a raw label such as "tbl-lookup" is never printed: ValueError if one has no name).
    """
    rows = []
    unnamed = [k for k in made if not (k in labels and re.fullmatch(r"(fig|tbl)-[\w-]+", k))
               and k not in ONE_FORMAT_NAMES]
    if unnamed:
        raise ValueError(f"provenance: no cross-reference and no readable name for {unnamed} "
                         f"(add them to ONE_FORMAT_NAMES)")
    for label, fn in made.items():  # build order: figures, then tables
        shown = (Markup(f"@{label}") if label in labels and re.fullmatch(r"(fig|tbl)-[\w-]+", label)
                 else ONE_FORMAT_NAMES[label])
        rows.append([shown, code(fn)])
    return md(pd.DataFrame(rows, columns=["Output", "Made by"]), "ll")
