"""Dynamic correlated-random-effects models of the inspection judgement (Wooldridge 2005).

The grade of an LA's previous inspection moves the workforce measured before its next one
(issue 14, finding 1), so a model that ignores the previous judgement, or absorbs LA effects with a
lagged outcome (Nickell bias), mixes feedback with association. Wooldridge's (2005) solution to
the initial-conditions problem: model the LA effect conditional on the LA's FIRST observed
judgement and on the LA means of the time-varying regressors, and integrate it out.

* ``dynamic_cre_good``: random-intercept logit of Good or better;
* ``dynamic_cre_grade``: random-intercept ordered logit of the grade (1 Outstanding .. 4 Inadequate).

Both on the re-inspections of the forward frame (census strictly before fieldwork; the LA's first
graded inspection is the initial condition, not an observation), LA-clustered sandwich SEs,
adaptive Gauss-Hermite quadrature (:mod:`analysis.models.re_quadrature`). Average marginal
effects (AMEs) on P(Good or better) in percentage points for the realistic changes of
:data:`analysis.models.magnitudes.CHANGES`, averaged over the LA-effect distribution, with
delta-method CIs. Checks written to results.json: 12 against 30 quadrature nodes, and the
likelihood at :math:`\\sigma \\to 0` against statsmodels' pooled ``Logit`` / ``OrderedModel``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from .forward import inspection_periods
from .forward_data import WORKFORCE, ForwardFrame
from .frame import census_2017_plus, first_observed
from .magnitudes import CHANGES
from .re_quadrature import QuadratureFit, RandomInterceptQuadrature
from .timing import validate_forward_timing

LAG_TERMS = ("prev_good", "prev_inadequate")          # base: previous Requires improvement
INITIAL_TERMS = ("first_good", "first_inadequate")    # base: first judgement Requires improvement
DYNAMIC_TYPE_CONTROLS = ("type_short",)               # base: standard ILACS and SIF inspections
Z = stats.norm.ppf(0.975)


def first_grades(inspections: pd.DataFrame) -> pd.DataFrame:
    """The first graded SIF/ILACS inspection of every LA (:func:`analysis.models.frame.first_observed`):
    ``la_code``, ``first_id``, ``first_grade``."""
    f = first_observed(inspections)
    return pd.DataFrame({"la_code": f["la_code"], "first_id": f["la_first_inspection_id"],
                         "first_grade": f["la_first_grade"].astype(float)})


def dynamic_frame(ff: ForwardFrame, inspections: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Re-inspections of the forward frame with the lagged and the initial judgement.

    Notes
    -----
    Row :math:`(i, t)`, :math:`t \\ge 1`: :math:`y_{i,t-1}` = the previous inspection's overall
    judgement (``prev_grade_num``, whether or not that inspection is in the frame),
    :math:`y_{i0}` = the LA's first graded judgement (SIF 2013 on). Rows that are the initial
    inspection (or have no previous grade) are dropped: they are conditioned on, not modelled.
    Lagged and initial grades enter as Good-or-better and Inadequate indicators (base: Requires
    improvement; 3 of 154 first judgements are Outstanding, too few for their own dummy).
    """
    d = ff.data.drop(columns=[c for c in ("first_id", "first_grade") if c in ff.data])
    d = d.merge(first_grades(inspections), on="la_code", how="left", validate="m:1")
    is_first = d["inspection_id"].eq(d["first_id"]) | d["prev_grade_num"].isna()
    d = d[~is_first].reset_index(drop=True)
    validate_forward_timing(d, ff.year_columns, source="dynamic CRE frame")
    d["prev_good"] = (d["prev_grade_num"] <= 2).astype(float)
    d["prev_inadequate"] = (d["prev_grade_num"] == 4).astype(float)  # (the frame's column, same values)
    d["first_good"] = (d["first_grade"] <= 2).astype(float)
    d["first_inadequate"] = (d["first_grade"] == 4).astype(float)
    disc = {"n_frame": int(len(ff.data)), "n_initial_dropped": int(is_first.sum()), "nobs": int(len(d)),
            "n_las": int(d["la_code"].nunique()),
            "previous_grade_counts": {str(int(k)): int(v) for k, v in d["prev_grade_num"].value_counts().sort_index().items()},
            "first_grade_counts": {str(int(k)): int(v) for k, v in
                                   d.drop_duplicates("la_code")["first_grade"].value_counts().sort_index().items()}}
    return d, disc


