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
import string

import pandas as pd

from ..data.sources import load_registry
from .common import GRADE_ORDER, MEASURE_LABELS, fmt, fmt_p, model, stars

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


def escape_md(value: object) -> str:
    """Escape a value so that pandoc markdown (and Quarto) reads it as literal text.

    Notes
    -----
    Pandoc markdown treats any ASCII punctuation character preceded by a backslash as a literal
    character (pandoc manual, "Backslash escapes"), so every ASCII punctuation character is
    escaped. This also breaks Quarto shortcodes (``{{<`` no longer occurs in the text), citations
    and cross-references (``@``), math (``$``), emphasis, raw HTML (``<``), entities (``&``),
    code spans and the smart-punctuation ligatures ``--`` and ``...``. Line breaks become spaces
    (a pipe-table row is one line). Pandoc's HTML and typst writers then escape the literal
    characters for their format (``&lt;``, ``\\#``).
    """
    text = " ".join(str(value).split())
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in text)


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
    """One table cell as markdown: :class:`Markup` as it is, anything else escaped."""
    return str(value) if isinstance(value, Markup) else escape_md(value)


def md(df: pd.DataFrame, align: str | None = None, widths: list[int] | None = None) -> str:
    """Pipe table; ``align`` is one character per column (l/r/c); ``widths`` (relative) override
    the default, which is proportional to the widest cell of each column.

    Every header and body cell goes through :func:`cell` (data are escaped, :class:`Markup` is
    kept). The first column is the row header: the renderer marks it up as ``<th scope="row">``
    in HTML (:func:`analysis.render.lite.row_headers`).
    """
    cols = [str(c) for c in df.columns]
    align = align or "l" + "r" * (len(cols) - 1)
    # dash counts set pandoc's relative column widths: proportional to the widest cell
    if widths is None:
        widths = [max([len(c), *(len(str(v)) for v in df.iloc[:, i])]) for i, c in enumerate(cols)]
        widths = [min(max(w, 6), 60) for w in widths]
    rule = {"l": lambda w: ":" + "-" * w, "r": lambda w: "-" * w + ":", "c": lambda w: ":" + "-" * w + ":"}
    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |",
             "|" + "|".join(rule[a](w) for a, w in zip(align, widths)) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def tbl_sources() -> str:
    reg = load_registry()
    rows = [{"Source": s.publication.split(";")[0], "Publisher": s.publisher.split(" (")[0],
             "Years": s.years or "", "sha256": code(s.sha256[:12])} for s in reg.values()]
    return md(pd.DataFrame(rows), "llll")


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


def _coef_cell(c: dict) -> str:
    """'estimate*** (SE)', with enough decimals that small per-10k coefficients are not 0.000."""
    digits = 3 if max(abs(c["estimate"]), c["std_error"]) >= 0.01 else 5
    return f"{fmt(c['estimate'], digits)}{stars(c['p_value'])} ({fmt(c['std_error'], digits)})"


def _panel_table(results: dict, outcome: str) -> str:
    rows = []
    ids = {e: f"panel_{e}_{outcome}" for e in ESTIMATOR_LABELS}
    terms = list(MEASURE_LABELS) + list(CONTROL_LABELS)
    for t in terms:
        if t == "ilacs":
            continue
        label = MEASURE_LABELS.get(t, CONTROL_LABELS.get(t))
        cells = []
        for mid in ids.values():
            c = model(results, mid)["coefficients"].get(t)
            cells.append("not identified" if c is None and t == "idaci_2019" else
                         "–" if c is None else _coef_cell(c))
        rows.append([label, *cells])
    rows.append(["Year effects", *["no" if e == "between" else "yes" for e in ids]])
    rows.append(["Observations", *[f"{model(results, m)['stats']['nobs']:,}" for m in ids.values()]])
    rows.append(["LAs", *[str(model(results, m)["stats"]["n_las"]) for m in ids.values()]])
    return md(pd.DataFrame(rows, columns=["", *ESTIMATOR_LABELS.values()]))


def tbl_panel_grade(results: dict) -> str:
    return _panel_table(results, "grade_num")


