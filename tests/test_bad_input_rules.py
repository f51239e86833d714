"""The rules behind the mutation harness, checked one by one against independent readings.

* every derived column is traced to raw cells (or declared a register column), and the traced
  line holds the derived value (read here with the csv module, not the loaders);
* the registered period of each EES file is exactly the span of years the real file holds;
* text dates in spreadsheets are day-first, and anything but the two accepted forms is refused;
* the code / GSS / name cross-check accepts joint rows and refuses a swapped part;
* the plausibility bounds leave every real value well inside them.
"""

from __future__ import annotations

import csv
import datetime
import io

import pandas as pd
import pytest

from analysis.data import provenance
from analysis.data.clean.bounds import load_bounds
from analysis.data.clean.parse import parse_sheet_dates
from analysis.data.geography import check_identity
from analysis.data.sources import load_registry, raw_name
from analysis.errors import FileFormatError, UnknownAreaError

#: columns that come from the LA register or are derived flags and keys, not from a raw value
NOT_RAW = {"la_code", "year", "la_name", "region", "gss_code", "london", "small_la", "workforce_source",
           "aggregate_collection", "joint_return", "cla_rate_published", "grade_label", "good_or_better",
           "grade_framework", "ilacs_era", "grade_published", "grade_inspection_id",
           "inspection_id", "source_la_code", "inspection_year", "grade_source", "prev_grade_num", "prev_framework",
           "prev_published", "days_since_prev", "census_year", "census_in_panel"}


def test_every_derived_column_is_traced_to_raw_cells(derived):
    columns = set(derived.panel.columns) | set(derived.inspections.columns)
    untraced = sorted(columns - NOT_RAW - set(provenance.ORIGINS))
    assert not untraced, f"columns without provenance (schema errors would blame the register): {untraced}"


def _raw_rows(path) -> dict[int, dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return {reader.line_num: row for row in reader}


@pytest.mark.parametrize("column, la, year", [("caseload", "841", 2019), ("child_pop", "330", 2020),
                                              ("cin_count", "841", 2019), ("s47_count", "841", 2023),
                                              ("cla_count", "841", 2016)])
def test_traced_line_holds_the_derived_value(derived, source_paths, column, la, year):
    row = derived.panel.set_index(["la_code", "year"]).loc[(la, year)]
    row = pd.concat([row, pd.Series({"la_code": la, "year": year})])
    text = provenance.describe(column, row, source_paths)
    cell = provenance.origins(column, row)[0]
    line = int(text.split(", line ")[1].split(" ")[0])
    raw = _raw_rows(source_paths[cell.source])[line]
    assert float(raw[cell.column]) == pytest.approx(float(row[column])), text
    assert raw_name(source_paths[cell.source]) in text


def test_rates_name_the_population_file(derived, source_paths):
    row = derived.panel.set_index(["la_code", "year"]).loc[("841", 2019)]
    row = pd.concat([row, pd.Series({"la_code": "841", "year": 2019})])
    for column in ("cin_rate", "cpp_rate", "cla_rate", "s47_rate", "icpc_rate", "spend_total_pc", "log_child_pop"):
        assert "population (context/population/" in provenance.describe(column, row, source_paths), column


@pytest.mark.parametrize("sid", ["csww_indicators", "cin_b1", "cpp_d5", "population", "cla_ees_2023",
                                 "cla_ees_2025", "cin_c4"])
def test_registered_period_is_exactly_the_years_the_file_holds(source_paths, sid):
    years = {int(r["time_period"]) for r in _raw_rows(source_paths[sid]).values()}
    assert (min(years), max(years)) == load_registry()[sid].period


def test_sheet_text_dates_are_day_first_and_other_forms_refused():
    ok = pd.Series(["05/09/2022", "2022-09-05", pd.Timestamp("2022-09-05"), datetime.datetime(2022, 9, 5), "5/9/2022"],
                   index=pd.Index([4, 5, 6, 7, 8], name="row"))
    assert set(parse_sheet_dates(ok, "f.ods[s]", "Inspection date")) == {pd.Timestamp("2022-09-05")}
    for bad in ("09/25/2022", "5/9/22", "2022/09/05", "Sept 2022", 44809.0, "31/02/2022"):
        values = pd.Series(["05/09/2022", bad], index=pd.Index([4, 5], name="row"))
        with pytest.raises(FileFormatError, match=r"f\.ods\[s\]: column 'Inspection date' .* \(row 5;"):
            parse_sheet_dates(values, "f.ods[s]", "Inspection date")


def test_identity_accepts_joint_rows_and_refuses_a_swapped_part():
    joint = pd.DataFrame({"old_la_code": ["314 / 318"], "new_la_code": ["E09000021 / E09000027"],
                          "la_name": ["Kingston upon Thames / Richmond upon Thames"]},
                         index=pd.Index([7], name="line"))
    check_identity(joint, "x.csv", code="old_la_code", gss="new_la_code", name="la_name")
    swapped = joint.assign(la_name=["Richmond upon Thames / Kingston upon Thames"])
    with pytest.raises(UnknownAreaError, match=r"x\.csv: line 7: .*'la_name'.*Richmond upon Thames"):
        check_identity(swapped, "x.csv", code="old_la_code", gss="new_la_code", name="la_name")
    alias = pd.DataFrame({"c": ["840"], "n": ["Durham"]}, index=pd.Index([3], name="line"))
    check_identity(alias, "x.csv", code="c", name="n")  # data/reference/la_aliases.csv
    with pytest.raises(UnknownAreaError, match="line 3"):
        check_identity(alias.assign(n=["Darlington"]), "x.csv", code="c", name="n")


def test_bounds_leave_real_values_well_inside(derived):
    """Bounds are 10x the largest published value (or logical limits): the panel's values of the
    raw counts sit far below the LA upper bound of the source that supplied them."""
    bounds = load_bounds()
    panel = derived.panel[derived.panel["year"] >= 2017]
    for raw, col in [("inpost_fte", "inpost_fte"), ("cases", "cases"), ("caseload_fte", "caseload")]:
        high = bounds[("csww_indicators", raw, "la")].high
        assert panel[col].max() <= high / 5, (raw, panel[col].max(), high)
    assert all(b.basis for b in bounds.values())