def dynamic_design(d: pd.DataFrame, covariates: tuple[str, ...], deprivation: str = "idaci_2019") -> pd.DataFrame:
    """Constant, regressors, framework, inspection type (when in the frame), two-year periods,
    lagged judgement, initial judgement,
    LA means of the time-varying regressors (``mean_`` prefix, over the modelled rows) and IDACI,
    pruned to full rank.

    Notes
    -----
    :math:`y^*_{it} = x_{it}'\\beta + \\rho' D(y_{i,t-1}) + \\xi' D(y_{i0}) + \\bar x_i'\\gamma
    + z_i'\\delta + \\sigma a_i + e_{it}`, :math:`a_i \\sim N(0,1)` independent of
    :math:`(x_i, y_{i0})` given the conditioning terms (Wooldridge 2005, eq. 4.2).
    """
    tv = d[[*covariates, "ilacs"]].astype(float)
    means = tv.groupby(d["la_code"]).transform("mean").add_prefix("mean_")
    # ILACS inspection type (short vs standard) is set by the previous grade: a control, no mean.
    # (SIF re-inspections, 14 of the re-inspections, separate Good or better: left out.)
    types = d[[c for c in DYNAMIC_TYPE_CONTROLS if c in d]].astype(float)
    x = pd.concat([pd.Series(1.0, index=d.index, name="const"), tv, types, inspection_periods(d),
                   d[[*LAG_TERMS, *INITIAL_TERMS]].astype(float), means, d[[deprivation]].astype(float)], axis=1)
    x = x.loc[:, (x.std() > 0) | (x.columns == "const")]
    while np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        drop = [c for c in x.columns if c.startswith("period_") or c.startswith("mean_")][-1]
        x = x.drop(columns=drop)
    return x


def ame_good(fit: QuadratureFit, x: pd.DataFrame, changes: dict[str, float], n_nodes: int = 30) -> pd.DataFrame:
    """Population-averaged AMEs (pp) on P(Good or better) of the realistic ``changes``
    (derivative x change), delta-method SEs with the LA-clustered covariance, 95% CIs.

    Notes
    -----
    With Gauss-Hermite nodes :math:`b_k = \sqrt2\sigma t_k`, weights :math:`w_k/\sqrt\pi`:
    logit :math:`\mathrm{AME}_j = 100\,\delta_j\beta_j\bar m`,
    :math:`\bar m = n^{-1}\sum_i\sum_k \tilde w_k\lambda(\eta_i + b_k)`; ordered logit
    (latent scale, higher = worse; Good or better = grade 1-2)
    :math:`\mathrm{AME}_j = -100\,\delta_j\beta_j\bar m`,
    :math:`\bar m = n^{-1}\sum_i\sum_k \tilde w_k\lambda(c_2 - \eta_i - b_k)`;
    :math:`\lambda = \Lambda(1-\Lambda)`, :math:`\lambda' = \lambda(1 - 2\Lambda)`.
    Gradient of :math:`\bar m`: logit :math:`\partial/\partial\beta = n^{-1}\sum\tilde w\lambda' x_i`,
    :math:`\partial/\partial\log\sigma = n^{-1}\sum\tilde w\lambda' b_k`; ordered the same with
    the sign of :math:`z = c_2 - \eta - b` and :math:`\partial c_2/\partial\theta_{1,2} = (1, e^{\theta_2})`.
    The change holds the LA mean fixed (a within-LA change), as in Wooldridge (2005).
    """
    names = list(x.columns)
    xv = x.to_numpy(float)
    theta = fit.params.to_numpy()
    k = len(names)
    beta = theta[:k]
    t, w = np.polynomial.hermite.hermgauss(n_nodes)
    w = w / np.sqrt(np.pi)
    b = np.sqrt(2) * fit.sigma * t
    eta = xv @ beta
    dm = np.zeros(len(theta))
    if fit.kind == "logit":
        z, sign = eta[:, None] + b[None, :], 1.0
    else:
        z, sign = fit.cuts()[1] - eta[:, None] - b[None, :], -1.0
    p = special.expit(z)
    lam = p * (1 - p)
    dlam = lam * (1 - 2 * p)
    m = float((lam @ w).mean())
    dz = dlam @ w                                         # n: sum_k w lambda'(z_ik)
    dm[:k] = sign * (dz @ xv) / len(eta)                  # dz/dbeta = +x (logit), -x (ordered)
    dm[-1] = sign * float(((dlam * b[None, :]) @ w).mean())
    if fit.kind == "ologit":
        cut_par = fit.params[[c for c in fit.params.index if c.startswith("cut_")]].to_numpy()
        dm[k] = dz.mean()
        dm[k + 1] = dz.mean() * np.exp(cut_par[1])
    cov = fit.cov.to_numpy()
    rows = {}
    for term, delta in changes.items():
        j = names.index(term)
        s = 100 * delta * sign
        est = s * beta[j] * m
        grad = s * beta[j] * dm
        grad[j] += s * m
        se = float(np.sqrt(grad @ cov @ grad))
        rows[term] = {"change": delta, "ame_pp": est, "se": se, "ci_low": est - Z * se, "ci_high": est + Z * se,
                      "p_value": float(2 * stats.norm.sf(abs(est / se)))}
    return pd.DataFrame.from_dict(rows, orient="index")


