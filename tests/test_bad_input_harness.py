"""Mutation harness: every raw source, damaged one way at a time, must never become data.

For each case one registered raw file is copied from the mirror into a private directory,
changed (a cell, a row, the header, the file's end, a date, a hex position ...), re-registered
under its new checksum and fetched, and then only the loaders of that source run (a few cases
run the whole build). The outcome is one of

``refused``      a :class:`~analysis.errors.DataError` whose message names the raw file (path
                 relative to the mirror, not the private directory), the raw column, the value
                 and the 1-based line (``line N`` in a text file, ``row N`` in a sheet or a
                 parquet file, with the sheet named);
``incomplete``   a DataError that lacks one of those parts;
``documented``   valid input in a documented form read correctly (an allowed suppression code
                 became missing or zero and was logged; a day-first text date was read day-first);
``accepted``     no error: the bad value became data;
``traceback``    any other exception.

Every case expects ``refused`` except those documented forms. Set
``CSC_HARNESS_LOG=<file>`` to append one JSON line per case (outcome, missing parts, error
type), e.g. to count outcomes by class on another version of the code.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.data.clean import context, deprivation, ofsted, ofsted_vintage, protection, spend, workforce
from analysis.data.clean.parse import SuppressionLog
from analysis.data.geography import load_register
from analysis.data.sources import fetch, load_registry, sha256_of
from analysis.errors import DataError

WF_YEARS = set(range(2015, 2026))


# --- expectations and outcomes ---------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """What a refusal must name (None: not applicable to this mutation)."""

    column: str | None
    value: str | None
    line: int | None
    sheet: str | None = None
    unit: str = "line"  # "line" (text files) or "row" (sheets, parquet)
    #: for input that is valid as documented (an allowed suppression code, a day-first text date):
    #: ``check(loader result, suppression log)`` must hold and no error may be raised
    check: Callable[[object, SuppressionLog], bool] | None = None


@dataclass(frozen=True)
class Case:
    cls: str
    sid: str
    name: str
    mutate: Callable[[Path, Path], Expect]  # (original, destination) -> expectation

    @property
    def id(self) -> str:
        return f"{self.cls}:{self.sid}:{self.name}"


def _contains_value(msg: str, value: str) -> bool:
    if value == "":
        return "blank" in msg.lower()
    variants = {value, repr(value), f"'{value}'"}
    try:
        number = float(value)
        variants |= {repr(number), str(number), f"{number:g}"}
        if number.is_integer() and abs(number) < 1e15:
            variants.add(str(int(number)))
    except ValueError:
        pass
    return any(re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", msg) for v in variants)


def missing_parts(msg: str, rel: str, private: Path, expect: Expect) -> list[str]:
    """Parts of a refusal message that are absent (empty list: complete)."""
    out = []
    if rel not in msg or str(private) in msg:
        out.append("file")
    if expect.sheet is not None and expect.sheet not in msg:
        out.append("sheet")
    if expect.column is not None and expect.column not in msg:
        out.append("column")
    if expect.value is not None and not _contains_value(msg, expect.value):
        out.append("value")
    if expect.line is not None and not re.search(rf"\b{expect.unit} {expect.line}\b", msg):
        out.append("line")
    return out


# --- loaders by source ---------------------------------------------------------------------------

def _panel() -> pd.DataFrame:
    return pd.read_csv(paths.DERIVED / "la_year_panel.csv", dtype={"la_code": str})


#: the loader(s) of each source; only those that read the damaged part (an ODS workbook or the
#: LAIT extracts take about half a second per read)
LOADERS: dict[str, Callable[[dict[str, Path], SuppressionLog], object]] = {
    "csww_indicators": lambda p, log: workforce.load_indicators(p["csww_indicators"], log),
    "csww_sfr_2015": lambda p, log: workforce.load_sfr(p["csww_sfr_2015"], 2015, log, "csww_sfr_2015"),
    "csww_sfr_2016": lambda p, log: workforce.load_sfr(p["csww_sfr_2016"], 2016, log, "csww_sfr_2016"),
    "cin_b1": lambda p, log: context.load_cin(p["cin_b1"], log, WF_YEARS),
    "cpp_d5": lambda p, log: context.load_cpp(p["cpp_d5"], log, WF_YEARS),
    "population": lambda p, log: context.load_population(p["population"], log, {y - 1 for y in WF_YEARS}),
    "cla_sfr_2015": lambda p, log: context.load_cla_sfr(p["cla_sfr_2015"], 2015, log, "cla_sfr_2015"),
    "cla_sfr_2016": lambda p, log: context.load_cla_sfr(p["cla_sfr_2016"], 2016, log, "cla_sfr_2016"),
    "cla_sfr_2017": lambda p, log: context.load_cla_sfr(p["cla_sfr_2017"], 2017, log, "cla_sfr_2017"),
    "cla_ees_2023": lambda p, log: context.load_cla(p, log),
    "cla_ees_2025": lambda p, log: context.load_cla(p, log),
    "cin_c4": lambda p, log: protection.load_s47(p["cin_c4"], log, WF_YEARS),
    "iod2019_utla": lambda p, log: (context.load_iod(p["iod2019_utla"]),
                                    deprivation.load_imd_decile(p["iod2019_utla"])),
    "ofsted_outcomes_2025": lambda p, log: ofsted.load_official_history(p["ofsted_outcomes_2025"]),
    "ofsted_sif_transcribed": lambda p, log: ofsted.load_sif(p["ofsted_sif_transcribed"]),
    "ofsted_ilacs_transcribed": lambda p, log: ofsted.load_ilacs_transcribed(p["ofsted_ilacs_transcribed"]),
    "ofsted_outcomes_2024": lambda p, log: ofsted_vintage.load_latest_2024(p["ofsted_outcomes_2024"]),
    "lait_2026": lambda p, log: spend.load_spend(p, log),
    "hexmap_utla": lambda p, log: __import__("analysis.data.hexmap", fromlist=["x"]).build_hex_key(_panel(), p["hexmap_utla"]),
    "sn_2021": lambda p, log: __import__("analysis.data.neighbours", fromlist=["x"]).build_neighbours(
        p["sn_2021"], p["sn_2025"], load_register()),
    "sn_2025": lambda p, log: __import__("analysis.data.neighbours", fromlist=["x"]).build_neighbours(
        p["sn_2021"], p["sn_2025"], load_register()),
}


# --- CSV mutations -------------------------------------------------------------------------------

def _read_lines(path: Path) -> list[str]:
    return path.read_bytes().decode("utf-8-sig", errors="replace").splitlines(keepends=True)


def _cells(line: str) -> list[str]:
    return next(csv.reader(io.StringIO(line, newline="")))


def _join(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def _write(dest: Path, lines: list[str]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes("".join(lines).encode("utf-8"))


@dataclass(frozen=True)
class CsvSpec:
    """Where to damage a CSV source: a target row (column -> value) and the columns to hit."""

    target: dict[str, str]
    number: str | None = None      # a numeric column the loader converts
    code: str | None = None        # the LA code column
    swap_to: str | None = None     # another valid LA's code (the row's GSS code and name stay)
    year: str | None = None        # the time-period column
    date: str | None = None        # a date column (transcriptions)
    label: str | None = None       # a controlled-vocabulary column (grade, type)
    header: str | None = None      # a column to rename
    unknown_code: str = "999"
    allowed: frozenset[str] = frozenset()  # documented suppression codes (per PROVENANCE.md)
    zero_codes: frozenset[str] = frozenset({"low", "-"})


def _target_line(lines: list[str], target: dict[str, str]) -> int:
    header = _cells(lines[0])
    idx = {header.index(c): v for c, v in target.items()}
    for k, line in enumerate(lines[1:], start=2):
        cells = _cells(line)
        if len(cells) == len(header) and all(cells[i] == v for i, v in idx.items()):
            return k
    raise AssertionError(f"harness setup: no row {target}")


def _set(lines: list[str], n: int, column: str, value: str) -> str:
    header = _cells(lines[0])
    cells = _cells(lines[n - 1])
    old = cells[header.index(column)]
    cells[header.index(column)] = value
    lines[n - 1] = _join(cells)
    return old


def _logged(symbol: str) -> Callable[[object, SuppressionLog], bool]:
    def check(result, log: SuppressionLog) -> bool:
        frame = log.frame()
        return not frame.empty and bool((frame["symbol"] == symbol).any())
    return check


def csv_cell(spec: CsvSpec, column_attr: str, value: str, documented: bool = False) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        column = getattr(spec, column_attr)
        _set(lines, n, column, value)
        _write(dest, lines)
        return Expect(column, value, n, check=_logged(value) if documented else None)
    return mutate


def csv_swap(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        _set(lines, n, spec.code, spec.swap_to)
        _write(dest, lines)
        return Expect(spec.code, spec.swap_to, n)
    return mutate


def csv_future_years(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    """Ten copies of the target row appended with future years: 2026, 2035, ..., 2107 in a
    time-period column; fieldwork (and end and publication) 2027, 2036, ... in a date column
    (the ILACS transcriptions legitimately reach 2026)."""
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        header = _cells(lines[0])
        first, shown = len(lines) + 1, None
        for k in range(10):
            cells = _cells(lines[n - 1])
            if spec.year is not None:
                cells[header.index(spec.year)] = str(2026 + 9 * k)
            else:
                year = 2027 + 9 * k
                for col in (spec.date, "inspection_end_date", "publication_date"):
                    j = header.index(col)
                    if cells[j]:
                        cells[j] = f"{year}{cells[j][4:]}"
                shown = shown or cells[header.index(spec.date)]
            lines.append(_join(cells))
        _write(dest, lines)
        return Expect(spec.year or spec.date, "2026" if spec.year else shown, first)
    return mutate


def csv_duplicate(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        lines.append(lines[n - 1])
        _write(dest, lines)
        return Expect(spec.code, spec.target[spec.code], len(lines))
    return mutate


def csv_ragged(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        lines[n - 1] = _join(_cells(lines[n - 1])[:-1])
        _write(dest, lines)
        return Expect(None, None, n)
    return mutate


def csv_truncated(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    """Cut inside the target row (no final line break): the rest of the file is lost."""
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        n = _target_line(lines, spec.target)
        cut = lines[: n - 1] + [lines[n - 1][: len(lines[n - 1]) // 2]]
        _write(dest, cut)
        return Expect(None, None, n)
    return mutate


def csv_header(spec: CsvSpec) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = _read_lines(src)
        header = _cells(lines[0])
        header[header.index(spec.header)] = spec.header + "_renamed"
        lines[0] = _join(header)
        _write(dest, lines)
        return Expect(spec.header, None, 1)
    return mutate


SUPPRESSION_CODES = ("c", "x", "z", "u", "low", "..", ".", "-")
PANDAS_NA = ("n/a", "NULL", "#N/A", "NaN")
EES = frozenset({"c", "x", "z", "u", "low"})

CSV_SOURCES: dict[str, CsvSpec] = {
    "csww_indicators": CsvSpec({"time_period": "2019", "old_la_code": "841"}, number="inpost_fte",
                               code="old_la_code", swap_to="840", year="time_period", header="caseload_fte",
                               allowed=EES),
    "csww_sfr_2015": CsvSpec({"LA_code (3 digit)": "841"}, number="A1_FTE_ChildrensSocialWorkers_2015",
                             code="LA_code (3 digit)", swap_to="840", header="B3_FTE_TurnoverRate_2015",
                             allowed=frozenset({"x", "..", "-"})),
    "csww_sfr_2016": CsvSpec({"LA_code (3 digit)": "841"}, number="A1_FTE_ChildrensSocialWorkers_2016",
                             code="LA_code (3 digit)", swap_to="840", header="Average_caseload",
                             allowed=frozenset({"x", "..", ".", "-"})),
    "cin_b1": CsvSpec({"time_period": "2019", "old_la_code": "841"}, number="At31_episodes",
                      code="old_la_code", swap_to="840", year="time_period", header="At31_episodes", allowed=EES),
    "cpp_d5": CsvSpec({"time_period": "2019", "old_la_code": "841"}, number="CPP_At31",
                      code="old_la_code", swap_to="840", year="time_period", header="CPP_At31", allowed=EES),
    "population": CsvSpec({"time_period": "2019", "old_la_code": "841", "age_group": "Children aged 0 to 17 years"},
                          number="population_estimate", code="old_la_code", swap_to="840", year="time_period",
                          header="population_estimate", allowed=EES),
    "cla_sfr_2015": CsvSpec({"geog_c": "841"}, number="CLA_Mar2015", code="geog_c", swap_to="840",
                            header="CLA_Mar2015", allowed=frozenset({"x"})),
    "cla_sfr_2016": CsvSpec({"geog_c": "841"}, number="CLA_Mar2016", code="geog_c", swap_to="840",
                            header="CLA_Mar2016", allowed=frozenset({"x"})),
    "cla_sfr_2017": CsvSpec({"geog_c": "841"}, number="CLA_Mar2017", code="geog_c", swap_to="840",
                            header="CLA_Mar2017", allowed=frozenset({"x"})),
    "cla_ees_2023": CsvSpec({"time_period": "2020", "old_la_code": "841",
                             "population_count": "Children looked after at 31 March each year"},
                            number="number", code="old_la_code", swap_to="840", year="time_period",
                            header="number", allowed=EES),
    "cla_ees_2025": CsvSpec({"time_period": "2023", "old_la_code": "841",
                             "population_type": "Children looked after on 31 March each year"},
                            number="children_count", code="old_la_code", swap_to="840", year="time_period",
                            header="children_count", allowed=EES),
    "cin_c4": CsvSpec({"time_period": "2019", "old_la_code": "841"}, number="Section47", code="old_la_code",
                      swap_to="840", year="time_period", header="ICPC", allowed=EES),
    "ofsted_sif_transcribed": CsvSpec({"la_code": "841"}, code="la_code", swap_to="840",
                                      date="inspection_start_date", label="overall_effectiveness",
                                      header="publication_date"),
    "ofsted_ilacs_transcribed": CsvSpec({"la_code": "841", "inspection_start_date": "2022-10-10"},
                                        code="la_code", swap_to="840", date="inspection_start_date",
                                        label="ilacs_type_jt39", header="overall_effectiveness"),
    "sn_2021": CsvSpec({"LA num": "841"}, code="LA num", swap_to="840", label="SN1", header="SN3",
                       unknown_code="998"),
    "sn_2025": CsvSpec({"old_la_code": "841"}, code="old_la_code", swap_to="840", label="SN_1", header="SN_3",
                       unknown_code="998"),
}


#: sources that get every suppression code and NA string (one per convention: EES, SFR 2015,
#: SFR 2016, CLA SFR); the others get one documented and one undocumented code and two strings
FULL_SYMBOL_SOURCES = ("csww_indicators", "csww_sfr_2015", "csww_sfr_2016", "cla_sfr_2016")


def csv_cases() -> list[Case]:
    cases: list[Case] = []
    for sid, s in CSV_SOURCES.items():
        full = sid in FULL_SYMBOL_SOURCES
        if s.number:
            codes = SUPPRESSION_CODES if full else ("x", ".." if "low" in s.allowed else "low")
            for code in codes:
                cases.append(Case("suppression code", sid, code, csv_cell(s, "number", code, documented=code in s.allowed)))
            for token in PANDAS_NA if full else ("n/a", "#N/A"):
                cases.append(Case("pandas NA string", sid, token, csv_cell(s, "number", token)))
            cases.append(Case("huge number", sid, "1e308", csv_cell(s, "number", "1e308")))
            cases.append(Case("negative", sid, "-5", csv_cell(s, "number", "-5")))
        else:  # transcriptions and lookups: NA strings in a label cell
            for token in ("n/a", "#N/A"):
                cases.append(Case("pandas NA string", sid, token, csv_cell(s, "label", token)))
        cases.append(Case("blank key", sid, "blank code", csv_cell(s, "code", "")))
        cases.append(Case("swapped LA code", sid, f"{s.target[s.code]}->{s.swap_to}", csv_swap(s)))
        cases.append(Case("unknown LA code", sid, s.unknown_code, csv_cell(s, "code", s.unknown_code)))
        if s.year or s.date:
            cases.append(Case("future years", sid, "ten rows 2026-2108", csv_future_years(s)))
        cases.append(Case("duplicate row", sid, "target row twice", csv_duplicate(s)))
        cases.append(Case("ragged row", sid, "last field dropped", csv_ragged(s)))
        cases.append(Case("truncated file", sid, "cut in a row", csv_truncated(s)))
        cases.append(Case("changed header", sid, s.header, csv_header(s)))
        if s.date:
            for text in ("05/09/2022", "2022-13-45"):
                cases.append(Case("day-first date", sid, text, csv_cell(s, "date", text)))
        if s.label and not s.number and sid.startswith("ofsted"):
            cases.append(Case("unknown label", sid, "grand", csv_cell(s, "label", "grand")))
    return cases


# --- ODS mutations (string-level edits of content.xml; the sheet row is what a user sees) ----------

def _ods_rows(xml: str, sheet: str) -> list[tuple[int, int, int]]:
    """(start, end, sheet row number) of every row of a sheet, in document order."""
    start = xml.index(f'<table:table table:name="{sheet}"')
    end = xml.index("</table:table>", start)
    out, row = [], 1
    for m in re.finditer(r"<table:table-row\b.*?</table:table-row>", xml[start:end], re.S):
        out.append((start + m.start(), start + m.end(), row))
        rep = re.match(r'<table:table-row[^>]*table:number-rows-repeated="(\d+)"', m.group(0))
        row += int(rep.group(1)) if rep else 1
    return out


_CELL = re.compile(r"<table:(?:covered-)?table-cell\b[^>]*?/>|<table:(?:covered-)?table-cell\b.*?</table:(?:covered-)?table-cell>", re.S)


def _ods_cells(row_xml: str) -> list[tuple[int, int, int]]:
    """(start, end, repeat) of every cell of a row."""
    out = []
    for m in _CELL.finditer(row_xml):
        rep = re.match(r'<table:[a-z-]+[^>]*table:number-columns-repeated="(\d+)"', m.group(0))
        out.append((m.start(), m.end(), int(rep.group(1)) if rep else 1))
    return out


def _ods_column(xml: str, sheet: str, column: str) -> int:
    """0-based position of a header cell (the first row of the sheet holding that text)."""
    for a, b, _ in _ods_rows(xml, sheet):
        text = xml[a:b]
        if f"<text:p>{column}</text:p>" in text:
            pos = 0
            for s, e, rep in _ods_cells(text):
                if f"<text:p>{column}</text:p>" in text[s:e]:
                    return pos
                pos += rep
    raise AssertionError(f"harness setup: no header {column!r} in {sheet}")


def _ods_find(xml: str, sheet: str, needles: tuple[str, ...]) -> tuple[int, int, int]:
    """(start, end, sheet row) of the first row containing every needle."""
    for a, b, row in _ods_rows(xml, sheet):
        if all(n in xml[a:b] for n in needles):
            return a, b, row
    raise AssertionError(f"harness setup: no row with {needles} in {sheet}")


def _rewrite_ods(src: Path, dest: Path, edit: Callable[[str], str]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "content.xml":
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)


def _string_cell(text: str) -> str:
    if text == "":
        return "<table:table-cell/>"
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def ods_cell(sheet: str, needles: tuple[str, ...], column: str, new_text: str) -> Callable[[Path, Path], Expect]:
    """Replace one cell (by header name) of the target row with a text cell (or an empty one)."""
    box = {}

    def edit(xml: str) -> str:
        k = _ods_column(xml, sheet, column)
        a, b, row = _ods_find(xml, sheet, needles)
        text, pos = xml[a:b], 0
        for s, e, rep in _ods_cells(text):
            if pos == k:
                assert rep == 1, "harness setup: a repeated cell"
                box["row"] = row
                return xml[:a] + text[:s] + _string_cell(new_text) + text[e:] + xml[b:]
            pos += rep
        raise AssertionError("harness setup: row too short")

    def mutate(src: Path, dest: Path) -> Expect:
        _rewrite_ods(src, dest, edit)
        return Expect(column, new_text, box["row"], sheet=sheet, unit="row")
    return mutate


def ods_duplicate(sheet: str, needles: tuple[str, ...], column: str, value: str) -> Callable[[Path, Path], Expect]:
    box = {}

    def edit(xml: str) -> str:
        a, b, row = _ods_find(xml, sheet, needles)
        box["row"] = row + 1
        return xml[:b] + xml[a:b] + xml[b:]

    def mutate(src: Path, dest: Path) -> Expect:
        _rewrite_ods(src, dest, edit)
        return Expect(column, value, box["row"], sheet=sheet, unit="row")
    return mutate


def ods_header(sheet: str, column: str) -> Callable[[Path, Path], Expect]:
    def edit(xml: str) -> str:
        old = f"<text:p>{column}</text:p>"
        i = xml.index(old, xml.index(f'<table:table table:name="{sheet}"'))
        return xml[:i] + f"<text:p>{column} (renamed)</text:p>" + xml[i + len(old):]

    def mutate(src: Path, dest: Path) -> Expect:
        _rewrite_ods(src, dest, edit)
        return Expect(column, None, None, sheet=sheet, unit="row")
    return mutate


def binary_truncated(src: Path, dest: Path) -> Expect:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    return Expect(None, None, None)


HIST = "ILACS_inspection_history"
LATEST24 = "Inspections_31_March_2024"
DARL = ("E06000005", 'office:date-value="2022-10-10')  # Darlington's ILACS inspection of 10 October 2022


def day_first(mutate: Callable[[Path, Path], Expect]) -> Callable[[Path, Path], Expect]:
    """A text date dd/mm/yyyy: UK sources are day-first, so 05/09/2022 is 5 September 2022."""
    def wrapped(src: Path, dest: Path) -> Expect:
        e = mutate(src, dest)

        def check(frame, log) -> bool:
            hit = frame[frame["la_name"].astype(str).str.contains("Darlington")]
            return pd.Timestamp("2022-09-05") in set(pd.to_datetime(hit["start_date"]))
        return dataclasses.replace(e, check=check)
    return wrapped


def ods_cases() -> list[Case]:
    sid = "ofsted_outcomes_2025"
    c: list[Case] = []
    for token in PANDAS_NA:
        c.append(Case("pandas NA string", sid, token, ods_cell(HIST, DARL, "Overall effectiveness", token)))
    leaders = "The impact of leaders on social work practice with children and families"
    c.append(Case("pandas NA string", sid, "NULL sub-judgement", ods_cell(HIST, DARL, leaders, "NULL")))
    c.append(Case("blank key", sid, "blank area code", ods_cell(HIST, DARL, "Local authority area code", "")))
    c.append(Case("swapped LA code", sid, "E06000005->E06000047",
                  ods_cell(HIST, DARL, "Local authority area code", "E06000047")))
    c.append(Case("unknown LA code", sid, "E06999999", ods_cell(HIST, DARL, "Local authority area code", "E06999999")))
    c.append(Case("day-first date", sid, "05/09/2022", day_first(ods_cell(HIST, DARL, "Inspection date", "05/09/2022"))))
    for text in ("09/25/2022", "5/9/22", "10/10/2022x"):
        c.append(Case("day-first date", sid, text, ods_cell(HIST, DARL, "Inspection date", text)))
    c.append(Case("future years", sid, "2107 text date", ods_cell(HIST, DARL, "Inspection date", "2107-01-24")))
    c.append(Case("duplicate row", sid, "Darlington 2022 twice",
                  ods_duplicate(HIST, DARL, "Local authority area code", "E06000005")))
    c.append(Case("changed header", sid, "Inspection type", ods_header(HIST, "Inspection type")))
    c.append(Case("unknown label", sid, "ILACS Focused Visit", ods_cell(HIST, DARL, "Inspection type", "ILACS Focused Visit")))
    c.append(Case("truncated file", sid, "half the bytes", binary_truncated))
    v24 = "ofsted_outcomes_2024"
    c.append(Case("day-first date", v24, "05/09/2022",
                  day_first(ods_cell(LATEST24, ("Darlington",), "Inspection date", "05/09/2022"))))
    c.append(Case("day-first date", v24, "09/25/2022", ods_cell(LATEST24, ("Darlington",), "Inspection date", "09/25/2022")))
    c.append(Case("pandas NA string", v24, "n/a", ods_cell(LATEST24, ("Darlington",), "Overall effectiveness", "n/a")))
    c.append(Case("unknown LA code", v24, "Darlingtown", ods_cell(LATEST24, ("Darlington",), "Local authority name", "Darlingtown")))
    return c


# --- XLSX (IoD 2019 File 11) -------------------------------------------------------------------------

def xlsx_cell(sheet: str, gss: str, column: str, value, shown: str | None = None) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        import openpyxl
        dest.parent.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.load_workbook(src)
        ws = wb[sheet]
        header = [str(c.value).strip() for c in ws[1]]
        col = header.index(column) + 1
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == gss)
        ws.cell(row, col).value = value
        wb.save(dest)
        return Expect(column, shown if shown is not None else ("" if value is None else str(value)), row,
                      sheet=sheet, unit="row")
    return mutate


def xlsx_duplicate(sheet: str, gss: str) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        import openpyxl
        dest.parent.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.load_workbook(src)
        ws = wb[sheet]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == gss)
        ws.append([c.value for c in ws[row]])
        n = ws.max_row
        wb.save(dest)
        return Expect(IOD_CODE, gss, n, sheet=sheet, unit="row")
    return mutate


IOD_CODE = "Upper Tier Local Authority District code (2019)"
IMD = "IMD - Average score"


def xlsx_cases() -> list[Case]:
    sid = "iod2019_utla"
    return [
        Case("huge number", sid, "IMD 1e308", xlsx_cell("IMD", "E06000005", IMD, 1e308, "1e+308")),
        Case("negative", sid, "IDACI -0.5", xlsx_cell("IDACI", "E06000005", "IDACI - Average score", -0.5)),
        Case("blank key", sid, "blank area code", xlsx_cell("IMD", "E06000005", IOD_CODE, None)),
        Case("blank value", sid, "blank IMD score", xlsx_cell("IMD", "E06000005", IMD, None)),
        Case("pandas NA string", sid, "n/a IMD score", xlsx_cell("IMD", "E06000005", IMD, "n/a")),
        Case("pandas NA string", sid, "#N/A IMD score", xlsx_cell("IMD", "E06000005", IMD, "#N/A")),
        Case("swapped LA code", sid, "E06000005->E06000047", xlsx_cell("IMD", "E06000005", IOD_CODE, "E06000047")),
        Case("unknown LA code", sid, "E06999999", xlsx_cell("IDACI", "E06000005", IOD_CODE, "E06999999")),
        Case("duplicate row", sid, "Darlington twice", xlsx_duplicate("IDACI", "E06000005")),
        Case("truncated file", sid, "half the bytes", binary_truncated),
    ]


# --- parquet (LAIT) ----------------------------------------------------------------------------------

@cache
def _lait(src: str) -> pd.DataFrame:
    return pd.read_parquet(src)


def lait_mutation(change: Callable[[pd.DataFrame], tuple[pd.DataFrame, str | None, str | None, int]]
                  ) -> Callable[[Path, Path], Expect]:
    """``change(frame) -> (frame, column, value, 0-based row)``; the message must say row + 1."""
    def mutate(src: Path, dest: Path) -> Expect:
        df = _lait(str(src)).copy()
        df, column, value, row = change(df)
        dest.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(dest, index=False)
        return Expect(column, value, row + 1, unit="row")
    return mutate


def _lait_row(df: pd.DataFrame, measure: str = "SafeguardingFinance", la: float = 841.0,
              years: str = "2019-20 (OT)") -> int:
    hit = df.index[(df["Short Desc"] == measure) & (df["LA Number"] == la) & (df["Years"] == years)]
    assert len(hit) == 1, "harness setup: LAIT target row"
    return int(hit[0])


def _set_lait(column: str, value, shown: str | None = None):
    def change(df):
        i = _lait_row(df)
        df[column] = df[column].astype(object)
        df.at[i, column] = value
        return df, column, shown if shown is not None else str(value), i
    return change


def _append_lait(years: list[str]):
    def change(df):
        i = _lait_row(df)
        extra = pd.concat([df.loc[[i]]] * len(years), ignore_index=True)
        extra["Years"] = years
        return pd.concat([df, extra], ignore_index=True), "Years", years[0], len(df)
    return change


def parquet_cases() -> list[Case]:
    sid = "lait_2026"
    return [
        Case("huge number", sid, "1e308", lait_mutation(_set_lait("Values", "1e308"))),
        Case("negative", sid, "-5", lait_mutation(_set_lait("Values", "-5"))),
        Case("pandas NA string", sid, "n/a", lait_mutation(_set_lait("Values", "n/a"))),
        Case("pandas NA string", sid, "NULL", lait_mutation(_set_lait("Values", "NULL"))),
        Case("blank value", sid, "None", lait_mutation(_set_lait("Values", None, ""))),
        Case("unknown LA code", sid, "999", lait_mutation(_set_lait("LA Number", 999.0, "999"))),
        Case("unknown LA code", sid, "975", lait_mutation(_set_lait("LA Number", 975.0, "975"))),
        Case("unknown LA code", sid, "841.5", lait_mutation(_set_lait("LA Number", 841.5, "841.5"))),
        Case("blank key", sid, "LA Number NaN", lait_mutation(_set_lait("LA Number", np.nan, ""))),
        Case("swapped LA code", sid, "841->840", lait_mutation(_set_lait("LA Number", 840.0, "840"))),
        Case("future years", sid, "2026-27..2106-07",
             lait_mutation(_append_lait([f"{y}-{(y + 1) % 100:02d} (OT)" for y in range(2026, 2107, 9)]))),
        Case("duplicate row", sid, "row twice", lait_mutation(_append_lait(["2019-20 (OT)"]))),
    ]


# --- hexjson -------------------------------------------------------------------------------------------

def hex_edit(change: Callable[[list[str]], tuple[list[str], str | None, str | None, int]]
             ) -> Callable[[Path, Path], Expect]:
    def mutate(src: Path, dest: Path) -> Expect:
        lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
        lines, column, value, n = change(lines)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("".join(lines), encoding="utf-8")
        return Expect(column, value, n)
    return mutate


def _hex_line(lines: list[str], key: str) -> int:
    return next(k for k, line in enumerate(lines, start=1) if f'"{key}":' in line)


def _set_hex(key: str, field_: str, value: str):
    def change(lines):
        n = _hex_line(lines, key)
        lines[n - 1] = re.sub(rf'"{field_}":[^,}}]+', f'"{field_}":{value}', lines[n - 1])
        return lines, field_, value, n
    return change


def _dup_hex(lines):
    n = _hex_line(lines, "E06000005")
    lines.insert(n, lines[n - 1])
    return lines, "E06000005", "E06000005", n + 1


def _same_position(lines):
    a = _hex_line(lines, "E06000047")
    q = re.search(r'"q":(-?\d+)', lines[a - 1]).group(1)
    r = re.search(r'"r":(-?\d+)', lines[a - 1]).group(1)
    n = _hex_line(lines, "E06000005")
    lines[n - 1] = re.sub(r'"q":-?\d+', f'"q":{q}', lines[n - 1])
    lines[n - 1] = re.sub(r'"r":-?\d+', f'"r":{r}', lines[n - 1])
    return lines, "q", q, n


def _swap_hex_key(lines):
    """Hartlepool's hex removed and Darlington's hex keyed with Hartlepool's code E06000001."""
    del lines[_hex_line(lines, "E06000001") - 1]
    n = _hex_line(lines, "E06000005")
    lines[n - 1] = lines[n - 1].replace('"E06000005":', '"E06000001":', 1).replace('"id":"E06000005"', '"id":"E06000001"')
    return lines, "E06000001", "E06000001", n


