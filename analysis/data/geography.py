"""LA register and harmonisation of LA codes across boundary changes and joint returns.

The register ``data/reference/la_register.csv`` lists every (DfE 3-digit code, GSS code) pair
met in the sources, the harmonised *entity* it belongs to, and the rule applied. The rules
(also in docs/data.md) are:

* **recode** (Buckinghamshire 2020; North Yorkshire, Somerset 2023; Barnsley, Sheffield 2025):
  the GSS code changed but the area and DfE code did not -> one entity.
* **boundary-2019** (Bournemouth, Poole, Dorset CC -> BCP, Dorset) and **split-2023**
  (Cumbria -> Cumberland, Westmorland and Furness): areas changed; predecessors and successors are
  separate entities, no back-casting (the unbalanced panel keeps each as observed).
* **split-2021** (Northamptonshire -> North and West Northamptonshire): one children's trust
  serves both, which make one joint workforce return and were inspected jointly by Ofsted, so
  entity 928 continues as North + West combined (counts summed).
* **joint-return** (Kingston upon Thames 314 and Richmond upon Thames 318): separate Ofsted
  inspections and demand data, but one workforce return (2016+); the joint workforce values are
  assigned to both and flagged ``joint_return``.

Identity cross-check: wherever a raw row carries more than one of DfE code, GSS code and name,
they must describe the same LA (:func:`check_identity`): the (code, GSS) pair must be in the
register and the name, normalised (case, ``&``, punctuation), must be a register name of that
code. Spellings and superseded GSS codes that sources use are listed, with their source, in
``data/reference/la_aliases.csv``. So a code swapped for another valid LA's is refused instead of
moving a row to the wrong LA.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import paths
from ..errors import SchemaError, UnknownAreaError
from .clean.parse import where
from .sources import raw_name

LA_ALIASES = paths.REFERENCE / "la_aliases.csv"

#: display names for entities whose register name is not the whole story
ENTITY_NAMES = {"928": "Northamptonshire (North and West from 2021)"}
#: (la_code, first workforce year) of joint workforce returns flagged in the panel
JOINT_RETURNS = {"314": 2016, "318": 2016, "928": 2021}


@lru_cache(maxsize=4)
def load_register(path: Path = paths.LA_REGISTER) -> pd.DataFrame:
    """Read the LA register (all columns text)."""
    reg = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = ["la_code", "gss_code", "la_name", "region", "entity_code", "rule"]
    missing = [c for c in need if c not in reg.columns]
    if missing:
        raise SchemaError(f"{path}: missing column(s) {missing}")
    if reg.duplicated(["la_code", "gss_code"]).any():
        raise SchemaError(f"{path}: duplicated (la_code, gss_code) pairs")
    return reg


def known_la_codes() -> frozenset[str]:
    return frozenset(load_register()["la_code"])


def gss_to_la() -> dict[str, str]:
    """Map every registered GSS code to its DfE 3-digit code."""
    reg = load_register()
    return dict(zip(reg["gss_code"], reg["la_code"]))


def entity_of() -> dict[str, str]:
    """Map DfE 3-digit code -> harmonised entity code."""
    reg = load_register()
    return dict(zip(reg["la_code"], reg["entity_code"]))


def entity_table() -> pd.DataFrame:
    """One row per entity: code, name, region, latest GSS code."""
    reg = load_register()
    ent = reg[reg["la_code"] == reg["entity_code"]].copy()
    ent["last"] = pd.to_numeric(ent["last_seen_year"])
    ent = ent.sort_values(["entity_code", "last"]).groupby("entity_code").tail(1)
    ent["la_name"] = ent["entity_code"].map(ENTITY_NAMES).fillna(ent["la_name"])
    ent["region"] = ent["region"].replace({"Inner London": "London", "Outer London": "London"})
    return (ent.rename(columns={"entity_code": "la_code_h"})[["la_code_h", "la_name", "region", "gss_code"]]
            .rename(columns={"la_code_h": "la_code"}).reset_index(drop=True))


def check_known_la(codes: pd.Series, path: Path | str, column: str) -> None:
    """Raise UnknownAreaError naming the file, column, first unknown code and its line."""
    known = known_la_codes()
    bad = codes[~codes.isin(known)].dropna()
    if len(bad):
        raise UnknownAreaError(
            f"{raw_name(path)}: column '{column}' has LA code {bad.iloc[0]!r} ({where(codes.to_frame(), bad.index[0])}) "
            f"that is not in the LA register {paths.LA_REGISTER.relative_to(paths.ROOT)} ({bad.nunique()} unknown "
            f"code(s): {sorted(bad.unique())[:10]}). If this is a new or renamed LA, add it to the register "
            f"with its harmonisation rule."
        )


def check_known_gss(codes: pd.Series, path: Path | str, column: str) -> None:
    """Raise UnknownAreaError for GSS codes not in the register, naming the first one's line."""
    known = set(gss_to_la())
    bad = codes[~codes.isin(known)].dropna()
    if len(bad):
        raise UnknownAreaError(
            f"{raw_name(path)}: column '{column}' has area code {bad.iloc[0]!r} ({where(codes.to_frame(), bad.index[0])}) "
            f"that is not in the LA register ({sorted(map(str, bad.unique()))[:10]}). Add it to "
            f"data/reference/la_register.csv with its rule."
        )


