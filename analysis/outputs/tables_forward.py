"""Tables of the forward-direction (inspection-level) design and of the replication of published
figures, as markdown pipe tables (emitted by :func:`analysis.outputs.tables.md`)."""

from __future__ import annotations

import re

import pandas as pd

from . import tables
from .common import MEASURE_LABELS
from .formats import (OR_DIGITS, POINT_DIGITS, change_label, ci, fmt, fmt_p, grouped, interval, odds_ci,
                      p_cell, pp_ci, points_ci, points_se, pp_se, sample_note)

WORKFORCE = ["caseload", "vacancy_rate", "agency_rate", "turnover_rate"]
SHORT = {"caseload": "Caseload", "vacancy_rate": "Vacancy", "agency_rate": "Agency use", "turnover_rate": "Turnover",
         "log_spend_total_pc": "Spending per child"}
LAG_LABELS = {"census_before": "Census before fieldwork", "mean_two_before": "Mean of the two censuses before",
              "change_two_before": "Change over the two years before"}


def fwd_model(results: dict, model_id: str) -> dict:
    for m in results["forward"]["models"]:
        if m["model_id"] == model_id:
            return m
    raise KeyError(f"forward model {model_id!r} not in results.json")


def _ci(est, lo, hi, digits=OR_DIGITS, p=None) -> str:
    """Estimate [lo, hi] (:func:`formats.ci`); ``p`` is accepted for the callers' symmetry and not
    printed (tables give p separately)."""
    return ci(est, lo, hi, digits)


#: why a column of the magnitudes table has fewer inspections than the others
CLOGIT_REASON = ("it uses only the LAs whose outcome changed between their "
                 "inspections (an LA always or never Good or better adds nothing within it)")


def _reading_reason(reason: str) -> str:
    """A drop reason of results.json as the reader reads it: a lag structure by its name in the
    table's columns, not its identifier ("mean_two_before")."""
    return re.sub(r"\(lag structure (\w+)\)",
                  lambda m: f"(needed for the {LAG_LABELS[m.group(1)].lower()})", reason)


def _cell(row: dict, digits: int = 1) -> str:
    """One family x variant cell of ``forward.variants``: effect [CI], or why it is absent."""
    if "not_identified" in row:
        return "not identified"
    if "not_fitted" in row:
        return "not fitted"
    return _ci(row["effect"], row["low"], row["high"], digits, row["p_value"])


#: the named choices in the order of the design (results.json sorts keys)
VARIANT_ORDER = ("all", "census 2017+", "feedback controls", "census 2017+, feedback controls")
FAMILY_LABELS = {"ordered_logit": "Ordered logit: AME, pp", "logit": "Binary logit: AME, pp",
                 "fe_good_or_better": "LA fixed effects: pp", "fe_grade": "LA fixed effects: grade points",
                 "conditional_logit": "Conditional logit: odds ratio",
                 "multilevel_logit": "Random-intercept logit: odds ratio",
                 "cre_good_within": "CRE (within LA): pp"}


def tbl_fwd_primary(results: dict) -> str:
    """The primary design beside the ordered and binary logit without feedback controls, on
    the full and census-2017+ samples (AMEs on P(Good or better), pp [95% CI])."""
    pr = results["primary"]
    fam = results["forward"]["variants"]["families"]
    rows = []
    for t in pr["term_order"]:
        p = pr["terms"][t]
        s17 = pr["sensitivities"]["census_2017_plus"]["terms"][t]
        rows.append([change_label(SHORT[t], p["change"]),
                     _cell(fam["ordered_logit"]["variants"]["all"][t]),
                     _cell(fam["logit"]["variants"]["all"][t]),
                     _ci(p["ame_pp"], p["ci_low"], p["ci_high"], 1, p["p_value"]), fmt_p(p["p_holm"]),
                     _ci(s17["ame_pp"], s17["ci_low"], s17["ci_high"], 1, s17["p_value"]),
                     _cell(fam["ordered_logit"]["variants"]["census 2017+"][t])])
    s17 = pr["sensitivities"]["census_2017_plus"]
    rows.append(["Inspections (LAs)", f"{fam['ordered_logit']['variants']['all']['caseload']['n']}",
                 f"{fam['logit']['variants']['all']['caseload']['n']}", f"{pr['n']} ({pr['n_las']})", "",
                 f"{s17['n']} ({s17['n_las']})", f"{fam['ordered_logit']['variants']['census 2017+']['caseload']['n']}"])
    return tables.md(pd.DataFrame(rows, columns=[
        "Change", "Ordered logit (as before)", "Binary logit", "Primary design: binary logit + previous grade + type", "Primary: Holm p",
        "Primary, census 2017+", "Ordered logit, census 2017+"]))