def coefficient_table(fit: QuadratureFit, terms: list[str]) -> pd.DataFrame:
    se = np.sqrt(np.diag(fit.cov.loc[terms, terms]))
    est = fit.params[terms].to_numpy()
    return pd.DataFrame({"estimate": est, "std_error": se, "p_value": 2 * stats.norm.sf(np.abs(est / se)),
                         "ci_low": est - Z * se, "ci_high": est + Z * se}, index=terms)


def pooled_limit_check(model: RandomInterceptQuadrature) -> float:
    """|log-likelihood at :math:`\log\sigma = -30` minus the pooled likelihood| at the pooled
    (Newton, :mod:`analysis.models.fast_logit`) estimates: the random-intercept model nests the
    pooled one. tests/test_dynamic_cre.py repeats the check against statsmodels."""
    theta = model.start_values()
    theta[-1] = -30.0
    model.update_nodes(theta)
    llf = model.loglike(theta)
    from .fast_logit import fit_logit, fit_ordered_logit
    one = np.arange(model.n)
    pooled = (fit_logit(model.X, model.y, one) if model.kind == "logit"
              else fit_ordered_logit(model.X, model.y, one, model.J))
    return float(abs(llf - pooled.llf))


def fit_dynamic(d: pd.DataFrame, x: pd.DataFrame, kind: str, n_nodes: int = 12,
                start: np.ndarray | None = None) -> tuple[QuadratureFit, RandomInterceptQuadrature]:
    """One dynamic CRE model (``kind`` 'logit' of Good or better, 'ologit' of the grade);
    ``start``: parameters in the units of x (e.g. a fit on a larger sample), else the pooled fit."""
    if kind == "logit":
        y, xm = d["good_or_better"].to_numpy(float), x
        model = RandomInterceptQuadrature(y, xm, d["la_code"].to_numpy(), "logit", n_nodes=n_nodes)
    else:  # the constant is absorbed by the thresholds
        y, xm = d["grade"].to_numpy(int) - 1, x.drop(columns="const")
        model = RandomInterceptQuadrature(y, xm, d["la_code"].to_numpy(), "ologit", n_categories=4, n_nodes=n_nodes)
    fit = model.fit(None if start is None else model.internal(start))
    if not fit.converged:
        raise RuntimeError(f"dynamic CRE ({kind}) did not converge")
    return fit, model


def fit_dynamic_cre(ff: ForwardFrame, inspections: pd.DataFrame, worker_level: bool = True) -> dict:
    """Both dynamic CRE models with AMEs, the feedback terms and the numerical checks; with
    ``worker_level`` (and the frame from :func:`analysis.models.frame.inspection_frame`) the
    same models on the rows whose regressors all come from the 2017+ worker-level censuses
    (``census_2017_plus``: AMEs only)."""
    out = _fit_dynamic_models(ff, inspections)
    if worker_level and "census_2017_plus" in ff.data:
        sub = _fit_dynamic_models(census_2017_plus(ff), inspections, checks=False, warm=out["_params"])
        out["census_2017_plus"] = {"sample": sub["sample"],
                                   "models": {k: {"nobs": m["nobs"], "converged": m["converged"], "ame_pp": m["ame_pp"]}
                                              for k, m in sub["models"].items()}}
    del out["_params"]
    return out


def _fit_dynamic_models(ff: ForwardFrame, inspections: pd.DataFrame, checks: bool = True,
                        warm: dict | None = None) -> dict:
    d, disc = dynamic_frame(ff, inspections)
    x = dynamic_design(d, ff.covariates)
    changes = {t: CHANGES[t] for t in WORKFORCE}
    out = {"design": ("Wooldridge (2005) dynamic correlated random effects: previous judgement (Good+ / "
                      "Inadequate vs Requires improvement), the LA's first observed judgement, LA means of the "
                      "time-varying regressors, regressors from the census before fieldwork, framework, ILACS "
                      "inspection type (short vs standard), two-year periods, IDACI; random LA intercept by adaptive Gauss-Hermite quadrature (12 nodes); "
                      "LA-clustered sandwich SEs; AMEs on P(Good or better) averaged over the LA effect, "
                      "holding the LA means fixed"),
           "sample": disc, "design_columns": list(x.columns), "models": {}, "_params": {}}
    for name, kind in (("good_or_better", "logit"), ("grade", "ologit")):
        start = None
        if warm is not None and list(warm[name].index) == [*(x.columns if kind == "logit" else x.columns[1:]),
                                                           *[c for c in warm[name].index if c.startswith(("cut_", "log_sigma"))]]:
            start = warm[name].to_numpy()
        fit, model = fit_dynamic(d, x, kind, start=start)
        out["_params"][name] = fit.params
        terms = [t for t in [*ff.covariates, "ilacs", *DYNAMIC_TYPE_CONTROLS, *LAG_TERMS, *INITIAL_TERMS]
                 if t in fit.params.index]
        amet = ame_good(fit, x if kind == "logit" else x.drop(columns="const"), changes)
        out["models"][name] = {
            "estimator": "random-intercept logit" if kind == "logit" else "random-intercept ordered logit",
            "outcome": "Good or better (log-odds)" if kind == "logit" else "grade, log-odds of a worse grade",
            "nobs": fit.nobs, "n_las": fit.n_groups, "llf": fit.llf, "sigma_la": fit.sigma,
            "converged": fit.converged,
            "coefficients": coefficient_table(fit, terms).to_dict(orient="index"),
            "ame_pp": amet.to_dict(orient="index"),
        }
        if checks:
            out["models"][name]["check_nodes_12_vs_30"] = model.nodes_check(30)
            out["models"][name]["check_pooled_limit_llf_abs_diff"] = pooled_limit_check(model)
    return out


