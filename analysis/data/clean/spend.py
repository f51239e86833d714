"""Children's services spending (section 251 outturn) and published looked-after rates from
DfE's Local Authority Interactive Tool (LAIT) extract.

The extract (``bds_long_0.parquet``) is LAIT's whole "big data set" in long format: one row per
measure (``Short Desc``), period (``Years``) and area (``LA Number``: DfE 3-digit LA code; 970
England; 980-990 regions). ``Values`` is text; ``-`` means no value (not "rounds to zero" as in
the SFR convention), so this module parses it itself and logs every ``-``.

Rows are named by their 1-based row in the parquet file. Only the aggregate areas of
:data:`AGGREGATE_AREAS` (England and the regions, each with its LAIT name) are dropped; every
other area must be a register LA whose name agrees (``LA and Regions``), so an unknown number
(999, 975) or a number swapped for another LA's is refused, never dropped or moved. A period
after the vintage's last year, a repeated (measure, period, area) and a value outside its
plausibility bound (``data/reference/plausibility.csv``) are refused.

Two vintages are registered (``lait_2026``: 2016-17 to 2024-25; ``lait_2025``: 2015-16 to
2023-24, the only source of 2015-16). Where both hold a measure for the same year and LA they
must agree exactly (:func:`check_vintages`); the newer vintage supplies every year it holds.

Timing: financial year (Y-1)/Y runs 1 April Y-1 to 31 March Y and is matched to census year Y
(workforce snapshot 30 September Y), i.e. spending ends six months before the census.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError, ImplausibleValueError, SchemaError, SuppressionCodeError, UnknownAreaError
from ...paths import REFERENCE
from ..geography import check_identity, check_known_la
from ..sources import raw_name
from .bounds import bound_for
from .parse import SuppressionLog, check_period, check_unique, require_columns

#: LAIT measure -> panel column (gross £, s251 outturn ``total_expenditure``)
FINANCE = {
    "C&YPExpenditure": "spend_total",           # 5.0.2 total children's and young people's services (excl. CERA)
    "SafeguardingFinance": "spend_safeguarding",  # 3.3.4 total safeguarding (social work, commissioning, LSCB)
    "FamilySupportFinance": "spend_family_support",  # 3.4.6 total family support services
    "TotalLACFinance": "spend_cla",             # 3.1.11 total children looked after
}
SPEND_COLS = list(FINANCE.values())
#: published rate of children looked after per 10,000 children aged 0-17 at 31 March
LAC_RATE = "LAC"
ENGLAND = 970
#: the only areas that are not LAs: England and the regions, as LAIT names them
AGGREGATE_AREAS = {970: "England", 980: "North East", 981: "North West", 982: "Yorkshire and the Humber",
                   983: "East Midlands", 984: "West Midlands", 985: "East of England", 986: "London",
                   987: "London (Inner)", 988: "London (Outer)", 989: "South East", 990: "South West"}
LAIT_COLUMNS = ["Short Desc", "Years", "LA and Regions", "Values", "LA Number"]
MISSING = "-"
_FY = re.compile(r"^(\d{4})-(\d{2}) \(OT\)$")
_YEAR = re.compile(r"^(\d{4})$")
#: minimum LA rows with a number per financial year (152 LAs; real gaps are a handful)
MIN_LAS_PER_YEAR = 140


def read_lait(path: Path, measures: list[str], source: str | None = None) -> pd.DataFrame:
    """Rows of ``measures`` from a LAIT extract: measure, year, area code, name, value text, row.

    ``year`` is the calendar year the period ends in: ``2016-17 (OT)`` -> 2017 (financial year
    ending 31 March 2017); ``2018`` -> 2018 (31 March 2018). ``row`` is the 1-based row of the
    parquet file, for error messages (also the index, named ``row``). ``source`` (the source id)
    bounds the years by the registered publication.

    Raises
    ------
    SchemaError
        If the file is not a readable parquet, lacks a column, lacks a measure, or a period
        cannot be parsed.
    DataError
        If ``LA Number`` is blank or not a whole number, a year is beyond the publication, or a
        (measure, period, area) repeats.
    """
    name = raw_name(path)
    try:
        raw = pd.read_parquet(path, columns=LAIT_COLUMNS)
    except (OSError, ValueError, KeyError) as exc:  # pyarrow errors subclass these
        raise SchemaError(f"{name}: cannot be read as the LAIT parquet extract ({exc})") from exc
    require_columns(raw, LAIT_COLUMNS, path, header="the parquet schema")
    raw = raw.reset_index(drop=True)
    raw["row"] = np.arange(1, len(raw) + 1)
    df = raw[raw["Short Desc"].isin(measures)].copy()
    df.index = pd.Index(df["row"].to_numpy(), name="row")
    absent = [m for m in measures if m not in set(df["Short Desc"])]
    if absent:
        raise SchemaError(f"{name}: column 'Short Desc' has no rows for measure(s) {absent}")
    years = []
    for period, row in zip(df["Years"].astype(str), df["row"]):
        m = _FY.match(period) or _YEAR.match(period)
        if m is None or (m.re is _FY and (int(m.group(1)) + 1) % 100 != int(m.group(2))):
            raise SchemaError(f"{name}: column 'Years' has the unparseable period {period!r} (row {row})")
        years.append(int(m.group(1)) + (1 if m.re is _FY else 0))
    df["year"] = years
    number = pd.to_numeric(df["LA Number"], errors="coerce")
    odd = number.isna() | (number != number.round())
    if odd.any():
        i = odd[odd].index[0]
        what = "blank" if pd.isna(df.at[i, "LA Number"]) else f"{df.at[i, 'LA Number']!r}, not a whole number"
        raise UnknownAreaError(f"{name}: column 'LA Number' is {what} (row {i}, measure "
                               f"{df.at[i, 'Short Desc']!r}); every row must name one area")
    df["area"] = number.astype(int)
    if source is not None:
        check_period(df["year"], source, path, "Years", df["Years"])
    check_unique(df, ["Short Desc", "Years", "LA Number"], path, "LAIT rows")
    df = df.rename(columns={"Short Desc": "measure", "LA and Regions": "area_name", "Values": "text"})
    return df[["measure", "year", "area", "area_name", "text", "row"]]


def parse_values(df: pd.DataFrame, path: Path, source: str, log: SuppressionLog, scope: str,
                 level: str = "la") -> pd.Series:
    """LAIT value text -> float: ``-`` is missing (logged); anything else non-numeric, or outside
    the measure's plausibility bound, raises, naming file, measure, value and row."""
    text = df["text"].astype("string").str.strip()
    num = pd.to_numeric(text, errors="coerce")
    bad = text.isna() | (num.isna() & (text != MISSING))
    if bad.any():
        i = bad[bad].index[0]
        shown = "a blank" if pd.isna(text[i]) else f"the value {text[i]!r}"
        raise SuppressionCodeError(
            f"{raw_name(path)}: column 'Values' of measure {df.at[i, 'measure']!r} has {shown} "
            f"(row {df.at[i, 'row']}, area {df.at[i, 'area']}); LAIT uses only numbers and '-'.")
    for measure, part in num.groupby(df["measure"]):
        bound = bound_for(source, measure, level)
        implausible = part.notna() & ((part < bound.low) | (part > bound.high) | ~np.isfinite(part))
        if implausible.any():
            i = implausible[implausible].index[0]
            raise ImplausibleValueError(
                f"{raw_name(path)}: column 'Values' of measure {measure!r} has the implausible value {text[i]!r} "
                f"(row {df.at[i, 'row']}, area {df.at[i, 'area']}); the plausible range is {bound.describe()} "
                f"(data/reference/plausibility.csv)")
    for measure, n in df.loc[text == MISSING, "measure"].value_counts().sort_index().items():
        log.add(source, measure, MISSING, n, scope)
    return num.astype(float)


