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

from ..errors import DataError, SchemaError, UnknownAreaError

COLUMNS = ["la_code", "neighbour_rank", "neighbour_la_code", "grouping"]
N_NEIGHBOURS = 10
GROUPING_2021 = "DfE SN 2021"
GROUPING_2025 = "DfE SN 2025"


def _read(path: Path, code_col: str, sn_cols: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not UTF-8 ({exc})") from exc
    missing = [c for c in [code_col, *sn_cols] if c not in df.columns]
    if missing:
        raise SchemaError(f"{path}: column(s) {missing} not found")
    return df


def _long(rows: dict[str, list[str]], entity: dict[str, str], path: Path, grouping: str) -> list[tuple]:
    out = []
    for la, codes in rows.items():
        seen: list[str] = []
        for code in codes:
            if code not in entity:
                raise UnknownAreaError(f"{path}: neighbour code {code!r} of LA {la} is not in "
                                       "data/reference/la_register.csv")
            e = entity[code]
            if e != la and e not in seen:
                seen.append(e)
        for rank, e in enumerate(seen[:N_NEIGHBOURS], start=1):
            out.append((la, rank, e, grouping))
    return out


def _codes(df: pd.DataFrame, code_col: str, sn_cols: list[str], path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, row in df.iterrows():
        code = row[code_col].strip()
        if not code:
            continue
        sns = [row[c].strip() for c in sn_cols]
        bad = [s for s in sns if not (s.isdigit() and len(s) == 3)]
        if not code.isdigit() or bad:
            raise SchemaError(f"{path}: line {i + 2}: LA {code!r} has invalid neighbour code(s) {bad}")
        if code in out:
            raise DataError(f"{path}: line {i + 2}: LA {code} appears twice")
        out[code] = sns
    return out


def load_2021(path: Path, entity: dict[str, str]) -> list[tuple]:
    sn = [f"SN{i}" for i in range(1, N_NEIGHBOURS + 1)]
    rows = _codes(_read(path, "LA num", sn), "LA num", sn, path)
    if "909" not in rows or "928" not in rows:
        raise SchemaError(f"{path}: expected rows for Cumbria (909) and the old Northamptonshire (928)")
    rows.pop("940", None), rows.pop("941", None)  # entity 928 uses DfE's county row (rule 2)
    for successor in ("942", "943"):  # rule 3
        rows.setdefault(successor, rows["909"])
    return _long(rows, entity, path, GROUPING_2021)


def load_2025(path: Path, entity: dict[str, str]) -> list[tuple]:
    sn = [f"SN_{i}" for i in range(1, N_NEIGHBOURS + 1)]
    rows = _codes(_read(path, "old_la_code", sn), "old_la_code", sn, path)
    if "940" not in rows or "941" not in rows:
        raise SchemaError(f"{path}: expected rows for North (940) and West (941) Northamptonshire")
    north, west = rows.pop("940"), rows.pop("941")
    rows["928"] = [c for pair in zip(north, west) for c in pair]  # rule 2: merged by rank
    return _long(rows, entity, path, GROUPING_2025)


def build_neighbours(path_2021: Path, path_2025: Path, register: pd.DataFrame) -> pd.DataFrame:
    """Both groupings as one long table (:data:`COLUMNS`), sorted by grouping, LA and rank."""
    entity = dict(zip(register["la_code"].astype(str), register["entity_code"].astype(str)))
    rows = load_2021(path_2021, entity) + load_2025(path_2025, entity)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df = df.sort_values(["grouping", "la_code", "neighbour_rank"], kind="stable").reset_index(drop=True)
    return df
