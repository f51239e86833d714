"""Inspection-level models of the 4-level overall grade, on the measures of the census before
fieldwork: ordered logit (statsmodels OrderedModel) and linear probability models of
P(Good or better), with framework (SIF/ILACS) and inspection-year controls, SEs clustered by LA."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS  # not statsmodels.api (imports all of statsmodels)
from statsmodels.tools.tools import add_constant
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel

from .results import FitResult, coef_table
from .spec import CORE_PRESSURE, IdentificationError, prepare_panel

INSPECTION_REGRESSORS = (*CORE_PRESSURE, "turnover_rate")
INSPECTION_CONTROLS = ("cin_rate", "cpp_rate", "cla_rate", "log_child_pop", "idaci_2019")


def prepare_inspections(inspections: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Graded SIF/ILACS inspections with complete pre-inspection measures.

    Measures are re-taken from the model-ready panel (:func:`prepare_panel`, which interpolates the
    2018 looked-after rate) for the census year before each inspection.
    """
    mp = prepare_panel(panel)
    keep = inspections[inspections["framework"].isin(["SIF", "ILACS"]) & inspections["overall_num"].notna()]
    cols = [*INSPECTION_REGRESSORS, *INSPECTION_CONTROLS]
    base = keep[["inspection_id", "la_code", "framework", "inspection_year", "census_year", "overall_num",
                 "prev_grade_num"]]
    m = base.merge(mp[["la_code", "year", *cols]].rename(columns={"year": "census_year"}),
                   on=["la_code", "census_year"], how="inner", validate="m:1")
    m = m.dropna(subset=cols).sort_values(["la_code", "inspection_year", "inspection_id"]).reset_index(drop=True)
    m["grade"] = m["overall_num"].astype(int)
    m["good_or_better"] = (m["grade"] <= 2).astype(float)
    m["ilacs"] = (m["framework"] == "ILACS").astype(float)
    return m


def inspection_design(df: pd.DataFrame, regressors=INSPECTION_REGRESSORS, controls=INSPECTION_CONTROLS,
                      year_effects: bool = True) -> pd.DataFrame:
    """Regressors, controls, ILACS dummy and inspection-year dummies (no constant)."""
    x = df[[*regressors, *controls, "ilacs"]].astype(float)
    if year_effects:
        yd = pd.get_dummies(pd.Categorical(df["inspection_year"]), prefix="year", drop_first=True, dtype=float)
        yd.index = df.index
        # drop year dummies collinear with the framework dummy (years with a single framework)
        x = pd.concat([x, yd], axis=1)
        rank = np.linalg.matrix_rank(np.column_stack([np.ones(len(x)), x.to_numpy()]))
        while rank < x.shape[1] + 1:
            x = x.drop(columns=[c for c in x.columns if c.startswith("year_")][-1])
            rank = np.linalg.matrix_rank(np.column_stack([np.ones(len(x)), x.to_numpy()]))
    return x


def fit_ordered_logit(df: pd.DataFrame, x: pd.DataFrame):
    """statsmodels OrderedModel (logit link) with LA-clustered covariance; the forward design's
    subclass with the analytic score (same likelihood and optimum, about ten times fewer
    likelihood evaluations than numerical gradients)."""
    from .forward import FastOrderedLogit  # forward imports this module: import here
    if df["grade"].nunique() < 3:
        raise IdentificationError("ordered logit needs at least three observed grades")
    y = pd.Series(pd.Categorical(df["grade"], categories=[1, 2, 3, 4], ordered=True), index=df.index)
    model = FastOrderedLogit(y, x, distr="logit")
    groups = pd.factorize(df["la_code"])[0]
    res = model.fit(method="bfgs", maxiter=5000, gtol=1e-6, disp=False,
                    cov_type="cluster", cov_kwds={"groups": groups})
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError(f"ordered logit did not converge: {res.mle_retvals}")
    return res