def check_vintages(frames: dict[str, pd.DataFrame], paths: dict[str, Path],
                   years: set[int] | None = None) -> int:
    """Require two LAIT vintages to hold identical text for every (measure, year, area) both have.

    Parameters
    ----------
    frames : ``{source id: read_lait frame}`` (exactly two).
    years : restrict the comparison to these years (default: every common year).

    Returns
    -------
    int : number of cells compared.

    Raises
    ------
    DataError
        Naming both files and the first differing measure, year, area and values.
    """
    (a_id, a), (b_id, b) = frames.items()
    key = ["measure", "year", "area"]
    both = a.merge(b, on=key, suffixes=("_a", "_b"), validate="1:1")
    if years is not None:
        both = both[both["year"].isin(years)]
    diff = both[both["text_a"].str.strip() != both["text_b"].str.strip()]
    if len(diff):
        r = diff.iloc[0]
        raise DataError(
            f"LAIT vintages disagree on {len(diff)} of {len(both)} overlapping cells, e.g. measure "
            f"{r['measure']!r} year {r['year']} area {r['area']}: {r['text_a']!r} in {raw_name(paths[a_id])} "
            f"(column 'Values', row {r['row_a']}) vs {r['text_b']!r} in {raw_name(paths[b_id])} (row {r['row_b']}). A revision "
            f"between vintages must be resolved deliberately, not silently overwritten.")
    return len(both)


