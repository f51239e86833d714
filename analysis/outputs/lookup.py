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

import re
import unicodedata

import numpy as np
import pandas as pd

from .. import paths
from ..render.quarto_rules import RAW_TABLE_OPT_OUT
from .common import TABLES
from .maps import latest_codes, latest_grades
from .missing import missing_years
from .escape import break_long_words, html_attr, html_text, md_text

BASE_YEAR = 2017
NEIGHBOUR_GROUPING = "DfE SN 2025"
MIN_NEIGHBOURS = 5
#: a change smaller than this counts as steady: 0.5 cases or percentage points; £10 per child
STEADY = 0.5
STEADY_SPEND = 10.0
#: measure: (label, short label, unit, digits, England numerator, England denominator, scale)
#: in the report's order (caseload, vacancy, agency, turnover), as in the profiles and tables
MEASURES = {
    "caseload": ("Caseload (cases per FTE)", "Caseload", "", 1, ("cases",), ("case_holders_fte",), 1),
    "vacancy_rate": ("Vacancy rate (%)", "Vacancy %", "%", 1, ("vacancy_fte",), ("vacancy_fte", "inpost_fte"), 100),
    "agency_rate": ("Agency rate (%)", "Agency %", "%", 1, ("agency_fte",), ("agency_fte", "inpost_fte"), 100),
    "turnover_rate": ("Turnover rate (%)", "Turnover %", "%", 1, ("leavers_fte",), ("inpost_fte",), 100),
}
SPEND = ("spend_total_pc", ("Spending per child (£, cash terms, not adjusted for inflation)", "Spend £", "£", 0))
LETTER = {"caseload": "C", "agency_rate": "A", "vacancy_rate": "V", "turnover_rate": "T", SPEND[0]: "S"}
#: ascending sort order of the grade column: best first; a council never graded sorts last
GRADE_RANK = {"Outstanding": 1, "Good": 2, "Requires improvement": 3, "Inadequate": 4}
GRADE_ABBR = {"Outstanding": "O", "Good": "G", "Requires improvement": "RI", "Inadequate": "I"}
#: footnote markers
SMALL, JOINT, PUBLISHED = "†", "‡", "§"
#: a value from more than :data:`STALE_YEARS` years before the latest census; a council whose
#: newest inspection is under the ungraded 2026 framework
STALE, UNGRADED = "◊", "#"
STALE_YEARS = 2
UNGRADED_FRAMEWORK = "ILACS-2026"
#: band of a value among the councils in the latest census, by quarter (1 = at or below the 25th
#: percentile). For caseload and the agency, vacancy and turnover rates a higher value means more
#: workforce pressure, so band 4 is the highest-pressure quarter; spending per child is not a
#: pressure measure (more spending may mean more need or more resources), so its bands are
#: spending levels. Short words in the cells, full labels in the key.
POLARITY = {"caseload": "pressure", "agency_rate": "pressure", "vacancy_rate": "pressure",
            "turnover_rate": "pressure", "spend_total_pc": "spending"}
BANDS = ("low", "mid-low", "mid-high", "high")
#: the same bands in the narrow PDF columns (a word that fits beside the value)
BANDS_PDF = ("low", "mid\u2212", "mid+", "high")
BAND_LABELS = {"pressure": ("lowest-pressure quarter", "second-lowest-pressure quarter",
                            "second-highest-pressure quarter", "highest-pressure quarter"),
               "spending": ("lowest-spending quarter", "second-lowest-spending quarter",
                            "second-highest-spending quarter", "highest-spending quarter")}
#: shown before a council's hex-map code under its name ("map BAR")
MAP_LABEL = "map"


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


def council_values(panel: pd.DataFrame, measure: str, year: int) -> pd.Series:
    """One value per council in ``year`` (the joint Kingston + Richmond return counted once)."""
    rows = panel[panel["year"] == year]
    rows = rows[~(rows["joint_return"].astype(bool) & (rows["la_code"] == "318"))]
    return rows.set_index("la_code")[measure].dropna()


def quartile_cuts(panel: pd.DataFrame, measure: str, year: int) -> tuple[float, float, float]:
    """25th, 50th and 75th percentiles (numpy's linear rule) of the councils' values in ``year``."""
    q = np.percentile(council_values(panel, measure, year).to_numpy(dtype=float), [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])


