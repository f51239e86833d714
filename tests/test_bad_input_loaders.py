"""Bad input never becomes a number: one test per defect class of issue 7, on a real source file.

Mechanism (as in the issue): one registered raw file is copied into a private mirror, changed,
registered under its new checksum (so checksum verification passes) and fetched; then only the
loader of that source runs. Every failure must be a :class:`DataError` naming file, column,
value and line (1-based line of the raw file as a user opens it, header = line 1).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from analysis import paths
from analysis.data.clean import context, ofsted, workforce
from analysis.data.clean.parse import SuppressionLog
from analysis.data.sources import fetch, load_registry, sha256_of
from analysis.errors import DataError, DuplicateKeyError, SchemaError

WF_SID = "csww_indicators"


@pytest.fixture
def damaged(mirror, tmp_path, monkeypatch) -> Callable[..., Path]:
    """``damaged(source_id, change)``: copy, change, re-register and fetch one raw file.

    ``change`` receives the file's lines (text, line ends kept; index 0 = header = line 1) and
    returns the new lines, or receives ``bytes`` if ``binary=True``.
    """
    copy = tmp_path / "mirror"
    monkeypatch.setenv(paths.MIRROR_ENV, str(copy))
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "no-cache")

    def _damaged(sid: str, change: Callable, binary: bool = False) -> Path:
        src = load_registry()[sid]
        dest = copy / src.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        raw = (mirror / src.path).read_bytes()
        if binary:
            dest.write_bytes(change(raw))
        else:
            lines = raw.decode("utf-8-sig").splitlines(keepends=True)
            dest.write_bytes("".join(change(lines)).encode("utf-8"))
        registered = dataclasses.replace(src, sha256=sha256_of(dest), bytes=dest.stat().st_size)
        return fetch(registered, allow_download=False)

    return _damaged


def _rows(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines), newline="")))


def _join(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _set_cell(lines: list[str], line_no: int, column: str, value: str) -> list[str]:
    """Set one cell (1-based file line, column name) of a CSV without multi-line records."""
    header = _rows(lines[:1])[0]
    cells = _rows([lines[line_no - 1]])[0]
    cells[header.index(column)] = value
    lines[line_no - 1] = _join(cells)
    return lines


def _first_line(lines: list[str], *needles: str) -> int:
    """1-based number of the first line containing every needle."""
    return next(k + 1 for k, line in enumerate(lines) if all(n in line for n in needles))


# --- 1. a blank cell must stay missing ---------------------------------------------------------

def test_blank_cell_stays_missing_not_zero(damaged, mirror):
    """absence_rate_fte uses 'low' (-> 0.0) as its last symbol: a blank used to become 0.0."""
    lines = (mirror / load_registry()[WF_SID].path).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    n = _first_line(lines, ",Local authority,", ",841,", "2025,")
    path = damaged(WF_SID, lambda ls: _set_cell(ls, n, "absence_rate_fte", ""))
    log = SuppressionLog()
    wf = workforce.load_indicators(path, log)
    value = wf.loc[(wf.la_code == "841") & (wf.year == 2025), "absence_rate"].iloc[0]
    assert math.isnan(value), f"blank cell became {value}"
    counts = log.frame()
    blank = counts[(counts.column == "absence_rate_fte") & (counts.symbol == "blank")]
    assert blank["count"].sum() == 1, "a blank cell must be counted in the suppression log"


# --- 2. coverage: header-only or truncated files ----------------------------------------------

def test_header_only_sif_file_is_rejected(damaged):
    path = damaged("ofsted_sif_transcribed", lambda ls: ls[:1])
    with pytest.raises(SchemaError, match=r"derived_sif_judgements_from_reports\.csv.*coverage"):
        ofsted.load_sif(path)


def test_truncated_ilacs_transcription_is_rejected(damaged):
    """Dropping the last 60 complete rows (whole LAs) must not pass silently."""
    path = damaged("ofsted_ilacs_transcribed", lambda ls: ls[:-60])
    with pytest.raises(SchemaError, match=r"derived_ilacs_judgements_from_reports\.csv.*coverage.*LAs"):
        ofsted.load_ilacs_transcribed(path)


def test_population_year_missing_is_rejected(damaged):
    path = damaged("population", lambda ls: [ls[0]] + [x for x in ls[1:] if not x.startswith("2019,")])
    with pytest.raises(SchemaError, match=r"ons_mid-year.*2019"):
        context.load_population(path, SuppressionLog(), set(range(2014, 2025)))


def test_two_las_missing_from_one_year_are_rejected(damaged):
    """Two LA rows of 2021 deleted from the children-in-need file (151 -> 149 LAs that year)."""
    def drop_two(ls):
        hits = [i for i, x in enumerate(ls) if x.startswith("2021,") and ",Local authority," in x][:2]
        return [x for i, x in enumerate(ls) if i not in hits]
    path = damaged("cin_b1", drop_two)
    with pytest.raises(SchemaError, match=r"b1_children_in_need.*coverage.*\{2021: 149\}"):
        context.load_cin(path, SuppressionLog(), set(range(2015, 2026)))


# --- 3. ragged rows ----------------------------------------------------------------------------

def test_row_with_trailing_fields_missing_is_an_error(damaged):
    """Last line of the 2016 CLA file cut after its 10th field (CLA_Mar2016 itself survives)."""
    def cut(ls):
        ls[-1] = ",".join(ls[-1].split(",")[:10]) + "\n"
        return ls
    path = damaged("cla_sfr_2016", cut)
    with pytest.raises(DataError, match=r"SFR41_CLA2016\.csv.*line 164 has 10 field.*header.*47"):
        context.load_cla_sfr(path, 2016, SuppressionLog(), "cla_sfr_2016")


def test_last_line_cut_mid_value_is_an_error(damaged, mirror):
    """The indicators file cut inside its last value (no final line break): 2.5 -> 2."""
    path = damaged(WF_SID, lambda b: b[:-3], binary=True)
    n_lines = (mirror / load_registry()[WF_SID].path).read_bytes().count(b"\n")
    with pytest.raises(DataError, match=rf"csww_indicators_2017_to_2025\.csv.*line {n_lines}.*line break"):
        workforce.load_indicators(path, SuppressionLog())


# --- 4. implausible values ---------------------------------------------------------------------

def test_negative_count_is_rejected(damaged, mirror):
    lines = (mirror / load_registry()["cin_b1"].path).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    n = _first_line(lines, "2024,", ",Local authority,", ",841,")
    path = damaged("cin_b1", lambda ls: _set_cell(ls, n, "At31_episodes", "-12"))
    with pytest.raises(DataError, match=rf"b1_children_in_need.*'At31_episodes'.*'-12'.*line {n}"):
        context.load_cin(path, SuppressionLog(), set(range(2015, 2026)))


def test_infinite_count_is_rejected(damaged, mirror):
    lines = (mirror / load_registry()["population"].path).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    n = _first_line(lines, "2020,", ",Local authority,", ",841,")
    path = damaged("population", lambda ls: _set_cell(ls, n, "population_estimate", "inf"))
    with pytest.raises(DataError, match=rf"ons_mid-year.*'population_estimate'.*'inf'.*line {n}"):
        context.load_population(path, SuppressionLog(), set(range(2014, 2025)))


def test_end_date_before_start_is_rejected(damaged):
    path = damaged("ofsted_ilacs_transcribed", lambda ls: _set_cell(ls, 2, "inspection_end_date", "2019-02-01"))
    with pytest.raises(DataError, match=r"derived_ilacs.*'inspection_end_date'.*2019-02-01.*line 2"):
        ofsted.load_ilacs_transcribed(path)


def test_publication_before_fieldwork_is_rejected(damaged):
    path = damaged("ofsted_sif_transcribed", lambda ls: _set_cell(ls, 3, "publication_date", "2017-04-01"))
    with pytest.raises(DataError, match=r"derived_sif.*'publication_date'.*2017-04-01.*line 3"):
        ofsted.load_sif(path)


def test_publication_in_the_future_is_rejected(damaged):
    path = damaged("ofsted_ilacs_transcribed", lambda ls: _set_cell(ls, 3, "publication_date", "2099-09-04"))
    with pytest.raises(DataError, match=r"derived_ilacs.*'publication_date'.*2099-09-04.*line 3.*future"):
        ofsted.load_ilacs_transcribed(path)


def test_rates_as_fractions_in_one_year_are_rejected(damaged):
    """vacancy_rate_fte of every 2019 LA row divided by 100 (7.7 -> 0.077)."""
    def to_fraction(ls):
        k = _rows(ls[:1])[0].index("vacancy_rate_fte")
        for i, line in enumerate(ls):
            cells = _rows([line])[0]
            if cells[0] == "2019" and cells[2] == "Local authority":
                try:
                    cells[k] = repr(round(float(cells[k]) / 100, 6))
                except ValueError:
                    pass
                ls[i] = _join(cells)
        return ls
    path = damaged(WF_SID, to_fraction)
    with pytest.raises(DataError, match=r"csww_indicators.*'vacancy_rate_fte'.*2019.*fraction.*line"):
        workforce.load_indicators(path, SuppressionLog())


# --- 5. unreadable input: dates, periods, empty, UTF-16, a year in two files --------------------

def test_unparseable_date_is_a_data_error(damaged):
    path = damaged("ofsted_sif_transcribed", lambda ls: _set_cell(ls, 4, "inspection_start_date", "2014-13-45"))
    with pytest.raises(DataError, match=r"derived_sif.*'inspection_start_date'.*'2014-13-45'.*line 4"):
        ofsted.load_sif(path)


def test_unparseable_time_period_is_a_data_error(damaged):
    path = damaged("cpp_d5", lambda ls: _set_cell(ls, 5, "time_period", "2024/25"))
    with pytest.raises(DataError, match=r"d5_cpps.*'time_period'.*'2024/25'.*line 5"):
        context.load_cpp(path, SuppressionLog(), set(range(2015, 2026)))


def test_empty_file_is_a_data_error(damaged):
    path = damaged("cla_sfr_2015", lambda b: b"", binary=True)
    with pytest.raises(DataError, match=r"SFR34_CLA2015\.csv.*empty"):
        context.load_cla_sfr(path, 2015, SuppressionLog(), "cla_sfr_2015")


def test_utf16_file_is_a_data_error(damaged):
    path = damaged("cin_b1", lambda b: b.decode("utf-8").encode("utf-16"), binary=True)
    with pytest.raises(DataError, match=r"b1_children_in_need.*UTF-16"):
        context.load_cin(path, SuppressionLog(), set(range(2015, 2026)))


def test_empty_spreadsheet_is_a_data_error(damaged):
    path = damaged("ofsted_outcomes_2025", lambda b: b"", binary=True)
    with pytest.raises(DataError, match=r"LA_Inspection_Outcomes.*\.ods"):
        ofsted.load_official_history(path)


def test_one_year_in_two_files_is_a_data_error(damaged, mirror, source_paths):
    """The indicators file also carries 2016 (its 2017 rows relabelled), as does the 2016 SFR."""
    def add_2016(ls):
        return ls + [("2016" + x[4:]) for x in ls[1:] if x.startswith("2017,")]
    path = damaged(WF_SID, add_2016)
    n = len((mirror / load_registry()[WF_SID].path).read_bytes().splitlines()) + 1  # first added line
    with pytest.raises(DuplicateKeyError, match=rf"2016.*csww_indicators_2017_to_2025\.csv.*'time_period'.*'2016'.*line {n};.*SFR08_2017_UD\.csv"):
        workforce.load_workforce({**source_paths, WF_SID: path}, SuppressionLog())


# --- 6. schema failures name LA, year, column and raw source ------------------------------------

def test_schema_failure_names_la_year_column_and_raw_source(damaged, mirror, source_paths):
    """A caseload of 75 (Darlington, 2019) passes the loader but not the panel schema (3-60)."""
    lines = (mirror / load_registry()[WF_SID].path).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    n = _first_line(lines, "2019,", ",Local authority,", ",841,")
    path = damaged(WF_SID, lambda ls: _set_cell(ls, n, "caseload_fte", "75"))
    from analysis.data.build import build
    with pytest.raises(SchemaError) as info:
        build({**source_paths, WF_SID: path})
    msg = str(info.value)
    assert "LA 841 Darlington, year 2019, column 'caseload' = 75.0" in msg, msg
    assert "csww_indicators (csww/csww_indicators_2017_to_2025.csv)" in msg, msg


def test_blank_key_is_an_error_not_a_dropped_row(damaged, mirror):
    """A blank LA code in an LA row used to drop the row silently (it matched no LA)."""
    lines = (mirror / load_registry()["cpp_d5"].path).read_text(encoding="utf-8-sig").splitlines(keepends=True)
    n = _first_line(lines, "2024,", ",Local authority,", ",841,")
    path = damaged("cpp_d5", lambda ls: _set_cell(ls, n, "old_la_code", ""))
    with pytest.raises(SchemaError, match=rf"d5_cpps.*'old_la_code' is blank at line {n}"):
        context.load_cpp(path, SuppressionLog(), set(range(2015, 2026)))


def test_blank_framework_flag_is_an_error(damaged):
    """A blank post_april_2026_framework used to make a graded inspection 'ILACS-2026' (ungraded)."""
    path = damaged("ofsted_ilacs_transcribed", lambda ls: _set_cell(ls, 2, "post_april_2026_framework", ""))
    with pytest.raises(SchemaError, match=r"derived_ilacs.*'post_april_2026_framework' is blank at line 2"):
        ofsted.load_ilacs_transcribed(path)