def normalise_name(name: str) -> str:
    """Lower case, ``&`` as "and", punctuation dropped, spaces collapsed ("St. Helens" -> "st helens")."""
    s = re.sub(r"[^a-z ]", " ", str(name).lower().replace("&", " and "))
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=4)
def load_aliases(path: Path = LA_ALIASES) -> pd.DataFrame:
    """Other spellings (``kind`` name) and superseded GSS codes (``kind`` gss) of register LAs."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(df.columns) != ["la_code", "kind", "alias", "note"]:
        raise SchemaError(f"{path}: columns must be la_code, kind, alias, note")
    bad = df[~df["kind"].isin(["name", "gss"]) | ~df["la_code"].isin(known_la_codes()) | (df["note"].str.strip() == "")]
    if len(bad):
        raise SchemaError(f"{path}: line {int(bad.index[0]) + 2} needs a register LA code, kind name or gss, and a note")
    return df


@lru_cache(maxsize=4)
def _identity() -> tuple[frozenset, dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(code, GSS) pairs; normalised names by code; codes by GSS (register plus aliases)."""
    reg, ali = load_register(), load_aliases()
    gss_alias = ali[ali["kind"] == "gss"]
    pairs = set(zip(reg["la_code"], reg["gss_code"])) | set(zip(gss_alias["la_code"], gss_alias["alias"]))
    names: dict[str, set[str]] = {}
    for code, name in [*zip(reg["la_code"], reg["la_name"]),
                       *zip(ali.loc[ali["kind"] == "name", "la_code"], ali.loc[ali["kind"] == "name", "alias"])]:
        names.setdefault(code, set()).add(normalise_name(name))
    by_gss: dict[str, set[str]] = {}
    for code, gss in pairs:
        by_gss.setdefault(gss, set()).add(code)
    return (frozenset(pairs), {k: frozenset(v) for k, v in names.items()},
            {k: frozenset(v) for k, v in by_gss.items()})


def code_for_name() -> dict[str, str]:
    """Normalised name (register or alias) -> DfE code; a name used twice (Dorset 835 and 838)
    goes to the register's later row (the current LA)."""
    reg, ali = load_register(), load_aliases()
    out = {normalise_name(n): c for n, c in zip(reg["la_name"], reg["la_code"])}
    names = ali[ali["kind"] == "name"]
    out.update({normalise_name(n): c for n, c in zip(names["alias"], names["la_code"])})
    return out


def _parts(value) -> list[str]:
    return [p.strip() for p in str(value).split("/")]


