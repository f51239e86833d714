"""Downloadable data: the council lookup, the council series and every report table as CSV, each
with a dictionary CSV (``column, meaning, unit``).

Written to ``report/outputs/downloads/`` (shipped in the release by ``analysis/release.py``) and
embedded in the HTML report as ``data:text/csv`` links (the HTML stays one self-contained file),
appended to the lookup's raw-HTML include ``report/outputs/tables/lookup-raw.md``.

Every text cell goes through :func:`escape.csv_cell` (a value starting with ``= + - @`` is not run
as a spreadsheet formula); link text and attributes through :mod:`escape`.
"""

from __future__ import annotations

import base64
import io
import re

import pandas as pd

from .common import OUT, TABLES
from .escape import csv_cell, html_attr, html_href, html_text
from . import lookup
from .missing import missing_years

DOWNLOADS = OUT / "downloads"
DICT_COLUMNS = ["column", "meaning", "unit"]
#: a markdown line break inside a cell (lookup.BR) and code spans / emphasis markers, removed
_BR_RE = re.compile(r"`#linebreak\(\)`\{=typst\}")


def _csv(df: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8, LF line ends, no index); text cells formula-safe."""
    safe = df.copy()
    for c in safe.columns:
        if safe[c].dtype == object or pd.api.types.is_string_dtype(safe[c]):
            safe[c] = [csv_cell(v) if isinstance(v, str) else v for v in safe[c]]
    buf = io.StringIO()
    safe.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def lookup_table(panel: pd.DataFrame, inspections: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lookup as a tidy CSV table, its dictionary): one row per council alive in the latest census."""
    frame = lookup.lookup_frame(panel, inspections, lookup.load_neighbours())
    measures = lookup._measures(panel)
    last = int(panel["year"].max())
    out = frame[["la_code", "la_name", "map_code", "region"]].copy()
    out["grade"] = frame["grade"]
    out["grade_published"] = frame["grade_date"].dt.strftime("%Y-%m-%d")
    rows = [("la_code", "DfE three-digit local authority code", "code"),
            ("la_name", "council name as DfE publishes it", "text"),
            ("map_code", "three-letter code of the council's hexagon on the report's maps", "code"),
            ("region", "region (DfE)", "text"),
            ("grade", "latest Ofsted overall effectiveness grade (blank: never graded)", "grade"),
            ("grade_published", "publication date of the inspection report that gave the grade", "date")]
    for m, (label, _, unit, _) in measures.items():
        u = _unit_name(unit)
        pol = lookup.POLARITY[m]
        labels = lookup.BAND_LABELS[pol]
        out[m] = frame[m]
        out[f"{m}_year"] = frame[f"{m}_year"].astype("Int64")
        out[f"{m}_england"] = frame[f"{m}_england"].round(4)
        out[f"{m}_sn_median"] = frame[f"{m}_sn"].round(4)
        out[f"{m}_band"] = [labels[int(q) - 1] if pd.notna(q) else "" for q in frame[f"{m}_q"]]
        out[f"{m}_change"] = frame[f"{m}_change"].round(4)
        out[f"{m}_change_from"] = frame[f"{m}_from"].astype("Int64")
        rows += [(m, f"{label}: latest published value", u),
                 (f"{m}_year", f"year of that value ({'financial year ending March' if m == lookup.SPEND[0] else 'census at 30 September'})", "year"),
                 (f"{m}_england", "England value in the same year (from all councils' counts)", u),
                 (f"{m}_sn_median", f"median of the council's statistical neighbours ({lookup.NEIGHBOUR_GROUPING}) "
                                    f"in the same year; blank with fewer than {lookup.MIN_NEIGHBOURS} values", u),
                 (f"{m}_band", f"quarter among all councils in {last} by {pol} (blank: value older than {last}); "
                               + ("higher value = more workforce pressure" if pol == "pressure" else
                                  "spending level, not a pressure measure"), "band"),
                 (f"{m}_change", f"latest value minus the first from {lookup.BASE_YEAR} on", u),
                 (f"{m}_change_from", "year of that first value", "year")]
    return out, pd.DataFrame(rows, columns=DICT_COLUMNS)


def _unit_name(unit: str) -> str:
    return {"%": "percent", "£": "pounds per child aged 0-17, cash terms", "": "cases per FTE"}[unit]


