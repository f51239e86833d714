"""Shared parsing and validation helpers for the source loaders.

Suppression codes
-----------------
Official files mark cells that hold no published number with symbols. Each loader declares
which symbols its source may use; any other non-numeric text is an error, never a silent NaN.

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
* Numbers must be finite and, unless a column allows it, non-negative; a year of a percentage
  column in which every value is at most 1 is taken to be fractions and rejected.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import (DuplicateKeyError, FileFormatError, ImplausibleValueError, SchemaError,
                       SuppressionCodeError)

#: value each known symbol takes; NaN = missing
SYMBOL_VALUES: dict[str, float] = {
    "c": np.nan, "x": np.nan, "z": np.nan, "u": np.nan,
    "..": np.nan, ".": np.nan, "low": 0.0, "-": 0.0,
}
EES_SYMBOLS = frozenset({"c", "x", "z", "u", "low"})
SFR_SYMBOLS = frozenset({"x", "..", ".", "-"})


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


def _decode(path: Path, data: bytes, encoding: str) -> str:
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
    text = _decode(path, path.read_bytes(), encoding)
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
                    f"{path}: line {start} has {len(record)} field(s) but the header (line 1) has "
                    f"{len(header)}; the row is ragged or cut short. Restore the original file.")
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise FileFormatError(f"{path}: line {reader.line_num} cannot be parsed as CSV ({exc}); "
                              f"is the file truncated?") from exc
    if header is None:
        raise FileFormatError(f"{path}: the file has no header line (empty file).")
    if not text.endswith(("\n", "\r")):
        raise FileFormatError(
            f"{path}: line {prev} (the last) does not end with a line break: the file looks cut short "
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


def require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], path: Path) -> None:
    """Raise SchemaError naming the file and every expected column that is absent."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{path}: expected column(s) {missing} not found (the publisher may have renamed them). "
            f"Columns present: {list(df.columns)[:40]}"
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
                f"{path}: column '{col}' is blank at {where(df, first)} ({int(blank.sum())} such "
                f"{what}(s)); it is required (a key), so the row cannot be placed."
            )


def to_number(
    df: pd.DataFrame,
    columns: list[str],
    *,
    path: Path,
    source: str,
    allowed: frozenset[str],
    log: SuppressionLog,
    scope: str = "all rows",
    thousands: bool = False,
    line_offset: int = 2,
    allow_negative: bool = False,
) -> pd.DataFrame:
    """Convert text columns to float, mapping known suppression symbols and counting them.

    Parameters
    ----------
    df : DataFrame of text cells (as from :func:`read_csv_text`).
    columns : columns to convert.
    path, source : for error messages and the log.
    allowed : symbols this source may use; anything else non-numeric raises.
    log : receives the symbol counts.
    scope : label recorded in the log (e.g. "LA rows").
    thousands : strip thousands separators (``"27,700"``) first.
    line_offset : file line number of the frame's positional row 0, used only if the frame does
        not carry file lines as its index (see :func:`read_csv_text`).
    allow_negative : accept negative values (default: reject, as counts and rates cannot be).

    Raises
    ------
    SuppressionCodeError
        Naming file, column, value and line, for the first unknown symbol found.
    ImplausibleValueError
        For an infinite value, or a negative one unless ``allow_negative``.

    Notes
    -----
    A blank cell stays missing (NaN) and is logged as symbol ``blank``; it never takes a
    suppression symbol's value.
    """
    out = df.copy()
    for col in columns:
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
                f"{path}: column '{col}' has the unknown symbol {unknown.iloc[0]!r} "
                f"({where(df, unknown.index[0], line_offset)}; {len(unknown)} such cell(s)). Known symbols for "
                f"source '{source}': {sorted(allowed)}. Check the publisher's data guidance and "
                f"add the symbol to the loader deliberately if it is a new suppression code."
            )
        implausible = ~bad & ~blank & (~np.isfinite(num) | ((num < 0) & (not allow_negative)))
        if implausible.any():
            first = implausible[implausible].index[0]
            kind = "infinite" if not np.isfinite(float(num[first])) else "negative"
            raise ImplausibleValueError(
                f"{path}: column '{col}' has the {kind} value {df.at[first, col]!r} "
                f"({where(df, first, line_offset)}; {int(implausible.sum())} such cell(s)); "
                f"counts and rates here must be finite and non-negative."
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
                    f"{path}: column '{col}' in year {year} holds fractions, not percentages: the "
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
            f"{path}: column '{column}' has the unparseable time period {values[first]!r} "
            f"({where(values.to_frame(), first)}); expected a "
            f"four-digit year such as 2024."
        )
    return text.astype(int)


