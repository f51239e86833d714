"""Shared parsing and validation helpers for the source loaders.

Suppression codes
-----------------
Official files mark cells that hold no published number with symbols. Which symbols a source
may use is listed explicitly, per source, in :data:`SOURCE_SYMBOLS` (from the source's
PROVENANCE.md and the publisher's guidance); any other non-numeric text, including the strings
pandas would read as missing by default (``n/a``, ``NULL``, ``#N/A``, ``NaN`` ...), is an error,
never a silent NaN.

========  ================================================  =========================
symbol    meaning (EES data guidance / SFR conventions)     value in the panel
========  ================================================  =========================
``c``     suppressed (small numbers / disclosure)           missing
``x``     not available (SFR: suppressed)                   missing
``z``     not applicable                                    missing
``u``     low reliability (value withheld)                  missing
``..``    not available (SFR)                               missing
``.``     not applicable (SFR; e.g. joint return)           missing
``low``   rounds to 0 but is not 0 (EES)                    0.0
``-``     negligible, rounds to 0 (SFR)                     0.0
(blank)   empty cell                                        missing (logged as ``blank``)
========  ================================================  =========================

Every symbol met is counted per (source, column, symbol) so that losses are visible. A blank
cell is never a number: it stays missing and is counted as ``blank``; where a value is required
(keys, time periods, inspection dates, overall grades) a blank is an error.

Reading rules (every CSV loader goes through :func:`read_csv_text`)
-------------------------------------------------------------------
* The file must be non-empty UTF-8 (a UTF-16 or 0-byte file is a :class:`FileFormatError`).
* Every row has exactly as many fields as the header, and the file ends with a line break
  (every registered CSV does): a ragged or cut-short row is an error naming its line.
* Frames carry the raw file's line number as index (name ``line``; header = line 1), so every
  error can name the line a user sees when opening the file.
* Numbers must lie inside the column's plausibility bound (``data/reference/plausibility.csv``,
  :mod:`.bounds`); a year of a percentage column in which every value is at most 1 is taken to
  be fractions and rejected.
* A year outside the period the registered publication covers (``years`` in
  ``data/sources.toml``) is refused (:func:`check_period`); so is a row repeating another's key.
* Messages name the raw file by its path relative to the mirror
  (:func:`analysis.data.sources.raw_name`), the raw column, the value and the line.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import (DuplicateKeyError, FileFormatError, ImplausibleValueError, SchemaError,
                       SuppressionCodeError)
from ..sources import load_registry, raw_name
from .bounds import Bound, bound_for

#: value each known symbol takes; NaN = missing
SYMBOL_VALUES: dict[str, float] = {
    "c": np.nan, "x": np.nan, "z": np.nan, "u": np.nan,
    "..": np.nan, ".": np.nan, "low": 0.0, "-": 0.0,
}
EES_SYMBOLS = frozenset({"c", "x", "z", "u", "low"})
SFR_SYMBOLS = frozenset({"x", "..", ".", "-"})
#: the symbols each source may use (blank cells are always allowed and stay missing)
SOURCE_SYMBOLS: dict[str, frozenset[str]] = {
    # EES data guidance (csww/PROVENANCE.md section 1; context/PROVENANCE.md "Suppression / special codes")
    **{sid: EES_SYMBOLS for sid in ("csww_indicators", "cin_b1", "cpp_d5", "population", "cla_ees_2023",
                                    "cla_ees_2025", "cin_c4")},
    # SFR 07/2016: x, .. and - (csww/PROVENANCE.md section 4); SFR 08/2017 adds . (section 5)
    "csww_sfr_2015": frozenset({"x", "..", "-"}),
    "csww_sfr_2016": SFR_SYMBOLS,
    # CLA SFR metadata: "numbers from one to five inclusive have been suppressed and replaced by a cross (x)"
    **{f"cla_sfr_{y}": frozenset({"x"}) for y in (2015, 2016, 2017)},
    # IoD 2019 File 11: every score is published
    "iod2019_utla": frozenset(),
}


def symbols_for(source: str) -> frozenset[str]:
    """The documented symbols of a source (:data:`SOURCE_SYMBOLS`); unknown source: none."""
    return SOURCE_SYMBOLS.get(source, frozenset())


@dataclass
class SuppressionLog:
    """Counts of suppression symbols met while parsing, one row per (source, column, symbol)."""

    rows: list[dict] = field(default_factory=list)

    def add(self, source: str, column: str, symbol: str, count: int, scope: str) -> None:
        self.rows.append({"source": source, "column": column, "symbol": symbol,
                          "scope": scope, "count": int(count)})

    def frame(self) -> pd.DataFrame:
        cols = ["source", "column", "symbol", "scope", "count"]
        df = pd.DataFrame(self.rows, columns=cols)
        if df.empty:
            return df
        return (df.groupby(["source", "column", "symbol", "scope"], as_index=False)["count"].sum()
                .sort_values(["source", "column", "symbol", "scope"]).reset_index(drop=True))


def _decode(path: Path | str, data: bytes, encoding: str) -> str:
    if not data:
        raise FileFormatError(f"{path}: the file is empty (0 bytes); restore the original download.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise FileFormatError(f"{path}: the file is UTF-16 (or binary), not UTF-8 text; re-save it as "
                              f"UTF-8 CSV or restore the original download.")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _dedupe(header: list[str]) -> list[str]:
    """Duplicate column names get ``.1``, ``.2`` ... (as pandas does)."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def read_csv_text(path: Path, *, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read a CSV with every cell as text (no type guessing), blank cells as NaN.

    The index is the 1-based line of each row in the file (header = line 1), named ``line``.

    Raises
    ------
    FileFormatError
        For an empty or UTF-16 file, a row whose field count differs from the header's (naming
        the line and both counts), or a file whose last line lacks its line break (cut short).
    """
    path = Path(path)
    name = raw_name(path)
    text = _decode(name, path.read_bytes(), encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    header: list[str] | None = None
    prev = 0
    try:
        for record in reader:
            start, prev = prev + 1, reader.line_num
            if not record:
                continue
            if header is None:
                header = record
                continue
            if len(record) != len(header):
                raise FileFormatError(
                    f"{name}: line {start} has {len(record)} field(s) but the header (line 1) has "
                    f"{len(header)}; the row is ragged or cut short. Restore the original file.")
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise FileFormatError(f"{name}: line {reader.line_num} cannot be parsed as CSV ({exc}); "
                              f"is the file truncated?") from exc
    if header is None:
        raise FileFormatError(f"{name}: the file has no header line (empty file).")
    if not text.endswith(("\n", "\r")):
        raise FileFormatError(
            f"{name}: line {prev} (the last) does not end with a line break: the file looks cut short "
            f"inside its last row (every registered CSV ends with one). Restore the original file.")
    df = pd.DataFrame(rows, columns=_dedupe(header), index=pd.Index(lines, name="line"), dtype=object)
    return df.where(df != "", np.nan)


def where(df: pd.DataFrame, label, line_offset: int = 2) -> str:
    """'line N' of a frame row: its index label if the frame carries file lines, else positional."""
    if df.index.name == "line":
        return f"line {int(label)}"
    if df.index.name == "row":
        return f"row {int(label)}"
    return f"line {int(df.index.get_loc(label)) + line_offset}"


def require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], path: Path | str, *,
                    header: str = "line 1") -> None:
    """Raise SchemaError naming the file, the header's line (``header``) and every expected
    column that is absent."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{raw_name(path)}: expected column(s) {missing} not found in the header ({header}; the "
            f"publisher may have renamed them). Columns present: {list(df.columns)[:40]}"
        )


