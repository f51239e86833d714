"""Council profiles: one per council alive in the latest census (data only; no formatting).

For each council: its 2015-2025 series of caseload, vacancy, agency and turnover rates and
spending per child, beside England and the median of its statistical neighbours; the named
neighbours with their values; its inspection history with the sub-judgements; its position
among all councils in the latest year with a value, in polarity-aware bands; and the reason for
every missing year. :func:`build_profiles` returns an immutable :class:`Profiles` of tidy frames;
``profiles_html.py`` and ``profiles_typst.py`` write them for the two formats.

Missing-year reasons, first that applies: the council has no row that year (not yet formed in
this shape); the measure was not collected from any council that year; a reason recorded in
``data/reference/missing_reasons.csv`` (:func:`load_missing_reasons`); otherwise "no return in
the data".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import paths
from .lookup import MIN_NEIGHBOURS, NEIGHBOUR_GROUPING, england_value, load_neighbours
from .maps import latest_codes

from .profile_escape import escape_html, escape_typst  # noqa: F401 (re-exported)

FIRST_YEAR = 2015
#: measure: (label, short label, unit, digits, polarity). Polarity "pressure": a higher value is
#: more workforce pressure; None: no end is pressure (spending may reflect need or choice).
MEASURES = {
    "caseload": ("Caseload (cases per FTE social worker)", "Caseload", "", 1, "pressure"),
    "vacancy_rate": ("Vacancy rate (%)", "Vacancy", "%", 1, "pressure"),
    "agency_rate": ("Agency worker rate (%)", "Agency", "%", 1, "pressure"),
    "turnover_rate": ("Turnover rate (%)", "Turnover", "%", 1, "pressure"),
    "spend_total_pc": ("Spending per child (£, cash terms)", "Spend", "£", 0, None),
}
GRADES = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
SUB_JUDGEMENTS = {"leaders_num": "Leaders", "help_protection_num": "Help and protection",
                  "in_care_num": "In care"}
NO_ROW = "council not formed in this shape yet (no census row that year)"
NOT_COLLECTED = "not collected from any council that year"
NO_RETURN = "no return in the data"
MISSING_REASONS = paths.ROOT / "data" / "reference" / "missing_reasons.csv"


@dataclass(frozen=True)
class Profiles:
    """Tidy frames of every profile (rows sorted; numbers unformatted).

    ``councils``: la_code, gss_code, la_name, region, map_code, small_la, joint_return.
    ``series``: la_code, measure, year, value, england, sn_median, reason (reason set where value
    is missing). ``neighbours``: la_code, rank, neighbour_la_code, neighbour_gss, neighbour_name
    and one column per measure (the neighbour's value in ``year``, the council's latest year for
    that measure, column ``<measure>_year``). ``position``: la_code, measure, year, value, rank,
    n, percentile, quarter, band. ``inspections``: la_code, published, start, framework, type,
    overall and the sub-judgements (labels).
    """

    year: int
    measures: tuple[str, ...]
    councils: pd.DataFrame
    series: pd.DataFrame
    neighbours: pd.DataFrame
    position: pd.DataFrame
    inspections: pd.DataFrame


def load_missing_reasons(path=MISSING_REASONS) -> pd.DataFrame:
    """The recorded reasons for missing years, one row per (la_code, year, measure); empty if the
    file does not exist. ``measure`` "" means every measure of that council-year.

    Two layouts are read: ``la_code, year, reason`` (optionally ``measure``), and the reference
    table's ``la_code, first_year, last_year, measures`` (``;``-separated), ``reason``, ``source``.
    Raises ``ValueError`` naming the file, column, value and line for a row without la_code, a
    year or a reason, or a year that is not a number.
    """
    cols = ["la_code", "year", "measure", "reason"]
    if not path.is_file():
        return pd.DataFrame(columns=cols)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ranged = "first_year" in df.columns
    need = ("la_code", "first_year", "last_year", "reason") if ranged else ("la_code", "year", "reason")
    for c in need:
        if c not in df.columns:
            raise ValueError(f"{path}: no column {c!r} (columns {list(df.columns)})")
        bad = df.index[df[c].str.strip() == ""]
        if len(bad):
            raise ValueError(f"{path}: column {c!r} is empty on line {int(bad[0]) + 2}")
    for c in need[1:-1]:
        years = pd.to_numeric(df[c], errors="coerce")
        if years.isna().any():
            i = int(years.index[years.isna()][0])
            raise ValueError(f"{path}: column {c!r} has {df.loc[i, c]!r} on line {i + 2}, not a year")
    if not ranged:
        if "measure" not in df.columns:
            df["measure"] = ""
        return df.assign(year=df["year"].astype(int))[cols]
    rows = [{"la_code": r.la_code, "year": y, "measure": m.strip(), "reason": r.reason}
            for r in df.itertuples(index=False)
            for y in range(int(r.first_year), int(r.last_year) + 1)
            for m in (str(getattr(r, "measures", "")).split(";") or [""])]
    return pd.DataFrame(rows, columns=cols)


def band(quarter: int, polarity: str | None) -> str:
    """Words for a quarter (1 lowest .. 4 highest) that say which end is pressure.

    Notes
    -----
    Quarters are cut at the 25th, 50th and 75th percentiles of the councils' values that year
    (numpy's linear rule, as in the lookup); a value on a cut goes to the lower quarter.
    """
    words = {1: "lowest quarter", 2: "second quarter", 3: "third quarter", 4: "highest quarter"}[quarter]
    if polarity == "pressure":
        return words + {1: " (least pressure)", 2: " (below the middle)", 3: " (above the middle)",
                        4: " (most pressure)"}[quarter]
    return words + {1: " (lowest spending)", 2: " (below the middle)", 3: " (above the middle)",
                    4: " (highest spending)"}[quarter]


def _one_per_council(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of one year with the joint Kingston + Richmond return counted once (as the lookup)."""
    return rows[~(rows["joint_return"].astype(bool) & (rows["la_code"] == "318"))]


def build_profiles(panel: pd.DataFrame, inspections: pd.DataFrame,
                   neighbours: pd.DataFrame | None = None,
                   reasons: pd.DataFrame | None = None) -> Profiles:
    """Every profile's data; see :class:`Profiles`.

    Notes
    -----
    England: scale x sum(numerator) / sum(denominator) over councils (``lookup.england_value``).
    Neighbour median: median of the neighbours' values that year if at least ``MIN_NEIGHBOURS``
    have one (as the lookup). Rank: 1 = lowest value among n councils that year; percentile =
    100 (rank - 1) / (n - 1).
    """
    neighbours = load_neighbours() if neighbours is None else neighbours
    reasons = load_missing_reasons() if reasons is None else reasons
    last = int(panel["year"].max())
    measures = tuple(m for m in MEASURES if m in panel.columns)
    alive = panel.loc[panel["year"] == last].set_index("la_code")
    councils = alive[["gss_code", "la_name", "region"]].copy()
    councils["map_code"] = latest_codes(panel).reindex(councils.index)
    councils["small_la"] = alive["small_la"].astype(bool)
    councils["joint_return"] = alive["joint_return"].astype(bool)
    councils = councils.reset_index().sort_values(["la_name", "la_code"], kind="stable").reset_index(drop=True)

    years = list(range(FIRST_YEAR, last + 1))
    by = panel.set_index(["la_code", "year"])
    sn = neighbours[neighbours["grouping"] == NEIGHBOUR_GROUPING].sort_values(["la_code", "neighbour_rank"])
    sn_lists = sn.groupby("la_code")["neighbour_la_code"].apply(list).to_dict()
    collected = {m: set(panel.dropna(subset=[m])["year"].astype(int)) for m in measures}
    with np.errstate(invalid="ignore", divide="ignore"):  # a year without the counts: NaN
        england = {(m, y): england_value(panel[panel["year"] == y], m) if y in collected[m] else np.nan
                   for m in measures for y in years}
    recorded = {(str(r.la_code), int(r.year), str(r.measure)): str(r.reason) for r in reasons.itertuples()}

    def reason(la: str, m: str, y: int, present: set) -> str:
        if (la, y) not in present:
            return NO_ROW
        if y not in collected[m]:
            return NOT_COLLECTED
        return recorded.get((la, y, m)) or recorded.get((la, y, "")) or NO_RETURN

    grid = pd.MultiIndex.from_product([councils["la_code"], measures, years], names=["la_code", "measure", "year"])
    long = panel.melt(id_vars=["la_code", "year"], value_vars=list(measures), var_name="measure")
    own = long.set_index(["la_code", "measure", "year"])["value"]
    pairs = sn[["la_code", "neighbour_la_code"]].merge(
        long.rename(columns={"la_code": "neighbour_la_code"}), on="neighbour_la_code").dropna(subset=["value"])
    med = pairs.groupby(["la_code", "measure", "year"])["value"].agg(["median", "count"])
    med = med["median"].where(med["count"] >= MIN_NEIGHBOURS)
    series = pd.DataFrame(index=grid).reset_index()
    series["value"] = own.reindex(grid).to_numpy(float)
    series["england"] = [england[(m, y)] for m, y in zip(series["measure"], series["year"])]
    series["sn_median"] = med.reindex(grid).to_numpy(float)
    rows_present = set(zip(panel["la_code"], panel["year"].astype(int)))
    series["reason"] = [("" if pd.notna(v) else reason(la, m, y, rows_present))
                        for la, m, y, v in zip(series["la_code"], series["measure"], series["year"], series["value"])]

    pos = []
    year_values: dict[tuple[str, int], np.ndarray] = {}  # (measure, year) -> every council's value, computed once

    def values_in(m: str, y: int) -> np.ndarray:
        if (m, y) not in year_values:
            year_values[m, y] = _one_per_council(panel[panel["year"] == y]).dropna(subset=[m])[m].to_numpy(float)
        return year_values[m, y]

    for m in measures:
        has = series[(series["measure"] == m) & series["value"].notna()]
        latest = has.sort_values("year").groupby("la_code").tail(1).set_index("la_code")
        for la, r in latest.iterrows():
            y = int(r["year"])
            vals = values_in(m, y)
            cuts = np.percentile(vals, [25, 50, 75])
            q = 1 + int(sum(r["value"] > c for c in cuts))
            rank = 1 + int((vals < r["value"]).sum())
            n = len(vals)
            pos.append({"la_code": la, "measure": m, "year": y, "value": float(r["value"]), "rank": rank, "n": n,
                        "percentile": 100.0 * (rank - 1) / (n - 1) if n > 1 else 50.0,
                        "quarter": q, "band": band(q, MEASURES[m][4])})
    position = pd.DataFrame(pos).sort_values(["la_code", "measure"], kind="stable").reset_index(drop=True)

    names = alive["la_name"].to_dict()
    gss = alive["gss_code"].to_dict()
    latest_year = position.set_index(["la_code", "measure"])["year"]
    nrows = []
    for la in councils["la_code"]:
        for rank, n in enumerate(sn_lists.get(la, []), start=1):
            row = {"la_code": la, "rank": rank, "neighbour_la_code": n, "neighbour_gss": gss.get(n, ""),
                   "neighbour_name": names.get(n) or str(panel.loc[panel["la_code"] == n, "la_name"].iloc[-1])
                   if (panel["la_code"] == n).any() else n}
            for m in measures:
                y = latest_year.get((la, m), last)
                row[m] = float(by[m].get((n, int(y)), np.nan))
                row[f"{m}_year"] = int(y)
            nrows.append(row)
    nb_frame = pd.DataFrame(nrows)

    g = inspections[inspections["la_code"].isin(set(councils["la_code"]))].copy()
    g = g.sort_values(["la_code", "publication_date", "start_date"], kind="stable")
    insp = pd.DataFrame({"la_code": g["la_code"], "published": g["publication_date"].astype(str),
                         "start": g["start_date"].astype(str), "framework": g["framework"].astype(str),
                         "type": g["inspection_type"].fillna("").astype(str),
                         "overall": g["overall_num"].map(GRADES).fillna("")})
    for c, label in SUB_JUDGEMENTS.items():
        insp[label] = g[c].map(GRADES).fillna("")
    return Profiles(last, measures, councils, series, nb_frame, position, insp.reset_index(drop=True))


def write_profiles(panel: pd.DataFrame, inspections: pd.DataFrame) -> dict[str, str]:
    """Write ``profiles-raw.md`` (HTML fragment in a raw block) and ``profiles-typst.md`` (the PDF
    annex in a raw typst block) to the tables folder; return {output name: producing function}."""
    from .common import TABLES
    from .profiles_html import profiles_html
    from .profiles_typst import profiles_typst
    p = build_profiles(panel, inspections)
    TABLES.mkdir(parents=True, exist_ok=True)
    (TABLES / "profiles-raw.md").write_text("```{=html}\n" + profiles_html(p) + "```\n", encoding="utf-8")
    (TABLES / "profiles-typst.md").write_text("```{=typst}\n" + profiles_typst(p) + "```\n", encoding="utf-8")
    return {"profiles": "analysis/outputs/profiles.py::write_profiles"}