def check_identity(df: pd.DataFrame, path: Path | str, *, code: str | None = None, gss: str | None = None,
                   name: str | None = None) -> None:
    """Refuse a row whose DfE code, GSS code and name (the columns given) name different LAs.

    Joint rows (``314 / 318``, ``E09000021 / E09000027``, ``Kingston upon Thames / Richmond upon
    Thames``) are split on ``/`` and checked part by part. Rows whose code (or, without a code
    column, GSS code) is blank are left to the loader's blank-key check.

    Raises
    ------
    UnknownAreaError
        Naming file, the columns and values that disagree, what the register says each one is,
        and the line.
    """
    pairs, names, by_gss = _identity()
    reg = load_register()
    label = {c: n for c, n in zip(reg["la_code"], reg["la_name"])}
    lead = code or gss
    cols = [c for c in (code, gss, name) if c is not None]
    for idx, row in zip(df.index, df[cols].itertuples(index=False, name=None)):
        cells = dict(zip(cols, row))
        if pd.isna(cells[lead]) or not str(cells[lead]).strip():
            continue
        problem = _row_problem(cells, code, gss, name, pairs, names, by_gss, label)
        if problem:
            shown = ", ".join(f"'{c}' = {str(v) if pd.notna(v) else ''!r}" for c, v in cells.items())
            raise UnknownAreaError(
                f"{raw_name(path)}: {where(df, idx)}: {shown} do not describe one LA ({problem}). A code "
                f"swapped for another LA's is refused; if the register or an alias is wrong, correct "
                f"data/reference/la_register.csv or data/reference/la_aliases.csv."
            )


def _row_problem(cells: dict, code, gss, name, pairs, names, by_gss, label) -> str | None:
    code_parts = _parts(cells[code]) if code else None
    gss_parts = _parts(cells[gss]) if gss else None
    name_parts = [p.strip() for p in str(cells[name]).split(" / ")] if name else None
    lead = code_parts if code_parts is not None else gss_parts
    for other, col in ((gss_parts, gss), (name_parts, name)):
        if other is not None and len(other) != len(lead):
            return f"'{col}' has {len(other)} part(s) but the code has {len(lead)}"
    for i, part in enumerate(lead):
        if code_parts is not None:
            candidates = {part}
            if gss_parts is not None and (part, gss_parts[i]) not in pairs:
                said = sorted(by_gss.get(gss_parts[i], ()))
                return (f"{gss_parts[i]!r} is " + (f"LA {', '.join(said)} ({label.get(said[0], '?')})" if said
                        else "no registered GSS code") + f", not LA {part} ({label.get(part, '?')})")
        else:
            candidates = set(by_gss.get(part, ()))
            if not candidates:
                return f"{part!r} is no registered GSS code"
        if name_parts is not None:
            given = name_parts[i]
            if not given or given.lower() == "nan":
                return f"'{name}' is blank"
            if not any(normalise_name(given) in names.get(c, ()) for c in candidates):
                return (f"{given!r} is not a register name of LA {', '.join(sorted(candidates))} "
                        f"({label.get(sorted(candidates)[0], '?')})")
    return None


def existence_years() -> pd.DataFrame:
    """First and last reporting year each DfE code appears in the DfE files (from the register)."""
    reg = load_register()
    yrs = reg.assign(first=pd.to_numeric(reg["first_seen_year"]), last=pd.to_numeric(reg["last_seen_year"]))
    return yrs.groupby("la_code").agg(first=("first", "min"), last=("last", "max"))


def to_entity(df: pd.DataFrame, value_cols: list[str], *, keys=("year",)) -> pd.DataFrame:
    """Sum counts of component LAs into harmonised entities, column by column.

    A missing value of an LA in a year outside its existence (e.g. a ``z`` row for West
    Northamptonshire before 2022) is a placeholder and is ignored. Otherwise a sum is missing if
    any component is missing: no partial totals.
    """
    long = df.melt(id_vars=["la_code", *keys], value_vars=value_cols, var_name="_col", value_name="_v")
    if "year" in keys:
        life = existence_years()
        first = long["la_code"].map(life["first"])
        last = long["la_code"].map(life["last"])
        outside = (long["year"] < first) | (long["year"] > last)
        long = long[~(outside & long["_v"].isna())]
    long["la_code"] = long["la_code"].map(entity_of())
    grp = long.groupby(["la_code", *keys, "_col"], sort=True)["_v"]
    total = grp.sum(min_count=1).where(grp.count().eq(grp.size()))
    out = total.unstack("_col").reindex(columns=value_cols)
    out.columns.name = None
    return out.reset_index()
