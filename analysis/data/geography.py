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
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import paths
from ..errors import SchemaError, UnknownAreaError

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
    """Raise UnknownAreaError naming the file, column and first unknown code."""
    known = known_la_codes()
    bad = codes[~codes.isin(known)].dropna()
    if len(bad):
        raise UnknownAreaError(
            f"{path}: column '{column}' has LA code {bad.iloc[0]!r} that is not in the LA register "
            f"{paths.LA_REGISTER.relative_to(paths.ROOT)} ({bad.nunique()} unknown code(s): "
            f"{sorted(bad.unique())[:10]}). If this is a new or renamed LA, add it to the register "
            f"with its harmonisation rule."
        )


def check_known_gss(codes: pd.Series, path: Path | str, column: str) -> None:
    """Raise UnknownAreaError for GSS codes not in the register."""
    known = set(gss_to_la())
    bad = codes[~codes.isin(known)].dropna()
    if len(bad):
        raise UnknownAreaError(
            f"{path}: column '{column}' has area code {bad.iloc[0]!r} that is not in the LA register "
            f"({sorted(bad.unique())[:10]}). Add it to data/reference/la_register.csv with its rule."
        )


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
