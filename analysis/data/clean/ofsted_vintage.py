"""The previous official Ofsted vintage, "Local authority inspection outcomes as at 31 March 2024"
(source ``ofsted_outcomes_2024``), read only to cross-check the inspection table.

The file has no LA code column: LAs are joined by name through the LA register
(``data/reference/la_register.csv``), after normalising case, punctuation and the spellings
listed in ``data/reference/la_aliases.csv``. An unmatched name is an error. Cells are read as
stored (:mod:`.sheets`: no pandas NA guessing); text dates only as ISO or day-first.

Sheets used:

* ``ILACS_inspections_2018-2024``: first and second ILACS inspection of every LA (publication
  date, type, overall effectiveness and sub-judgements) and, in a second table, inspections of
  LAs that no longer exist (Bournemouth, Northamptonshire, Cumbria).
* ``Inspections_31_March_2024``: latest judgement of every LA with the inspection (fieldwork
  start) date.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import SchemaError, UnknownAreaError
from ..geography import code_for_name, entity_of, normalise_name
from .ofsted import grade_to_num
from .parse import parse_sheet_dates
from .parse import where as row_of
from .sheets import read_sheet, sheet_name

HISTORY_SHEET = "ILACS_inspections_2018-2024"
LATEST_SHEET = "Inspections_31_March_2024"
GRADES = ["overall", "leaders", "help_protection", "in_care"]
NAME_COL = "Local authority name"
#: the text the latest-judgement sheet gives an LA without an inspection (Cumberland, Westmorland
#: and Furness in 2024); such a row holds no judgement and is left out (any other text is an error)
NOT_INSPECTED = "Not yet inspected"


def _codes(names: pd.Series, path: Path, sheet: str) -> pd.Series:
    lookup = code_for_name()
    codes = names.map(lambda n: lookup.get(normalise_name(n)))
    if codes.isna().any():
        i = codes[codes.isna()].index[0]
        bad = sorted(names[codes.isna()].unique())
        raise UnknownAreaError(f"{sheet_name(path, sheet)}: column '{NAME_COL}' has the LA name {names[i]!r} "
                               f"({row_of(names.to_frame(), i)}) that matches no name in the LA register "
                               f"({bad}); add the spelling to data/reference/la_aliases.csv")
    return codes


def _table(block: pd.DataFrame) -> pd.DataFrame:
    header = [str(c).strip() for c in block.iloc[0]]
    body = block.iloc[1:].copy()
    body.columns = header
    return body[body[NAME_COL].notna()]


def _grades(df: pd.DataFrame, prefix: str, path: Path, where: str) -> pd.DataFrame:
    def col(words: str) -> str:
        hits = [c for c in df.columns if c.startswith(prefix) and words in c.lower()]
        if len(hits) != 1:
            raise SchemaError(f"{sheet_name(path, where)}: expected one column '{prefix}... {words}' in the "
                              f"header (row {int(df.index[0]) - 1 if len(df) else '?'}), found {hits}")
        return hits[0]
    out = pd.DataFrame(index=df.index)
    for name, words in [("overall", "overall effectiveness"), ("leaders", "impact of leaders"),
                        ("help_protection", "help and protection"), ("in_care", "children in care")]:
        c = col(words)
        out[name] = grade_to_num(df[c], sheet_name(path, where), c, allow_blank=True)
    return out


def load_history_2024(path: Path) -> pd.DataFrame:
    """One row per ILACS inspection listed in the 2024 file: ``la_code`` (entity), ``la_name``,
    ``publication_date``, ``inspection_type``, grades 1-4."""
    raw = read_sheet(path, HISTORY_SHEET, header_row=None, engine="odf")
    where = sheet_name(path, HISTORY_SHEET)
    first_col = raw.iloc[:, 0].astype(str).str.strip()
    heads = list(raw.index[first_col == "Web link"])
    if len(heads) != 2:
        raise SchemaError(f"{where}: column A: expected two tables headed 'Web link', found {len(heads)} "
                          f"(rows {heads})")
    current = _table(raw.loc[heads[0]:heads[1] - 2])
    former = _table(raw.loc[heads[1]:])
    rows = []
    for df, prefixes in ((current, ["First ILACS", "Second ILACS"]), (former, ["ILACS framework"])):
        for prefix in prefixes:
            date_col = f"{prefix} publication date"
            if date_col not in df.columns:
                raise SchemaError(f"{where}: column {date_col!r} not found in the header (row {df.index[0] - 1})")
            dated = df[df[date_col].notna()]
            part = pd.DataFrame({"la_name": dated[NAME_COL].astype(str).str.strip(),
                                 "publication_date": parse_sheet_dates(dated[date_col], where, date_col),
                                 "inspection_type": dated[f"{prefix} inspection type"]})
            part = pd.concat([part, _grades(dated, prefix, path, HISTORY_SHEET)], axis=1)
            rows.append(part)
    out = pd.concat(rows)
    out["source_la_code"] = _codes(out["la_name"], path, HISTORY_SHEET)
    out["la_code"] = out["source_la_code"].map(entity_of())
    return out.sort_values(["la_code", "publication_date", "la_name"]).reset_index(drop=True)


def load_latest_2024(path: Path) -> pd.DataFrame:
    """Latest judgement per LA at 31 March 2024: ``la_code`` (entity), ``la_name``,
    ``start_date``, grades 1-4."""
    raw = read_sheet(path, LATEST_SHEET, header_row=None, engine="odf")
    where = sheet_name(path, LATEST_SHEET)
    df = _table(raw.loc[3:])
    if "Inspection date" not in df.columns:
        raise SchemaError(f"{where}: column 'Inspection date' not found in the header (row 3)")
    dated = df[df["Inspection date"].notna() & (df["Inspection date"] != NOT_INSPECTED)]
    out = pd.DataFrame({"la_name": dated[NAME_COL].astype(str).str.strip(),
                        "start_date": parse_sheet_dates(dated["Inspection date"], where, "Inspection date")})
    out = pd.concat([out, _grades(dated, "", path, LATEST_SHEET)], axis=1)
    out["source_la_code"] = _codes(out["la_name"], path, LATEST_SHEET)
    out["la_code"] = out["source_la_code"].map(entity_of())
    return out.sort_values(["la_code", "la_name"]).reset_index(drop=True)


def crosscheck(table: pd.DataFrame, history: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """Compare the 2024 vintage with the inspection table.

    History rows are matched on (entity, publication date), latest rows on (entity, fieldwork
    start date). Returns one row per mismatch: ``sheet, la_name, key, field, vintage_2024,
    inspections_csv`` (``field`` = "missing" when no inspection matches). Joint inspections
    (North + West Northamptonshire) appear twice in the file and once in the table.
    """
    grade_cols = {g: f"{g}_num" for g in GRADES}
    out = []
    for sheet, df, key in (("history", history, "publication_date"), ("latest", latest, "start_date")):
        right = table[["la_code", key, *grade_cols.values()]]
        m = df.merge(right, on=["la_code", key], how="left", indicator=True, validate="m:1")
        for _, r in m.iterrows():
            k = r[key].date().isoformat()
            if r["_merge"] != "both":
                out.append({"sheet": sheet, "la_name": r["la_name"], "key": k, "field": "missing",
                            "vintage_2024": "", "inspections_csv": ""})
                continue
            for g, c in grade_cols.items():
                a, b = r[g], r[c]
                if pd.isna(a) and g == "in_care":
                    continue  # care-leavers era wording differences are not compared when blank
                if not (pd.isna(a) and pd.isna(b)) and (pd.isna(a) or pd.isna(b) or int(a) != int(b)):
                    out.append({"sheet": sheet, "la_name": r["la_name"], "key": k, "field": g,
                                "vintage_2024": "" if pd.isna(a) else str(int(a)),
                                "inspections_csv": "" if pd.isna(b) else str(int(b))})
    return pd.DataFrame(out, columns=["sheet", "la_name", "key", "field", "vintage_2024", "inspections_csv"])
