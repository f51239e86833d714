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

from ...errors import DataError
from .context import read_iod_sheet
from .sheets import sheet_name

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
        If the sheet or columns are missing, a code, rank or score is blank, unknown, not a
        number or implausible (:func:`~analysis.data.clean.context.read_iod_sheet`), the number
        of UTLAs is not 151, ranks are not a permutation of 1..n, or ranks disagree with the
        order of the average scores (each naming the sheet row).
    """
    where = sheet_name(path, SHEET)
    df = read_iod_sheet(path, SHEET, [RANK_COL, SCORE_COL])
    n = len(df)
    if n != EXPECTED_UTLAS:
        raise DataError(f"{where}: {n} LA rows (rows 2-{int(df.index.max()) if n else 1}), expected "
                        f"{EXPECTED_UTLAS} upper-tier LAs (file truncated?)")
    rank = df[RANK_COL]
    whole = rank == rank.round()
    repeated = rank.duplicated(keep="first")
    if not whole.all() or repeated.any():
        i = (~whole | repeated).idxmax()
        raise DataError(f"{where}: column {RANK_COL!r} has {rank[i]!r} (row {i}); the ranks must be the whole "
                        f"numbers 1..{n}, each once")
    rank = rank.astype(int)
    score = df[SCORE_COL]
    # rank 1 = highest average score; ties in score would be ambiguous
    by_score = score.rank(ascending=False, method="min").astype(int)
    if not by_score.equals(rank):
        i = (by_score != rank).idxmax()
        raise DataError(f"{where}: column {RANK_COL!r} = {int(rank[i])} for {df.at[i, 'la_code']} but its "
                        f"average score {score[i]} ranks {int(by_score[i])} (row {i})")
    out = pd.DataFrame({"la_code": df["la_code"], "imd_decile": decile_from_rank(rank, n)})
    return out.sort_values("la_code").reset_index(drop=True)