def hex_cases() -> list[Case]:
    sid = "hexmap_utla"
    return [
        Case("hex coordinate", sid, "q=-1000", hex_edit(_set_hex("E06000005", "q", "-1000"))),
        Case("hex coordinate", sid, "r=1000", hex_edit(_set_hex("E06000005", "r", "1000"))),
        Case("hex coordinate", sid, "q=1e308", hex_edit(_set_hex("E06000005", "q", "1e308"))),
        Case("duplicate row", sid, "hex key twice", hex_edit(_dup_hex)),
        Case("hex coordinate", sid, "two hexes on one position", hex_edit(_same_position)),
        Case("swapped LA code", sid, "Darlington keyed E06000001", hex_edit(_swap_hex_key)),
        Case("truncated file", sid, "half the bytes", binary_truncated),
    ]


ALL_CASES = csv_cases() + ods_cases() + xlsx_cases() + parquet_cases() + hex_cases()


# --- running one case ------------------------------------------------------------------------------

def _log(case: Case, outcome: str, parts: list[str], exc: BaseException | None) -> None:
    target = os.environ.get("CSC_HARNESS_LOG")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": case.id, "class": case.cls, "source": case.sid, "outcome": outcome,
                             "missing": parts, "error": type(exc).__name__ if exc else None,
                             "message": str(exc)[:400] if exc else None}) + "\n")


