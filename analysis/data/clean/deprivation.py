"""IMD 2019 decile among upper-tier local authorities (source ``iod2019_utla``, File 11).

The ranking measure is MHCLG's *rank of average score* (``IMD - Rank of average score``; 1 = most
deprived of the 151 upper-tier LAs of 2019), the summary that orders LAs by their
population-weighted mean LSOA score and so matches the ``imd_2019`` average score in the panel.

Deciles are cut among all 151 UTLAs of the file (City of London and Isles of Scilly included),
least deprived first:

    p = n + 1 - rank            (position, 1 = least deprived)
    imd_decile = ceil(10 p / n)

With n = 151 deciles 1-9 hold 15 LAs and decile 10 (most deprived) holds 16.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...errors import DataError, SchemaError
from ..geography import check_known_gss, gss_to_la
from .context import IOD_CODE_COL, IOD_CODE_FIXES
from .parse import check_unique, require_columns

SHEET = "IMD"
RANK_COL = "IMD - Rank of average score"
SCORE_COL = "IMD - Average score"
#: File 11 lists every upper-tier LA of England on 2019 geography
EXPECTED_UTLAS = 151


def decile_from_rank(rank: pd.Series, n: int) -> pd.Series:
    """Decile 1 (least deprived) ... 10 (most deprived) from a rank with 1 = most deprived."""
    return rank.map(lambda r: math.ceil(10 * (n + 1 - int(r)) / n)).astype(int)


def load_imd_decile(path: Path) -> pd.DataFrame:
    """``la_code, imd_decile`` for the 151 UTLAs of IoD 2019 File 11 (DfE 3-digit codes).

    Raises
    ------
    DataError
        If the sheet or columns are missing, the number of UTLAs is not 151, ranks are not a
        permutation of 1..n, or ranks disagree with the order of the average scores.
    """
    try:
        df = pd.read_excel(path, sheet_name=SHEET, engine="openpyxl")
    except ValueError as exc:
        raise SchemaError(f"{path}: expected sheet {SHEET!r} ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    where = Path(f"{path}[{SHEET}]")
    require_columns(df, [IOD_CODE_COL, RANK_COL, SCORE_COL], where)
    codes = df[IOD_CODE_COL].astype(str).str.strip().map(lambda c: IOD_CODE_FIXES.get((SHEET, c), c))
    check_known_gss(codes, where, IOD_CODE_COL)
    n = len(df)
    if n != EXPECTED_UTLAS:
        raise DataError(f"{where}: {n} LA rows, expected {EXPECTED_UTLAS} upper-tier LAs (file truncated?)")
    rank = pd.to_numeric(df[RANK_COL], errors="coerce")
    if rank.isna().any() or sorted(rank.astype(int)) != list(range(1, n + 1)):
        raise DataError(f"{where}: column {RANK_COL!r} is not a permutation of 1..{n}")
    score = pd.to_numeric(df[SCORE_COL], errors="raise")
    # rank 1 = highest average score; ties in score would be ambiguous
    by_score = score.rank(ascending=False, method="min").astype(int)
    if not by_score.equals(rank.astype(int)):
        i = (by_score != rank.astype(int)).idxmax()
        raise DataError(f"{where}: {RANK_COL!r} = {int(rank[i])} for {codes[i]} but its average score "
                        f"{score[i]} ranks {int(by_score[i])} (line {i + 2})")
    out = pd.DataFrame({"la_code": codes.map(gss_to_la()), "imd_decile": decile_from_rank(rank, n)})
    check_unique(out, ["la_code"], where, "LA rows")
    return out.sort_values("la_code").reset_index(drop=True)
