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
start or publication date, an end date before the start, a publication before the end of
fieldwork (or its start where no end is given) or after ``as_of`` (default: today), and checks
its coverage (rows per framework, LAs, years) against ``data/reference/coverage.toml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import DataError, FileFormatError, SchemaError
from ..geography import check_known_gss, check_known_la, gss_to_la
from .coverage import check_coverage
from .parse import (check_date_order, check_not_after, check_unique, parse_dates, read_csv_text,
                    require_columns, require_filled)
from .parse import where as line_of

GRADE_NUM = {
    "outstanding": 1, "good": 2, "requires improvement to be good": 3,
    "requires improvement": 3, "inadequate": 4,
}
GRADE_LABEL = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
SUBJUDGEMENTS = ["leaders", "help_protection", "in_care"]

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
        raise SchemaError(f"{path}: column '{column}' has the unknown grade {values[bad].iloc[0]!r} "
                          f"({line_of(values.to_frame(), values[bad].index[0])}); "
                          f"expected one of {sorted(set(GRADE_NUM))}")
    if not allow_blank and text.isna().any():
        first = text[text.isna()].index[0]
        raise SchemaError(f"{path}: column '{column}' has {int(text.isna().sum())} blank grade(s), "
                          f"first at {line_of(values.to_frame(), first)}")
    return num.astype("Float64")


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
    """One sheet (header on row 3); the index is the sheet row number (name ``row``)."""
    if Path(path).stat().st_size == 0:
        raise FileFormatError(f"{path}: the file is empty (0 bytes); restore the original download.")
    try:
        df = pd.read_excel(path, sheet_name=sheet, header=2, engine="odf")
    except ValueError as exc:
        raise SchemaError(f"{path}: sheet '{sheet}' not found or unreadable ({exc})") from exc
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors of a damaged spreadsheet
        raise FileFormatError(f"{path}: cannot be read as an .ods spreadsheet ({type(exc).__name__}: "
                              f"{exc}); restore the original download.") from exc
    return df.set_axis(pd.Index(df.index + 4, name="row"))


