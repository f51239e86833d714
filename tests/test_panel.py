"""The LA-year panel: schema, suppression accounting, harmonisation rules, rates, dictionary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.clean.context import load_cla_published_rates
from analysis.data.clean.parse import SuppressionLog
from analysis.errors import SchemaError
from analysis.data.schema import validate_panel


def test_schema_passes_and_keys_unique(derived):
    validate_panel(derived.panel)
    assert not derived.panel.duplicated(["la_code", "year"]).any()
    counts = derived.panel.groupby("year").size()
    assert counts.between(150, 152).all(), counts.to_dict()


@pytest.mark.parametrize("mutate, what", [
    (lambda p: pd.concat([p, p.iloc[[0]]]), "duplicate key"),
    (lambda p: p.assign(vacancy_rate=p["vacancy_rate"].where(p.index != 3, 140.0)), "rate over 100"),
    (lambda p: p.assign(caseload=p["caseload"].where(p.index != 30, -2.0)), "negative caseload"),
    (lambda p: p.assign(la_code=p["la_code"].where(p.index != 5, "E09000001")), "bad LA code"),
])
def test_schema_rejects_invalid_panels(derived, mutate, what):
    with pytest.raises(SchemaError):
        validate_panel(mutate(derived.panel.copy()))


def test_suppressed_cells_are_counted_not_dropped(derived):
    """Every withheld cell of a used column is in the suppression log, and the panel's missing
    values for a measure are at least the cells suppressed in its source column."""
    sup = derived.suppression
    assert set(sup["symbol"]) <= {"c", "x", "z", "u", "low", "..", ".", "-"}
    ees = sup[(sup["source"] == "csww_indicators") & (sup["column"] == "caseload_fte")
              & (sup["symbol"] != "low")]["count"].sum()
    missing_2017on = derived.panel.query("year >= 2017")["caseload"].isna().sum()
    # one suppressed joint row can fill two panel rows (Kingston, Richmond)
    assert missing_2017on >= ees > 0
    dictionary = derived.dictionary.set_index(["table", "column"])
    assert dictionary.loc[("la_year_panel", "caseload"), "missing"] == derived.panel["caseload"].isna().sum()


def test_low_symbol_becomes_zero_not_missing(derived):
    """'low' (rounds to 0 but is not 0): Sunderland's agency rate 2023-2025 is 0.0, not missing."""
    p = derived.panel.set_index(["la_code", "year"])
    for year in (2023, 2024, 2025):
        assert p.loc[("394", year), "agency_rate"] == 0.0


def test_harmonisation_rules(derived):
    p = derived.panel
    years = p.groupby("la_code")["year"].agg(lambda s: (s.min(), s.max(), len(s)))
    assert years["928"] == (2015, 2025, 11)           # Northamptonshire continues as N + W
    assert years["825"] == (2015, 2025, 11)           # Buckinghamshire recode: one entity
    assert years["815"] == (2015, 2025, 11) and years["933"] == (2015, 2025, 11)
    assert years["370"] == (2015, 2025, 11)           # Barnsley recode 2025
    for old in ("835", "836", "837"):
        assert years[old][1] == 2018                  # Dorset CC, Poole, Bournemouth end
    assert years["838"][0] == 2019 and years["839"][0] == 2019
    assert years["909"][1] == 2022 and years["942"][0] == 2023 and years["943"][0] == 2023
    assert not p["la_code"].isin(["940", "941"]).any()
    # Kingston and Richmond: separate rows, identical (joint) workforce values from 2016, flagged
    kr = p[p["la_code"].isin(["314", "318"]) & (p["year"] >= 2016)].pivot(index="year", columns="la_code")
    for m in ("caseload", "vacancy_rate", "agency_rate", "turnover_rate"):
        pd.testing.assert_series_equal(kr[(m, "314")], kr[(m, "318")], check_names=False)
    assert p.loc[p["la_code"].isin(["314", "318"]) & (p["year"] >= 2016), "joint_return"].all()
    # separate demand figures
    assert (kr[("cin_count", "314")] != kr[("cin_count", "318")]).all()


