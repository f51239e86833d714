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
========  ================================================  =========================

Every symbol met is counted per (source, column, symbol) so that losses are visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DuplicateKeyError, SchemaError, SuppressionCodeError

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


def read_csv_text(path: Path, *, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """Read a CSV with every cell as text (no type guessing), blank cells as NaN."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="latin-1")
    except pd.errors.ParserError as exc:
        raise SchemaError(f"{path}: cannot be parsed as CSV ({exc}); is the file truncated?") from exc


def require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], path: Path) -> None:
    """Raise SchemaError naming the file and every expected column that is absent."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{path}: expected column(s) {missing} not found (the publisher may have renamed them). "
            f"Columns present: {list(df.columns)[:40]}"
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
    line_offset : file line number of the frame's positional row 0 (header + 1 by default).

    Raises
    ------
    SuppressionCodeError
        Naming file, column, value and line, for the first unknown symbol found.
    """
    out = df.copy()
    for col in columns:
        text = df[col].astype("string").str.strip()
        if thousands:
            text = text.str.replace(",", "", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & num.isna()
        symbols = text[bad]
        unknown = symbols[~symbols.isin(list(allowed))]
        if len(unknown):
            pos = df.index.get_loc(unknown.index[0])
            raise SuppressionCodeError(
                f"{path}: column '{col}' has the unknown symbol {unknown.iloc[0]!r} "
                f"(line {int(pos) + line_offset}; {len(unknown)} such cell(s)). Known symbols for "
                f"source '{source}': {sorted(allowed)}. Check the publisher's data guidance and "
                f"add the symbol to the loader deliberately if it is a new suppression code."
            )
        for sym, n in symbols.value_counts().items():
            log.add(source, col, str(sym), n, scope)
            num = num.where(~(text == sym), SYMBOL_VALUES[str(sym)])
        out[col] = num.astype(float)
    return out


def check_unique(df: pd.DataFrame, keys: list[str], path: Path | str, what: str = "rows") -> None:
    """Raise DuplicateKeyError listing duplicated key values."""
    dup = df[df.duplicated(keys, keep=False)]
    if len(dup):
        sample = dup[keys].drop_duplicates().head(5).to_dict("records")
        raise DuplicateKeyError(
            f"{path}: {len(dup)} {what} share a key {keys} that must be unique, e.g. {sample}"
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
