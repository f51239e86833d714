"""Data dictionary: every column of the derived tables with meaning, unit, source and years.

:func:`dictionary_frame` raises if a table has a column that is not documented here (or the
dictionary documents a column that no table has), so the dictionary cannot drift from the data.
"""

from __future__ import annotations

import pandas as pd

WF = "csww_sfr_2015 (2015), csww_sfr_2016 (2016), csww_indicators (2017-2025)"
WF17 = "csww_indicators (2017-2025); 2015-2016 from the SFRs where published"
OFS = "ofsted_sif_transcribed, ofsted_outcomes_2025, ofsted_ilacs_transcribed"
LAIT = "lait_2025 (2015-16), lait_2026 (2016-17 to 2024-25): DfE s251 outturn via LAIT"
SPEND_YEARS = ("2016-2025 (financial years 2015-16 to 2024-25 ending 31 March of the census year; none in 2015; "
               "gaps: Cumbria area 2024, Middlesbrough and Wandsworth 2025, Luton total 2023, BCP/Dorset 2019, "
               "Cumberland/Westmorland and Furness 2023)")
_SPEND = {"spend_total": "total children's and young people's services excl. CERA (s251 line 5.0.2, LAIT C&YPExpenditure)",
          "spend_safeguarding": "safeguarding children and young people's services: social work, commissioning and strategy, LSCB (s251 3.3.4, LAIT SafeguardingFinance)",
          "spend_family_support": "family support services incl. targeted and universal family support, short breaks, direct payments (s251 3.4.6, LAIT FamilySupportFinance)",
          "spend_cla": "children looked after (s251 3.1.11, LAIT TotalLACFinance)"}