def load_official_history(path: Path, source: str = "ofsted_outcomes_2025",
                          as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """All ILACS inspections in the official file, one row per (LA, inspection)."""
    df = _read_ods_table(path, OFFICIAL_HISTORY_SHEET)
    require_columns(df, list(OFFICIAL_COLS) + ["Inspection type"], Path(f"{path}[{OFFICIAL_HISTORY_SHEET}]"))
    df = df.rename(columns=OFFICIAL_COLS)
    where = f"{path}[{OFFICIAL_HISTORY_SHEET}]"
    require_filled(df, ["gss_code"], where, what="inspection")
    check_known_gss(df["gss_code"], where, "Local authority area code")
    df["la_code"] = df["gss_code"].map(gss_to_la())
    df["overall_num"] = grade_to_num(df["overall"], where, "Overall effectiveness", allow_blank=False)
    for s in SUBJUDGEMENTS:
        df[f"{s}_num"] = grade_to_num(df[s], where, s, allow_blank=True)
    df["inspection_type"] = df["Inspection type"].str.replace("ILACS ", "", regex=False).str.lower()
    df["framework"] = "ILACS"
    df["grade_source"] = "official"
    df["start_date"] = parse_dates(df["start_date"], where, "Inspection date", fmt=None)
    df["publication_date"] = parse_dates(df["publication_date"], where, "Publication date", fmt=None)
    check_dates(df, where, {"start_date": "Inspection date", "publication_date": "Publication date"}, as_of)
    check_unique(df, ["la_code", "start_date"], where, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, where, what="inspections")
    return df


def load_official_latest(path: Path) -> pd.DataFrame:
    """Latest overall judgement per LA as at 31 March 2025 (sheet Inspections_as_at_31_March)."""
    df = _read_ods_table(path, OFFICIAL_LATEST_SHEET)
    where = f"{path}[{OFFICIAL_LATEST_SHEET}]"
    need = ["Local authority area code", "Local authority name", "Inspection date", "Overall effectiveness"]
    require_columns(df, need, Path(where))
    check_known_gss(df["Local authority area code"], where, "Local authority area code")
    out = pd.DataFrame({
        "la_code": df["Local authority area code"].map(gss_to_la()),
        "gss_code": df["Local authority area code"],
        "la_name": df["Local authority name"],
        "start_date": parse_dates(df["Inspection date"], where, "Inspection date", fmt=None),
        "overall_num": grade_to_num(df["Overall effectiveness"], where, "Overall effectiveness", False),
    })
    check_unique(out, ["la_code"], where, "LA rows")
    return out


def load_sif(path: Path, source: str = "ofsted_sif_transcribed", as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """SIF inspections and re-inspections (transcribed grades)."""
    raw = read_csv_text(path)
    cols = ["la_code", "report_type", "inspection_start_date", "inspection_end_date", "publication_date",
            "overall_effectiveness", "help_and_protection", "looked_after_permanence", "leadership"]
    require_columns(raw, cols, path)
    require_filled(raw, ["la_code", "report_type"], path, what="inspection")
    check_known_la(raw["la_code"], path, "la_code")
    df = pd.DataFrame({
        "la_code": raw["la_code"],
        "framework": "SIF",
        "inspection_type": raw["report_type"].str.lower(),
        "start_date": parse_dates(raw["inspection_start_date"], path, "inspection_start_date"),
        "end_date": parse_dates(raw["inspection_end_date"], path, "inspection_end_date", required=False),
        "publication_date": parse_dates(raw["publication_date"], path, "publication_date"),
        "overall_num": grade_to_num(raw["overall_effectiveness"], path, "overall_effectiveness", False),
        "leaders_num": grade_to_num(raw["leadership"], path, "leadership", True),
        "help_protection_num": grade_to_num(raw["help_and_protection"], path, "help_and_protection", True),
        "in_care_num": grade_to_num(raw["looked_after_permanence"], path, "looked_after_permanence", True),
        "grade_source": "transcribed",
    })
    check_dates(df, path, TRANSCRIBED_DATE_COLUMNS, as_of)
    check_unique(df, ["la_code", "start_date"], path, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, path, what="inspections")
    return df


def load_ilacs_transcribed(path: Path, source: str = "ofsted_ilacs_transcribed",
                           as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """ILACS inspections transcribed from reports (all, including post-April-2026 ungraded)."""
    raw = read_csv_text(path)
    cols = ["la_code", "ilacs_type_jt39", "post_april_2026_framework", "inspection_start_date",
            "inspection_end_date", "publication_date", "overall_effectiveness", "impact_of_leaders",
            "help_and_protection", "in_care", "in_care_and_care_leavers"]
    require_columns(raw, cols, path)
    require_filled(raw, ["la_code", "post_april_2026_framework"], path, what="inspection")
    check_known_la(raw["la_code"], path, "la_code")
    post = raw["post_april_2026_framework"].str.strip().str.lower()
    if not set(post.dropna()) <= {"yes", "no"}:
        raise SchemaError(f"{path}: column 'post_april_2026_framework' must be yes/no; found {sorted(set(post.dropna()))}")
    graded = post == "no"
    in_care = raw["in_care"].fillna(raw["in_care_and_care_leavers"])
    df = pd.DataFrame({
        "la_code": raw["la_code"],
        "framework": np.where(graded, "ILACS", "ILACS-2026"),
        "inspection_type": raw["ilacs_type_jt39"].fillna("unknown").str.lower(),
        "start_date": parse_dates(raw["inspection_start_date"], path, "inspection_start_date"),
        "end_date": parse_dates(raw["inspection_end_date"], path, "inspection_end_date", required=False),
        "publication_date": parse_dates(raw["publication_date"], path, "publication_date"),
        "overall_num": grade_to_num(raw["overall_effectiveness"], path, "overall_effectiveness", True),
        "leaders_num": grade_to_num(raw["impact_of_leaders"], path, "impact_of_leaders", True),
        "help_protection_num": grade_to_num(raw["help_and_protection"], path, "help_and_protection", True),
        "in_care_num": grade_to_num(in_care, path, "in_care", True),
        "grade_source": "transcribed",
    })
    missing_graded = graded & df["overall_num"].isna()
    if missing_graded.any():
        raise SchemaError(f"{path}: {int(missing_graded.sum())} pre-2026 inspection(s) lack an overall grade, "
                          f"e.g. LA {df.loc[missing_graded, 'la_code'].iloc[0]}")
    check_dates(df, path, TRANSCRIBED_DATE_COLUMNS, as_of)
    check_unique(df, ["la_code", "start_date"], path, "inspections")
    check_coverage(df.assign(year=df["start_date"].dt.year), source, path, what="inspections")
    return df


def combine_inspections(official: pd.DataFrame, sif: pd.DataFrame, transcribed: pd.DataFrame,
                        official_path: Path | str = "official") -> pd.DataFrame:
    """Union of SIF, official ILACS and later transcribed ILACS inspections.

    Where the transcribed ILACS file covers an inspection that is in the official file (same LA and
    start date), the official grades are used, the transcription must agree on the overall grade
    (else DataError), and the transcription supplies the end date that the official file lacks.
    """
    key = ["la_code", "start_date"]
    off = official.merge(transcribed[key + ["end_date", "overall_num"]].rename(columns={"overall_num": "tr_overall"}),
                         on=key, how="left", validate="1:1")
    disagree = off["tr_overall"].notna() & (off["tr_overall"] != off["overall_num"])
    if disagree.any():
        r = off[disagree].iloc[0]
        raise DataError(f"{official_path}: official overall grade {r.overall_num} for LA {r.la_code} "
                        f"({r.start_date.date()}) disagrees with the transcription ({r.tr_overall})")
    later = transcribed.merge(official[key], on=key, how="left", indicator=True)
    later = later[later["_merge"] == "left_only"].drop(columns="_merge")
    cutoff = official["start_date"].max()
    early = later[later["start_date"] < cutoff]
    if len(early):
        r = early.iloc[0]
        raise DataError(f"transcribed ILACS inspection of LA {r.la_code} starting {r.start_date.date()} is "
                        f"not in the official file although it predates its last inspection ({cutoff.date()})")
    cols = ["la_code", "framework", "inspection_type", "start_date", "end_date", "publication_date",
            "overall_num", "leaders_num", "help_protection_num", "in_care_num", "grade_source"]
    out = pd.concat([sif[cols], off[cols], later[cols]], ignore_index=True)
    return out.sort_values(key).reset_index(drop=True)