POOLED_FAMILIES = ("ordered_logit", "logit", "multilevel_logit")
WITHIN_FAMILIES = ("fe_good_or_better", "fe_grade", "conditional_logit", "cre_good_within")


def _variants_table(results: dict, families: tuple[str, ...]) -> str:
    v = results["forward"]["variants"]
    fam = v["families"]
    variants = [k for k in VARIANT_ORDER if k in v["n_by_variant"]]
    rows = []
    for k in variants:
        nb = v["n_by_variant"][k]
        for t in ("agency_rate", "caseload"):
            cells = []
            for name in families:
                digits = 3 if name == "fe_grade" else (2 if name in ("conditional_logit", "multilevel_logit") else 1)
                row = fam[name]["variants"][k]
                cells.append(_cell(row.get(t, row), digits))
            rows.append([f"{k.capitalize()} ({nb['n']})", SHORT[t], *cells])
    # the sample label printed once, as a heading row over its measures
    return tables.md(pd.DataFrame(grouped(rows), columns=["Sample, controls (N) / measure",
                                                          *[FAMILY_LABELS[f] for f in families]]), "l" + "r" * len(families))


def tbl_fwd_variants(results: dict) -> str:
    """Agency use and caseload in the pooled families (one column, one scale each), on the full
    and census-2017+ samples, without and with the feedback controls (previous grade, type)."""
    return _variants_table(results, POOLED_FAMILIES)


def tbl_fwd_variants_within(results: dict) -> str:
    """The same choices for the within-LA families (LA fixed effects, conditional logit, CRE)."""
    return _variants_table(results, WITHIN_FAMILIES)


def tbl_fwd_checks(results: dict) -> str:
    """Proportional-odds tests of the ordered logit and the strict-exogeneity (lead) test of the
    LA fixed-effects model: test statistics and interval estimates in separate columns (a χ² is
    not an interval estimate)."""
    po, lead = results["forward"]["proportional_odds"], results["forward"]["lead_test"]["good_or_better"]
    lr, br = po["lr_partial_po"], po["brant"]

    def chi2(t: dict) -> str:
        return f"{fmt(t['statistic'], 1)} ({t['df']})"

    rows = [["Proportional odds: likelihood ratio against threshold-specific workforce slopes",
             chi2(lr), "", fmt_p(lr["p_value"])],
            ["Proportional odds: Brant, all covariates", chi2(br["omnibus"]), "", fmt_p(br["omnibus"]["p_value"])]]
    for t in WORKFORCE:
        b = br["by_term"][t]
        rows.append([f"Brant: {MEASURE_LABELS[t]}", chi2(b), "", fmt_p(b["p_value"])])
    for t in WORKFORCE:
        r = lead["per_change_pp"][t]
        rows.append([f"Lead test (FE, Good+): next inspection's {SHORT[t].lower()}, pp per {lead_change(results, t)}",
                     "", _ci(r["estimate"], r["ci_low"], r["ci_high"], 1), fmt_p(r["p_value"])])
    w = lead["joint_wald"]
    rows.append(["Lead test: all four leads jointly", chi2(w), "", fmt_p(w["p_value"])])
    return tables.md(pd.DataFrame(rows, columns=["Test", "χ² (df)", "Estimate [95% CI]", "p"]), "lrrr")


def lead_change(results: dict, term: str) -> str:
    return results["forward"]["magnitudes"]["fe_good_or_better"][term]["change"]