def council_series(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(council x year, one column per measure, for every council alive in the latest census;
    its dictionary). Why a value is missing: :func:`missing_values`."""
    measures = lookup._measures(panel)
    alive = sorted(panel.loc[panel["year"] == panel["year"].max(), "la_code"].unique())
    out = panel.loc[panel["la_code"].isin(alive), ["la_code", "year", *measures]].copy()
    out[list(measures)] = out[list(measures)].round(4)
    out = out.sort_values(["la_code", "year"], kind="stable").reset_index(drop=True)
    rows = [("la_code", "DfE three-digit local authority code (names: lookup.csv)", "code"),
            ("year", "census year (30 September); spending: financial year ending in March of that year", "year")]
    rows += [(m, f"{label}: the council's published value (blank: missing, reason in missing-values.csv)",
              _unit_name(unit)) for m, (label, _, unit, _) in measures.items()]
    return out, pd.DataFrame(rows, columns=DICT_COLUMNS)


def missing_values(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every missing council x year x measure of the series with its reason and source; dictionary)."""
    alive = sorted(panel.loc[panel["year"] == panel["year"].max(), "la_code"].unique())
    out = missing_years(panel, list(lookup._measures(panel)), councils=alive)
    dic = pd.DataFrame([("la_code", "DfE three-digit local authority code", "code"),
                        ("measure", "column of council-series.csv without a value", "text"),
                        ("year", "year of council-series.csv without a value", "year"),
                        ("reason", "why the value is missing", "text"),
                        ("source", "citation of a documented reason (data/reference/missing_reasons.csv), or "
                                   "\u201cderived from la_year_panel.csv\u201d", "text")], columns=DICT_COLUMNS)
    return out, dic


def _md_cell(text: str) -> str:
    text = _BR_RE.sub(" ", text)
    text = re.sub(r"(?<!\\)`+", "", text)
    text = re.sub(r"(?<!\\)\*\*", "", text)
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def markdown_tables(md: str) -> list[pd.DataFrame]:
    """The pipe tables of a generated markdown file, cells as printed (escapes removed)."""
    out, block = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2:
            cells = [[_md_cell(c) for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]] for row in block]
            head, body = cells[0], [r for r in cells[2:]]
            out.append(pd.DataFrame(body, columns=_unique(head)))
        block = []
    return out


def _unique(cols: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        c = c or "row"
        seen[c] = seen.get(c, 0) + 1
        out.append(c if seen[c] == 1 else f"{c} ({seen[c]})")
    return out


def _unit(header: str) -> str:
    m = re.search(r"\(([^()]*)\)\s*$", header)
    return m.group(1) if m else "as printed"


def report_tables() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """{table name: (table as printed, dictionary)} for every generated report table but the lookup
    (which has its own tidy CSV)."""
    out = {}
    for path in sorted(TABLES.glob("tbl-*.md")):
        if path.stem == "tbl-lookup":
            continue
        for i, df in enumerate(markdown_tables(path.read_text(encoding="utf-8"))):
            name = path.stem + ("" if i == 0 else f"-{i + 1}")
            dic = pd.DataFrame([(c, f"column \u201c{c}\u201d of report table {path.stem}, as printed", _unit(c))
                                for c in df.columns], columns=DICT_COLUMNS)
            out[name] = (df, dic)
    return out


def write_downloads(panel: pd.DataFrame, inspections: pd.DataFrame) -> dict[str, bytes]:
    """Write every CSV and its dictionary under ``report/outputs/downloads/`` and append the
    download links to the lookup's raw-HTML include; return {file name: bytes}."""
    files: dict[str, bytes] = {}
    pairs: list[tuple[str, str]] = []

    def add(name: str, df: pd.DataFrame, dic: pd.DataFrame) -> None:
        files[f"{name}.csv"], files[f"{name}-dictionary.csv"] = _csv(df), _csv(dic)
        pairs.append((f"{name}.csv", f"{name}-dictionary.csv"))

    add("lookup", *lookup_table(panel, inspections))
    add("council-series", *council_series(panel))
    add("missing-values", *missing_values(panel))
    for name, (df, dic) in report_tables().items():
        add(f"tables/{name}", df, dic)
    if DOWNLOADS.exists():
        for old in sorted(DOWNLOADS.rglob("*.csv")):
            if str(old.relative_to(DOWNLOADS)) not in files:
                old.unlink()
    for name, data in files.items():
        (DOWNLOADS / name).parent.mkdir(parents=True, exist_ok=True)
        (DOWNLOADS / name).write_bytes(data)
    (TABLES / "downloads.html").write_text(downloads_html(files, pairs), encoding="utf-8")
    lookup.write_raw()
    return files


def download_name(name: str) -> str:
    """File name a browser saves a download under ("tables/tbl-x.csv" -> "tables-tbl-x.csv")."""
    return name.replace("/", "-")


def _link(name: str, data: bytes, text: str, dictionary: str | None = None) -> str:
    uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    dic = f' data-dictionary="{html_attr(download_name(dictionary))}"' if dictionary else ""
    return (f'<a download="{html_attr(download_name(name))}" type="text/csv"{dic} href="{html_href(uri)}">'
            f"{html_text(text)}</a>")


def downloads_html(files: dict[str, bytes], pairs: list[tuple[str, str]]) -> str:
    """A list of download links (data: URIs), each CSV beside its dictionary (``pairs``: (CSV,
    dictionary) names; the CSV's link names its dictionary in ``data-dictionary``)."""
    items = []
    labels = {"lookup.csv": "Council lookup (one row per council; bands, England and neighbour values)",
              "council-series.csv": "Council series: every council and year, one column per measure",
              "missing-values.csv": "Missing values of the council series, each with its reason"}
    for name, dic in pairs:
        label = labels.get(name, f"Report table {name.split('/')[-1][:-4]}")
        kb = max(1, round(len(files[name]) / 1024))
        items.append(f"<li>{_link(name, files[name], label, dic)} ({kb} kB CSV) \u00b7 "
                     f"{_link(dic, files[dic], 'dictionary')}</li>")
    return ('<details class="csc-downloads" id="csc-downloads"><summary>Download the data as CSV (lookup, council '
            'series, every table), each with a dictionary of its columns: select to open</summary>\n<ul>'
            + "\n".join(items) + "</ul></details>\n")
