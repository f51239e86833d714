"""Tables of the Models v3 additions (report/dynamic.qmd): dynamic CRE and sub-judgement AMEs,
family-wise adjusted p-values, and what differs from Webb, Bennett and Bywaters (2022). Markdown
pipe tables through :func:`analysis.outputs.tables.md` (every cell escaped)."""

from __future__ import annotations

import pandas as pd

from . import tables
from .common import fmt, fmt_p, interval
from .formats import sample_note

TERMS = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate"]
SHORT = {"caseload": "Caseload (+2)", "vacancy_rate": "Vacancy (+5 pp)", "agency_rate": "Agency use (+5 pp)",
         "turnover_rate": "Turnover (+5 pp)"}


def _cell(r: dict) -> str:
    return f"{fmt(r['ame_pp'], 1)} {interval(fmt(r['ci_low'], 1), fmt(r['ci_high'], 1))}"


def tbl_dyn_ame(results: dict) -> str:
    """Change in P(Good or better), percentage points: dynamic CRE models and sub-judgement logits."""
    dc = results["dynamic_cre"]["models"]
    sj = results["subjudgements"]["outcomes"]
    cols = {"Dynamic CRE logit": dc["good_or_better"]["ame_pp"],
            "Dynamic CRE ordered logit": dc["grade"]["ame_pp"],
            "Overall (logit)": sj["overall"]["ame_pp"], "Help and protection": sj["help_protection"]["ame_pp"],
            "Children in care": sj["in_care"]["ame_pp"], "Leadership": sj["leadership"]["ame_pp"]}
    rows = [[SHORT[t], *[_cell(c[t]) for c in cols.values()]] for t in TERMS]
    rows.append(["Inspections", f"{dc['good_or_better']['nobs']:,}", f"{dc['grade']['nobs']:,}",
                 *[f"{sj[k]['nobs']:,}" for k in ("overall", "help_protection", "in_care", "leadership")]])
    return tables.md(pd.DataFrame(rows, columns=["", *cols]))


def tbl_dyn_family(results: dict) -> str:
    """Unadjusted and Holm-adjusted p-values (all quoted tests) by model and workforce measure."""
    tests = results["family_tests"]["tests"]
    models: dict[str, dict] = {}
    order = {"headline": 0, "sensitivity": 1, "sub-judgement": 2}
    for key, v in sorted(tests.items(), key=lambda kv: order[kv[1]["group"]]):
        mid, term = key.rsplit(":", 1)
        models.setdefault(f"{v['label']} ({v['group']})", {})[term] = v
    rows = [[label, *[("–" if t not in by else f"{fmt_p(by[t]['p_value'])} ({fmt_p(by[t]['p_holm_all'])})")
                      for t in TERMS]] for label, by in models.items()]
    # p-values only: the column names the measure, not its change in pp
    return tables.md(pd.DataFrame(rows, columns=["Model", *[f"{SHORT[t].split(' (')[0]}: p (Holm p)" for t in TERMS]]))


def tbl_dyn_webb(results: dict) -> str:
    """What differs between Webb et al.'s design and the closest one the data allow."""
    diff = results["replication_like_for_like"]["webb_2022"]["differences"]
    return tables.md(pd.DataFrame([[d["aspect"].capitalize(), d["theirs"], d["ours"]] for d in diff],
                                  columns=["", "Webb et al. (2022)", "This report"]), align="lll")


def note_dyn_ame(results: dict) -> str:
    """Why the dynamic models have fewer inspections than the sub-judgement logits."""
    dc = results["dynamic_cre"]["models"]
    sj = results["subjudgements"]["outcomes"]
    counts = {"the dynamic models": dc["good_or_better"]["nobs"], "the logits": sj["overall"]["nobs"]}
    return sample_note(counts, {"the dynamic models": "they model re-inspections only: each council's first "
                                "inspection in the data is its initial condition, not an observation"}, "inspections")


def note_dyn_webb(results: dict) -> str:
    """Why this report's like-for-like sample is smaller than Webb et al.'s."""
    w = results["replication_like_for_like"]["webb_2022"]
    pub, ours = w["published"], w["closest"]
    return (f"Webb et al.'s {pub['nobs']:,} inspections span {pub['years'][0]}-{pub['years'][1]} and every "
            f"framework; the closest design here uses {ours['nobs']:,}: the inspection table starts with the "
            f"single inspection framework, and {w['n_dropped_no_spending']:,} inspections have no spending "
            "outturn for the year before fieldwork.")