def tbl_fwd_sample(results: dict) -> str:
    """Graded inspections, drops by reason (in the order applied) and the sample used, per lag."""
    samples = results["forward"]["sample"]
    lags = list(LAG_LABELS)
    reasons: list[str] = []
    for lag in lags:
        for d in samples[lag]["drops"]:
            if d["reason"] not in reasons:
                reasons.append(d["reason"])
    rows = [["Graded inspections (SIF + ILACS)", *[f"{samples[l]['graded_inspections']:,}" for l in lags]]]
    for r in reasons:
        rows.append([f"− {_reading_reason(r)}", *[str(next((d["n"] for d in samples[l]["drops"] if d["reason"] == r), 0))
                                 for l in lags]])
    rows.append(["Inspections used", *[f"{samples[l]['n_used']:,}" for l in lags]])
    for fw in ("SIF", "ILACS"):
        rows.append([f"of which {fw}", *[str(samples[l]["used_by_framework"].get(fw, 0)) for l in lags]])
    rows.append(["LAs", *[str(samples[l]["n_las"]) for l in lags]])
    return tables.md(pd.DataFrame(rows, columns=["", *LAG_LABELS.values()]))


def tbl_fwd_magnitudes(results: dict) -> str:
    """Associations of realistic changes with Good or better under each primary model."""
    mg = results["forward"]["magnitudes"]
    rows = []
    for t in [t for t in [*WORKFORCE, "log_spend_total_pc"] if t in mg["ordered_logit"]]:
        o, fe = mg["ordered_logit"][t], mg["fe_good_or_better"][t]
        cl, ml = mg["conditional_logit"][t], mg["multilevel_logit"][t]
        label = change_label(SHORT[t], o["change"])
        if t.startswith("log_spend"):  # AME: +£100 on each LA's own spending; coefficients: at the median
            label += f" (other columns: {fe['change']})"
        rows.append([label,
                     pp_ci(o["ame_pp"], o["ame_pp_low"], o["ame_pp_high"]),
                     pp_ci(fe["effect"], fe["effect_low"], fe["effect_high"]),
                     odds_ci(cl["odds_ratio"], cl["or_low"], cl["or_high"]),
                     odds_ci(ml["odds_ratio"], ml["or_low"], ml["or_high"])])
    n = _magnitude_stats(results)
    rows.append(["Inspections (LAs)", *[f"{s['nobs']} ({s['n_las']})" for s in n.values()]])
    return tables.md(pd.DataFrame(rows, columns=[
        "Change", *MAGNITUDE_COLUMNS]))


MAGNITUDE_MODELS = ("ologit", "fe_good_or_better", "clogit_good", "mlogit_good")
MAGNITUDE_COLUMNS = ["Ordered logit: AME, pp", "LA fixed effects (linear): pp", "Conditional logit: odds ratio",
                     "Multilevel logit: odds ratio"]


def _magnitude_stats(results: dict) -> dict:
    return {k: fwd_model(results, f"fwd_{k}_census_before")["stats"] for k in MAGNITUDE_MODELS}


def note_fwd_magnitudes(results: dict) -> str:
    """Why the conditional logit column has fewer inspections (:func:`formats.sample_note`)."""
    n = _magnitude_stats(results)
    names = ("the ordered logit", "LA fixed effects", "the conditional logit", "the multilevel logit")
    return sample_note({c: n[m]["nobs"] for c, m in zip(names, MAGNITUDE_MODELS)},
                       {"the conditional logit": CLOGIT_REASON}, "inspections")


def tbl_fwd_precision(results: dict) -> str:
    """Within-LA estimates: per change, per within-LA SD, minimum detectable effect, Holm p."""
    mg, pr = results["forward"]["magnitudes"], results["forward"]["precision"]
    rows = []
    for t in WORKFORCE:
        g, gr = mg["fe_good_or_better"][t], mg["fe_grade"][t]
        rows.append([change_label(SHORT[t], g["change"]),
                     pp_ci(g["effect"], g["effect_low"], g["effect_high"]), fmt(g["per_within_sd"], 1), fmt(g["mde"], 1),
                     fmt_p(pr["fe_good_or_better"][t]["p_value"]), fmt_p(pr["fe_good_or_better"][t]["p_holm"]),
                     fmt_p(pr["fe_good_or_better"][t].get("p_romano_wolf")),
                     points_ci(gr["effect"], gr["effect_low"], gr["effect_high"]), fmt(gr["mde"], POINT_DIGITS),
                     fmt_p(pr["fe_grade"][t]["p_holm"]), fmt_p(pr["fe_grade"][t].get("p_romano_wolf"))])
    return tables.md(pd.DataFrame(rows, columns=[
        "Change", "Good or better, pp [95% CI]", "pp per SD", "MDE, pp", "p", "Holm p", "R-W p",
        "Grade points [95% CI]", "MDE, grade points", "Holm p, grade", "R-W p, grade"]))