# --------------------------------------------------------------------------- simulation
def simulate_feedback(n_las: int = 400, periods: int = 5, gamma: float = 1.0, beta: float = -0.7,
                      rho: float = 0.7, feedback: float = 0.0, sigma: float = 1.0,
                      seed: int = 20251204) -> pd.DataFrame:
    """A panel with a known feedback effect of the previous judgement (state dependence ``gamma``).

    Notes
    -----
    :math:`a_i \sim N(0, \sigma^2)`; initial judgement :math:`y_{i0} = 1[0.2 + a_i + e_{i0} > 0]`,
    :math:`x_{i0} = 0.5a_i + v_{i0}`; for :math:`t \ge 1`:
    :math:`x_{it} = 0.5(1-\rho)a_i + \rho x_{i,t-1} + \text{feedback}\,(1 - y_{i,t-1}) + v_{it}`
    and :math:`y_{it} = 1[-0.3 + \gamma y_{i,t-1} + \beta x_{it} + a_i + e_{it} > 0]`, e logistic,
    v standard normal. With ``feedback = 0`` x is strictly exogenous given :math:`a_i` (the
    assumption of Wooldridge 2005); ``feedback > 0`` lets a poor judgement raise the next
    pressure measure (as after an Inadequate), which the LA mean of x then carries. Returns rows
    t >= 1 with ``y_lag``, ``y0``, ``x``, ``mean_x`` (over t >= 1), ``la_code``,
    ``good_or_better``.
    """
    rng = np.random.default_rng(seed)
    a = sigma * rng.normal(size=n_las)
    y_prev = (0.2 + a + rng.logistic(size=n_las) > 0).astype(float)
    x = 0.5 * a + rng.normal(size=n_las)
    y0 = y_prev.copy()
    rows = []
    for t in range(1, periods + 1):
        x = 0.5 * (1 - rho) * a + rho * x + feedback * (1 - y_prev) + rng.normal(size=n_las)
        y = (-0.3 + gamma * y_prev + beta * x + a + rng.logistic(size=n_las) > 0).astype(float)
        rows.append(pd.DataFrame({"la_code": np.arange(n_las), "t": t, "x": x, "y_lag": y_prev, "y0": y0,
                                  "good_or_better": y}))
        y_prev = y
    d = pd.concat(rows).sort_values(["la_code", "t"]).reset_index(drop=True)
    d["mean_x"] = d.groupby("la_code")["x"].transform("mean")
    return d


def simulation_check(seed: int = 20251204) -> dict:
    """The estimator on :func:`simulate_feedback` panels with known effects: without feedback into
    x (the identifying assumption holds) and with it (a poor judgement raises the next x by one
    SD); beside it the pooled logit with the previous judgement and no LA effect."""
    import statsmodels.api as sm
    out = {"truth": {"gamma_previous": 1.0, "beta_x": -0.7}, "n_las": 400, "periods": 5, "seed": seed}
    for label, fb in (("strictly_exogenous", 0.0), ("feedback_into_x", 1.0)):
        d = simulate_feedback(feedback=fb, seed=seed)
        one = pd.Series(1.0, index=d.index, name="const")
        dyn, _ = fit_dynamic(d, pd.concat([one, d[["x", "y_lag", "y0", "mean_x"]]], axis=1), "logit")
        pooled = sm.Logit(d["good_or_better"], pd.concat([one, d[["x", "y_lag"]]], axis=1)).fit(disp=False)
        out[label] = {"dynamic_cre": {"gamma_previous": float(dyn.params["y_lag"]), "beta_x": float(dyn.params["x"])},
                      "pooled_dynamic_logit": {"gamma_previous": float(pooled.params["y_lag"]),
                                               "beta_x": float(pooled.params["x"])}}
    return out
