"""Ofsted judgement loaders.

* ``ofsted_outcomes_2025`` (official statistics, ODS): every ILACS standard/short inspection to
  31 March 2025 (sheet ``ILACS_inspection_history``) and the latest judgement per LA (sheet
  ``Inspections_as_at_31_March``).
* ``ofsted_sif_transcribed``: SIF (2013-2018) grades transcribed from the report PDFs, the only
  source of SIF grades.
* ``ofsted_ilacs_transcribed``: ILACS grades transcribed from the report PDFs; used only for
  inspections absent from the official file (after 31 March 2025), and checked against the
  official file where both cover an inspection.

Grades are coded 1 = Outstanding, 2 = Good, 3 = Requires improvement (to be good),
4 = Inadequate. Inspections under the framework of 1 April 2026 carry no overall grade.

Every loader rejects (naming file, column, value and line or sheet row) an unparseable or blank
start or publication date, a fieldwork year outside the years its registered publication covers,
an end date before the start, a publication before the end of fieldwork (or its start where no
end is given) or after ``as_of`` (default: today), an LA code that the row's own GSS code and name
contradict, an unknown grade or inspection-type label, a repeated (LA, start date), and checks
its coverage (rows per framework, LAs, years) against ``data/reference/coverage.toml``.

Inspection types are one controlled vocabulary (:data:`INSPECTION_TYPES`): ``sif``,
``sif re-inspection``, ``standard``, ``short``. The official file's "ILACS Standard Inspection"
and the transcription's "standard" are the same type. Two transcription labels leave the type
open (blank, and "inspection duration longer than standard framework"): allowed only where the
official file covers the inspection and supplies its type.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError, SchemaError
from ..geography import check_identity, check_known_gss, check_known_la, gss_to_la
from ..sources import raw_name
from .coverage import check_coverage
from .parse import (check_date_order, check_not_after, check_period, check_unique, parse_dates,
                    parse_sheet_dates, read_csv_text, require_columns, require_filled)
from .parse import where as line_of
from .sheets import read_sheet, sheet_name

GRADE_NUM = {
    "outstanding": 1, "good": 2, "requires improvement to be good": 3,
    "requires improvement": 3, "inadequate": 4,
}
GRADE_LABEL = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
SUBJUDGEMENTS = ["leaders", "help_protection", "in_care"]
#: raw inspection-type label -> controlled vocabulary, per source column (pd.NA: type left open)
INSPECTION_TYPES: dict[str, dict[str, object]] = {
    "report_type": {"SIF": "sif", "SIF re-inspection": "sif re-inspection"},
    "Inspection type": {"ILACS Standard Inspection": "standard", "ILACS Short Inspection": "short"},
    "ilacs_type_jt39": {"standard": "standard", "short": "short", "": pd.NA,
                        "inspection duration longer than standard framework": pd.NA},
}

TRANSCRIBED_DATE_COLUMNS = {"start_date": "inspection_start_date", "end_date": "inspection_end_date",
                            "publication_date": "publication_date"}
OFFICIAL_HISTORY_SHEET = "ILACS_inspection_history"
OFFICIAL_LATEST_SHEET = "Inspections_as_at_31_March"
OFFICIAL_COLS = {
    "Local authority area code": "gss_code",
    "Local authority name": "la_name",
    "Inspection date": "start_date",
    "Publication date": "publication_date",
    "Overall effectiveness": "overall",
    "The impact of leaders on social work practice with children and families": "leaders",
    "The experiences and progress of children who need help and protection": "help_protection",
    "The experiences and progress of children in care": "in_care",
}


def grade_to_num(values: pd.Series, path: Path | str, column: str, allow_blank: bool) -> pd.Series:
    """Map grade words to 1-4; unknown words raise, blanks raise unless ``allow_blank``."""
    text = values.astype("string").str.strip().str.lower()
    num = text.map(GRADE_NUM)
    bad = (text.notna() & num.isna()).astype(bool)
    if bad.any():
        raise SchemaError(f"{raw_name(path)}: column '{column}' has the unknown grade {values[bad].iloc[0]!r} "
                          f"({line_of(values.to_frame(), values[bad].index[0])}); "
                          f"expected one of {sorted(set(GRADE_NUM))}")
    if not allow_blank and text.isna().any():
        first = text[text.isna()].index[0]
        raise SchemaError(f"{raw_name(path)}: column '{column}' has {int(text.isna().sum())} blank grade(s), "
                          f"first at {line_of(values.to_frame(), first)}")
    return num.astype("Float64")


def inspection_type(values: pd.Series, path: Path | str, column: str) -> pd.Series:
    """Raw inspection-type labels -> :data:`INSPECTION_TYPES` of ``column``; an unknown label raises
    SchemaError naming file, column, value and line."""
    vocab = INSPECTION_TYPES[column]
    text = values.fillna("").astype(str).str.strip()
    known = text.isin(list(vocab))
    if not known.all():
        i = known[~known].index[0]
        raise SchemaError(f"{raw_name(path)}: column '{column}' has the unknown inspection type {values[i]!r} "
                          f"({line_of(values.to_frame(), i)}; {int((~known).sum())} such row(s)); expected one "
                          f"of {sorted(k for k in vocab if k)}")
    return text.map(vocab).astype("object")


def check_dates(df: pd.DataFrame, path: Path | str, columns: dict[str, str], as_of: pd.Timestamp | None) -> None:
    """End not before start; publication not before fieldwork ended (or started) nor after ``as_of``.

    ``columns`` maps the frame's date columns (start_date, end_date, publication_date) to the raw
    file's column names, for the message.
    """
    if "end_date" in df:
        check_date_order(df, "start_date", "end_date", path,
                         columns=(columns["start_date"], columns["end_date"]))
        fieldwork = df["end_date"].fillna(df["start_date"])
        check_date_order(df.assign(_fieldwork=fieldwork), "_fieldwork", "publication_date", path,
                         columns=(f"{columns['end_date']}/{columns['start_date']}", columns["publication_date"]),
                         what=": published before its fieldwork ended")
    else:
        check_date_order(df, "start_date", "publication_date", path,
                         columns=(columns["start_date"], columns["publication_date"]),
                         what=": published before its fieldwork started")
    limit = pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of)
    check_not_after(df, "publication_date", limit, path, column=columns["publication_date"])


def _read_ods_table(path: Path, sheet: str) -> pd.DataFrame:
    """One sheet of the official file (header on row 3); the index is the sheet row (``row``)."""
    return read_sheet(path, sheet, header_row=3, engine="odf")


def load_official_history(path: Path, source: str = "ofsted_outcomes_2025",
                          as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """All ILACS inspections in the official file, one row per (LA, inspection)."""
    raw = _read_ods_table(path, OFFICIAL_HISTORY_SHEET)
    where = sheet_name(path, OFFICIAL_HISTORY_SHEET)
    require_columns(raw, list(OFFICIAL_COLS) + ["Inspection type"], where, header="row 3")
    require_filled(raw, ["Local authority area code", "Local authority name"], where, what="inspection")
    check_known_gss(raw["Local authority area code"], where, "Local authority area code")
    check_identity(raw, where, gss="Local authority area code", name="Local authority name")
    df = raw.rename(columns=OFFICIAL_COLS)
    df["la_code"] = df["gss_code"].map(gss_to_la())
    df["start_date"] = parse_sheet_dates(df["start_date"], where, "Inspection date")
    df["publication_date"] = parse_sheet_dates(df["publication_date"], where, "Publication date")
    check_period(df["start_date"].dt.year, source, where, "Inspection date", df["start_date"])
    df["overall_num"] = grade_to_num(df["overall"], where, "Overall effectiveness", allow_blank=False)
    for s_, raw_col in zip(SUBJUDGEMENTS, list(OFFICIAL_COLS)[5:]):
        df[f"{s_}_num"] = grade_to_num(df[s_], where, raw_col, allow_blank=True)
    df["inspection_type"] = inspection_type(df["Inspection type"], where, "Inspection type")
    df["framework"] = "ILACS"
    df["grade_source"] = "official"
    check_dates(df, where, {"start_date": "Inspection date", "publication_date": "Publication date"}, as_of)
    check_unique(raw.assign(**{"Inspection date": df["start_date"]}),
                 ["Local authority area code", "Inspection date"], where, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, where, what="inspections")
    return df


def load_official_latest(path: Path) -> pd.DataFrame:
    """Latest overall judgement per LA as at 31 March 2025 (sheet Inspections_as_at_31_March)."""
    df = _read_ods_table(path, OFFICIAL_LATEST_SHEET)
    where = sheet_name(path, OFFICIAL_LATEST_SHEET)
    need = ["Local authority area code", "Local authority name", "Inspection date", "Overall effectiveness"]
    require_columns(df, need, where, header="row 3")
    require_filled(df, need[:2], where, what="LA row")
    check_known_gss(df["Local authority area code"], where, "Local authority area code")
    check_identity(df, where, gss="Local authority area code", name="Local authority name")
    out = pd.DataFrame({
        "la_code": df["Local authority area code"].map(gss_to_la()),
        "gss_code": df["Local authority area code"],
        "la_name": df["Local authority name"],
        "start_date": parse_sheet_dates(df["Inspection date"], where, "Inspection date"),
        "overall_num": grade_to_num(df["Overall effectiveness"], where, "Overall effectiveness", False),
    })
    check_unique(df, ["Local authority area code"], where, "LA rows")
    return out


def load_sif(path: Path, source: str = "ofsted_sif_transcribed", as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """SIF inspections and re-inspections (transcribed grades)."""
    raw = read_csv_text(path)
    cols = ["la_code", "la_code_new", "local_authority_ons_name", "report_type", "inspection_start_date",
            "inspection_end_date", "publication_date", "overall_effectiveness", "help_and_protection",
            "looked_after_permanence", "leadership"]
    require_columns(raw, cols, path)
    require_filled(raw, ["la_code", "report_type"], path, what="inspection")
    check_known_la(raw["la_code"], path, "la_code")
    check_identity(raw, path, code="la_code", gss="la_code_new", name="local_authority_ons_name")
    df = pd.DataFrame({
        "la_code": raw["la_code"],
        "framework": "SIF",
        "inspection_type": inspection_type(raw["report_type"], path, "report_type"),
        "start_date": parse_dates(raw["inspection_start_date"], path, "inspection_start_date"),
        "end_date": parse_dates(raw["inspection_end_date"], path, "inspection_end_date", required=False),
        "publication_date": parse_dates(raw["publication_date"], path, "publication_date"),
        "overall_num": grade_to_num(raw["overall_effectiveness"], path, "overall_effectiveness", False),
        "leaders_num": grade_to_num(raw["leadership"], path, "leadership", True),
        "help_protection_num": grade_to_num(raw["help_and_protection"], path, "help_and_protection", True),
        "in_care_num": grade_to_num(raw["looked_after_permanence"], path, "looked_after_permanence", True),
        "grade_source": "transcribed",
        "raw_line": raw.index,
    })
    check_period(df["start_date"].dt.year, source, path, "inspection_start_date", raw["inspection_start_date"])
    check_dates(df, path, TRANSCRIBED_DATE_COLUMNS, as_of)
    check_unique(raw, ["la_code", "inspection_start_date"], path, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, path, what="inspections")
    return df


def load_ilacs_transcribed(path: Path, source: str = "ofsted_ilacs_transcribed",
                           as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """ILACS inspections transcribed from reports (all, including post-April-2026 ungraded)."""
    raw = read_csv_text(path)
    cols = ["la_code", "la_code_new", "local_authority_ons_name", "ilacs_type_jt39", "post_april_2026_framework",
            "inspection_start_date", "inspection_end_date", "publication_date", "overall_effectiveness",
            "impact_of_leaders", "help_and_protection", "in_care", "in_care_and_care_leavers"]
    require_columns(raw, cols, path)
    require_filled(raw, ["la_code", "post_april_2026_framework"], path, what="inspection")
    check_known_la(raw["la_code"], path, "la_code")
    check_identity(raw, path, code="la_code", gss="la_code_new", name="local_authority_ons_name")
    post = raw["post_april_2026_framework"].str.strip().str.lower()
    odd = ~post.isin(["yes", "no"])
    if odd.any():
        i = odd[odd].index[0]
        raise SchemaError(f"{raw_name(path)}: column 'post_april_2026_framework' has "
                          f"{raw.at[i, 'post_april_2026_framework']!r} (line {i}); it must be yes or no")
    graded = post == "no"
    in_care = raw["in_care"].fillna(raw["in_care_and_care_leavers"])
    df = pd.DataFrame({
        "la_code": raw["la_code"],
        "framework": np.where(graded, "ILACS", "ILACS-2026"),
        "inspection_type": inspection_type(raw["ilacs_type_jt39"], path, "ilacs_type_jt39"),
        "start_date": parse_dates(raw["inspection_start_date"], path, "inspection_start_date"),
        "end_date": parse_dates(raw["inspection_end_date"], path, "inspection_end_date", required=False),
        "publication_date": parse_dates(raw["publication_date"], path, "publication_date"),
        "overall_num": grade_to_num(raw["overall_effectiveness"], path, "overall_effectiveness", True),
        "leaders_num": grade_to_num(raw["impact_of_leaders"], path, "impact_of_leaders", True),
        "help_protection_num": grade_to_num(raw["help_and_protection"], path, "help_and_protection", True),
        "in_care_num": grade_to_num(in_care, path, "in_care", True),
        "grade_source": "transcribed",
        "raw_line": raw.index,
    })
    missing_graded = graded & df["overall_num"].isna()
    if missing_graded.any():
        i = missing_graded[missing_graded].index[0]
        raise SchemaError(f"{raw_name(path)}: column 'overall_effectiveness' is blank at line {i} for LA "
                          f"{df.at[i, 'la_code']} although 'post_april_2026_framework' is 'no' "
                          f"({int(missing_graded.sum())} such inspection(s)): a pre-2026 inspection has an overall grade")
    check_period(df["start_date"].dt.year, source, path, "inspection_start_date", raw["inspection_start_date"])
    check_dates(df, path, TRANSCRIBED_DATE_COLUMNS, as_of)
    check_unique(raw, ["la_code", "inspection_start_date"], path, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, path, what="inspections")
    return df


def combine_inspections(official: pd.DataFrame, sif: pd.DataFrame, transcribed: pd.DataFrame,
                        official_path: Path | str = "official",
                        transcribed_path: Path | str = "ofsted/derived_ilacs_judgements_from_reports.csv") -> pd.DataFrame:
    """Union of SIF, official ILACS and later transcribed ILACS inspections.

    Where the transcribed ILACS file covers an inspection that is in the official file (same LA and
    start date), the official grades are used, the transcription must agree on the overall grade
    (else DataError), and the transcription supplies the end date that the official file lacks.
    A later (transcription-only) inspection must have a classified type (standard or short).
    """
    key = ["la_code", "start_date"]
    tr = transcribed[key + ["end_date", "overall_num", "raw_line"]].rename(
        columns={"overall_num": "tr_overall", "raw_line": "tr_line"})
    off = official.reset_index().merge(tr, on=key, how="left", validate="1:1")
    disagree = off["tr_overall"].notna() & (off["tr_overall"] != off["overall_num"])
    if disagree.any():
        r = off[disagree].iloc[0]
        raise DataError(f"{raw_name(official_path)}[{OFFICIAL_HISTORY_SHEET}]: column 'Overall effectiveness' "
                        f"grade {int(r.overall_num)} (row {r['row']}) for LA {r.la_code} ({r.start_date.date()}) "
                        f"disagrees with the transcription {raw_name(transcribed_path)} column "
                        f"'overall_effectiveness' grade {int(r.tr_overall)} (line {int(r.tr_line)})")
    later = transcribed.merge(official[key], on=key, how="left", indicator=True)
    later = later[later["_merge"] == "left_only"].drop(columns="_merge")
    cutoff = official["start_date"].max()
    early = later[later["start_date"] < cutoff]
    if len(early):
        r = early.iloc[0]
        raise DataError(f"{raw_name(transcribed_path)}: line {int(r.raw_line)}: the ILACS inspection of LA "
                        f"{r.la_code} with 'inspection_start_date' {r.start_date.date()} is not in the official "
                        f"file {raw_name(official_path)} although it predates its last inspection ({cutoff.date()})")
    open_type = later[later["inspection_type"].isna()]
    if len(open_type):
        r = open_type.iloc[0]
        raise DataError(f"{raw_name(transcribed_path)}: column 'ilacs_type_jt39' leaves the type of the inspection "
                        f"of LA {r.la_code} starting {r.start_date.date()} open (line {int(r.raw_line)}), and the "
                        f"official file does not cover it; it must be 'standard' or 'short'")
    cols = ["la_code", "framework", "inspection_type", "start_date", "end_date", "publication_date",
            "overall_num", "leaders_num", "help_protection_num", "in_care_num", "grade_source"]
    out = pd.concat([sif[cols], off[cols], later[cols]], ignore_index=True)
    return out.sort_values(key).reset_index(drop=True)