def require_filled(df: pd.DataFrame, columns: list[str], path: Path | str, *, what: str = "row") -> None:
    """Raise SchemaError for a blank cell in a column every ``what`` must fill (keys, periods).

    A blank key would otherwise drop its row silently (it matches no LA and no year).
    """
    for col in columns:
        blank = (df[col].isna() | (df[col].astype("string").str.strip() == "")).fillna(True).astype(bool)
        if blank.any():
            first = blank[blank].index[0]
            raise SchemaError(
                f"{raw_name(path)}: column '{col}' is blank at {where(df, first)} ({int(blank.sum())} such "
                f"{what}(s)); it is required (a key), so the row cannot be placed."
            )


def to_number(
    df: pd.DataFrame,
    columns: list[str],
    *,
    path: Path | str,
    source: str,
    log: SuppressionLog,
    allowed: frozenset[str] | None = None,
    scope: str = "all rows",
    thousands: bool = False,
    line_offset: int = 2,
    level: str = "la",
    bounds: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Convert text columns to float, mapping known suppression symbols and counting them.

    Parameters
    ----------
    df : DataFrame of text cells (as from :func:`read_csv_text`).
    columns : columns to convert.
    path, source : for error messages, the log and the source's symbols and bounds.
    log : receives the symbol counts.
    allowed : symbols this source may use (default: :func:`symbols_for` ``source``); anything
        else non-numeric raises.
    scope : label recorded in the log (e.g. "LA rows").
    thousands : strip thousands separators (``"27,700"``) first.
    line_offset : file line number of the frame's positional row 0, used only if the frame does
        not carry file lines as its index (see :func:`read_csv_text`).
    level : ``"la"`` or ``"england"``: which plausibility bound of the column applies.
    bounds : ``{column: (low, high)}`` instead of ``data/reference/plausibility.csv`` (for
        ad-hoc frames; loaders use the reference file).

    Raises
    ------
    SuppressionCodeError
        Naming file, column, value and line, for the first unknown symbol found.
    ImplausibleValueError
        For a value outside the column's plausibility bound (infinite, negative, absurdly
        large), naming file, column, value, line and the bound with its basis.
    SchemaError
        If a column has no plausibility bound.

    Notes
    -----
    A blank cell stays missing (NaN) and is logged as symbol ``blank``; it never takes a
    suppression symbol's value. A value ``v`` is plausible if ``low <= v <= high`` (finite).
    """
    allowed = symbols_for(source) if allowed is None else allowed
    name = raw_name(path)
    out = df.copy()
    for col in columns:
        bound = (Bound(*bounds[col], "given by the caller") if bounds is not None
                 else bound_for(source, col, level))
        text = df[col].astype("string").str.strip()
        if thousands:
            text = text.str.replace(",", "", regex=False)
        num = pd.to_numeric(text, errors="coerce").astype(float)
        blank = (text.isna() | (text == "")).fillna(True).astype(bool)
        bad = ~blank & num.isna()
        symbols = text[bad]
        unknown = symbols[~symbols.isin(list(allowed))]
        if len(unknown):
            raise SuppressionCodeError(
                f"{name}: column '{col}' has the unknown symbol {unknown.iloc[0]!r} "
                f"({where(df, unknown.index[0], line_offset)}; {len(unknown)} such cell(s)). Known symbols for "
                f"source '{source}': {sorted(allowed)}. Check the publisher's data guidance and "
                f"add the symbol to SOURCE_SYMBOLS deliberately if it is a new suppression code."
            )
        implausible = ~bad & ~blank & (~np.isfinite(num) | (num < bound.low) | (num > bound.high))
        if implausible.any():
            first = implausible[implausible].index[0]
            raise ImplausibleValueError(
                f"{name}: column '{col}' has the implausible value {df.at[first, col]!r} "
                f"({where(df, first, line_offset)}; {int(implausible.sum())} such cell(s)); the plausible "
                f"range is {bound.describe()} (data/reference/plausibility.csv)."
            )
        num = num.where(~blank, np.nan)
        if blank.any():
            log.add(source, col, "blank", int(blank.sum()), scope)
        for sym, n in symbols.value_counts().items():
            log.add(source, col, str(sym), n, scope)
            num = num.where(~(text == sym).fillna(False).astype(bool), SYMBOL_VALUES[str(sym)])
        out[col] = num.astype(float)
    return out


def check_percent_scale(df: pd.DataFrame, columns: list[str], path: Path | str, *,
                        year_col: str = "year", min_values: int = 20, line_offset: int = 2) -> None:
    """Reject a year of a percentage column whose values are all at most 1 (fractions).

    Percentages run 0-100. If the median of a year's values (at least ``min_values`` of them) is
    at most 1, that year was published (or edited) as fractions, which would silently shrink
    the measure 100-fold. (The lowest yearly median of any of these rates is 2-3 per cent.)

    Raises
    ------
    ImplausibleValueError
        Naming file, column, year, an example value and its line.
    """
    for col in columns:
        values = df[col]
        for year, v in values.groupby(df[year_col]):
            v = v.dropna()
            if len(v) >= min_values and v.abs().median() <= 1:
                small = v[(v.abs() <= 1) & (v != 0)]
                first = small.index[0] if len(small) else v.index[0]
                raise ImplausibleValueError(
                    f"{raw_name(path)}: column '{col}' in year {year} holds fractions, not percentages: the "
                    f"median of its {len(v)} values is {float(v.abs().median())!r} (e.g. {float(v[first])!r} at "
                    f"{where(df, first, line_offset)}); the column is a percentage (0-100)."
                )


_YEAR = re.compile(r"^\d{4}$")


def parse_year(values: pd.Series, path: Path | str, column: str) -> pd.Series:
    """Four-digit year text -> int; anything else (blank, '2024/25', '20x4') raises FileFormatError."""
    text = values.astype("string").str.strip()
    ok = text.str.match(_YEAR).fillna(False).astype(bool)
    if not ok.all():
        first = ok[~ok].index[0]
        raise FileFormatError(
            f"{raw_name(path)}: column '{column}' has the unparseable time period {values[first]!r} "
            f"({where(values.to_frame(), first)}); expected a "
            f"four-digit year such as 2024."
        )
    return text.astype(int)


def check_period(years: pd.Series, source: str, path: Path | str, column: str,
                 shown: pd.Series | None = None) -> None:
    """Refuse a year outside the period the registered publication covers.

    ``years`` are the rows' years (int); ``shown`` the raw cells to quote (default: ``years``).
    The period is :attr:`analysis.data.sources.Source.period` of ``source`` (its ``years`` in
    ``data/sources.toml``): a row of 2026 in a file published to cover 2017-2025 is an edit or
    another vintage, never data.

    Raises
    ------
    ImplausibleValueError
        Naming file, column, value and line of the first such row, and the registered period.
    """
    first_year, last_year = load_registry()[source].period
    bad = ((years < first_year) | (years > last_year)).fillna(False).astype(bool)
    if bad.any():
        i = bad[bad].index[0]
        value = (shown if shown is not None else years)[i]
        value = value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)
        raise ImplausibleValueError(
            f"{raw_name(path)}: column '{column}' has {value!r} ({where(years.to_frame(), i)}; "
            f"{int(bad.sum())} such row(s)), outside {first_year}-{last_year}, the years the registered "
            f"publication covers (source '{source}' in data/sources.toml). A later vintage must be "
            f"registered deliberately, with its checksum."
        )


def _blank(values: pd.Series) -> pd.Series:
    return (values.isna() | (values.astype("string").str.strip() == "")).fillna(True).astype(bool)


def parse_dates(values: pd.Series, path: Path | str, column: str, *, fmt: str = "%Y-%m-%d",
                required: bool = True) -> pd.Series:
    """Text dates in one explicit format -> datetime64; an unparseable (or required blank) cell raises.

    Raises
    ------
    FileFormatError
        Naming file, column, value and line.
    """
    parsed = pd.to_datetime(values.astype("string").str.strip(), format=fmt, errors="coerce")
    _refuse_bad_dates(values, parsed, path, column, required, f"a date as {fmt}")
    return parsed


def _refuse_bad_dates(values: pd.Series, parsed: pd.Series, path: Path | str, column: str, required: bool,
                      expected: str) -> None:
    """Raise FileFormatError for the first cell that is not blank but did not parse (or is a
    required blank), naming file, column, value and line."""
    blank = _blank(values)
    bad = (~blank & parsed.isna()) | (blank & required)
    if bad.any():
        first = bad[bad].index[0]
        what = "a blank" if blank[first] else f"the unparseable date {values[first]!r}"
        raise FileFormatError(
            f"{raw_name(path)}: column '{column}' has {what} ({where(values.to_frame(), first)}; "
            f"{int(bad.sum())} such cell(s)); expected {expected}."
        )


#: text forms a spreadsheet date cell may take: ISO, or UK day-first with a four-digit year
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _sheet_date(cell) -> pd.Timestamp | None:
    """One spreadsheet cell -> Timestamp, or None if it is not a date in an accepted form."""
    if isinstance(cell, (pd.Timestamp, datetime.datetime, datetime.date)) and not isinstance(cell, bool):
        return pd.Timestamp(cell)
    if not isinstance(cell, str):
        return None  # a number (e.g. a serial day count) is not a date
    text = cell.strip()
    m = _ISO_DATE.match(text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    m = _UK_DATE.match(text)
    if m:
        parts = (m.group(3), m.group(2), m.group(1))  # day first
    if parts is None:
        return None
    try:
        return pd.Timestamp(datetime.date(int(parts[0]), int(parts[1]), int(parts[2])))
    except ValueError:
        return None


def parse_sheet_dates(values: pd.Series, path: Path | str, column: str, *, required: bool = True) -> pd.Series:
    """Spreadsheet date cells -> datetime64: date cells as they are; text only as ISO
    ``YYYY-MM-DD`` or day-first ``DD/MM/YYYY`` (UK sources; ``05/09/2022`` is 5 September).

    Any other text (``5/9/22``, ``09/25/2022``, ``Sept 2022``), a number, or a required blank
    raises. pandas' own parser is not used: it reads ``05/09/2022`` month-first.

    Raises
    ------
    FileFormatError
        Naming file (and sheet), column, value and row.
    """
    blank = _blank(values)
    parsed = pd.Series([None if b else _sheet_date(v) for v, b in zip(values, blank)], index=values.index,
                       dtype="object")
    _refuse_bad_dates(values, parsed, path, column, required,
                      "a date cell, or text as YYYY-MM-DD or day-first DD/MM/YYYY")
    return pd.to_datetime(parsed)


def check_date_order(df: pd.DataFrame, earlier: str, later: str, path: Path | str, *,
                     columns: tuple[str, str] | None = None, what: str = "") -> None:
    """Raise ImplausibleValueError where ``df[later] < df[earlier]`` (both present)."""
    bad = (df[later] < df[earlier]).fillna(False).astype(bool)
    if bad.any():
        first = bad[bad].index[0]
        ce, cl = columns or (earlier, later)
        raise ImplausibleValueError(
            f"{raw_name(path)}: column '{cl}' has {df.at[first, later].date()} before '{ce}' "
            f"{df.at[first, earlier].date()} ({where(df, first)}; {int(bad.sum())} such row(s)){what}."
        )


def check_not_after(df: pd.DataFrame, col: str, limit: pd.Timestamp, path: Path | str, *,
                    column: str | None = None) -> None:
    """Raise ImplausibleValueError for a date after ``limit`` (e.g. a publication in the future)."""
    bad = (df[col] > limit).fillna(False).astype(bool)
    if bad.any():
        first = bad[bad].index[0]
        raise ImplausibleValueError(
            f"{raw_name(path)}: column '{column or col}' has {df.at[first, col].date()} ({where(df, first)}), "
            f"which is in the future (after {limit.date()})."
        )


def check_unique(df: pd.DataFrame, keys: list[str], path: Path | str, what: str = "rows") -> None:
    """Raise DuplicateKeyError naming the first row that repeats another's key, its line and the
    key's columns and values (use the raw columns, so that the user can find the row)."""
    repeated = df.duplicated(keys, keep="first").to_numpy()
    if repeated.any():
        pos = int(np.flatnonzero(repeated)[0])
        group = df.groupby(keys, dropna=False, sort=False).ngroup().to_numpy()
        original = int(np.flatnonzero(group == group[pos])[0])
        key = {k: (v.item() if hasattr(v, "item") else v) for k, v in df.iloc[pos][keys].items()}
        line = ""
        if df.index.name in ("line", "row"):
            line = f" at {where(df, df.index[pos])}, which repeats {where(df, df.index[original])}"
        raise DuplicateKeyError(
            f"{raw_name(path)}: {what} must have a unique key {keys}, but the key {key} occurs twice{line} "
            f"({int(repeated.sum())} repeated row(s)); a duplicated row is never silently dropped."
        )