CRE_OUTCOMES = (("good_or_better", "Good or better (pp)"), ("grade", "Grade (grade points)"))
WALD_TESTS = (("means_workforce", "the LA means of the workforce measures"),
              ("means_all_time_varying", "the LA means of all time-varying regressors"))


def tbl_fwd_cre(results: dict) -> str:
    """Within- and between-LA associations (correlated random effects), per unit of each measure:
    Good or better in percentage points (100 x the probability), the grade in grade points; one
    row per measure, a column pair per outcome (one unit per column). The Wald tests are in the
    note (:func:`note_fwd_cre`), not under the interval headings."""
    cs = {o: fwd_model(results, f"fwd_cre_{o}_census_before")["coefficients"] for o, _ in CRE_OUTCOMES}
    rows = []
    for t in WORKFORCE:
        cells = []
        for outcome, _ in CRE_OUTCOMES:
            for part in ("within", "between"):
                x = cs[outcome][f"{part}:{t}"]
                cells.append(pp_ci(x["estimate"], x["ci_low"], x["ci_high"], probability=True)
                             if outcome == "good_or_better" else points_ci(x["estimate"], x["ci_low"], x["ci_high"]))
        rows.append([MEASURE_LABELS[t], *cells])
    return tables.md(pd.DataFrame(rows, columns=[
        "Measure (per unit)", "Good or better, pp: within LA [95% CI]", "Good or better, pp: between LAs [95% CI]",
        "Grade points: within LA [95% CI]", "Grade points: between LAs [95% CI]"]))


def note_fwd_primary(results: dict) -> str:
    """Why the census-2017+ columns of the primary table have fewer inspections, and why the
    primary's census-2017+ logit has fewer than the ordered logit's (cells that predict the
    outcome perfectly are left out of a logit)."""
    pr = results["primary"]
    fam = results["forward"]["variants"]["families"]
    s17 = pr["sensitivities"]["census_2017_plus"]
    n_ol17 = fam["ordered_logit"]["variants"]["census 2017+"]["caseload"]["n"]
    n_sep = n_ol17 - s17["n"]  # same rows as the ordered logit's, less the perfectly predicted cells
    worker = "it keeps only inspections whose every measure comes from a worker-level census (2017 and later)"
    counts = {"the full-sample columns": pr["n"], "the primary design on census 2017+": s17["n"],
              "the ordered logit on census 2017+": n_ol17}
    reasons = {"the ordered logit on census 2017+": worker,
               "the primary design on census 2017+": worker + (
                   f", and the logit also leaves out the {n_sep} inspections of a cell (an inspection type or period) "
                   "whose outcome is the same for all, which a logit predicts perfectly"
                   if n_sep > 0 else "")}
    return sample_note(counts, reasons, "inspections")


def note_fwd_cre(results: dict) -> str:
    """The cluster-robust Wald tests that the LA means are zero, per outcome."""
    parts = []
    for outcome, label in CRE_OUTCOMES:
        st = fwd_model(results, f"fwd_cre_{outcome}_census_before")["stats"]["wald_means"]
        tests = [f"{what} χ² = {fmt(st[key]['statistic'], 1)}, df = {st[key]['df']}, {p_cell(st[key]['p_value'])}"
                 for key, what in WALD_TESTS]
        parts.append(f"{label.split(' (')[0]}: {'; '.join(tests)}")
    return "Wald tests that the between-LA terms are zero. " + ". ".join(parts) + "."


