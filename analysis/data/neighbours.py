"""Statistical neighbours of each harmonised entity, from DfE's two groupings.

Sources (``context/lookups/``):

* ``New_Statistical_Neighbour_Groupings_April_2021.csv`` (grouping ``DfE SN 2021``): ten
  neighbours per LA on April 2021 geography (940/941 North and West Northamptonshire, Cumbria
  909), followed by an "Old SNs:" block for abolished LAs (835-837 Dorset area, 928
  Northamptonshire).
* ``sn_model_2025_wide.csv`` (grouping ``DfE SN 2025``): ten neighbours per LA on 2025
  geography (942/943 Cumberland, Westmorland and Furness).

Rules (codes -> harmonised entities via ``data/reference/la_register.csv``):

1. Every neighbour code is replaced by its entity (940 and 941 -> 928). A neighbour that maps to
   the LA itself, or repeats an earlier neighbour, is dropped and the ranks close up
   (rank = position among the remaining neighbours, 1 = closest).
2. Entity 928 in ``DfE SN 2021`` uses DfE's own Northamptonshire row (the "Old SNs" block); in
   ``DfE SN 2025`` (no 928 row) the lists of 940 and 941 are merged by rank (940 first at equal
   rank) under rule 1, keeping ten.
3. ``DfE SN 2021`` has no rows for Cumberland (942) or Westmorland and Furness (943), created in
   2023; both take Cumbria's (909) list. Cumbria (909) keeps its own 2021 row.
4. Rows of the abolished Dorset-area LAs (835-837) in the "Old SNs" block are kept for their
   own entities.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SchemaError, UnknownAreaError
from .clean.parse import check_unique, read_csv_text, require_columns
from .geography import check_identity, check_known_la
from .sources import raw_name

COLUMNS = ["la_code", "neighbour_rank", "neighbour_la_code", "grouping"]
N_NEIGHBOURS = 10
GROUPING_2021 = "DfE SN 2021"
GROUPING_2025 = "DfE SN 2025"


def _read(path: Path, code_col: str, name_col: str, sn_cols: list[str]) -> pd.DataFrame:
    """Rows of a grouping file that name an LA (index = file line), checked.

    A row with a blank code is a separator or a block label ("Old SNs:") and must list no
    neighbours; every other row needs a register code whose name agrees, ten three-digit
    neighbour codes, and a code of its own (not repeated).
    """
    df = read_csv_text(path)  # UTF-8, ragged and cut-short rows refused, lines kept
    require_columns(df, [code_col, name_col, *sn_cols], path)
    df = df.fillna("").map(str.strip)
    blank = df[code_col] == ""
    listed = (df[sn_cols] != "").any(axis=1)
    if (blank & listed).any():
        i = (blank & listed).idxmax()
        raise SchemaError(f"{raw_name(path)}: column '{code_col}' is blank at line {i} but the row lists "
                          f"neighbours ({name_col} {df.at[i, name_col]!r}); the row cannot be placed")
    rows = df[~blank]
    for col in [code_col, *sn_cols]:
        bad = ~rows[col].str.fullmatch(r"\d{3}")
        if bad.any():
            i = bad.idxmax()
            raise SchemaError(f"{raw_name(path)}: column '{col}' has the invalid LA code {rows.at[i, col]!r} "
                              f"(line {i}); codes are three digits")
    check_known_la(rows[code_col], path, code_col)
    check_identity(rows, path, code=code_col, name=name_col)
    check_unique(rows, [code_col], path, "LA rows")
    return rows


def _codes(df: pd.DataFrame, code_col: str, sn_cols: list[str]) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """LA code -> (file line, [(column, neighbour code)] in rank order)."""
    return {row[code_col]: (int(line), [(c, row[c]) for c in sn_cols]) for line, row in df.iterrows()}


def _long(rows: dict[str, tuple[int, list[tuple[str, str]]]], entity: dict[str, str], path: Path,
          grouping: str) -> list[tuple]:
    out = []
    for la, (line, codes) in rows.items():
        seen: list[str] = []
        for col, code in codes:
            if code not in entity:
                raise UnknownAreaError(f"{raw_name(path)}: column '{col}' has the neighbour code {code!r} of LA {la} "
                                       f"(line {line}) that is not in data/reference/la_register.csv")
            e = entity[code]
            if e != la and e not in seen:
                seen.append(e)
        for rank, e in enumerate(seen[:N_NEIGHBOURS], start=1):
            out.append((la, rank, e, grouping))
    return out


def load_2021(path: Path, entity: dict[str, str]) -> list[tuple]:
    sn = [f"SN{i}" for i in range(1, N_NEIGHBOURS + 1)]
    df = _read(path, "LA num", "LA Name", sn)
    differ = df["LA number"] != df["LA num"]
    if differ.any():
        i = differ.idxmax()
        raise UnknownAreaError(f"{raw_name(path)}: line {i}: column 'LA num' is {df.at[i, 'LA num']!r} but "
                               f"'LA number' is {df.at[i, 'LA number']!r}; both must name the same LA")
    rows = _codes(df, "LA num", sn)
    if "909" not in rows or "928" not in rows:
        raise SchemaError(f"{raw_name(path)}: column 'LA num': expected rows for Cumbria (909) and the old "
                          f"Northamptonshire (928) (lines 2-{int(df.index.max())})")
    rows.pop("940", None), rows.pop("941", None)  # entity 928 uses DfE's county row (rule 2)
    for successor in ("942", "943"):  # rule 3
        rows.setdefault(successor, rows["909"])
    return _long(rows, entity, path, GROUPING_2021)


def load_2025(path: Path, entity: dict[str, str]) -> list[tuple]:
    sn = [f"SN_{i}" for i in range(1, N_NEIGHBOURS + 1)]
    df = _read(path, "old_la_code", "la_name", sn)
    rows = _codes(df, "old_la_code", sn)
    if "940" not in rows or "941" not in rows:
        raise SchemaError(f"{raw_name(path)}: column 'old_la_code': expected rows for North (940) and West (941) "
                          f"Northamptonshire (lines 2-{int(df.index.max())})")
    (line, north), (_, west) = rows.pop("940"), rows.pop("941")
    rows["928"] = (line, [c for pair in zip(north, west) for c in pair])  # rule 2: merged by rank
    return _long(rows, entity, path, GROUPING_2025)


def build_neighbours(path_2021: Path, path_2025: Path, register: pd.DataFrame) -> pd.DataFrame:
    """Both groupings as one long table (:data:`COLUMNS`), sorted by grouping, LA and rank."""
    entity = dict(zip(register["la_code"].astype(str), register["entity_code"].astype(str)))
    rows = load_2021(path_2021, entity) + load_2025(path_2025, entity)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df = df.sort_values(["grouping", "la_code", "neighbour_rank"], kind="stable").reset_index(drop=True)
    return df
