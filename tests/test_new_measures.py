"""Issue 7 new measures: spending (s251 via LAIT), 2018 looked-after rate, section 47 activity,
IMD decile, and the 2024 Ofsted vintage as a cross-check. Needs the raw-data mirror."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.data.clean import deprivation, ofsted_vintage, protection, spend
from analysis.data.clean.parse import SuppressionLog
from analysis.errors import DataError, ImplausibleValueError

YEARS = set(range(2015, 2026))
#: England row minus the sum of LA rows that is a property of the published extract, not of the
#: loader: in 2017-18 the North East regional and England aggregates of these two measures exceed
#: the sum of the LA rows by exactly GBP 60,000,000 (no LA row shows a jump of that size).
KNOWN_ENGLAND_GAPS = {("spend_total", 2018): -60_000_000.0, ("spend_cla", 2018): -60_000_000.0}
#: LA rows are whole pounds; DfE aggregates are sums of unrounded values (differences of a few GBP)
ROUNDING_GBP = 10.0


@pytest.fixture(scope="module")
def lait(source_paths):
    return {k: source_paths[k] for k in ("lait_2026", "lait_2025")}


@pytest.fixture(scope="module")
def la_spend(lait):
    return spend.load_spend(lait, SuppressionLog(), screen=False)  # raw values: the England row adds these


def test_england_spending_reconciles_with_la_sum(la_spend, lait):
    """Sum of LA rows = England row for every measure and financial year 2015-16 to 2024-25.

    LA rows with '-' are absent from DfE's aggregates too (Middlesbrough, Wandsworth 2024-25; the
    Cumbria area 2023-24; Luton total 2022-23), so no adjustment is needed."""
    eng = spend.england_spend(lait).set_index("year")
    la_sum = la_spend.groupby("year")[spend.SPEND_COLS].sum(min_count=1)
    assert sorted(eng.index) == list(range(2016, 2026))
    for col in spend.SPEND_COLS:
        for year in eng.index:
            diff = la_sum.at[year, col] - eng.at[year, col]
            expected = KNOWN_ENGLAND_GAPS.get((col, year), 0.0)
            assert abs(diff - expected) <= ROUNDING_GBP, (col, year, la_sum.at[year, col], eng.at[year, col])


def test_spending_gaps_are_the_documented_ones(la_spend, derived):
    """Real gaps stay missing: Cumbria area 2023-24, Middlesbrough and Wandsworth 2024-25."""
    gaps = la_spend[la_spend["spend_safeguarding"].isna()]
    by_year = gaps.groupby("year")["la_code"].apply(set).to_dict()
    assert {"909", "942", "943"} <= by_year[2024]          # no Cumbria-area value for 2023-24
    assert {"806", "212"} <= by_year[2025]                  # Middlesbrough, Wandsworth 2024-25
    assert la_spend.loc[(la_spend.la_code == "806") & (la_spend.year == 2024), "spend_total"].notna().all()
    # panel: the gaps reach the entities as missing (never filled)
    p = derived.panel.set_index(["la_code", "year"])
    for key in [("942", 2024), ("943", 2024), ("806", 2025), ("212", 2025)]:
        assert pd.isna(p.at[key, "spend_total_pc"]), key
    assert p.loc[[("942", 2025), ("806", 2024)], "spend_total_pc"].notna().all()


def test_vintages_agree_and_disagreement_fails(lait):
    frames = {k: spend.read_lait(p, list(spend.FINANCE)) for k, p in lait.items()}
    n = spend.check_vintages(frames, lait)
    assert n == 4 * 8 * 170  # 4 measures x 8 overlapping years x 170 areas (LAs, England, regions)
    broken = {k: f.copy() for k, f in frames.items()}
    i = broken["lait_2025"].index[(broken["lait_2025"].year == 2020) & (broken["lait_2025"].area == 330)][0]
    broken["lait_2025"].loc[i, "text"] = "1"
    with pytest.raises(DataError, match="vintages disagree"):
        spend.check_vintages(broken, lait)


def test_lait_values_unknown_text_or_negative_fails(lait):
    df = spend.read_lait(lait["lait_2026"], ["SafeguardingFinance"]).head(5).copy()
    ok = spend.parse_values(df, lait["lait_2026"], "lait_2026", SuppressionLog(), "t")
    assert ok.notna().all()
    for bad in ("n/a", "-5", "inf"):
        df2 = df.copy()
        df2.loc[df2.index[2], "text"] = bad
        with pytest.raises(DataError):
            spend.parse_values(df2, lait["lait_2026"], "lait_2026", SuppressionLog(), "t")


def test_per_child_spend_and_timing(derived, la_spend):
    p = derived.panel
    for col in spend.SPEND_COLS:
        sub = p[p[col].notna() & p["child_pop"].notna()]
        np.testing.assert_allclose(sub[f"{col}_pc"], sub[col] / sub["child_pop"], rtol=0, atol=5e-5)
    sub = p[p["spend_total_pc"].notna()]
    np.testing.assert_allclose(np.exp(sub["log_spend_total_pc"]), sub["spend_total_pc"], rtol=1e-5)
    # financial year (Y-1)/Y -> census year Y: no spending for 2015 (2014-15 not in any vintage)
    assert p.loc[p.year == 2015, "spend_total"].isna().all()
    # North + West Northamptonshire summed into 928 from 2021-22
    parts = la_spend[la_spend.la_code.isin(["940", "941"]) & (la_spend.year == 2023)]
    assert len(parts) == 2
    entity = p.loc[(p.la_code == "928") & (p.year == 2023), "spend_total"].iloc[0]
    assert entity == parts["spend_total"].sum()


def test_coverage_per_year(derived):
    """Coverage of every new measure per year (printed with -s); minimum entities with a value."""
    p = derived.panel
    cols = ["spend_total_pc", "spend_safeguarding_pc", "spend_family_support_pc", "spend_cla_pc",
            "cla_rate", "s47_rate", "icpc_rate", "s47_icpc_median_days", "imd_decile"]
    cov = p.groupby("year")[cols].count()
    print("\n" + cov.to_string())
    assert (cov.loc[2016:2025, [c for c in cols if c.startswith("spend")]] >= 148).all().all()
    assert (cov[["cla_rate", "s47_rate", "icpc_rate", "s47_icpc_median_days"]] >= 145).all().all()
    assert cov.at[2018, "cla_rate"] == (p.year == 2018).sum()  # 2018 complete (published rates)
    assert (cov["imd_decile"] >= 149).all()


def test_lac_2018_published_and_agreement_with_cla_files(derived, source_paths):
    """LAIT's published LAC rate agrees with our rates from the CLA files: within 1.0 per 10,000
    (published rates are whole numbers) in 2019-2025, the years where both use the revised ONS
    population series (1,045 LA-years). 2016-2017 are not compared: DfE's published rates there
    use the pre-Census-2021 population estimates, the panel the revised ones."""
    p = derived.panel
    lac = spend.read_lait(source_paths["lait_2026"], ["LAC"])
    lac = lac[(lac.area < 970) & (lac.text != "-")].assign(la_code=lambda d: d.area.map(lambda v: f"{v:03d}"),
                                                           pub=lambda d: d.text.astype(float))
    m = p[~p["cla_rate_published"] & p["cla_rate"].notna() & (p.year >= 2019)].merge(
        lac[["la_code", "year", "pub"]], on=["la_code", "year"])
    assert len(m) == 1045
    assert (m["cla_rate"] - m["pub"]).abs().max() <= 1.0
    # 2018 is the published figure, flagged, and only 2018
    y18 = p[p.year == 2018].merge(lac[["la_code", "year", "pub"]], on=["la_code", "year"])
    assert y18["cla_rate_published"].all() and len(y18) == (p.year == 2018).sum()
    assert (y18["cla_rate"] == y18["pub"]).all()
    assert not p.loc[p.year != 2018, "cla_rate_published"].any()


def test_section47_england_total_matches_national_row(source_paths):
    """Sum of LA section 47 and ICPC counts vs the national row, 2015-2025.

    National counts are rounded to the nearest 10, and suppressed cells of City of London and the
    Isles of Scilly hide a few cases each: |national - LA sum| <= 10 + 50 per such cell. Where a
    large LA has no published value (Hackney 2021-2022 'x', Hampshire 2024 'u'), DfE's national
    total still includes it: the national row then exceeds the LA sum, by less than 5%.
    """
    log = SuppressionLog()
    la = protection.load_s47(source_paths["cin_c4"], log, YEARS)
    nat = protection.load_s47_national(source_paths["cin_c4"], YEARS).set_index("year")
    large_gaps = set()
    for col in ("s47_count", "icpc_count"):
        for year in sorted(YEARS):
            sub = la[la.year == year]
            missing = set(sub.loc[sub[col].isna(), "la_code"])
            residual = nat.at[year, col] - sub[col].sum()
            if missing <= {"201", "420"}:
                assert abs(residual) <= 10 + 50 * len(missing), (col, year, residual)
            else:
                large_gaps.add((year, tuple(sorted(missing - {"201", "420"}))))
                assert 0 < residual < 0.05 * nat.at[year, col], (col, year, residual)
    assert large_gaps == {(2021, ("204",)), (2022, ("204",)), (2024, ("850",))}


def test_section47_rates(derived):
    p = derived.panel
    sub = p[p["s47_count"].notna() & p["child_pop"].notna()]
    np.testing.assert_allclose(sub["s47_rate"], 1e4 * sub["s47_count"] / sub["child_pop"], atol=1e-4)
    # median not combinable for North + West Northamptonshire (entity 928 from 2022)
    assert p.loc[(p.la_code == "928") & (p.year >= 2022), "s47_icpc_median_days"].isna().all()
    assert p.loc[(p.la_code == "928") & (p.year >= 2022), "s47_rate"].notna().all()


def test_imd_decile_sizes_and_order(source_paths, derived):
    dec = deprivation.load_imd_decile(source_paths["iod2019_utla"])
    sizes = dec["imd_decile"].value_counts().sort_index()
    assert list(sizes.index) == list(range(1, 11))
    assert sizes.tolist() == [15] * 9 + [16]  # ceil(10 p / 151): the extra LA in the most deprived decile
    # ordering agrees with the IMD average score: deciles never overlap in score
    p = derived.panel.drop_duplicates("la_code").dropna(subset=["imd_decile", "imd_2019"])
    rng = p.groupby("imd_decile")["imd_2019"].agg(["min", "max"])
    assert (rng["max"].shift(1).iloc[1:] <= rng["min"].iloc[1:]).all()
    # and agrees broadly with IDACI (Spearman)
    rho = p[["imd_decile", "idaci_2019"]].corr(method="spearman").iloc[0, 1]
    assert rho > 0.85
    # formula: rank 1 (most deprived) -> decile 10; rank n -> decile 1
    assert deprivation.decile_from_rank(pd.Series([1, 151]), 151).tolist() == [10, 1]
    assert math.ceil(10 * 15 / 151) == 1


def test_ofsted_2024_vintage_matches_inspection_table(source_paths, derived):
    """Every inspection of the 2024 official vintage is in inspections.csv with the same grades
    and dates, except two date differences between the two official vintages (the 2025 file,
    which the table uses, agrees with the transcribed reports)."""
    path = source_paths["ofsted_outcomes_2024"]
    hist = ofsted_vintage.load_history_2024(path)
    latest = ofsted_vintage.load_latest_2024(path)
    assert len(hist) >= 210 and len(latest) >= 150
    mism = ofsted_vintage.crosscheck(derived.inspections, hist, latest)
    known = {("history", "Nottingham", "2022-11-05"), ("latest", "Isles of Scilly", "2023-07-10")}
    assert set(zip(mism.sheet, mism.la_name, mism.key)) == known, mism.to_string()
    # with the 2025 vintage's dates the same inspections match on every grade
    fixed_h, fixed_l = hist.copy(), latest.copy()
    fixed_h.loc[(fixed_h.la_name == "Nottingham") & (fixed_h.publication_date == "2022-11-05"),
                "publication_date"] = pd.Timestamp("2022-09-05")
    fixed_l.loc[fixed_l.la_name == "Isles of Scilly", "start_date"] = pd.Timestamp("2023-07-11")
    assert ofsted_vintage.crosscheck(derived.inspections, fixed_h, fixed_l).empty


def test_new_columns_carried_into_inspections(derived):
    t, p = derived.inspections, derived.panel
    for col in ("spend_total_pc", "s47_rate", "imd_decile", "cla_rate_published"):
        assert col in t.columns
    m = t[t.census_in_panel].merge(p[["la_code", "year", "spend_total_pc"]],
                                   left_on=["la_code", "census_year"], right_on=["la_code", "year"])
    pd.testing.assert_series_equal(m["spend_total_pc_x"], m["spend_total_pc_y"], check_names=False)


def test_section47_rates_reproduce_dfe_published_rates(derived, source_paths):
    """Independent check: our s47_rate and icpc_rate (c4 counts / ONS mid-year N-1 x 10,000)
    equal DfE's published rates in the LAIT extract (measures Section_47, ISCP_Conf; one decimal)
    within the rounding of the published figure (0.05 + float slack), for every LA-year both
    have, 2016-2025 (about 1,490 LA-years each)."""
    p = derived.panel
    lait = spend.read_lait(source_paths["lait_2026"], ["Section_47", "ISCP_Conf"])
    lait = lait[(lait.area < 970) & (lait.text != "-")].assign(
        la_code=lambda d: d.area.map(lambda v: f"{v:03d}"), v=lambda d: d.text.astype(float))
    wide = lait.pivot(index=["la_code", "year"], columns="measure", values="v").reset_index()
    m = p.merge(wide, on=["la_code", "year"])
    for ours, theirs in (("s47_rate", "Section_47"), ("icpc_rate", "ISCP_Conf")):
        both = m[m[ours].notna() & m[theirs].notna()]
        assert len(both) >= 1450, (ours, len(both))
        assert (both[ours] - both[theirs]).abs().max() <= 0.0501, ours


def _toy_spend(total_2020: float) -> pd.DataFrame:
    rows = [("355", y, t) for y, t in [(2018, 58e6), (2019, 60e6), (2020, total_2020), (2021, 64e6)]]
    rows += [("420", y, t) for y, t in [(2018, 0.2e6), (2019, 0.5e6), (2020, 0.2e6), (2021, 0.3e6)]]  # tiny: unchecked
    d = pd.DataFrame(rows, columns=["la_code", "year", "spend_total"])
    for c in spend.SPEND_COLS[1:]:
        d[c] = d["spend_total"] / 4
    return d


def test_an_implausible_spending_jump_is_refused_naming_la_and_year():
    none = pd.DataFrame(columns=["la_code", "year", "reason"]).astype({"year": int})
    with pytest.raises(ImplausibleValueError, match=r"LA 355, financial year ending 2020: 137,000,000"):
        spend.screen_jumps(_toy_spend(137e6), none, "lait")
    assert spend.screen_jumps(_toy_spend(62e6), none, "lait")["spend_total"].notna().all()  # no jump, tiny LA ignored


def test_a_listed_implausible_return_becomes_missing_and_a_quiet_listing_is_refused():
    listed = pd.DataFrame({"la_code": ["355"], "year": [2020], "reason": ["one-year spike"]})
    out = spend.screen_jumps(_toy_spend(137e6), listed, "lait")
    gone = (out.la_code == "355") & (out.year == 2020)
    assert out.loc[gone, spend.SPEND_COLS].isna().all().all()
    assert out.loc[~gone, spend.SPEND_COLS].notna().all().all()
    with pytest.raises(DataError, match="show no implausible jump"):
        spend.screen_jumps(_toy_spend(62e6), listed, "lait")


def test_the_committed_exclusions_are_missing_in_the_panel(derived):
    ex = spend.load_exclusions()
    p = derived.panel.set_index(["la_code", "year"])
    for la, year in ex[["la_code", "year"]].itertuples(index=False):
        assert p.loc[(la, year), spend.SPEND_COLS].isna().all(), (la, year)