# name: (tables, meaning, unit, source, years)
COLUMNS: dict[str, tuple[str, str, str, str, str]] = {
    "la_code": ("both", "Harmonised LA entity: DfE 3-digit code (928 = Northamptonshire, North + West from 2021)", "code", "data/reference/la_register.csv", "all"),
    "year": ("panel", "Workforce census year N (snapshot 30 September N)", "year", WF, "2015-2025"),
    "la_name": ("both", "Entity name (latest)", "text", "la_register", "all"),
    "region": ("both", "Region (Inner/Outer London merged as London)", "text", "la_register", "all"),
    "gss_code": ("panel", "Latest ONS GSS code of the entity", "code", "la_register", "all"),
    "london": ("both", "Entity is a London borough (or City of London)", "bool", "la_register", "all"),
    "small_la": ("both", "City of London or Isles of Scilly (under 2,000 children; rates very noisy, usually excluded)", "bool", "la_register", "all"),
    "workforce_source": ("panel", "Source id of the workforce row", "text", WF, "2015-2025"),
    "aggregate_collection": ("both", "Workforce from the pre-2017 aggregate collection (definitions differ from 2017)", "bool", WF, "2015-2016 true"),
    "joint_return": ("both", "Workforce figures are a joint return: Kingston+Richmond (2016+), North+West Northamptonshire (2021+)", "bool", WF, "2015-2025"),
    "caseload": ("both", "Average caseload: cases / case-holding FTE social workers (2016: SFR average caseload)", "cases per FTE", WF, "2016-2025 (none in 2015)"),
    "vacancy_rate": ("both", "FTE vacancies / (vacancies + FTE in post) x 100", "%", WF, "2015-2025 (2015 whole %)"),
    "agency_rate": ("both", "FTE agency workers / (agency + FTE in post) x 100", "%", WF, "2015-2025 (2015 whole %)"),
    "turnover_rate": ("both", "FTE leavers in year / FTE in post x 100", "%", WF, "2015-2025 (2015 whole %)"),
    "absence_rate": ("both", "Working days lost to sickness / working days available x 100", "%", WF, "2015-2025"),
    "inpost_fte": ("panel", "Children's social workers in post", "FTE", WF, "2015-2025"),
    "starters_fte": ("panel", "Starters in the year", "FTE", WF, "2015-2025"),
    "leavers_fte": ("panel", "Leavers in the year", "FTE", WF, "2015-2025"),
    "agency_fte": ("panel", "Agency workers at census date", "FTE", WF, "2015-2025"),
    "vacancy_fte": ("panel", "Vacancies at census date", "FTE", WF, "2015-2025"),
    "case_holders_fte": ("panel", "Case-holding social workers", "FTE", "csww_indicators", "2017-2025"),
    "cases": ("panel", "Cases held", "count", "csww_indicators", "2017-2025"),
    "working_days_lost_fte": ("panel", "Working days lost to sickness absence", "days", "csww_indicators", "2017-2025"),
    "cin_count": ("panel", "Children in need at 31 March of the census year", "count", "cin_b1", "2015-2025"),
    "cpp_count": ("panel", "Children on a child protection plan at 31 March", "count", "cpp_d5", "2015-2025"),
    "cla_count": ("panel", "Children looked after at 31 March", "count", "cla_sfr_2015-2017, cla_ees_2023 (2019-20), cla_ees_2025 (2021-25)", "2015-2017, 2019-2025 (no 2018 count source; the 2018 rate is DfE's published rate)"),
    "child_pop": ("both", "Children aged 0-17, ONS mid-year estimate of year N-1 (DfE rate denominator)", "persons", "population", "mid-2014 to mid-2024"),
    "log_child_pop": ("both", "Natural log of child_pop", "log persons", "population", "as child_pop"),
    "cin_rate": ("both", "10000 x cin_count / child_pop", "per 10,000 children", "cin_b1, population", "2015-2025"),
    "cpp_rate": ("both", "10000 x cpp_count / child_pop", "per 10,000 children", "cpp_d5, population", "2015-2025"),
    "cla_rate": ("both", "10000 x cla_count / child_pop; 2018: DfE's published rate (LAIT LAC, whole numbers; cla_rate_published)", "per 10,000 children", "CLA sources, population; lait_2026 (2018)", "2015-2025"),
    "cla_rate_published": ("both", "cla_rate is DfE's published rate per 10,000 (LAIT measure LAC, whole numbers; used for 2018, the year without a count source); false = computed as 10000 x cla_count / child_pop", "bool", "lait_2026", "2018 true"),
    "s47_count": ("panel", "Section 47 enquiries started in the year ending 31 March of the census year (summed over component LAs)", "count", "cin_c4", "2015-2025"),
    "icpc_count": ("panel", "Initial child protection conferences held in the year ending 31 March of the census year", "count", "cin_c4", "2015-2025"),
    "s47_rate": ("both", "10000 x s47_count / child_pop", "per 10,000 children", "cin_c4, population", "2015-2025"),
    "icpc_rate": ("both", "10000 x icpc_count / child_pop", "per 10,000 children", "cin_c4, population", "2015-2025"),
    "s47_icpc_median_days": ("both", "Median working days from the start of the section 47 enquiry to the initial child protection conference (DfE Duration_median); missing for entities of several LAs (928 from 2022: medians cannot be combined)", "working days", "cin_c4", "2015-2025"),
    **{c: ("panel", f"Gross spend (s251 outturn, total expenditure before income), financial year ending 31 March of the census year: {m}; entity = sum of component LAs", "GBP", LAIT, SPEND_YEARS) for c, m in _SPEND.items()},
    **{f"{c}_pc": ("both", f"{c} / child_pop: gross spend per child aged 0-17 (ONS mid-year N-1, inside the financial year)", "GBP per child", f"{LAIT}; population", SPEND_YEARS) for c in _SPEND},
    "log_spend_total_pc": ("both", "Natural log of spend_total_pc", "log GBP per child", LAIT, SPEND_YEARS),
    "imd_decile": ("both", "IMD 2019 decile among the 151 upper-tier LAs of 2019 by rank of average score: ceil(10 (n + 1 - rank) / n), 1 = least deprived, 10 = most deprived; time-invariant; missing for entities not in the 2019 file (835-837, 942, 943)", "decile 1-10", "iod2019_utla", "2019 (constant)"),
    "idaci_2019": ("both", "IDACI 2019 average score (share of children 0-15 in income-deprived families, population-weighted over LSOAs); time-invariant", "proportion", "iod2019_utla", "2019 (constant)"),
    "imd_2019": ("both", "IMD 2019 average score; time-invariant", "score", "iod2019_utla", "2019 (constant)"),
    "grade_num": ("panel", "Ofsted overall effectiveness in force at 30 September: latest graded inspection published by then (1 Outstanding, 2 Good, 3 Requires improvement, 4 Inadequate)", "grade 1-4", OFS, "2015-2025"),
    "grade_label": ("panel", "grade_num as words", "text", OFS, "2015-2025"),
    "good_or_better": ("both", "Grade is Good or Outstanding (grade 1-2)", "bool", OFS, "all"),
    "grade_framework": ("panel", "Framework of the grade in force (SIF 2013-18 or ILACS 2018-)", "text", OFS, "2015-2025"),
    "ilacs_era": ("panel", "Grade in force was given under ILACS", "bool", OFS, "2015-2025"),
    "grade_published": ("panel", "Publication date of the grade in force", "date", OFS, "2015-2025"),
    "grade_inspection_id": ("panel", "inspection_id of the grade in force", "id", OFS, "2015-2025"),
    "inspection_id": ("inspections", "la_code + '-' + fieldwork start date (YYYYMMDD)", "id", OFS, "2013-2026"),
    "source_la_code": ("inspections", "DfE code(s) of the inspected LA(s) before harmonisation ('940+941' = joint)", "code", OFS, "2013-2026"),
    "framework": ("inspections", "SIF (single inspection framework), ILACS, or ILACS-2026 (framework of April 2026, no overall grade)", "text", OFS, "2013-2026"),
    "inspection_type": ("inspections", "SIF / SIF re-inspection / ILACS standard / short", "text", OFS, "2013-2026"),
    "start_date": ("inspections", "First day of fieldwork", "date", OFS, "2013-2026"),
    "end_date": ("inspections", "Last day of fieldwork (from the report transcription; missing where not transcribed)", "date", OFS, "2013-2026"),
    "publication_date": ("inspections", "Publication date of the report", "date", OFS, "2013-2026"),
    "inspection_year": ("inspections", "Calendar year of start_date", "year", OFS, "2013-2026"),
    "overall_num": ("inspections", "Overall effectiveness (1 Outstanding ... 4 Inadequate)", "grade 1-4", OFS, "2013-2026"),
    "leaders_num": ("inspections", "SIF leadership, management and governance / ILACS impact of leaders", "grade 1-4", OFS, "2013-2026"),
    "help_protection_num": ("inspections", "Experiences and progress of children who need help and protection", "grade 1-4", OFS, "2013-2026"),
    "in_care_num": ("inspections", "SIF children looked after and achieving permanence / ILACS children in care (and care leavers before 2023)", "grade 1-4", OFS, "2013-2026"),
    "grade_source": ("inspections", "official (Ofsted outcomes file) or transcribed (from the report PDF)", "text", OFS, "2013-2026"),
    "prev_grade_num": ("inspections", "Overall grade in force before fieldwork began (latest graded inspection published before start_date)", "grade 1-4", OFS, "2013-2026"),
    "prev_framework": ("inspections", "Framework of prev_grade_num", "text", OFS, "2013-2026"),
    "prev_published": ("inspections", "Publication date of the previous grade", "date", OFS, "2013-2026"),
    "days_since_prev": ("inspections", "start_date - prev_published", "days", OFS, "2013-2026"),
    "census_year": ("inspections", "Last workforce census (30 September) strictly before start_date; measures are from this year", "year", WF, "2012-2025"),
    "census_in_panel": ("inspections", "The entity has a panel row for census_year (measures available)", "bool", WF, "all"),
}


