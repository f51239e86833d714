"""Every forward-direction estimate, gathered for ``results.json["forward"]``.

Primary design: one row per graded inspection, measures from the census before fieldwork
(:mod:`analysis.models.timing` enforces it). Lag structures and the previous grade are
sensitivities. Also: magnitudes for realistic changes, MDEs, Holm-adjusted p-values, the
standard-error conventions and the sample disclosure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .forward import (fit_forward_conditional_logit, fit_forward_cre, fit_forward_fe, fit_forward_logit,
                      fit_forward_ordered_logit, fit_lead_test, inspection_periods, time_varying_design,
                      with_previous_grade)
from .forward_checks import FEEDBACK_CONTROLS, family_variants, lead_rows, proportional_odds, variant_frame
from .forward_data import DEFAULT_CONTROLS, LAGS, WORKFORCE, ForwardFrame, available_controls
from .frame import inspection_frame
from .magnitudes import (CHANGES, log_change_at_median, linear_magnitudes, logit_magnitudes, romano_wolf,
                         wild_cluster_t, logit_odds_ratios, ologit_magnitudes, per_decile_odds_ratio, precision_table)
from .primary import primary_block
from .multilevel import RandomInterceptLogit, imd_deciles
from .results import FitResult, coef_table
from .timing import grade_age

CONVENTIONS = {
    "clustering": "every forward model: standard errors clustered by LA (the harmonised la_code)",
    "panelols_fe": ("linearmodels 7.1 PanelOLS, entity (LA) effects, cov_type='clustered', cluster_entity=True, "
                    "debiased=True (default): V = n/(n - k) (X'X)^-1 (sum_g X_g'u_g u_g'X_g) (X'X)^-1 on the "
                    "within-transformed data, k = time-varying regressors incl. year dummies. With one effect "
                    "nested in the clusters, linearmodels' auto_df does not count the absorbed LA effects (it "
                    "does count them in the two-way LA + year panel models, which makes those SEs about 5% "
                    "larger than fixest's default). No G/(G-1) factor (group_debias=False). Normal (z) "
                    "p-values and 95% CIs; G = number of LAs is in stats (n_las)."),
    "statsmodels_cluster": ("statsmodels cov_type='cluster' (OrderedModel, Logit, OLS for the CRE model): "
                            "CRV1 with use_correction=True, factor G/(G-1) * (N-1)/(N-K); p-values and CIs "
                            "normal for the likelihood models (OLS-CRE: reported with normal z as well)."),
    "conditional_logit": ("statsmodels ConditionalLogit has no clustered covariance: sandwich "
                          "G/(G-1) H^-1 (sum_g s_g s_g') H^-1 with LA scores s_g (groups = clusters), "
                          "H the numerical Hessian"),
    "multilevel_logit": ("random-intercept logit by ML with adaptive Gauss-Hermite quadrature (15 nodes): "
                         "LA-clustered sandwich G/(G-1) H^-1 (sum_g s_g s_g') H^-1 reported; model-based "
                         "SEs kept in stats"),
    "df": "z (normal) reference distribution for every forward estimate; number of clusters in stats",
    "mde": "minimum detectable effect = (1.96 + 0.84) * SE (80% power, 5% two-sided)",
    "holm": "Holm step-down across the four workforce measures of each primary model (statsmodels multipletests)",
    "romano_wolf": ("Romano-Wolf step-down p-values for the LA fixed-effects models: wild cluster bootstrap "
                    "(Rademacher weights by LA, 999 replicates, fixed seed) on the within-transformed data"),
    "std_estimate": ("fixed-effects / conditional / CRE-within models: effect of one within-LA SD (SD of x "
                     "minus its LA mean); pooled models: one SD in the estimation sample"),
}

TIMING_RULE = ("forward: every regressor from a census dated strictly before the fieldwork start of the "
               "inspection whose grade is the outcome (workforce 30 Sept of census_year; demand, s47 and "
               "spending 31 March of that year); validate_forward_timing raises on any breaking row")


def _mlogit(ff: ForwardFrame, decile: pd.Series, note: str):
    """Random-intercept logit of Good-or-better with the IMD decile (comparable with Webb et al.)."""
    df = ff.data.copy()
    if "imd_decile" not in df:
        df["imd_decile"] = df["la_code"].map(decile)
    df = df[df["imd_decile"].notna()]
    x = pd.concat([pd.Series(1.0, index=df.index, name="const"),
                   df[[*ff.covariates, "ilacs", "imd_decile"]].astype(float), inspection_periods(df)], axis=1)
    x = x.loc[:, (x.std() > 0) | (x.columns == "const")]
    res = RandomInterceptLogit(df["good_or_better"], x, df["la_code"]).fit()
    terms = [*ff.covariates, "ilacs", "imd_decile"]
    se = pd.Series(np.sqrt(np.diag(res.cov_cluster)), index=res.params.index)
    tab = coef_table(res.params[terms], se[terms], df[terms].std())
    st = {"nobs": res.nobs, "n_las": res.n_groups, "llf": res.llf, "sigma_la": res.sigma,
          "converged": res.converged, "model_based_se": dict(zip(terms, np.sqrt(np.diag(res.cov_model.loc[terms, terms])))),
          "imd_decile": note, "deprivation_per_decile": per_decile_odds_ratio(res.params, res.cov_cluster),
          "time_control": "framework indicator + two-year inspection periods (single years separate the outcome)"}
    spec = {"estimator": "random_intercept_logit", "outcome": "Good or better (0/1), log-odds (LA-specific)",
            "lag": ff.lag, "regressors": list(ff.regressors), "controls": list(ff.controls),
            "sample": "graded SIF/ILACS inspections, census before fieldwork", "year_effects": False}
    return FitResult(f"fwd_mlogit_good_{ff.lag}", "forward", spec, tab, st)


def fe_romano_wolf(ff: ForwardFrame, outcome: str, reps: int = 999) -> pd.Series:
    """Romano-Wolf adjusted p-values of the four workforce measures in the LA fixed-effects model
    (wild cluster bootstrap on the within-transformed data)."""
    df = ff.data
    x = time_varying_design(ff)
    xw = (x - x.groupby(df["la_code"]).transform("mean")).to_numpy()
    y = df[outcome].astype(float)
    yw = (y - y.groupby(df["la_code"]).transform("mean")).to_numpy()
    cols = [list(x.columns).index(t) for t in WORKFORCE]
    t_obs, t_boot = wild_cluster_t(xw, yw, df["la_code"], cols, reps=reps)
    return romano_wolf(pd.Series(t_obs, index=list(WORKFORCE)), t_boot)


def fit_forward_all(inspections: pd.DataFrame, panel: pd.DataFrame,
                    controls: tuple[str, ...] = DEFAULT_CONTROLS) -> dict:
    """Fit the forward design; returns FitResults and the tables/dicts for the results file."""
    kept, notes = available_controls(controls, panel)
    if "imd_decile" in panel.columns:
        decile, dnote = None, "imd_decile from the derived data"
    else:
        decile = imd_deciles(panel)
        dnote = "imd_decile not yet in data: computed from imd_2019 among the panel's upper-tier LAs (1 = least deprived)"
        notes.append(dnote)
    frames = {lag: inspection_frame(panel, inspections, lag=lag, controls=kept) for lag in LAGS}
    fits: list[FitResult] = []
    magnitudes, precision = {}, {}
    ff = frames["census_before"]
    changes = {t: CHANGES[t] for t in WORKFORCE}
    log_changes = dict(changes)  # the same changes on the scale of each regressor
    if "spending" in kept:
        # +£100 per child: exact, row by row, in the ordered-logit AME; for coefficients on
        # log spending, the log change at the sample's median spending per child
        changes["log_spend_total_pc"] = CHANGES["spend_total_pc"]
        log_changes["log_spend_total_pc"] = log_change_at_median(ff.data["log_spend_total_pc"], CHANGES["spend_total_pc"])

    # primary models
    ol, olres = fit_forward_ordered_logit(ff)
    fits.append(ol)
    magnitudes["ordered_logit"] = ologit_magnitudes(olres, changes, log_changes)
    fe_good, _ = fit_forward_fe(ff, "good_or_better")
    fe_grade, _ = fit_forward_fe(ff, "grade")
    cl, _ = fit_forward_conditional_logit(ff)
    ml = _mlogit(ff, decile, dnote)
    cre_good, _ = fit_forward_cre(ff, "good_or_better")
    cre_grade, _ = fit_forward_cre(ff, "grade")
    fits += [fe_good, fe_grade, cl, ml, cre_good, cre_grade]
    magnitudes["fe_good_or_better"] = linear_magnitudes(fe_good.coefs, log_changes, 100.0)
    magnitudes["fe_grade"] = linear_magnitudes(fe_grade.coefs, log_changes, 1.0)
    magnitudes["conditional_logit"] = logit_odds_ratios(cl.coefs, log_changes)
    magnitudes["multilevel_logit"] = logit_odds_ratios(ml.coefs, log_changes)
    for name, f in [("ordered_logit", ol), ("fe_good_or_better", fe_good), ("fe_grade", fe_grade),
                    ("conditional_logit", cl), ("multilevel_logit", ml)]:
        precision[name] = precision_table(f.coefs, WORKFORCE)
    for name, outcome in [("fe_good_or_better", "good_or_better"), ("fe_grade", "grade")]:
        precision[name]["p_romano_wolf"] = fe_romano_wolf(ff, outcome)
    cw = cre_good.coefs.loc[[f"within:{t}" for t in WORKFORCE]].rename(index=lambda s: s.split(":")[1])
    precision["cre_good_within"] = precision_table(cw, WORKFORCE)

    # binary logit beside the ordered logit (same covariates)
    lg, lgres = fit_forward_logit(ff)
    fits.append(lg)
    magnitudes["logit"] = logit_magnitudes(lgres, changes, log_changes)
    precision["logit"] = precision_table(lg.coefs, WORKFORCE)

    # primary design (analysis/models/primary.py: the rule) and its sensitivities
    def primary_fit(f, model_id):
        fit, res = fit_forward_logit(f)
        fit = FitResult(model_id, fit.family, {**fit.spec, "primary_design": True}, fit.coefs, fit.stats)
        return fit, logit_magnitudes(res, {t: changes[t] for t in WORKFORCE})
    prim, prim_mg = primary_fit(variant_frame(ff, False, True), "fwd_primary_logit_good")
    fits.append(prim)
    primary = primary_block(prim, prim_mg, WORKFORCE, {
        "census_2017_plus": primary_fit(variant_frame(ff, True, True), "fwd_primary_logit_good_census2017"),
        "without_feedback_controls": (lg, magnitudes["logit"])})

    mlogit = lambda f: _mlogit(f, decile, dnote)  # noqa: E731
    variants = family_variants(ff, changes, log_changes, mlogit, given={("multilevel_logit", "all"): ml})
    po = proportional_odds(ff)
    lead = fit_lead_test(ff, "good_or_better")
    lead["per_change_pp"] = lead_rows(lead, changes)
    lead_grade = fit_lead_test(ff, "grade")

    # lag structures (sensitivity)
    for lag in ("mean_two_before", "change_two_before"):
        f = frames[lag]
        fits.append(fit_forward_ordered_logit(f)[0])
        fits.append(fit_forward_fe(f, "good_or_better")[0])
        fits.append(fit_forward_fe(f, "grade")[0])
    # previous grade (sensitivity; Nickell bias under FE)
    fp = with_previous_grade(ff)
    for f, tag in [(fit_forward_ordered_logit(fp)[0], "ologit"), (fit_forward_fe(fp, "good_or_better")[0], "fe_good")]:
        fits.append(FitResult(f"fwd_prevgrade_{tag}", f.family, {**f.spec, "previous_grade": True}, f.coefs,
                              {**f.stats, "nickell_bias": (
                                  "previous grade under LA fixed effects is correlated with the demeaned error "
                                  "(Nickell 1981; bias O(1/T), T about 3 inspections per LA): a sensitivity check only")}))
    return {
        "fits": fits,
        "magnitudes": magnitudes,
        "precision": precision,
        "samples": {lag: f.disclosure for lag, f in frames.items()},
        "notes": notes,
        "grade_in_force_age": grade_age(panel[~panel["small_la"]]),
        "frames_checked": {lag: int(len(f.data)) for lag, f in frames.items()},
        "primary": primary, "variants": variants, "proportional_odds": po,
        "lead_test": {"good_or_better": lead, "grade": lead_grade},
        "caseload_drops_by_census": caseload_drops_by_census(inspections, panel, kept),
    }


def caseload_drops_by_census(inspections: pd.DataFrame, panel: pd.DataFrame, controls) -> dict:
    """The inspections dropped for a missing caseload, by the census year they would be read from
    (not all are from the 2015 census, which did not collect caseload)."""
    from .forward_data import forward_frame
    full = forward_frame(inspections, panel, controls=controls, regressors=tuple(r for r in WORKFORCE if r != "caseload"))
    missing = full.data[full.data["la_code"].notna()]
    mp = panel.set_index(["la_code", "year"])["caseload"]
    idx = pd.MultiIndex.from_arrays([missing["la_code"], missing["census_year"]])
    lost = missing[mp.reindex(idx).isna().to_numpy()]
    return {str(k): int(v) for k, v in lost["census_year"].value_counts().sort_index().items()}


def forward_document(out: dict) -> dict:
    """The ``forward`` block of results.json (tables as dicts indexed by term)."""
    return {
        "design": ("one row per graded SIF/ILACS inspection; workforce, demand (and spending when in the data) "
                   "from the census before fieldwork; LA-clustered inference"),
        "timing": {"rule": TIMING_RULE, "frames_checked_rows": out["frames_checked"], "violations": 0,
                   "grade_in_force_age_la_year_panel": out["grade_in_force_age"]},
        "conventions": CONVENTIONS,
        "sample": out["samples"],
        "notes": out["notes"],
        "models": [{"model_id": f.model_id, "family": f.family, "spec": f.spec, "stats": f.stats,
                    "coefficients": f.coefs.to_dict(orient="index")} for f in out["fits"]],
        "magnitudes": {k: v.to_dict(orient="index") for k, v in out["magnitudes"].items()},
        "precision": {k: v.to_dict(orient="index") for k, v in out["precision"].items()},
        "variants": out["variants"],
        "proportional_odds": out["proportional_odds"],
        "lead_test": out["lead_test"],
        "caseload_drops_by_census": out["caseload_drops_by_census"],
    }