def tbl_fwd_sensitivity(results: dict) -> str:
    """Agency use and caseload under each lag structure and with the previous grade."""
    rows = []
    specs = [(f"fwd_ologit_{lag}", f"fwd_fe_good_or_better_{lag}", f"fwd_fe_grade_{lag}", LAG_LABELS[lag])
             for lag in LAG_LABELS]
    specs.append(("fwd_prevgrade_ologit", "fwd_prevgrade_fe_good", None, "Census before + previous grade"))
    for ol_id, fe_id, fg_id, label in specs:
        ol, fe = fwd_model(results, ol_id), fwd_model(results, fe_id)
        cells = []
        for t in ("agency_rate", "caseload"):
            o = ol["coefficients"][t]
            f = fe["coefficients"][t]
            cells += [points_se(o["estimate"], o["std_error"]),
                      pp_se(f["estimate"], f["std_error"], probability=True)]
            if t == "agency_rate":  # the within-LA grade scale too (the text quotes it)
                g = fwd_model(results, fg_id)["coefficients"][t] if fg_id else None
                cells.append(points_se(g["estimate"], g["std_error"]) if g else "not fitted")
        rows.append([label, *cells, f"{ol['stats']['nobs']} / {fe['stats']['nobs']}"])
    return tables.md(pd.DataFrame(rows, columns=[
        "Regressors measured as", "Agency: ordered logit, log-odds", "Agency: FE, pp per pp",
        "Agency: FE, grade per pp", "Caseload: ordered logit, log-odds", "Caseload: FE, pp per case",
        "N (ologit / FE)"]))


def tbl_replication(results: dict) -> str:
    """Published figures beside ours."""
    rep = results["replication"]
    nao, cc, wb = rep["nao_2016"], rep["community_care_2020"], rep["webb_2022"]
    rows = []
    g, i = nao["ours"]["good"], nao["ours"]["inadequate"]
    rows.append(["NAO 2016", "Good: cases per worker", nao["published"]["good_caseload"],
                 f"mean {fmt(g['caseload']['mean'], 1)}; 10th-90th pct {fmt(g['caseload']['p10'], 1)}-{fmt(g['caseload']['p90'], 1)} (census {nao['ours']['census_year']})"])
    rows.append(["NAO 2016", "Good: agency share", nao["published"]["good_agency"],
                 f"mean {fmt(g['agency_rate']['mean'], 1)}%, median {fmt(g['agency_rate']['median'], 1)}% (census {nao['ours']['census_year']})"])
    rows.append(["NAO 2016", "Inadequate: cases per worker, up to", nao["published"]["inadequate_caseload_up_to"],
                 f"max {fmt(i['caseload']['max'], 1)}; mean {fmt(i['caseload']['mean'], 1)} (census {nao['ours']['census_year']})"])
    rows.append(["NAO 2016", "Inadequate: agency share", nao["published"]["inadequate_agency"],
                 f"mean {fmt(i['agency_rate']['mean'], 1)}%, median {fmt(i['agency_rate']['median'], 1)}% (census {nao['ours']['census_year']})"])
    for grade in ["Outstanding", "Good", "Requires improvement", "Inadequate"]:
        for m, lab in [("agency", "agency %"), ("vacancy", "vacancy %")]:
            pub = cc["published"][grade][m]
            ours = " / ".join(fmt(cc["ours"][y][grade][m], 1) for y in ("2019", "2020"))
            rows.append(["Community Care 2020", f"{grade}: mean {lab}", str(pub), f"{ours} (census 2019 / 2020)"])
    ml, lg = wb["ours_multilevel"], wb["ours_logit_clustered"]
    pub = wb["published"]
    rows.append(["Webb et al. 2022", "Good or better, odds ratio per IMD decile (SIF)",
                 f"{pub['odds_ratio']} {interval(pub['ci_low'], pub['ci_high'])}",
                 f"logit {_ci(lg['odds_ratio'], lg['ci_low'], lg['ci_high'])}; random intercept "
                 f"{_ci(ml['odds_ratio'], ml['ci_low'], ml['ci_high'])} (n = {lg['nobs']})"])
    return tables.md(pd.DataFrame(grouped(rows), columns=["Figure", "Published", "Ours"]), "lll")