def quartile(value: float, cuts: tuple[float, float, float]) -> int:
    """1 (at or below the 25th percentile) ... 4 (above the 75th): 4 is the highest-value
    quarter, which :data:`POLARITY` names (highest pressure; highest spending)."""
    return 1 + sum(value > c for c in cuts)


def _measures(panel: pd.DataFrame) -> dict[str, tuple[str, str, str, int]]:
    out = {m: spec[:4] for m, spec in MEASURES.items()}
    if SPEND[0] in panel.columns:
        out[SPEND[0]] = SPEND[1]
    return out


def lookup_frame(panel: pd.DataFrame, inspections: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """One row per entity alive in the last census year (tidy; numbers unformatted).

    Columns: ``la_code, la_name, map_code`` (the council's code on the hex maps, from
    :func:`maps.latest_codes`), ``region, grade, grade_date`` and for each measure ``m``:
    ``m`` (latest value), ``m_year``, ``m_england``, ``m_sn`` (median of the neighbours with a
    value that year, if at least :data:`MIN_NEIGHBOURS`), ``m_change`` (latest minus the first
    value from 2017 on), ``m_from`` (that first year), ``m_q`` (1-4: the council's quartile among
    councils in ``m_year``, :func:`quartile`) and ``m_stale`` (``m_year`` more than
    :data:`STALE_YEARS` before the latest census). ``ungraded_date``: publication date of a newer
    inspection under the ungraded 2026 framework, if any.
    """
    last = int(panel["year"].max())
    alive = panel.loc[panel["year"] == last, ["la_code", "la_name", "region", "gss_code"]].set_index("la_code")
    flags = panel.loc[panel["year"] == last, ["la_code", "small_la", "joint_return"]].set_index("la_code")
    out = alive.join(flags.astype(bool))
    out.insert(1, "map_code", latest_codes(panel).reindex(out.index))
    grades = latest_grades(inspections)
    out["grade"] = grades["grade_label"].reindex(out.index)
    out["grade_date"] = pd.to_datetime(grades["publication_date"]).reindex(out.index)
    ug = inspections[(inspections["framework"] == UNGRADED_FRAMEWORK) & inspections["overall_num"].isna()]
    ug = pd.to_datetime(ug.groupby("la_code")["publication_date"].max()).reindex(out.index)
    out["ungraded_date"] = ug.where(out["grade_date"].isna() | (ug > out["grade_date"]))
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
        cuts = {int(y): quartile_cuts(panel, m, int(y)) for y in latest["year"].unique()}
        # a band only for a value from the latest census: an older value is not the council's
        # current position among councils ("latest 2020" instead)
        out[f"{m}_q"] = [quartile(v, cuts[int(y)]) if pd.notna(v) and int(y) == last else np.nan
                         for v, y in zip(out[m], out[f"{m}_year"])]
        out[f"{m}_stale"] = out[f"{m}_year"].notna() & (out[f"{m}_year"] < last - STALE_YEARS)
    # values that look wrong but are the councils' own published returns (checked against the DfE
    # file): a workforce rate of exactly 0, and agency FTE equal to vacancy FTE (identical rates)
    same = (out["agency_rate"].round(1) == out["vacancy_rate"].round(1)) & (out["agency_rate_year"] == out["vacancy_rate_year"])
    for m in MEASURES:
        out[f"{m}_published"] = (out[m] == 0) | (same if m in ("agency_rate", "vacancy_rate") else False)
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
.csc-lookup table{display:table;overflow:visible;border-collapse:collapse;width:auto;min-width:100%;max-width:none;margin:0;font-size:.76rem}
.csc-lookup th,.csc-lookup td{padding:.25rem .3rem;border-bottom:1px solid #d8dee4;text-align:right;vertical-align:top;white-space:nowrap}
.csc-lookup th[scope=row],.csc-lookup thead th:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:6.5rem;max-width:9rem;position:sticky;left:0;background:#fff;z-index:1}
.csc-lookup thead th:first-child{z-index:2;background:#f6f8fa}
.csc-lookup td.csc-text,.csc-lookup thead th.csc-text{text-align:left}
.csc-lookup td.csc-text{white-space:normal;overflow-wrap:anywhere;min-width:4.2rem;max-width:6.5rem}
.csc-lookup caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
.csc-lookup p{margin:.3rem 0}
.csc-lookup thead th{position:sticky;top:0;background:#f6f8fa;border-bottom:2px solid #57606a}
.csc-lookup thead button{background:none;border:0;padding:0;margin:0;font:inherit;font-weight:600;color:inherit;text-align:inherit;cursor:pointer;text-decoration:underline dotted}
.csc-lookup thead button:focus-visible{outline:2px solid #1a5490;outline-offset:2px}
.csc-lookup .csc-arrow{display:inline-block;min-width:.9em;margin-left:.15em;text-decoration:none}
.csc-lookup .csc-legend{margin:.4rem 0;max-width:48rem}
.csc-lookup .csc-legend ul{margin:.2rem 0;padding-left:1.1rem}
.csc-lookup .csc-legend li{margin:.1rem 0}
.csc-lookup small{display:block;color:#57606a;font-size:.72rem}
.csc-lookup .csc-count{color:#57606a;margin:.3rem 0}
.csc-lookup .csc-downloads{margin:.6rem 0}
.csc-lookup .csc-downloads a{overflow-wrap:anywhere}
@media (max-width:600px){
.csc-lookup .csc-scroll{overflow-x:visible}
.csc-lookup table,.csc-lookup tbody{display:block;min-width:0;width:auto}
.csc-lookup caption{display:block}
.csc-lookup thead{display:block}
.csc-lookup thead tr{display:flex;flex-wrap:wrap;gap:.2rem .7rem;align-items:baseline}
.csc-lookup thead tr::before{content:"Sort by:";font-weight:600}
.csc-lookup thead th,.csc-lookup thead th:first-child{display:block;position:static;min-width:0;max-width:none;border:0;background:none;padding:.1rem 0}
.csc-lookup tbody tr{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.15rem .7rem;border:1px solid #d8dee4;border-radius:4px;padding:.4rem;margin:.45rem 0}
.csc-lookup tbody tr[hidden]{display:none}
.csc-lookup th[scope=row]{grid-column:1/-1;position:static;min-width:0;max-width:none;border:0;font-size:.9rem;padding:0}
.csc-lookup td,.csc-lookup td.csc-text{display:block;text-align:left;white-space:normal;min-width:0;max-width:none;border:0;padding:.1rem 0;overflow-wrap:anywhere}
.csc-lookup td::before{content:attr(data-label);display:block;font-weight:600;color:#57606a;font-size:.7rem}
}
""".strip()

JS = """
(function(){
var root=document.getElementById('csc-lookup');if(!root)return;
var input=root.querySelector('input'),tbody=root.querySelector('tbody'),count=root.querySelector('.csc-count');
var rows=Array.prototype.slice.call(tbody.rows),ths=Array.prototype.slice.call(root.querySelectorAll('thead th'));
function norm(t){return ' '+t.toLowerCase().normalize('NFD').replace(/[\\u0300-\\u036f]/g,'').replace(/&/g,' and ').replace(/[^a-z0-9]+/g,' ').trim();}
function show(){var q=norm(input.value),n=0;rows.forEach(function(r){
var hit=q===' '||(' '+r.getAttribute('data-search')).indexOf(q)>=0;r.hidden=!hit;if(hit)n++;});
count.textContent=n+' of '+rows.length+' councils shown';}
input.addEventListener('input',show);
ths.forEach(function(th,i){var b=th.querySelector('button');if(!b)return;b.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending',num=th.getAttribute('data-type')==='number';
ths.forEach(function(h){h.removeAttribute('aria-sort');var s=h.querySelector('.csc-arrow');if(s)s.textContent='';});
th.setAttribute('aria-sort',asc?'ascending':'descending');th.querySelector('.csc-arrow').textContent=asc?'\u25b2':'\u25bc';
rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-sort'),c=y.cells[i].getAttribute('data-sort');
if(a===''&&c==='')return 0;if(a==='')return 1;if(c==='')return -1;
var r=num?parseFloat(a)-parseFloat(c):a.localeCompare(c);return asc?r:-r;});
rows.forEach(function(r){tbody.appendChild(r);});});});
show();
var key=root.querySelector('details.csc-legend');if(key&&window.matchMedia&&window.matchMedia('(min-width: 700px)').matches)key.open=true;
})();
""".strip()


def _year_note(m: str, yr) -> str:
    """The year of an older value: census year, or financial year for spending."""
    y = int(yr)
    return f"latest {y - 1}-{y % 100:02d}" if m == SPEND[0] else f"latest {y}"


def _flags(rd: dict) -> str:
    return (SMALL if rd["small_la"] else "") + (JOINT if rd["joint_return"] else "")


def _iqr_text(measures: dict, iqr: dict | None) -> str:
    if not iqr:
        return ""
    parts = [f"{measures[m][1].replace(' %', '').replace(' £', '').lower()} "
             f"{_num(lo, measures[m][3], measures[m][2])}\u2013{_num(hi, measures[m][3], measures[m][2])}"
             + ("%" if measures[m][2] == "%" else "") for m, (lo, hi) in iqr.items() if m in measures]
    return "; the middle half of councils (25th to 75th percentile) in the latest year: " + ", ".join(parts)


def legend(measures: dict, year: int, fmt: str, iqr: dict | None = None,
           notes: list[str] | None = None) -> list[tuple[str, str]]:
    """(symbol, meaning) for every abbreviation and symbol the table uses, in one format.

    ``fmt`` is ``"html"`` (value, then Eng / SN lines) or ``"pdf"`` (value, then
    England/neighbours on one line; grades abbreviated). ``iqr``: {measure: (25th, 75th
    percentile)} of the councils' values in the latest year, stated under Q1-Q4."""
    spend = SPEND[0] in measures
    years = f"workforce measures are from the census of 30 September {year}"
    if spend:
        years += f", spending from the financial year {year - 1}-{year % 100:02d} (April to March)"
    older = ("A year under a value (\u201cin 2024\u201d; spending \u201c2023-24\u201d)" if fmt == "html" else
             "A year after a value (\u201c'24\u201d: the 2024 census; for spending the financial year 2023-24)")
    items = [(MAP_LABEL, "under each council's name: its three-letter code on the hex maps (the key map in the "
              "Maps section prints every code in its hexagon), to find the council on any map"),
             ("Years", years + f". {older} marks a council whose latest published value is older; its England and "
              "neighbour comparisons then use that same year and it gets no band. The hex maps show only the latest "
              f"census ({year}), so such a council is grey (no value) there."),
             (STALE, f"a value more than {STALE_YEARS} years older than the latest census (before "
              f"{year - STALE_YEARS}): out of date, not the council's current position"),
             (", ".join(BANDS if fmt == "html" else BANDS_PDF), f"the band after a value from the {year} census: the "
              "council's quarter among all councils that year, by pressure: for caseload and the agency, vacancy and "
              "turnover rates a higher value means more workforce pressure, so "
              + ("low is the lowest-pressure quarter (at or below the 25th percentile), mid-low and mid-high the "
                 "second and third, high the highest-pressure quarter (above the 75th)" if fmt == "html" else
                 "low is the lowest-pressure quarter (at or below the 25th percentile), mid\u2212 and mid+ the "
                 "second and third, high the highest-pressure quarter (above the 75th)") + (". Spending per child is not a pressure measure (more spending can mean more need or "
                             "more resources): its bands are spending levels, "
                             "low the lowest-spending quarter"
                             if SPEND[0] in measures else "") + _iqr_text(measures, iqr)),
             ("latest" if fmt == "html" else "'20", f"a value older than the {year} census gets no band (it is not "
              "the council's current position among councils): " + ("“latest 2020”" if fmt == "html" else
              "“'20” after it") + " gives the year of its newest value; why the later years are missing is "
              f"stated under “no {year} value”"),
             (UNGRADED, "inspected since under the 2026 framework, which gives no overall grade (date of that "
              "report shown); the grade shown is the latest one given")]
    if fmt == "html":
        items += [("Eng", "difference from England in the same year (national rate from all councils' counts)"),
                  ("SN", f"difference from the median of the council's statistical neighbours ({NEIGHBOUR_GROUPING}; "
                   f"needs at least {MIN_NEIGHBOURS} with a value that year)")]
    else:
        items += [("a/b", "the line under a value: its difference from England in the same year (national rate "
                   "from all councils' counts) / from the median of the council's statistical neighbours "
                   f"({NEIGHBOUR_GROUPING}; needs at least {MIN_NEIGHBOURS} with a value that year)"),
                  ]
    items += [("O, G, RI, I", "Ofsted overall grade Outstanding, Good, Requires improvement, Inadequate, "
               "with the month the report was published")]
    items += [("+, −, ±", "above, below, equal to the comparison"),
              ("–", "no value (not published, suppressed, or too few neighbours with a value)"),
              ("FTE", "full-time equivalent: caseload is cases per case-holding FTE social worker; rates are FTE")]
    if spend:
        items.append(("£", "gross spending on children's and young people's services (s251 outturn) per child aged "
                      "0-17, in cash terms, not adjusted for inflation"))
    letters = ", ".join(f"{LETTER[m]} {measures[m][0].split(' (')[0].lower()}" for m in measures)
    items += [("C, A, V, T" + (", S" if spend else ""), f"in the last column: {letters}"),
              ("↑, ↓, =", f"up, down, steady since {BASE_YEAR} (steady: a change under half a case or half a "
               "percentage point" + (", or £10 per child; spending changes are in cash terms, so a rise may "
                                      "be inflation" if spend else "") + f"); \u201cfrom 2019\u201d marks a council first counted after "
               f"{BASE_YEAR}, \u201cC from 2018\u201d one measure first published later"),
              (SMALL, "small council (City of London, Isles of Scilly: under 2,000 children); a handful of staff, "
               "so rates swing widely (the Isles of Scilly report no FTE social workers in post, hence "
               "100% agency and vacancy rates)"),
              (JOINT, "joint workforce return: the workforce figures cover two councils together (Kingston upon "
               "Thames with Richmond upon Thames, both shown with the joint figures; North and West "
               "Northamptonshire, shown as one council); England counts them once"),
              (PUBLISHED, "as published: a rate of 0.0, or an agency rate equal to the vacancy rate (the council "
               "returned as many agency as vacant FTE posts), checked against the DfE workforce file; DfE's "
               "\u201clow\u201d (rounds to 0 but is not 0) is also shown as 0.0")]
    if notes:
        items.append((f"no {year} value", "why a council's latest census lacks a value: " + "; ".join(notes)))
    if fmt == "html":
        items.append(("▲, ▼", "the column the table is sorted by, ascending or descending (grade: Outstanding "
                      "first when ascending)"))
    return items


def search_key(text: str) -> str:
    """``text`` as the lookup search compares it: lower case, diacritics removed, "&" read as
    "and", every run of other characters (punctuation, spaces) one space, with a leading space.

    Notes
    -----
    A query matches a row when ``search_key(query)`` occurs in the row's key, i.e. at the start
    of a word ("hull" finds "Kingston upon Hull, City of", not "Solihull"; "st helens" finds
    "St. Helens"; "kensington & chelsea" finds "Kensington and Chelsea"). The inline script's
    ``norm`` is the same function in JavaScript (NFD, then the same replacements).
    """
    t = unicodedata.normalize("NFD", str(text).lower())
    t = "".join(ch for ch in t if not "\u0300" <= ch <= "\u036f").replace("&", " and ")
    return " " + re.sub(r"[^a-z0-9]+", " ", t).strip()


def search_text(*parts: str) -> str:
    """The row's search key: name, region, DfE code and map code, each :func:`search_key`, joined
    by " |" (a query, which never holds "|", cannot match across two parts)."""
    return " |".join(search_key(p) for p in parts if isinstance(p, str) and p)


def _cell(text: str, sort, sub: str | list[str] = "", header: bool = False, cls: str = "", label: str = "",
          href: str = "") -> str:
    sort_s = "" if sort is None or (isinstance(sort, float) and np.isnan(sort)) else str(sort)
    subs = [sub] if isinstance(sub, str) else sub
    inner = (f'<a href="{html_attr(href)}">{html_text(text)}</a>' if href else html_text(text)) + "".join(f"<small>{html_text(x)}</small>" for x in subs if x)
    tag = 'th scope="row"' if header else "td"
    klass = f' class="{cls}"' if cls else ""
    # data-label: the column name, shown above the value when a phone stacks each row as a card
    lab = f' data-label="{html_attr(label)}"' if label else ""
    return f'<{tag}{klass}{lab} data-sort="{html_attr(sort_s)}">{inner}</{tag.split()[0]}>'


def _dirs(rd: dict, measures) -> str:
    return " ".join(f"{LETTER[m]}{_arrow(direction(rd[f'{m}_change'], m))}" for m in measures
                    if direction(rd[f"{m}_change"], m))


def lookup_html(frame: pd.DataFrame, measures: dict[str, tuple[str, str, str, int]], year: int,
                iqr: dict | None = None, notes: list[str] | None = None) -> str:
    """The searchable, sortable table as an HTML fragment (no external resources)."""
    e, a = html_text, html_attr
    # (header text, title, class, sort type or None for not sortable)
    heads = [("Council", "Council", "csc-text", "text"),
             ("Grade", "Latest Ofsted grade and month published", "csc-text", "number")]
    heads += [(spec[1], spec[0], "", "number") for spec in measures.values()]
    heads += [(f"Since {BASE_YEAR}", f"Direction of change since {BASE_YEAR}", "csc-text", None)]
    thead = []
    for i, (h, t, c, kind) in enumerate(heads):
        attrs = f' class="{c}"' if c else ""
        if kind is None:
            thead.append(f'<th scope="col" title="{a(t)}"{attrs}>{e(h)}</th>')
            continue
        sorted_ = i == 0  # rows start in council-name order
        attrs += f' data-type="{kind}"' + (' aria-sort="ascending"' if sorted_ else "")
        thead.append(f'<th scope="col" title="{a(t)}"{attrs}><button type="button">{e(h)}'
                     f'<span class="csc-arrow" aria-hidden="true">{"▲" if sorted_ else ""}</span></button></th>')
    body = []
    for r in frame.itertuples(index=False):
        rd = r._asdict()
        graded = isinstance(rd["grade"], str)
        # the council's name opens its profile (profiles_html.py: one <details id="council-GSS"> each)
        cells = [_cell(rd["la_name"] + _flags(rd), rd["la_name"], [rd["region"], f"{MAP_LABEL} {rd['map_code']}"],
                       header=True, href=f"#council-{rd['gss_code']}"),
                 _cell(_grade_text(rd), GRADE_RANK.get(rd["grade"]) if graded else None,
                       _ungraded_text(rd), cls="csc-text", label="Grade")]
        for m, (_, _, unit, digits) in measures.items():
            val, yr = rd[m], rd[f"{m}_year"]
            subs: list[str] = []
            if pd.notna(val):
                if int(yr) != year:
                    subs.append(_year_note(m, yr) + (STALE if rd[f"{m}_stale"] else ""))
                subs += [f"Eng {_diff(val, rd[f'{m}_england'], digits)}", f"SN {_diff(val, rd[f'{m}_sn'], digits)}"]
            cells.append(_cell(_value_text(rd, m, digits, unit), None if pd.isna(val) else round(float(val), 4), subs,
                               label=measures[m][1]))
        dirs = _dirs(rd, measures)
        cells.append(_cell(dirs or "–", None, _since(rd, measures), cls="csc-text", label=f"Since {BASE_YEAR}"))
        search = search_text(rd["la_name"], rd["region"], str(rd["la_code"]), rd["map_code"])
        body.append(f'<tr data-search="{a(search)}">' + "".join(cells) + "</tr>")
    items = "".join(f"<li><b>{e(sym)}</b> {e(text)}</li>" for sym, text in legend(measures, year, "html", iqr, notes))
    return (f'<div class="csc-lookup" id="csc-lookup">\n<style>{CSS}</style>\n'
            '<label for="csc-lookup-q">Find a council (start of any word of its name, region, DfE code or map code)</label>\n'
            '<input id="csc-lookup-q" type="search" autocomplete="off" placeholder="e.g. Leeds">\n'
            '<p class="csc-count" aria-live="polite"></p>\n'
            '<p>Beside each value: its pressure band among councils (<b>low</b> = lowest-pressure quarter to <b>high</b> = highest-pressure quarter; for spending, the spending level), or the year of an older value (<b>latest 2020</b>, no band); <b>Eng</b> its difference from England; '
            '<b>SN</b> from the median of its statistical neighbours. Select a column heading (or Tab to it and '
            'press Enter) to sort; select it again to reverse. On a phone each council is a card with every value labelled.</p>\n'
            f'<details class="csc-legend"><summary>Key to symbols and abbreviations (quartiles, marks, years): select to open or close</summary><ul>{items}</ul></details>\n'
            # Quarto must not parse this table (issue 16: it rewrote <small> and its layout)
            '<div class="csc-scroll"><table data-quarto-disable-processing="true">\n'
            '<caption>Council lookup</caption>\n'
            f"<thead><tr>{''.join(thead)}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>\n"
            f"<script>{JS}</script>\n</div>\n")


def _grade_text(rd: dict) -> str:
    """'RI 2023-09' (grade, month published), 'not graded'; a later ungraded 2026 inspection adds its mark."""
    mark = UNGRADED if pd.notna(rd.get("ungraded_date")) else ""
    if not isinstance(rd["grade"], str):
        return "not graded" + mark
    date = rd["grade_date"].strftime("%Y-%m") if pd.notna(rd["grade_date"]) else ""
    return f"{GRADE_ABBR[rd['grade']]} {date}".strip() + mark


def _ungraded_text(rd: dict) -> str:
    d = rd.get("ungraded_date")
    return f"{UNGRADED} {d.strftime('%Y-%m')} 2026 framework, ungraded" if pd.notna(d) else ""


def _value_text(rd: dict, m: str, digits: int, unit: str, bands: tuple[str, ...] = BANDS) -> str:
    """'17.2 Q3': value, its marks (as published; out of date), quartile; '–' without a value."""
    val = rd[m]
    if pd.isna(val):
        return "–"
    marks = (PUBLISHED if rd.get(f"{m}_published", False) else "") + (STALE if rd.get(f"{m}_stale", False) else "")
    band = rd.get(f"{m}_q")
    return f"{_num(val, digits, unit)}{marks}" + (f" {bands[int(band) - 1]}" if pd.notna(band) else "")


def _arrow(d: str) -> str:
    return {"up": "↑", "down": "↓", "steady": "="}[d]


def _since(rd: dict, measures) -> str:
    """'' when every change runs from BASE_YEAR; 'from 2019' when all start later (a council created
    later); else the later starts by measure ('C from 2018')."""
    froms = {m: int(rd[f"{m}_from"]) for m in measures if pd.notna(rd[f"{m}_from"])}
    late = {m: y for m, y in froms.items() if y != BASE_YEAR}
    if not late:
        return ""
    if len(set(froms.values())) == 1:
        return f"from {next(iter(late.values()))}"
    by_year: dict[int, list[str]] = {}
    for m, y in late.items():
        by_year.setdefault(y, []).append(LETTER[m])
    return "; ".join(f"{' '.join(ls)} from {y}" for y, ls in sorted(by_year.items()))


# ----------------------------------------------------------------------------------------------
# Markdown (PDF)

#: a line break inside a pipe-table cell (typst only; the table is in typst-only content)
BR = "`#linebreak()`{=typst}"


def _lines(*parts: str) -> str:
    """Markdown-escaped lines of one cell, each on its own line in the PDF."""
    return BR.join(md_text(break_long_words(p)) for p in parts if p)


def legend_markdown(measures: dict, year: int, iqr: dict | None = None, notes: list[str] | None = None) -> str:
    return "Key to symbols and abbreviations:\n\n" + "".join(
        f"- **{md_text(sym)}** {md_text(text)}\n" for sym, text in legend(measures, year, "pdf", iqr, notes))


def lookup_markdown(frame: pd.DataFrame, measures: dict[str, tuple[str, str, str, int]], year: int,
                    iqr: dict | None = None, notes: list[str] | None = None) -> str:
    """Key, then a compact pipe table: value, marks, quartile and an older value's year ('23), then
    (own line) its differences from England and neighbours."""
    heads = ["Council", "Grade"] + [spec[1] for spec in measures.values()] + [f"Since {BASE_YEAR}"]
    # relative column widths (pandoc takes them from the dashes): council, grade, measures, since
    widths = [20, 8] + [11 if m != SPEND[0] else 13 for m in measures] + [16]
    lines = ["| " + " | ".join(md_text(h) for h in heads) + " |",
             "|:" + "-" * widths[0] + "|:" + "-" * widths[1] + "|"
             + "|".join("-" * w + ":" for w in widths[2:-1]) + "|:" + "-" * widths[-1] + "|"]
    for r in frame.itertuples(index=False):
        rd = r._asdict()
        g = GRADE_ABBR.get(rd["grade"], "–") if isinstance(rd["grade"], str) else "–"
        date = rd["grade_date"].strftime("%Y-%m") if pd.notna(rd["grade_date"]) else ""
        ug = rd.get("ungraded_date")
        cells = [_lines(rd["la_name"] + _flags(rd), f"{MAP_LABEL} {rd['map_code']}"),
                 _lines(g, date, f"{UNGRADED}{ug.strftime('%Y-%m')}" if pd.notna(ug) else "")]
        for m, (_, _, unit, digits) in measures.items():
            val = rd[m]
            if pd.isna(val):
                cells.append("–")
                continue
            yr = int(rd[f"{m}_year"])
            first = _value_text(rd, m, digits, unit, BANDS_PDF) + (f" '{yr % 100:02d}" if yr != year else "")
            cells.append(_lines(first, f"{_diff(val, rd[f'{m}_england'], digits)}/{_diff(val, rd[f'{m}_sn'], digits)}"))
        dirs = _dirs(rd, measures)
        cells.append(_lines(dirs, _since(rd, measures)) if dirs else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return legend_markdown(measures, year, iqr, notes) + "\n" + "\n".join(lines) + "\n"


def missing_notes(panel: pd.DataFrame, frame: pd.DataFrame, measures: dict, year: int) -> list[str]:
    """One sentence per reason why councils of the lookup have no value in ``year``: the councils,
    the measures and the reason (with its source when documented in
    ``data/reference/missing_reasons.csv``; generic reasons are derived from the panel)."""
    miss = missing_years(panel, list(measures), councils=list(frame["la_code"]))
    miss = miss[miss["year"] == year]
    names = frame.set_index("la_code")["la_name"]
    order = list(measures)
    groups: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for (la, reason, source), g in miss.groupby(["la_code", "reason", "source"], sort=True):
        ms = tuple(sorted(set(g["measure"]), key=order.index))
        groups.setdefault((reason, source, ms), []).append(names[la])
    out = []
    for (reason, source, ms), councils in sorted(groups.items(), key=lambda kv: (kv[0][0], sorted(kv[1]))):
        labels = ", ".join(measures[m][1].replace(" %", "").replace(" £", "").lower() for m in ms)
        cited = "" if source.startswith("derived") else f" (source: {source})"
        out.append(f"{', '.join(sorted(councils))} ({labels}): {reason}{cited}")
    return out


def iqr_by_measure(panel: pd.DataFrame, measures: dict, year: int) -> dict[str, tuple[float, float]]:
    """{measure: (25th, 75th percentile)} of the councils' values in ``year`` (measures with values)."""
    out = {}
    for m in measures:
        if council_values(panel, m, year).size:
            q1, _, q3 = quartile_cuts(panel, m, year)
            out[m] = (q1, q3)
    return out


def write_raw() -> None:
    """``lookup-raw.md``: the lookup fragment, then the downloads fragment (``downloads.html``,
    written by :mod:`.downloads`) if built, in one raw HTML block."""
    extra = TABLES / "downloads.html"
    body = (TABLES / "lookup.html").read_text(encoding="utf-8") + (extra.read_text(encoding="utf-8") if extra.exists() else "")
    # the raw block opts out of Quarto's HTML table processing in every pass (Quarto >= 1.5)
    (TABLES / "lookup-raw.md").write_text("```{=html}\n" + RAW_TABLE_OPT_OUT + "\n" + body + "```\n", encoding="utf-8")


def write_lookup(panel: pd.DataFrame, inspections: pd.DataFrame,
                 neighbours: pd.DataFrame | None = None) -> dict[str, str]:
    """Write the three lookup files; return {output name: producing function}."""
    neighbours = load_neighbours() if neighbours is None else neighbours
    year = int(panel["year"].max())
    frame = lookup_frame(panel, inspections, neighbours)
    measures = _measures(panel)
    TABLES.mkdir(parents=True, exist_ok=True)
    iqr = iqr_by_measure(panel, measures, year)
    notes = missing_notes(panel, frame, measures, year)
    fragment = lookup_html(frame, measures, year, iqr, notes)
    (TABLES / "lookup.html").write_text(fragment, encoding="utf-8")
    write_raw()
    (TABLES / "tbl-lookup.md").write_text(lookup_markdown(frame, measures, year, iqr, notes), encoding="utf-8")
    return {"tbl-lookup": "analysis/outputs/lookup.py::write_lookup"}