def _combined(paths: dict[str, Path], measures: list[str], compare_years: set[int] | None,
              newest: str = "lait_2026", oldest: str = "lait_2025") -> pd.DataFrame:
    frames = {sid: read_lait(paths[sid], measures, sid) for sid in (newest, oldest)}
    for sid, f in frames.items():
        check_areas(f, paths[sid])
        lea = ~f["area"].isin(list(AGGREGATE_AREAS))
        parse_values(f[lea], paths[sid], sid, SuppressionLog(), "LA rows")  # refuse bad text before comparing
        parse_values(f[f["area"] == ENGLAND], paths[sid], sid, SuppressionLog(), "England row", level="england")
    check_vintages(frames, paths, compare_years)
    new, old = frames[newest].assign(source=newest), frames[oldest].assign(source=oldest)
    old = old[~old["year"].isin(set(new["year"]))]
    return pd.concat([new, old], ignore_index=True)


def check_areas(df: pd.DataFrame, path: Path | str) -> None:
    """Every area is an aggregate of :data:`AGGREGATE_AREAS` under its own name, or a register
    LA whose LAIT name agrees (``LA and Regions``); raises naming file, column, value and row."""
    agg = df["area"].isin(list(AGGREGATE_AREAS))
    wrong = agg & (df["area_name"] != df["area"].map(AGGREGATE_AREAS))
    if wrong.any():
        i = wrong[wrong].index[0]
        raise UnknownAreaError(f"{raw_name(path)}: row {i}: 'LA Number' {df.at[i, 'area']} is "
                               f"{AGGREGATE_AREAS[df.at[i, 'area']]!r} but 'LA and Regions' says {df.at[i, 'area_name']!r}")
    la = df[~agg].assign(la_code=lambda d: d["area"].map(lambda v: f"{v:03d}"))
    check_known_la(la["la_code"], path, "LA Number")
    firsts = la.drop_duplicates(["la_code", "area_name"])
    check_identity(firsts.rename(columns={"la_code": "LA Number", "area_name": "LA and Regions"}), path,
                   code="LA Number", name="LA and Regions")