def run_case(case: Case, mirror: Path, private: Path, monkeypatch) -> tuple[str, list[str], BaseException | None, Expect]:
    registry = load_registry()
    src = registry[case.sid]
    dest = private / src.path
    expect = case.mutate(mirror / src.path, dest)
    monkeypatch.setenv(paths.MIRROR_ENV, str(private))
    monkeypatch.setattr(paths, "RAW_CACHE", private.parent / "no-cache")
    registered = dataclasses.replace(src, sha256=sha256_of(dest), bytes=dest.stat().st_size)
    damaged = fetch(registered, allow_download=False)
    source_paths = {sid: mirror / s.path for sid, s in registry.items()} | {case.sid: damaged}
    log = SuppressionLog()
    try:
        result = LOADERS[case.sid](source_paths, log)
    except DataError as exc:
        parts = missing_parts(str(exc), src.path, private, expect)
        return ("refused" if not parts else "incomplete"), parts, exc, expect
    except Exception as exc:  # noqa: BLE001 - the point is to classify it
        return "traceback", [], exc, expect
    if expect.check is not None:
        return ("documented" if expect.check(result, log) else "accepted"), [], None, expect
    return "accepted", [], None, expect


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_with_file_column_value_and_line(case, mirror, tmp_path, monkeypatch):
    private = tmp_path / "mirror"
    before = {p: p.stat().st_mtime_ns for p in (paths.DERIVED.glob("*"))}
    outcome, parts, exc, expect = run_case(case, mirror, private, monkeypatch)
    _log(case, outcome, parts, exc)
    assert {p: p.stat().st_mtime_ns for p in paths.DERIVED.glob("*")} == before, "a loader wrote derived data"
    if expect.check is not None:
        assert outcome == "documented", f"{case.id}: a documented code must become missing/zero, got {outcome}"
        return
    assert outcome == "refused", (f"{case.id}: {outcome}" + (f", message lacks {parts}" if parts else "")
                                  + (f"\n{type(exc).__name__}: {exc}" if exc else ""))