def tbl_panel_good(results: dict) -> str:
    return _panel_table(results, "good_or_better")


def tbl_hausman(results: dict) -> str:
    rows = []
    for outcome, label in [("grade_num", "Grade (1-4)"), ("good_or_better", "Good or better (0/1)")]:
        h = results["hausman"][outcome]
        rows.append([label, fmt(h["statistic"], 1), str(h["df"]), fmt_p(h["p_value"]), f"{h['nobs']:,}"])
    return md(pd.DataFrame(rows, columns=["Outcome", "χ²", "df", "p-value", "Observations"]))


def tbl_inspection(results: dict) -> str:
    orr = model(results, "ologit_odds_ratio")["coefficients"]
    ame = model(results, "ologit_ame_good")["coefficients"]
    lpm = model(results, "lpm_good")["coefficients"]
    rows = []
    for t in [*list(MEASURE_LABELS)[:4], *CONTROL_LABELS]:
        label = MEASURE_LABELS.get(t, CONTROL_LABELS.get(t))
        o, a, lp = orr[t], ame[t], lpm[t]
        rows.append([label,
                     f"{fmt(o['estimate'], 3)} [{fmt(o['ci_low'], 3)}, {fmt(o['ci_high'], 3)}]",
                     f"{fmt(100 * a['estimate'], 2)} [{fmt(100 * a['ci_low'], 2)}, {fmt(100 * a['ci_high'], 2)}]",
                     f"{fmt(100 * lp['estimate'], 2)}{stars(lp['p_value'])} ({fmt(100 * lp['std_error'], 2)})"])
    st = model(results, "ologit_logodds")["stats"]
    rows.append(["Inspections (LAs)", f"{st['nobs']} ({st['n_las']})", "", ""])
    return md(pd.DataFrame(rows, columns=["", "Odds ratio, worse grade [95% CI]",
                                          "AME on P(Good+), pp [95% CI]", "LPM, pp (SE)"]))


def tbl_event(results: dict) -> str:
    rows = []
    for kind, klabel in [("inadequate", "To Inadequate"), ("upgrade", "Upgrade")]:
        for outcome in ["agency_rate", "vacancy_rate", "turnover_rate"]:
            m = model(results, f"event_{kind}_{outcome}")
            st, co = m["stats"], m["coefficients"]
            rows.append([klabel, MEASURE_LABELS[outcome].split(" (")[0], str(st["n_events"]),
                         f"{fmt(co['k=-2']['estimate'], 1)} ({fmt(co['k=-2']['std_error'], 1)})",
                         f"{fmt(co['k=1']['estimate'], 1)} ({fmt(co['k=1']['std_error'], 1)})",
                         fmt_p(st["pre_trend_wald"]["p_value"]), fmt_p(st["post_wald"]["p_value"])])
    return md(pd.DataFrame(rows, columns=["Event", "Outcome (pp)", "Events", "Year −2 (SE)",
                                          "Year +1 (SE)", "Pre-trend p", "Post p"]), "llrrrrr")


def tbl_dictionary(dictionary: pd.DataFrame) -> str:
    d = dictionary[["table", "column", "meaning", "unit", "missing"]].copy()
    d["table"] = d["table"].map({"la_year_panel": "panel", "inspections": "insp."})
    d["column"] = d["column"].map(code)
    # code is set in a wider (monospace) face: give it room beyond its character count
    return md(d.rename(columns=str.capitalize), "llllr", widths=[6, 25, 53, 20, 7])


def tbl_provenance(made: dict[str, str], labels: set[str]) -> str:
    """Which function made each figure and table (from ``report/outputs/provenance.json``).

    ``labels`` are the cross-reference labels defined in the report sources: those are shown as
    cross-references ("Figure 3"), others by their label.
    """
    rows = []
    for label, fn in made.items():  # build order: figures, then tables
        shown = Markup(f"@{label}") if label in labels and re.fullmatch(r"(fig|tbl)-[\w-]+", label) else label
        rows.append([shown, code(fn)])
    return md(pd.DataFrame(rows, columns=["Output", "Made by"]), "ll", widths=[12, 50])