def test_northamptonshire_demand_is_sum_of_north_and_west(derived, source_paths):
    raw = pd.read_csv(source_paths["cin_b1"], dtype=str)
    raw = raw[(raw["geographic_level"] == "Local authority") & raw["old_la_code"].isin(["940", "941"])]
    raw["v"] = pd.to_numeric(raw["At31_episodes"])
    expected = raw.groupby(raw["time_period"].astype(int))["v"].sum()
    p = derived.panel.set_index(["la_code", "year"])
    for year, value in expected.items():
        if year in range(2015, 2026):
            assert p.loc[("928", year), "cin_count"] == value


def test_cla_rates_match_published_rates(derived, source_paths):
    """Our CLA rate (count / mid-year N-1 population) reproduces DfE's published rate per 10,000
    (rounded to integers) for 2021-2025: an independent check of counts, population and timing."""
    pub = load_cla_published_rates(source_paths["cla_ees_2025"], SuppressionLog())
    p = derived.panel[["la_code", "year", "cla_rate"]]
    m = pub.merge(p, on=["la_code", "year"], how="inner").dropna()
    assert len(m) > 600
    diff = (m["cla_rate"] - m["cla_rate_published"]).abs()
    assert (diff <= 0.5 + 1e-9).mean() > 0.99, m[diff > 0.5]


def test_rates_use_the_formula(derived):
    p = derived.panel.dropna(subset=["cpp_count", "child_pop"])
    np.testing.assert_allclose(p["cpp_rate"], 1e4 * p["cpp_count"] / p["child_pop"], atol=1e-4)


def test_idaci_is_time_invariant_and_from_2019(derived):
    p = derived.panel.dropna(subset=["idaci_2019"])
    assert (p.groupby("la_code")["idaci_2019"].nunique() == 1).all()
    # Middlesbrough has the highest IDACI average score in File 11 (0.327)
    assert p.loc[p["idaci_2019"].idxmax(), "la_name"] == "Middlesbrough"


def test_dictionary_documents_every_column(derived):
    d = derived.dictionary
    assert set(d.loc[d["table"] == "la_year_panel", "column"]) == set(derived.panel.columns)
    assert set(d.loc[d["table"] == "inspections", "column"]) == set(derived.inspections.columns)
    assert d["meaning"].str.len().min() > 5


def test_to_entity_sums_components_without_partial_totals():
    """North (940) + West (941) Northamptonshire sum into entity 928; a missing component makes the
    total missing; a placeholder row of an LA outside its years of existence is ignored."""
    from analysis.data.geography import to_entity
    df = pd.DataFrame({
        "la_code": ["928", "940", "941", "940", "941", "940", "941"],
        "year":    [2019,  2019,  2019,  2022,  2022,  2023,  2023],
        "v":       [10.0,  np.nan, np.nan, 2.0,  3.0,   4.0,   np.nan],
    })
    out = to_entity(df, ["v"]).set_index(["la_code", "year"])["v"]
    assert out[("928", 2019)] == 10.0        # 940/941 did not exist in 2019: placeholders ignored
    assert out[("928", 2022)] == 5.0         # summed
    assert np.isnan(out[("928", 2023)])      # West missing: no partial total


def test_to_number_thousands_separators_and_symbols(tmp_path):
    """'27,700' parses only where thousands separators are declared; elsewhere it is an error."""
    from analysis.data.clean.parse import SFR_SYMBOLS, to_number
    from analysis.errors import SuppressionCodeError
    df = pd.DataFrame({"v": ["27,700", "x", "-", "12.5"]})
    log = SuppressionLog()
    bounds = {"v": (0, 1e6)}
    out = to_number(df, ["v"], path=tmp_path / "f.csv", source="s", allowed=SFR_SYMBOLS, log=log, thousands=True,
                    bounds=bounds)
    assert out["v"].iloc[0] == 27700 and np.isnan(out["v"].iloc[1]) and out["v"].iloc[2] == 0.0
    assert set(log.frame()["symbol"]) == {"x", "-"}
    with pytest.raises(SuppressionCodeError, match="'27,700'"):
        to_number(df, ["v"], path=tmp_path / "f.csv", source="s", allowed=SFR_SYMBOLS, log=SuppressionLog(),
                  bounds=bounds)