# --- a few whole builds: the error reaches `make data`'s exit code and nothing is written -----------

def _whole_build(sid: str, mutate: Callable[[Path, Path], Expect], mirror: Path, tmp_path: Path,
                 monkeypatch, capsys) -> tuple[str, Expect]:
    from analysis.data import build as build_data
    from analysis.data import sources as sources_mod
    registry = load_registry()
    private = tmp_path / "mirror"
    shutil.copytree(mirror, private, ignore=shutil.ignore_patterns("previous_vintages", "*.md"))
    dest = private / registry[sid].path
    dest.unlink()
    expect = mutate(mirror / registry[sid].path, dest)
    changed = dict(registry)
    changed[sid] = dataclasses.replace(registry[sid], sha256=sha256_of(dest), bytes=dest.stat().st_size)
    monkeypatch.setenv(paths.MIRROR_ENV, str(private))
    monkeypatch.setattr(paths, "RAW_CACHE", tmp_path / "no-cache")
    monkeypatch.setattr(build_data, "load_registry", lambda *a, **k: changed)
    monkeypatch.setattr(sources_mod, "load_registry", lambda *a, **k: changed)
    out = tmp_path / "derived"
    code = build_data.main(["--out", str(out)])
    assert code == 2, f"the build must fail with a data error (exit 2), got {code}"
    assert not out.exists() or not any(out.rglob("*")), "a failed build must write nothing"
    return capsys.readouterr().err, expect


WHOLE_BUILD = {
    "huge in-post FTE": ("csww_indicators", csv_cell(CSV_SOURCES["csww_indicators"], "number", "1e308")),
    "population of 1,000 for Birmingham": (
        "population", csv_cell(dataclasses.replace(CSV_SOURCES["population"], target={
            "time_period": "2019", "old_la_code": "330", "age_group": "Children aged 0 to 17 years"}),
            "number", "1000")),
}


@pytest.mark.parametrize("name", list(WHOLE_BUILD))
def test_whole_build_refuses_and_writes_nothing(name, mirror, tmp_path, monkeypatch, capsys):
    sid, mutate = WHOLE_BUILD[name]
    err, expect = _whole_build(sid, mutate, mirror, tmp_path, monkeypatch, capsys)
    rel = load_registry()[sid].path
    parts = missing_parts(err, rel, tmp_path / "mirror", expect)
    assert not parts, f"{name}: the build's error lacks {parts}:\n{err}"
    assert "Traceback" not in err
    for line in (x for x in err.splitlines() if x.startswith("- ")):  # each failing cell names its raw cell
        assert rel in line and re.search(rf"\bline {expect.line}\b", line), f"{name}: {line}"
