"""Children's social work workforce loaders (DfE), one per file format.

Years are census years: "year N" is the snapshot at 30 September N (flows: the year to then).

* 2015 and 2016 come from the SFR underlying data of the aggregate collection; 2017-2025 from the
  Explore Education Statistics indicators file of the worker-level collection. Definitions changed
  between 2016 and 2017 (``aggregate_collection`` flags 2015-2016) and 2015 has no caseload.
* Output: one row per (DfE 3-digit ``la_code``, ``year``) with published rates and, for 2017+, the
  counts they are computed from. Joint returns are expanded so that Kingston (314) and Richmond
  (318) each carry the joint values; the North + West Northamptonshire joint row is coded 928.

Rate definitions (DfE):

.. math::

    \\text{vacancy} = \\frac{\\text{vacancies}}{\\text{vacancies} + \\text{in post}},\\quad
    \\text{agency} = \\frac{\\text{agency}}{\\text{agency} + \\text{in post}},\\quad
    \\text{turnover} = \\frac{\\text{leavers}}{\\text{in post}},\\quad
    \\text{caseload} = \\frac{\\text{cases}}{\\text{case-holding FTE}}
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import SchemaError
from ..geography import check_identity, check_known_la
from ..sources import raw_name
from .coverage import check_coverage
from .ees import read_ees
from .parse import (SuppressionLog, check_percent_scale, check_unique, read_csv_text, require_columns,
                    require_filled, to_number)

#: EES indicators columns used -> panel names
EES_COLUMNS = {
    "inpost_fte": "inpost_fte",
    "starters_fte": "starters_fte",
    "leavers_fte": "leavers_fte",
    "agency_fte": "agency_fte",
    "vacancy_fte": "vacancy_fte",
    "case_holders_fte": "case_holders_fte",
    "cases": "cases",
    "working_days_lost_fte": "working_days_lost_fte",
    "turnover_rate_fte": "turnover_rate",
    "agency_rate_fte": "agency_rate",
    "vacancy_rate_fte": "vacancy_rate",
    "caseload_fte": "caseload",
    "absence_rate_fte": "absence_rate",
}
#: percentage columns (0-100) of each format, checked for a year given as fractions
EES_PERCENT = ["turnover_rate_fte", "agency_rate_fte", "vacancy_rate_fte", "absence_rate_fte"]
SFR_PERCENT = ["B3_FTE_TurnoverRate", "D2_FTE_AgencyWorkerRate", "A3_FTE_VacancyRate", "C2_FTE_AbsenceRate"]

#: SFR columns (without the _YYYY suffix) -> panel names
SFR_COLUMNS = {
    "A1_FTE_ChildrensSocialWorkers": "inpost_fte",
    "B1_FTE_Starters": "starters_fte",
    "B2_FTE_Leavers": "leavers_fte",
    "B3_FTE_TurnoverRate": "turnover_rate",
    "D1_FTE_AgencyWorkers": "agency_fte",
    "D2_FTE_AgencyWorkerRate": "agency_rate",
    "A2_FTE_Vacancies": "vacancy_fte",
    "A3_FTE_VacancyRate": "vacancy_rate",
    "C2_FTE_AbsenceRate": "absence_rate",
}
SFR_KEYS = ["LA_code (3 digit)", "LA_name", "LA_code (9 digit)"]
JOINT_CODES = {"314 / 318": ["314", "318"], "940 / 941": ["928"]}


def load_indicators(path: Path, log: SuppressionLog, source: str = "csww_indicators",
                    claimed: dict[int, Path] | None = None) -> pd.DataFrame:
    """Load the 2017-2025 EES indicators file: LA rows, long by year, plus the England rows.

    ``claimed`` maps census years that other files supply to those files; a row of such a year
    here is a DuplicateKeyError naming both files, the column, the year and the line.

    Returns
    -------
    DataFrame with ``la_code`` ('ENG' for the national row), ``year``, ``joint_return`` and the
    measures of :data:`EES_COLUMNS` (panel names), one row per (la_code, year).
    """
    raw = read_ees(path, source, list(EES_COLUMNS), claimed=claimed)
    keep = raw[raw["geographic_level"].isin(["National", "Local authority"])].copy()
    if not {"National", "Local authority"} <= set(keep["geographic_level"]):
        raise SchemaError(f"{raw_name(path)}: column 'geographic_level' lacks 'National' or 'Local authority' "
                          f"rows (header line 1; found {sorted(set(raw['geographic_level']))})")
    is_la = keep["geographic_level"] == "Local authority"
    num = to_number(keep[is_la], list(EES_COLUMNS), path=path, source=source, log=log, scope="LA rows")
    check_percent_scale(num, EES_PERCENT, path)
    nat = to_number(keep[~is_la], list(EES_COLUMNS), path=path, source=source, log=log,
                    scope="England row", level="england")
    nat["old_la_code"] = "ENG"
    out = pd.concat([nat, num]).rename(columns=EES_COLUMNS)
    # expand joint returns
    out["joint_return"] = out["old_la_code"].isin(list(JOINT_CODES))
    out["la_code"] = out["old_la_code"].map(lambda c: JOINT_CODES.get(c, [c]))
    out = out.explode("la_code")
    la = out["la_code"] != "ENG"
    check_known_la(out.loc[la, "la_code"], path, "old_la_code")
    check_unique(out, ["la_code", "year"], path, "LA-year rows")
    check_coverage(out[la], source, path)
    cols = ["la_code", "year", "joint_return", *EES_COLUMNS.values()]
    return out[cols].sort_values(["year", "la_code"]).reset_index(drop=True)


def load_sfr(path: Path, year: int, log: SuppressionLog, source: str) -> pd.DataFrame:
    """Load one SFR underlying-data file (2015 or 2016 census) to LA rows.

    2016 additionally has ``Average_caseload`` (cases per case-holding FTE), which becomes
    ``caseload``; 2015 has no caseload. In 2016 Richmond (318) reports ``.`` throughout because
    Kingston's row is the joint return: Kingston's values are copied to Richmond and both flagged.
    """
    raw = read_csv_text(path)
    wanted = {f"{k}_{year}": v for k, v in SFR_COLUMNS.items()}
    if year == 2016:
        wanted["Average_caseload"] = "caseload"
    require_columns(raw, SFR_KEYS + list(wanted), path)
    named = raw["LA_name"].notna() | raw["LA_code (9 digit)"].notna()
    require_filled(raw[named], ["LA_code (3 digit)"], path, what="LA row")
    la = raw[raw["LA_code (3 digit)"].notna()].copy()
    la = la[la["LA_code (3 digit)"].str.strip() != ""]
    la["la_code"] = la["LA_code (3 digit)"].str.strip()
    check_known_la(la["la_code"], path, "LA_code (3 digit)")
    check_identity(la, path, code="LA_code (3 digit)", gss="LA_code (9 digit)", name="LA_name")
    check_unique(la, ["LA_code (3 digit)"], path, "LA rows")
    check_coverage(la, source, path, year_col=None)
    num = to_number(la, list(wanted), path=path, source=source, log=log, scope="LA rows", thousands=True)
    check_percent_scale(num.assign(year=year), [f"{k}_{year}" for k in SFR_PERCENT], path)
    num = num.rename(columns=wanted)
    num["year"] = year
    num["joint_return"] = False
    if year >= 2016:
        k = num["la_code"] == "314"
        r = num["la_code"] == "318"
        if k.sum() == 1 and r.sum() == 1 and num.loc[r, list(wanted.values())].isna().all(axis=None):
            for col in wanted.values():
                num.loc[r, col] = num.loc[k, col].to_numpy()
            num.loc[k | r, "joint_return"] = True
    if "caseload" not in num:
        num["caseload"] = float("nan")
    cols = ["la_code", "year", "joint_return", *dict.fromkeys([*SFR_COLUMNS.values(), "caseload"])]
    return num[cols].sort_values("la_code").reset_index(drop=True)


def load_workforce(paths_by_source: dict[str, Path], log: SuppressionLog) -> pd.DataFrame:
    """All workforce years 2015-2025 for LA rows, with ``aggregate_collection`` flag (2015-2016)."""
    files = {2015: paths_by_source["csww_sfr_2015"], 2016: paths_by_source["csww_sfr_2016"]}
    ees = load_indicators(paths_by_source["csww_indicators"], log, claimed=files)
    ees = ees[ees["la_code"] != "ENG"]
    s15 = load_sfr(paths_by_source["csww_sfr_2015"], 2015, log, "csww_sfr_2015")
    s16 = load_sfr(paths_by_source["csww_sfr_2016"], 2016, log, "csww_sfr_2016")
    out = pd.concat([s15, s16, ees], ignore_index=True)
    out["aggregate_collection"] = out["year"] <= 2016
    out["workforce_source"] = out["year"].map(
        lambda y: "csww_sfr_2015" if y == 2015 else "csww_sfr_2016" if y == 2016 else "csww_indicators")
    return out.sort_values(["la_code", "year"]).reset_index(drop=True)