def la_rows(df: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """LA rows (every area but England and the regions of :data:`AGGREGATE_AREAS`), with
    ``la_code`` as 3-digit text."""
    la = df[~df["area"].isin(list(AGGREGATE_AREAS))].copy()
    la["la_code"] = la["area"].map(lambda v: f"{v:03d}")
    check_known_la(la["la_code"], path, "LA Number")
    return la


#: a total that moves by more than this factor from the LA's previous available year is
#: implausible for a council's children's services budget (checked above MIN_TOTAL_CHECKED)
JUMP_FACTOR = 1.67
#: tiny councils (City of London, Isles of Scilly) swing with single placements: not checked
MIN_TOTAL_CHECKED = 20e6
#: LA-years whose published return is judged wrong: la_code, year, reason (all lines set missing)
EXCLUSIONS = REFERENCE / "spend_exclusions.csv"


def load_exclusions(path: Path = EXCLUSIONS) -> pd.DataFrame:
    ex = pd.read_csv(path, dtype={"la_code": str, "year": int, "reason": str})
    if list(ex.columns) != ["la_code", "year", "reason"] or ex["reason"].isna().any():
        raise DataError(f"{path}: columns must be la_code, year, reason, every row with a reason")
    if ex.duplicated(["la_code", "year"]).any():
        raise DataError(f"{path}: duplicate la_code/year rows")
    return ex


def screen_jumps(wide: pd.DataFrame, exclusions: pd.DataFrame, where: str,
                 rows: dict[tuple[str, int], str] | None = None) -> pd.DataFrame:
    """Set the listed LA-years missing (all four lines), then refuse any other implausible jump.

    ``rows`` maps (la_code, year) to where the total's raw cell is ("file row N"), for the message.

    Notes
    -----
    For each LA, r = total / total of the previous year with a value; a year with
    r > JUMP_FACTOR or r < 1 / JUMP_FACTOR (previous total at least MIN_TOTAL_CHECKED) is an error
    unless listed in ``data/reference/spend_exclusions.csv``. A listed LA-year that shows no jump is
    an error too (the list must not hide data).

    Raises
    ------
    ImplausibleValueError
        Naming file, measure, LA, year, the value and the previous one.
    """
    out = wide.copy()
    key = pd.MultiIndex.from_frame(out[["la_code", "year"]])
    listed = key.isin(pd.MultiIndex.from_frame(exclusions[["la_code", "year"]]))
    unknown = set(map(tuple, exclusions[["la_code", "year"]].to_numpy())) - set(key)
    if unknown:
        raise DataError(f"{EXCLUSIONS}: LA-years not in the extract: {sorted(unknown)}")
    raw = out.sort_values(["la_code", "year"]).copy()
    out.loc[listed, SPEND_COLS] = np.nan
    for is_listed, frame in ((False, out), (True, raw)):
        d = frame.sort_values(["la_code", "year"])
        prev = d.groupby("la_code")["spend_total"].transform(lambda v: v.ffill().shift())
        r = d["spend_total"] / prev
        jump = (prev >= MIN_TOTAL_CHECKED) & ((r > JUMP_FACTOR) | (r < 1 / JUMP_FACTOR))
        if not is_listed and jump.any():
            i = jump[jump].index[0]
            cell = (rows or {}).get((d.at[i, "la_code"], int(d.at[i, "year"])))
            raise ImplausibleValueError(
                f"{where}: column 'Values' of measure 'C&YPExpenditure' (spend_total), LA {d.at[i, 'la_code']}, financial "
                f"year ending {d.at[i, 'year']}: {d.at[i, 'spend_total']:,.0f} against {prev[i]:,.0f} the year before "
                f"(factor {r[i]:.2f}{'; ' + cell if cell else ''}); if the published return is wrong, list it with a "
                f"reason in {EXCLUSIONS.relative_to(EXCLUSIONS.parents[2])}")
        if is_listed:
            flagged = set(map(tuple, d.loc[jump, ["la_code", "year"]].to_numpy()))
            quiet = [k for k in map(tuple, exclusions[["la_code", "year"]].to_numpy()) if k not in flagged]
            if quiet:
                raise DataError(f"{EXCLUSIONS}: listed LA-years show no implausible jump: {quiet}")
    return out


def load_spend(paths: dict[str, Path], log: SuppressionLog, screen: bool = True) -> pd.DataFrame:
    """Gross s251 outturn by LA and financial year: ``la_code, year, spend_*`` (£).

    ``year`` is the year the financial year ends (31 March). 2015-16 comes from the older
    vintage, 2016-17 to 2024-25 from the newer; the two must agree on 2016-17 to 2023-24.
    ``-`` (no return, or removed by DfE for data quality) stays missing.

    Raises
    ------
    DataError
        If the vintages disagree, a value is not a number or ``-``, or a year has fewer than
        ``MIN_LAS_PER_YEAR`` LAs with a number (truncated or filtered file).
    """
    df = _combined(paths, list(FINANCE), None)
    la = la_rows(df, f"{raw_name(paths['lait_2026'])} / {raw_name(paths['lait_2025'])}")
    out = []
    for sid, part in la.groupby("source", sort=True):
        part = part.copy()
        part["value"] = parse_values(part, paths[sid], sid, log, "LA rows")
        out.append(part)
    la = pd.concat(out)
    counts = la[la["value"].notna()].groupby(["measure", "year"]).size()
    thin = counts[counts < MIN_LAS_PER_YEAR]
    expected = set(range(int(la["year"].min()), int(la["year"].max()) + 1))
    missing_years = [(m, y) for m in FINANCE for y in sorted(expected) if (m, y) not in counts.index]
    if len(thin) or missing_years:
        raise DataError(f"LAIT finance measures thinly covered (fewer than {MIN_LAS_PER_YEAR} LAs with a "
                        f"number): {thin.to_dict()} {missing_years}; is an extract truncated?")
    wide = la.pivot(index=["la_code", "year"], columns="measure", values="value").rename(columns=FINANCE)
    wide.columns.name = None
    wide = wide.reset_index()[["la_code", "year", *SPEND_COLS]].sort_values(["la_code", "year"]).reset_index(drop=True)
    if screen:  # the raw values (screen=False) are what the England reconciliation adds up
        total = la[la["measure"] == "C&YPExpenditure"]
        rows = {(c, int(y)): f"{raw_name(paths[sid])} row {r}"
                for c, y, sid, r in zip(total["la_code"], total["year"], total["source"], total["row"])}
        wide = screen_jumps(wide, load_exclusions(), f"{raw_name(paths['lait_2026'])} / {raw_name(paths['lait_2025'])}",
                            rows)
    return wide


def england_spend(paths: dict[str, Path], log: SuppressionLog | None = None) -> pd.DataFrame:
    """England rows (area 970) of the finance measures: ``year, spend_*`` (£), for reconciliation."""
    log = log or SuppressionLog()
    df = _combined(paths, list(FINANCE), None)
    eng = pd.concat([part.assign(value=parse_values(part, paths[sid], sid, log, "England row", level="england"))
                     for sid, part in df[df["area"] == ENGLAND].groupby("source", sort=True)])
    wide = eng.pivot(index="year", columns="measure", values="value").rename(columns=FINANCE)
    wide.columns.name = None
    return wide.reset_index()[["year", *SPEND_COLS]]


def load_lac_published(paths: dict[str, Path], log: SuppressionLog, years: set[int]) -> pd.DataFrame:
    """DfE's published rate of children looked after per 10,000 children at 31 March (``LAC``).

    Rates are whole numbers as published. The two vintages must agree in ``years``.

    Returns
    -------
    DataFrame ``la_code, year, cla_rate_published`` for ``years``.
    """
    df = _combined(paths, [LAC_RATE], years)
    df = df[df["year"].isin(years) & (df["source"] == "lait_2026")]
    la = la_rows(df, paths["lait_2026"])
    la["cla_rate_published"] = parse_values(la, paths["lait_2026"], "lait_2026", log, "LA rows")
    n = la.groupby("year")["cla_rate_published"].count()
    thin = [y for y in sorted(years) if n.get(y, 0) < MIN_LAS_PER_YEAR]
    if thin:
        raise DataError(f"{raw_name(paths['lait_2026'])}: measure 'LAC' has fewer than {MIN_LAS_PER_YEAR} LA rates "
                        f"in year(s) {thin} ({n.to_dict()})")
    return la[["la_code", "year", "cla_rate_published"]].sort_values(["la_code", "year"]).reset_index(drop=True)