def ame_good_or_better(model: OrderedModel, params: np.ndarray, terms: list[str]) -> np.ndarray:
    """Average marginal effect of each term on P(grade <= 2) = F(c_2 - x'b).

    Notes
    -----
    :math:`\\mathrm{AME}_k = \\frac{1}{n}\\sum_i -f(c_2 - x_i'\\beta)\\,\\beta_k` with f the logistic
    density and :math:`c_2` the second threshold.
    """
    k = model.exog.shape[1]
    beta = params[:k]
    cuts = model.transform_threshold_params(params)  # [-inf, c1, c2, c3, inf]
    xb = model.exog @ beta
    dens = stats.logistic.pdf(cuts[2] - xb)
    idx = [list(model.exog_names).index(t) for t in terms]
    return -dens.mean() * beta[idx]


def delta_method(fun, params: np.ndarray, cov: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Standard errors of ``fun(params)`` by the delta method with a central-difference Jacobian."""
    base = fun(params)
    jac = np.empty((base.size, params.size))
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = eps * max(1.0, abs(params[j]))
        jac[:, j] = (fun(params + step) - fun(params - step)) / (2 * step[j])
    return np.sqrt(np.diag(jac @ cov @ jac.T))


def fit_inspection_models(inspections: pd.DataFrame, panel: pd.DataFrame) -> list[FitResult]:
    """Ordered logit (log-odds, odds ratios, AMEs on P(good or better)) and the LPM."""
    df = prepare_inspections(inspections, panel)
    x = inspection_design(df)
    terms = [*INSPECTION_REGRESSORS, *INSPECTION_CONTROLS, "ilacs"]
    sd = df[list(terms)].std()
    n_las = int(df["la_code"].nunique())
    spec = {"estimator": "ordered_logit", "outcome": "grade (1 Outstanding - 4 Inadequate)",
            "controls": "demand + population + IDACI + framework + inspection year", "sample": "graded SIF/ILACS inspections",
            "regressors": list(INSPECTION_REGRESSORS), "year_effects": True}
    res = fit_ordered_logit(df, x)
    params = pd.Series(res.params, index=res.model.exog_names + [f"cut_{i}" for i in range(1, 4)]) \
        if not isinstance(res.params, pd.Series) else res.params
    bse = pd.Series(np.sqrt(np.diag(res.cov_params())), index=params.index)
    logodds = coef_table(params[terms], bse[terms], sd)
    out = [FitResult("ologit_logodds", "inspection", spec, logodds,
                     {"nobs": int(res.nobs), "n_las": n_las, "llf": float(res.llf),
                      "frameworks": df["framework"].value_counts().to_dict()})]
    orat = logodds[["estimate", "ci_low", "ci_high"]].apply(np.exp)
    orat = orat.assign(std_error=np.nan, statistic=logodds["statistic"], p_value=logodds["p_value"],
                       std_estimate=np.exp(logodds["std_estimate"]))[logodds.columns]
    out.append(FitResult("ologit_odds_ratio", "inspection", {**spec, "estimator": "ordered_logit_odds_ratio"}, orat,
                         {"nobs": int(res.nobs), "n_las": n_las}))
    p = np.asarray(res.params)
    cov = np.asarray(res.cov_params())
    ame = ame_good_or_better(res.model, p, terms)
    ame_se = delta_method(lambda q: ame_good_or_better(res.model, q, terms), p, cov)
    ame_tab = coef_table(pd.Series(ame, index=terms), pd.Series(ame_se, index=terms), sd)
    out.append(FitResult("ologit_ame_good", "inspection",
                         {**spec, "estimator": "ordered_logit_ame", "outcome": "P(Good or better)"}, ame_tab,
                         {"nobs": int(res.nobs), "n_las": n_las}))
    # linear probability model, same design, LA-clustered
    xc = add_constant(x)
    lpm = OLS(df["good_or_better"], xc).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(df["la_code"])[0]})
    lpm_tab = coef_table(lpm.params[terms], lpm.bse[terms], sd, dist="t", df_resid=n_las - 1)
    out.append(FitResult("lpm_good", "inspection",
                         {**spec, "estimator": "lpm", "outcome": "Good or better (0/1)"}, lpm_tab,
                         {"nobs": int(lpm.nobs), "n_las": n_las, "r2": float(lpm.rsquared)}))
    return out