def dictionary_frame(panel: pd.DataFrame, inspections: pd.DataFrame) -> pd.DataFrame:
    """Data dictionary rows for the columns of both tables, in table order.

    Raises
    ------
    ValueError
        If a column lacks documentation or a documented column is in neither table.
    """
    rows = []
    used: set[str] = set()
    for table_name, df in (("la_year_panel", panel), ("inspections", inspections)):
        undocumented = [c for c in df.columns if c not in COLUMNS]
        if undocumented:
            raise ValueError(f"{table_name}: column(s) {undocumented} missing from analysis/dictionary.py")
        for col in df.columns:
            _, meaning, unit, source, years = COLUMNS[col]
            n_missing = int(df[col].isna().sum())
            rows.append({"table": table_name, "column": col, "meaning": meaning, "unit": unit,
                         "source": source, "years": years, "missing": n_missing, "rows": len(df)})
            used.add(col)
    stale = sorted(set(COLUMNS) - used)
    if stale:
        raise ValueError(f"analysis/dictionary.py documents column(s) {stale} that no table has")
    return pd.DataFrame(rows)


# Key tables (hex map key, statistical neighbours): table -> column -> (meaning, unit, source, years)
KEY_TABLES: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "hex_map_key": {
        "la_code": ("Harmonised LA entity alive in the last census year", "code", "la_register", "last census year"),
        "hex_id": ("Key of the hex in the HexJSON layout (its 2019-20 GSS code); a new hex added by a split rule is keyed by the entity's own GSS code", "code", "hexmap_utla", "2019-20 layout"),
        "q": ("Hex column (odd-r offset coordinates; odd rows shifted half a hex right)", "integer", "hexmap_utla", "2019-20 layout"),
        "r": ("Hex row (increases northwards)", "integer", "hexmap_utla", "2019-20 layout"),
        "hex_name": ("Name of the hex in the layout ('n'), or the entity name for an added hex", "text", "hexmap_utla", "2019-20 layout"),
        "rule": ("Boundary rule that placed the entity on this hex (see analysis/data/hexmap.py, data/README.md)", "text", "analysis/data/hexmap.py", "all"),
    },
    "statistical_neighbours": {
        "la_code": ("Harmonised LA entity", "code", "sn_2021, sn_2025, la_register", "all"),
        "neighbour_rank": ("Rank of the neighbour (1 = closest) after mapping to entities and dropping self/duplicates", "rank 1-10", "sn_2021, sn_2025", "all"),
        "neighbour_la_code": ("Harmonised entity of the neighbour", "code", "sn_2021, sn_2025, la_register", "all"),
        "grouping": ("Source grouping: 'DfE SN 2021' (April 2021 groupings) or 'DfE SN 2025' (2025 model)", "text", "sn_2021, sn_2025", "2021, 2025"),
    },
}


def key_table_dictionary(hex_key: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Dictionary rows of the hex map key and the statistical neighbours (same layout as
    :func:`dictionary_frame`); raises ValueError if a column is undocumented or missing."""
    rows = []
    for table_name, df in (("hex_map_key", hex_key), ("statistical_neighbours", neighbours)):
        doc = KEY_TABLES[table_name]
        if list(df.columns) != list(doc):
            raise ValueError(f"{table_name}: columns {list(df.columns)} differ from analysis/data/dictionary.py {list(doc)}")
        for col, (meaning, unit, source, years) in doc.items():
            rows.append({"table": table_name, "column": col, "meaning": meaning, "unit": unit,
                         "source": source, "years": years, "missing": int(df[col].isna().sum()), "rows": len(df)})
    return pd.DataFrame(rows)
