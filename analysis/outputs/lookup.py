"""Council lookup annex: every LA alive in the latest census, once.

For each council: latest Ofsted grade and its publication date; the latest workforce measures
(and spending per child when the panel has ``spend_total_pc``) with the difference from England
and from the median of its statistical neighbours (DfE SN 2025); the direction of change since
2017. Written as

* ``report/outputs/tables/lookup.html``: a self-contained HTML fragment (inline CSS and JS, no
  CDN) with a search box and sortable columns; every value HTML-escaped;
* ``report/outputs/tables/lookup-raw.md``: the same fragment in a raw ``{=html}`` block, for
  ``{{< include >}}`` in ``report/lookup.qmd``;
* ``report/outputs/tables/tbl-lookup.md``: a compact pipe table for the PDF (markdown-escaped).
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from .. import paths
from .common import TABLES
from .maps import latest_grades
from .tables import escape_md

BASE_YEAR = 2017
NEIGHBOUR_GROUPING = "DfE SN 2025"
MIN_NEIGHBOURS = 5
#: a change smaller than this counts as steady: 0.5 cases or percentage points; £10 per child
STEADY = 0.5
STEADY_SPEND = 10.0
#: measure: (label, short label, unit, digits, England numerator, England denominator, scale)
MEASURES = {
    "caseload": ("Caseload (cases per FTE)", "Caseload", "", 1, ("cases",), ("case_holders_fte",), 1),
    "agency_rate": ("Agency rate (%)", "Agency %", "%", 1, ("agency_fte",), ("agency_fte", "inpost_fte"), 100),
    "vacancy_rate": ("Vacancy rate (%)", "Vacancy %", "%", 1, ("vacancy_fte",), ("vacancy_fte", "inpost_fte"), 100),
    "turnover_rate": ("Turnover rate (%)", "Turnover %", "%", 1, ("leavers_fte",), ("inpost_fte",), 100),
}
SPEND = ("spend_total_pc", ("Spending per child (£)", "Spend £", "£", 0))
LETTER = {"caseload": "C", "agency_rate": "A", "vacancy_rate": "V", "turnover_rate": "T"}


def load_neighbours() -> pd.DataFrame:
    return pd.read_csv(paths.DERIVED / "statistical_neighbours.csv", dtype={"la_code": str, "neighbour_la_code": str})


def england_value(rows: pd.DataFrame, measure: str) -> float:
    """England figure of one year from LA counts, as DfE computes it.

    Notes
    -----
    rate = scale x sum(numerator) / sum(denominator) over LAs with every component present;
    the joint Kingston + Richmond return (given to both entities) is counted once. Spending:
    sum(spend_total) / sum(spend_total / spend_total_pc), i.e. total over total children.
    """
    rows = rows[~(rows["joint_return"].astype(bool) & (rows["la_code"] == "318"))]
    if measure == SPEND[0]:
        d = rows.dropna(subset=["spend_total", "spend_total_pc"])
        d = d[d["spend_total_pc"] > 0]
        return float(d["spend_total"].sum() / (d["spend_total"] / d["spend_total_pc"]).sum())
    _, _, _, _, num, den, scale = MEASURES[measure]
    d = rows.dropna(subset=list(set(num + den)))
    return float(scale * d[list(num)].sum(axis=1).sum() / d[list(den)].sum(axis=1).sum())


def _measures(panel: pd.DataFrame) -> dict[str, tuple[str, str, str, int]]:
    out = {m: spec[:4] for m, spec in MEASURES.items()}
    if SPEND[0] in panel.columns:
        out[SPEND[0]] = SPEND[1]
    return out


def lookup_frame(panel: pd.DataFrame, inspections: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """One row per entity alive in the last census year (tidy; numbers unformatted).

    Columns: ``la_code, la_name, region, grade, grade_date`` and for each measure ``m``:
    ``m`` (latest value), ``m_year``, ``m_england``, ``m_sn`` (median of the neighbours with a
    value that year, if at least :data:`MIN_NEIGHBOURS`), ``m_change`` (latest minus the first
    value from 2017 on) and ``m_from`` (that first year).
    """
    last = int(panel["year"].max())
    alive = panel.loc[panel["year"] == last, ["la_code", "la_name", "region"]].set_index("la_code")
    out = alive.copy()
    grades = latest_grades(inspections)
    out["grade"] = grades["grade_label"].reindex(out.index)
    out["grade_date"] = pd.to_datetime(grades["publication_date"]).reindex(out.index)
    sn = neighbours[neighbours["grouping"] == NEIGHBOUR_GROUPING]
    sn_lists = sn.sort_values("neighbour_rank").groupby("la_code")["neighbour_la_code"].apply(list)
    for m in _measures(panel):
        have = panel.dropna(subset=[m])
        have = have[(have["year"] >= BASE_YEAR) & have["la_code"].isin(out.index)].sort_values("year")
        latest = have.groupby("la_code").tail(1).set_index("la_code")
        first = have.groupby("la_code").head(1).set_index("la_code").reindex(latest.index)
        out[m] = latest[m].reindex(out.index)
        out[f"{m}_year"] = latest["year"].reindex(out.index)
        eng = {int(y): england_value(panel[panel["year"] == y], m) for y in latest["year"].unique()}
        out[f"{m}_england"] = out[f"{m}_year"].map(eng)
        values = panel.set_index(["la_code", "year"])[m]
        medians = {}
        for la, year in out[f"{m}_year"].dropna().items():
            nb = [values.get((n, int(year))) for n in sn_lists.get(la, [])]
            nb = [v for v in nb if v is not None and pd.notna(v)]
            medians[la] = float(np.median(nb)) if len(nb) >= MIN_NEIGHBOURS else np.nan
        out[f"{m}_sn"] = pd.Series(medians, dtype=float).reindex(out.index)
        changed = latest["year"] > first["year"]
        out[f"{m}_change"] = (latest[m] - first[m]).where(changed).reindex(out.index)
        out[f"{m}_from"] = first["year"].where(changed).reindex(out.index)
    return out.reset_index().sort_values(["la_name", "la_code"], kind="stable").reset_index(drop=True)


def direction(change: float, measure: str) -> str:
    """'up', 'down' or 'steady' (|change| below :data:`STEADY`, spending :data:`STEADY_SPEND`)."""
    if pd.isna(change):
        return ""
    tol = STEADY_SPEND if measure == SPEND[0] else STEADY
    return "steady" if abs(change) < tol else ("up" if change > 0 else "down")


def _num(x, digits: int, unit: str = "") -> str:
    if pd.isna(x):
        return "–"
    s = f"{x:,.{digits}f}".replace("-", "−")
    return f"£{s}" if unit == "£" else s


def _diff(x, ref, digits: int) -> str:
    if pd.isna(x) or pd.isna(ref):
        return "–"
    d = round(x - ref, digits)
    s = f"{abs(d):,.{digits}f}"
    return ("+" if d > 0 else "−" if d < 0 else "±") + s


# ----------------------------------------------------------------------------------------------
# HTML fragment

CSS = """
.csc-lookup{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:.85rem;max-width:100%}
.csc-lookup label{display:block;font-weight:600;margin:.3rem 0}
.csc-lookup input{box-sizing:border-box;width:100%;max-width:28rem;padding:.4rem .5rem;font-size:1rem;border:1px solid #8c959f;border-radius:4px}
.csc-lookup .csc-scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch;margin-top:.5rem}
.csc-lookup table{border-collapse:collapse;width:auto;min-width:100%;margin:0;font-size:.82rem}
.csc-lookup th,.csc-lookup td{padding:.3rem .45rem;border-bottom:1px solid #d8dee4;text-align:right;vertical-align:top;white-space:nowrap}
.csc-lookup th[scope=row],.csc-lookup thead th:first-child{text-align:left;white-space:normal;min-width:7.5rem;max-width:11rem;position:sticky;left:0;background:#fff;z-index:1}
.csc-lookup thead th:first-child{z-index:2;background:#f6f8fa}
.csc-lookup td.csc-text,.csc-lookup thead th.csc-text{text-align:left}
.csc-lookup caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
.csc-lookup p{margin:.3rem 0}
.csc-lookup thead th{position:sticky;top:0;background:#f6f8fa;border-bottom:2px solid #57606a}
.csc-lookup thead button{all:unset;cursor:pointer;font-weight:600}
.csc-lookup thead button:focus{outline:2px solid #1a5490}
.csc-lookup small{display:block;color:#57606a;font-size:.72rem}
.csc-lookup .csc-count{color:#57606a;margin:.3rem 0}
""".strip()

JS = """
(function(){
var root=document.getElementById('csc-lookup');if(!root)return;
var input=root.querySelector('input'),tbody=root.querySelector('tbody'),count=root.querySelector('.csc-count');
var rows=Array.prototype.slice.call(tbody.rows);
function show(){var q=input.value.trim().toLowerCase(),n=0;rows.forEach(function(r){
var hit=!q||r.getAttribute('data-search').indexOf(q)>=0;r.hidden=!hit;if(hit)n++;});
count.textContent=n+' of '+rows.length+' councils shown';}
input.addEventListener('input',show);
root.querySelectorAll('thead button').forEach(function(b,i){b.addEventListener('click',function(){
var th=b.parentNode,asc=th.getAttribute('aria-sort')!=='ascending';
root.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-sort'),c=y.cells[i].getAttribute('data-sort');
if(a===''&&c==='')return 0;if(a==='')return 1;if(c==='')return -1;
var na=parseFloat(a),nc=parseFloat(c),r=(isNaN(na)||isNaN(nc))?a.localeCompare(c):na-nc;return asc?r:-r;});
rows.forEach(function(r){tbody.appendChild(r);});});});
show();})();
""".strip()


def _cell(text: str, sort, sub: str | list[str] = "", header: bool = False, cls: str = "") -> str:
    e = html.escape
    sort_s = "" if sort is None or (isinstance(sort, float) and np.isnan(sort)) else str(sort)
    subs = [sub] if isinstance(sub, str) else sub
    inner = e(text) + "".join(f"<small>{e(x)}</small>" for x in subs if x)
    tag = 'th scope="row"' if header else "td"
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag}{klass} data-sort="{e(sort_s)}">{inner}</{tag.split()[0]}>'


def lookup_html(frame: pd.DataFrame, measures: dict[str, tuple[str, str, str, int]], year: int) -> str:
    """The searchable, sortable table as an HTML fragment (no external resources)."""
    e = html.escape
    heads = [("Council", "Council", ""), ("Latest grade", "Latest Ofsted grade and publication date", "csc-text")]
    heads += [(spec[1], spec[0], "") for spec in measures.values()]
    heads += [(f"Since {BASE_YEAR}", f"Direction of change since {BASE_YEAR}", "csc-text")]
    thead = "".join(f'<th scope="col" title="{e(t)}"' + (f' class="{c}"' if c else "")
                    + f'><button type="button">{e(h)}</button></th>' for h, t, c in heads)
    body = []
    for r in frame.itertuples(index=False):
        rd = r._asdict()
        date = rd["grade_date"].strftime("%Y-%m-%d") if pd.notna(rd["grade_date"]) else ""
        cells = [_cell(rd["la_name"], rd["la_name"], rd["region"], header=True),
                 _cell(rd["grade"] if isinstance(rd["grade"], str) else "not graded", date or None,
                       f"published {date}" if date else "", cls="csc-text")]
        for m, (_, _, unit, digits) in measures.items():
            val, yr = rd[m], rd[f"{m}_year"]
            subs: list[str] = []
            if pd.notna(val):
                subs = [f"Eng {_diff(val, rd[f'{m}_england'], digits)}", f"SN {_diff(val, rd[f'{m}_sn'], digits)}"]
                if int(yr) != year:
                    subs.append(f"({int(yr)})")
            cells.append(_cell(_num(val, digits, unit), None if pd.isna(val) else round(float(val), 4), subs))
        dirs = [f"{LETTER.get(m, 'S')}{_arrow(direction(rd[f'{m}_change'], m))}" for m in measures
                if direction(rd[f"{m}_change"], m)]
        cells.append(_cell(" ".join(dirs) if dirs else "–", " ".join(dirs) or None, _since(rd, measures),
                           cls="csc-text"))
        search = " ".join([rd["la_name"], rd["region"], str(rd["la_code"])]).lower()
        body.append(f'<tr data-search="{e(search)}">' + "".join(cells) + "</tr>")
    return (f'<div class="csc-lookup" id="csc-lookup">\n<style>{CSS}</style>\n'
            '<label for="csc-lookup-q">Find a council (name, region or DfE code)</label>\n'
            '<input id="csc-lookup-q" type="search" autocomplete="off" placeholder="e.g. Leeds">\n'
            '<p class="csc-count" aria-live="polite"></p>\n'
            '<p>Under each value: <b>Eng</b> its difference from England, <b>SN</b> from the median of its '
            'statistical neighbours. Select a column heading to sort; on a narrow screen, swipe the table '
            'sideways.</p>\n'
            '<div class="csc-scroll"><table>\n'
            '<caption>Council lookup</caption>\n'
            f"<thead><tr>{thead}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n"
            f"<script>{JS}</script>\n</div>\n")


def _arrow(d: str) -> str:
    return {"up": "↑", "down": "↓", "steady": "="}[d]


def _since(rd: dict, measures) -> str:
    froms = {int(rd[f"{m}_from"]) for m in measures if pd.notna(rd[f"{m}_from"])}
    return "" if not froms or froms == {BASE_YEAR} else f"from {min(froms)}"


# ----------------------------------------------------------------------------------------------
# Markdown (PDF)



def lookup_markdown(frame: pd.DataFrame, measures: dict[str, tuple[str, str, str, int]], year: int) -> str:
    """Compact pipe table: value (difference from England, from neighbours' median)."""
    grade_abbr = {"Outstanding": "O", "Good": "G", "Requires improvement": "RI", "Inadequate": "I"}
    heads = ["Council", "Grade"] + [spec[1] for spec in measures.values()] + ["Since 2017"]
    lines = ["| " + " | ".join(escape_md(h) for h in heads) + " |",
             "|:" + "-" * 19 + "|:" + "-" * 11 + "|" + "|".join("-" * 16 + ":" for _ in measures) + "|:" + "-" * 13 + "|"]
    for r in frame.itertuples(index=False):
        rd = r._asdict()
        g = grade_abbr.get(rd["grade"], "–") if isinstance(rd["grade"], str) else "–"
        date = rd["grade_date"].strftime("%Y-%m") if pd.notna(rd["grade_date"]) else ""
        cells = [escape_md(rd["la_name"]), escape_md(f"{g} {date}".strip())]
        for m, (_, _, unit, digits) in measures.items():
            val = rd[m]
            if pd.isna(val):
                cells.append("–")
                continue
            star = "" if int(rd[f"{m}_year"]) == year else f" ({int(rd[f'{m}_year'])})"
            # no-break spaces keep value and differences on one line in the PDF
            cells.append(escape_md(f"{_num(val, digits, unit)}{star}\u00a0"
                                   f"{_diff(val, rd[f'{m}_england'], digits)}/{_diff(val, rd[f'{m}_sn'], digits)}"
                                   ).replace(" ", "\u00a0"))
        dirs = " ".join(f"{LETTER.get(m, 'S')}{_arrow(direction(rd[f'{m}_change'], m))}" for m in measures
                        if direction(rd[f"{m}_change"], m))
        since = _since(rd, measures)
        cells.append(escape_md((dirs + (f" ({since})" if since else "")) if dirs else "–"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_lookup(panel: pd.DataFrame, inspections: pd.DataFrame,
                 neighbours: pd.DataFrame | None = None) -> dict[str, str]:
    """Write the three lookup files; return {output name: producing function}."""
    neighbours = load_neighbours() if neighbours is None else neighbours
    year = int(panel["year"].max())
    frame = lookup_frame(panel, inspections, neighbours)
    measures = _measures(panel)
    TABLES.mkdir(parents=True, exist_ok=True)
    fragment = lookup_html(frame, measures, year)
    (TABLES / "lookup.html").write_text(fragment, encoding="utf-8")
    (TABLES / "lookup-raw.md").write_text("```{=html}\n" + fragment + "```\n", encoding="utf-8")
    (TABLES / "tbl-lookup.md").write_text(lookup_markdown(frame, measures, year), encoding="utf-8")
    return {"tbl-lookup": "analysis/outputs/lookup.py::write_lookup"}
