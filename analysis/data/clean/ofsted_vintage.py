"""The previous official Ofsted vintage, "Local authority inspection outcomes as at 31 March 2024"
(source ``ofsted_outcomes_2024``), read only to cross-check the inspection table.

The file has no LA code column: LAs are joined by name through the LA register
(``data/reference/la_register.csv``), after normalising case, punctuation and the few spellings
listed in :data:`NAME_ALIASES`. An unmatched name is an error.

Sheets used:

* ``ILACS_inspections_2018-2024``: first and second ILACS inspection of every LA (publication
  date, type, overall effectiveness and sub-judgements) and, in a second table, inspections of
  LAs that no longer exist (Bournemouth, Northamptonshire, Cumbria).
* ``Inspections_31_March_2024``: latest judgement of every LA with the inspection (fieldwork
  start) date.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ...errors import SchemaError, UnknownAreaError
from ..geography import entity_of, load_register
from .ofsted import grade_to_num

HISTORY_SHEET = "ILACS_inspections_2018-2024"
LATEST_SHEET = "Inspections_31_March_2024"
#: Ofsted spelling -> register spelling (after normalisation)
NAME_ALIASES = {"durham": "county durham", "bristol": "bristol city of",
                "herefordshire": "herefordshire county of", "hull": "kingston upon hull city of",
                "kingston upon hull": "kingston upon hull city of", "st helens": "st helens",
                "bedford borough": "bedford"}
GRADES = ["overall", "leaders", "help_protection", "in_care"]


def _norm(name: str) -> str:
    s = re.sub(r"[^a-z ]", " ", str(name).lower().replace("&", " and "))
    s = re.sub(r"\s+", " ", s).strip()
    return NAME_ALIASES.get(s, s)


def name_to_la() -> dict[str, str]:
    """Normalised register name -> DfE 3-digit code (the latest row of each code)."""
    reg = load_register()
    return {_norm(n): c for n, c in zip(reg["la_name"], reg["la_code"])}


def _codes(names: pd.Series, path: Path, sheet: str) -> pd.Series:
    lookup = name_to_la()
    codes = names.map(lambda n: lookup.get(_norm(n)))
    if codes.isna().any():
        bad = sorted(names[codes.isna()].unique())
        raise UnknownAreaError(f"{path}[{sheet}]: LA name(s) {bad} match no name in the LA register; "
                               f"add an alias to NAME_ALIASES in {__name__}")
    return codes


def _table(block: pd.DataFrame) -> pd.DataFrame:
    header = [str(c).strip() for c in block.iloc[0]]
    body = block.iloc[1:].copy()
    body.columns = header
    return body[body["Local authority name"].notna()].reset_index(drop=True)


def _grades(df: pd.DataFrame, prefix: str, path: Path, where: str) -> pd.DataFrame:
    def col(words: str) -> str:
        hits = [c for c in df.columns if c.startswith(prefix) and words in c.lower()]
        if len(hits) != 1:
            raise SchemaError(f"{path}[{where}]: expected one column '{prefix}... {words}', found {hits}")
        return hits[0]
    out = pd.DataFrame(index=df.index)
    for name, words in [("overall", "overall effectiveness"), ("leaders", "impact of leaders"),
                        ("help_protection", "help and protection"), ("in_care", "children in care")]:
        c = col(words)
        out[name] = grade_to_num(df[c], path, c, allow_blank=True)
    return out


def load_history_2024(path: Path) -> pd.DataFrame:
    """One row per ILACS inspection listed in the 2024 file: ``la_code`` (entity), ``la_name``,
    ``publication_date``, ``inspection_type``, grades 1-4."""
    raw = pd.read_excel(path, sheet_name=HISTORY_SHEET, engine="odf", header=None)
    first_col = raw.iloc[:, 0].astype(str).str.strip()
    heads = list(raw.index[first_col == "Web link"])
    if len(heads) != 2:
        raise SchemaError(f"{path}[{HISTORY_SHEET}]: expected two tables headed 'Web link', found {len(heads)}")
    current = _table(raw.iloc[heads[0]:heads[1] - 1])
    former = _table(raw.iloc[heads[1]:])
    rows = []
    for df, prefixes in ((current, ["First ILACS", "Second ILACS"]), (former, ["ILACS framework"])):
        for prefix in prefixes:
            date_col = f"{prefix} publication date"
            if date_col not in df.columns:
                raise SchemaError(f"{path}[{HISTORY_SHEET}]: column {date_col!r} not found")
            part = pd.DataFrame({"la_name": df["Local authority name"].astype(str).str.strip(),
                                 "publication_date": pd.to_datetime(df[date_col], errors="coerce"),
                                 "inspection_type": df[f"{prefix} inspection type"]})
            part = pd.concat([part, _grades(df, prefix, path, HISTORY_SHEET)], axis=1)
            rows.append(part[df[date_col].notna()])
    out = pd.concat(rows, ignore_index=True)
    if out["publication_date"].isna().any():
        raise SchemaError(f"{path}[{HISTORY_SHEET}]: unparseable publication date")
    out["source_la_code"] = _codes(out["la_name"], path, HISTORY_SHEET)
    out["la_code"] = out["source_la_code"].map(entity_of())
    return out.sort_values(["la_code", "publication_date", "la_name"]).reset_index(drop=True)


def load_latest_2024(path: Path) -> pd.DataFrame:
    """Latest judgement per LA at 31 March 2024: ``la_code`` (entity), ``la_name``,
    ``start_date``, grades 1-4."""
    raw = pd.read_excel(path, sheet_name=LATEST_SHEET, engine="odf", header=None)
    df = _table(raw.iloc[2:])
    if "Inspection date" not in df.columns:
        raise SchemaError(f"{path}[{LATEST_SHEET}]: column 'Inspection date' not found")
    out = pd.DataFrame({"la_name": df["Local authority name"].astype(str).str.strip(),
                        "start_date": pd.to_datetime(df["Inspection date"], errors="coerce")})
    out = pd.concat([out, _grades(df, "", path, LATEST_SHEET)], axis=1)
    out = out[out["start_date"].notna()].copy()
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