def parse_dates(values: pd.Series, path: Path | str, column: str, *, fmt: str | None = "%Y-%m-%d",
                required: bool = True) -> pd.Series:
    """Text or spreadsheet dates -> datetime64; an unparseable (or required blank) cell raises.

    Raises
    ------
    FileFormatError
        Naming file, column, value and line.
    """
    blank = (values.isna() | (values.astype("string").str.strip() == "")).fillna(True).astype(bool)
    if fmt is not None:
        parsed = pd.to_datetime(values.astype("string").str.strip(), format=fmt, errors="coerce")
    else:
        parsed = pd.to_datetime(values, errors="coerce")
    bad = (~blank & parsed.isna()) | (blank & required)
    if bad.any():
        first = bad[bad].index[0]
        what = "a blank" if blank[first] else f"the unparseable date {values[first]!r}"
        raise FileFormatError(
            f"{path}: column '{column}' has {what} ({where(values.to_frame(), first)}; "
            f"{int(bad.sum())} such cell(s)); expected a date{f' as {fmt}' if fmt else ''}."
        )
    return parsed


def check_date_order(df: pd.DataFrame, earlier: str, later: str, path: Path | str, *,
                     columns: tuple[str, str] | None = None, what: str = "") -> None:
    """Raise ImplausibleValueError where ``df[later] < df[earlier]`` (both present)."""
    bad = (df[later] < df[earlier]).fillna(False).astype(bool)
    if bad.any():
        first = bad[bad].index[0]
        ce, cl = columns or (earlier, later)
        raise ImplausibleValueError(
            f"{path}: column '{cl}' has {df.at[first, later].date()} before '{ce}' "
            f"{df.at[first, earlier].date()} ({where(df, first)}; {int(bad.sum())} such row(s)){what}."
        )


def check_not_after(df: pd.DataFrame, col: str, limit: pd.Timestamp, path: Path | str, *,
                    column: str | None = None) -> None:
    """Raise ImplausibleValueError for a date after ``limit`` (e.g. a publication in the future)."""
    bad = (df[col] > limit).fillna(False).astype(bool)
    if bad.any():
        first = bad[bad].index[0]
        raise ImplausibleValueError(
            f"{path}: column '{column or col}' has {df.at[first, col].date()} ({where(df, first)}), "
            f"which is in the future (after {limit.date()})."
        )


def check_unique(df: pd.DataFrame, keys: list[str], path: Path | str, what: str = "rows") -> None:
    """Raise DuplicateKeyError listing duplicated key values."""
    dup = df[df.duplicated(keys, keep=False)]
    if len(dup):
        sample = dup[keys].drop_duplicates().head(5).to_dict("records")
        lines = f" (lines {sorted(int(i) for i in dup.index)[:6]})" if dup.index.name in ("line", "row") else ""
        raise DuplicateKeyError(
            f"{path}: {len(dup)} {what} share a key {keys} that must be unique, e.g. {sample}{lines}"
        )


def check_years(df: pd.DataFrame, col: str, expected: set[int], path: Path, min_rows: int) -> None:
    """Raise SchemaError if a year is missing or thinly covered (a truncated or filtered file)."""
    counts = df[col].value_counts()
    missing = sorted(y for y in expected if counts.get(y, 0) < min_rows)
    if missing:
        found = {int(k): int(v) for k, v in counts.sort_index().items()}
        raise SchemaError(
            f"{path}: year(s) {missing} have fewer than {min_rows} LA rows in column '{col}' "
            f"(rows per year found: {found}); the file looks truncated or is another vintage."
        )
