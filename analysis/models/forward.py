"""Forward-direction models (workforce pressure before fieldwork -> the inspection's grade), one row
per graded inspection, LA-clustered inference. Every fit validates the timing rule first.

* ordered logit of the grade (statsmodels ``OrderedModel``) with framework, inspection year,
  region, IDACI and (when in the data) log spending per child;
* LA fixed-effects linear models of Good-or-better and of the grade (linearmodels ``PanelOLS`` on
  the inspection panel; entity = LA, "time" = the inspection's order within its LA);
* conditional (fixed-effects) logit of Good-or-better (statsmodels ``ConditionalLogit``, groups =
  LA) with a cluster-robust sandwich;
* correlated random effects (Mundlak): pooled OLS with LA means of the time-varying regressors;
  within = FE coefficient, between = within + mean coefficient; cluster-robust Wald test of the
  means = 0 (replaces the conventional Hausman test).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS  # not statsmodels.api: it imports all of statsmodels (0.4 s)
from linearmodels.panel import PanelOLS
from scipy import special, stats
from statsmodels.discrete.conditional_models import ConditionalLogit
from statsmodels.discrete.discrete_model import Logit
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.tools import add_constant
from statsmodels.tools.sm_exceptions import ModelWarning

from .forward_data import ForwardFrame, year_dummies
from .results import FitResult, coef_table
from .spec import IdentificationError
from .timing import validate_forward_timing

TIME_VARYING_EXTRA = ("ilacs",)


def _check(ff: ForwardFrame) -> pd.DataFrame:
    return validate_forward_timing(ff.data, ff.year_columns, source=f"forward model ({ff.lag})")


def within_sd(df: pd.DataFrame, cols) -> pd.Series:
    """SD of the within-LA deviations :math:`x_{it} - \\bar x_i` (population SD of the pooled
    deviations), the scale of a fixed-effects effect."""
    dev = df[list(cols)] - df.groupby("la_code")[list(cols)].transform("mean")
    return dev.std(ddof=1)


def time_varying_design(ff: ForwardFrame, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Covariates, framework indicator and inspection-year dummies (rank-pruned; no constant)."""
    df = ff.data if df is None else df
    base = df[[*ff.covariates, *TIME_VARYING_EXTRA]].astype(float)
    return year_dummies(df, base)


def _spec(ff: ForwardFrame, estimator: str, outcome: str, **extra) -> dict:
    return {"estimator": estimator, "outcome": outcome, "lag": ff.lag, "regressors": list(ff.regressors),
            "controls": list(ff.controls), "sample": "graded SIF/ILACS inspections, census before fieldwork",
            "year_effects": True, **extra}


def _groups(df: pd.DataFrame) -> np.ndarray:
    return pd.factorize(df["la_code"], sort=True)[0]


# --------------------------------------------------------------------------- ordered logit
class FastOrderedLogit(OrderedModel):
    """statsmodels ``OrderedModel(distr='logit')`` with the logistic cdf/pdf evaluated by
    ``scipy.special.expit`` instead of ``scipy.stats.logistic`` (same values, ~5x faster fits;
    the likelihood, optimiser and covariance are statsmodels')."""

    def cdf(self, x):
        return special.expit(x)

    def pdf(self, x):
        p = special.expit(x)
        return p * (1 - p)

    def score_obs_analytic(self, params):
        """Analytic per-observation score (no offset), used by :meth:`score` for the optimiser.

        Notes
        -----
        With :math:`l_i = c_{y_i-1} - x_i'\beta`, :math:`u_i = c_{y_i} - x_i'\beta`,
        :math:`P_i = \Lambda(u_i) - \Lambda(l_i)`:
        :math:`\partial \ell_i/\partial\beta = -x_i (\lambda(u_i)-\lambda(l_i))/P_i`,
        :math:`\partial \ell_i/\partial c_j = [y_i = j]\lambda(u_i)/P_i - [y_i = j+1]\lambda(l_i)/P_i`;
        thresholds are :math:`c_1 = \theta_1`, :math:`c_j = c_{j-1} + e^{\theta_j}` (statsmodels).
        """
        params = np.asarray(params, dtype=float)
        k = self.exog.shape[1]
        low, upp = self._bounds(params)
        fl, fu = self.pdf(low), self.pdf(upp)
        prob = np.clip(self.cdf(upp) - self.cdf(low), 1e-300, None)
        g_beta = -((fu - fl) / prob)[:, None] * self.exog
        n_cut = len(params) - k
        y = np.asarray(self.endog, dtype=int)
        g_c = np.zeros((len(y), n_cut))
        for j in range(n_cut):  # threshold c_{j+1} is the upper bound of category j, lower of j+1
            g_c[:, j] = np.where(y == j, fu / prob, 0.0) - np.where(y == j + 1, fl / prob, 0.0)
        # chain rule to the unconstrained threshold parameters theta
        jac = np.zeros((n_cut, n_cut))  # d c_j / d theta_m
        jac[:, 0] = 1.0
        for m in range(1, n_cut):
            jac[m:, m] = np.exp(params[k + m])
        return np.column_stack([g_beta, g_c @ jac])

    def score(self, params):
        if getattr(self, "offset", None) is not None:
            return super().score(params)
        return self.score_obs_analytic(params).sum(axis=0)


def ordered_logit_design(ff: ForwardFrame, deprivation: str = "idaci_2019", region: bool = True) -> pd.DataFrame:
    df = ff.data
    x = df[[*ff.covariates, *TIME_VARYING_EXTRA]].astype(float)
    if deprivation:
        x = pd.concat([x, df[[deprivation]].astype(float)], axis=1)
    if region:
        rd = pd.get_dummies(pd.Categorical(df["region"]), prefix="region", drop_first=True, dtype=float)
        rd.index = df.index
        x = pd.concat([x, rd], axis=1)
    return year_dummies(df, x)


def fit_forward_ordered_logit(ff: ForwardFrame, deprivation: str = "idaci_2019"):
    """Ordered logit of the grade (1 Outstanding .. 4 Inadequate); returns (FitResult, fitted)."""
    ff = ff.complete([deprivation], f"{deprivation} missing")
    df = _check(ff)
    x = ordered_logit_design(ff, deprivation)
    y = pd.Series(pd.Categorical(df["grade"], categories=[1, 2, 3, 4], ordered=True), index=df.index)
    res = FastOrderedLogit(y, x, distr="logit").fit(method="bfgs", maxiter=5000, gtol=1e-6, disp=False,
                                                cov_type="cluster", cov_kwds={"groups": _groups(df)})
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError(f"ordered logit did not converge: {res.mle_retvals}")
    terms = [t for t in [*ff.covariates, "ilacs", *([deprivation] if deprivation else [])] if t in x.columns]
    params = pd.Series(np.asarray(res.params), index=res.model.exog_names)
    se = pd.Series(np.sqrt(np.diag(res.cov_params())), index=params.index)
    tab = coef_table(params[terms], se[terms], df[terms].std())
    st = {"nobs": int(res.nobs), "n_las": int(df["la_code"].nunique()), "llf": float(res.llf),
          "n_clusters": int(df["la_code"].nunique()), "design_columns": list(x.columns),
          "sample": ff.disclosure}
    return FitResult(f"fwd_ologit_{ff.lag}", "forward",
                     _spec(ff, "ordered_logit", "grade (1 Outstanding - 4 Inadequate), log-odds of a worse grade",
                           deprivation=deprivation, region=True), tab, st), res


# --------------------------------------------------------------------------- LA fixed effects
def fe_panel_frame(ff: ForwardFrame, outcome: str) -> tuple[pd.Series, pd.DataFrame]:
    """Outcome and time-varying design indexed by (la_code, visit).

    Notes
    -----
    Inspections are irregular (a median of three per LA, years apart), so the panel "time" index
    is the inspection's order within its LA; it only orders rows. Calendar time enters through the
    inspection-year dummies and the framework indicator as regressors; no effects are attached to
    the visit number (first inspections of different LAs happened in different years).
    """
    df = ff.data
    x = time_varying_design(ff)
    idx = pd.MultiIndex.from_arrays([df["la_code"], df["visit"]], names=["la_code", "visit"])
    y = pd.Series(df[outcome].astype(float).to_numpy(), index=idx, name=outcome)
    return y, x.set_axis(idx)


def fit_forward_fe(ff: ForwardFrame, outcome: str = "good_or_better"):
    """LA fixed-effects linear model (PanelOLS, entity effects, LA-clustered)."""
    _check(ff)
    y, x = fe_panel_frame(ff, outcome)
    res = PanelOLS(y, x, entity_effects=True, drop_absorbed=False).fit(cov_type="clustered", cluster_entity=True)
    terms = [t for t in [*ff.covariates, "ilacs"] if t in x.columns]
    wsd = within_sd(ff.data, terms)
    tab = coef_table(res.params[terms], res.std_errors[terms], wsd)
    n_single = int((ff.data.groupby("la_code").size() == 1).sum())
    st = {"nobs": int(res.nobs), "n_las": int(ff.data["la_code"].nunique()), "r2_within": float(res.rsquared_within),
          "n_singleton_las": n_single, "within_sd": wsd.to_dict(),
          "std_estimate_scale": "within-LA SD (SD of x minus its LA mean)"}
    label = "good_or_better" if outcome == "good_or_better" else "grade"
    return FitResult(f"fwd_fe_{label}_{ff.lag}", "forward",
                     _spec(ff, "panelols_la_fe", "Good or better (0/1)" if label == "good_or_better"
                           else "grade (1 Outstanding - 4 Inadequate)"), tab, st), res


# --------------------------------------------------------------------------- conditional logit
PERIOD_BINS = [2000, 2018, 2020, 2022, 2024, 2030]


def inspection_periods(df: pd.DataFrame) -> pd.DataFrame:
    """Two-year inspection-period dummies (base: up to 2018; then 2019-20, 2021-22, 2023-24,
    2025+), used where single-year dummies separate the outcome (conditional logit)."""
    per = pd.cut(df["inspection_year"], PERIOD_BINS, labels=["to2018", "y2019_20", "y2021_22", "y2023_24", "y2025on"])
    out = pd.get_dummies(per, prefix="period", drop_first=True, dtype=float)
    out.index = df.index
    return out


def conditional_logit_design(ff: ForwardFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Informative LAs (outcome varies) and their LA-demeaned design (covariates, framework,
    two-year period dummies), pruned to full within-LA rank.

    Notes
    -----
    Single-year dummies separate the outcome within the informative LAs (every 2026 inspection
    of them is Good or better), so the conditional logit uses two-year periods.
    """
    df = ff.data
    inform = df.groupby("la_code")["good_or_better"].transform("std") > 0
    d = df[inform]
    x = pd.concat([d[[*ff.covariates, *TIME_VARYING_EXTRA]].astype(float), inspection_periods(d)], axis=1)
    dm = x - x.groupby(d["la_code"]).transform("mean")
    keep = [c for c in dm.columns if not np.allclose(dm[c], 0)]
    while np.linalg.matrix_rank(dm[keep].to_numpy()) < len(keep):
        keep.remove([c for c in keep if c.startswith("period_")][-1])
    # the conditional likelihood is invariant to LA-constant shifts of x: demeaned x avoids overflow
    return d, dm[keep]


def cluster_sandwich_conditional(model: ConditionalLogit, params: np.ndarray) -> np.ndarray:
    """LA-clustered covariance of a conditional logit (groups = clusters = LAs).

    Notes
    -----
    :math:`V = \\frac{G}{G-1} H^{-1} \\big(\\sum_g s_g s_g'\\big) H^{-1}`, :math:`s_g` the score of
    LA g's conditional likelihood, H the Hessian of the log-likelihood (statsmodels' numerical).
    """
    scores = np.array([model.score_grp(g, params) for g in range(model._n_groups)])
    hinv = np.linalg.inv(-model.hessian(params))
    g = scores.shape[0]
    return g / (g - 1) * hinv @ (scores.T @ scores) @ hinv


def fit_forward_conditional_logit(ff: ForwardFrame):
    """Conditional (LA fixed-effects) logit of Good-or-better; log-odds, LA-clustered SEs."""
    _check(ff)
    d, x = conditional_logit_design(ff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        model = ConditionalLogit(d["good_or_better"].to_numpy(), x, groups=d["la_code"].to_numpy())
        res = model.fit(method="bfgs", maxiter=5000, disp=False, gtol=1e-8)
        res = model.fit(start_params=np.asarray(res.params), method="newton", maxiter=50, disp=False)
    params = pd.Series(np.asarray(res.params), index=x.columns)
    grad = np.abs(model.score(params.to_numpy())).max()
    if not np.isfinite(grad) or grad > 1e-4:
        raise RuntimeError(f"conditional logit did not converge (max |score| = {grad:.3g})")
    cov = cluster_sandwich_conditional(model, params.to_numpy())
    se = pd.Series(np.sqrt(np.diag(cov)), index=x.columns)
    terms = [t for t in [*ff.covariates, "ilacs"] if t in x.columns]
    tab = coef_table(params[terms], se[terms], within_sd(d, terms))
    st = {"nobs": int(model.nobs), "n_las": int(d["la_code"].nunique()), "llf": float(res.llf),
          "n_las_all": int(ff.data["la_code"].nunique()), "n_inspections_all": int(len(ff.data)),
          "note": "only LAs whose Good-or-better outcome changes inform the conditional likelihood",
          "design_columns": list(x.columns),
          "std_estimate_scale": "within-LA SD (informative LAs)"}
    return FitResult(f"fwd_clogit_good_{ff.lag}", "forward",
                     _spec(ff, "conditional_logit", "Good or better (0/1), log-odds"), tab, st), (model, params, cov)


# --------------------------------------------------------------------------- correlated random effects
def cre_design(ff: ForwardFrame, region: bool = True, deprivation: str | None = "idaci_2019") -> pd.DataFrame:
    """Constant, time-varying design, LA means of every time-varying column (``mean_`` prefix),
    and time-invariant region / deprivation (Mundlak 1978)."""
    df = ff.data
    x = time_varying_design(ff)
    means = x.groupby(df["la_code"]).transform("mean").add_prefix("mean_")
    parts = [pd.Series(1.0, index=df.index, name="const"), x, means]
    if deprivation and deprivation in df:
        parts.append(df[[deprivation]].astype(float))
    if region:
        rd = pd.get_dummies(pd.Categorical(df["region"]), prefix="region", drop_first=True, dtype=float)
        rd.index = df.index
        parts.append(rd)
    out = pd.concat(parts, axis=1)
    # means of year dummies can be collinear with region/deprivation in small cells: prune
    while np.linalg.matrix_rank(out.to_numpy()) < out.shape[1]:
        out = out.drop(columns=[c for c in out.columns if c.startswith("mean_year_")][-1])
    return out


def cluster_wald(params: pd.Series, cov: pd.DataFrame, terms: list[str]) -> dict:
    """Wald test of ``params[terms] = 0`` with a cluster-robust covariance.

    Notes
    -----
    :math:`W = \\hat\\gamma' \\hat V_\\gamma^{-1} \\hat\\gamma \\sim \\chi^2_k`.
    """
    g = params[terms].to_numpy()
    v = cov.loc[terms, terms].to_numpy()
    w = float(g @ np.linalg.solve(v, g))
    return {"statistic": w, "df": len(terms), "p_value": float(stats.chi2.sf(w, len(terms))), "terms": terms}


def fit_forward_cre(ff: ForwardFrame, outcome: str = "good_or_better", deprivation: str | None = "idaci_2019"):
    """Correlated random effects (pooled OLS with LA means), LA-clustered (statsmodels CRV1).

    Returns the within terms, the between terms (within + mean coefficient) and the Wald tests.
    """
    ff = ff.complete([deprivation], f"{deprivation} missing")
    df = _check(ff)
    x = cre_design(ff, deprivation=deprivation)
    y = df[outcome].astype(float)
    res = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": _groups(df)})
    terms = [*ff.covariates]
    cov = res.cov_params()
    within = coef_table(res.params[terms], res.bse[terms], within_sd(df, terms))
    # between = beta + gamma, SE from the covariance of the sum
    b = pd.Series({t: res.params[t] + res.params[f"mean_{t}"] for t in terms})
    bse = pd.Series({t: np.sqrt(cov.loc[t, t] + cov.loc[f"mean_{t}", f"mean_{t}"] + 2 * cov.loc[t, f"mean_{t}"])
                     for t in terms})
    between = coef_table(b, bse, df.groupby("la_code")[terms].mean().std())
    coefs = pd.concat([within.rename(index=lambda t: f"within:{t}"), between.rename(index=lambda t: f"between:{t}")])
    tests = {"means_all_time_varying": cluster_wald(res.params, cov, [f"mean_{t}" for t in terms]),
             "means_workforce": cluster_wald(res.params, cov, [f"mean_{t}" for t in ff.regressors])}
    label = "good_or_better" if outcome == "good_or_better" else "grade"
    st = {"nobs": int(res.nobs), "n_las": int(df["la_code"].nunique()), "r2": float(res.rsquared),
          "wald_means": tests, "sample": ff.disclosure}
    return FitResult(f"fwd_cre_{label}_{ff.lag}", "forward",
                     _spec(ff, "correlated_random_effects", outcome, deprivation=deprivation, region=True),
                     coefs, st), res


# --------------------------------------------------------------------------- previous grade
def with_previous_grade(ff: ForwardFrame) -> ForwardFrame:
    """Add the previous overall grade (1-4) as a control, dropping inspections without one.

    Notes
    -----
    With LA fixed effects a lagged outcome is correlated with the demeaned error (Nickell 1981):
    the bias is of order 1/T, and with about three inspections per LA it is large, so this is a
    sensitivity check, not an estimate of persistence.
    """
    d = ff.data[ff.data["prev_grade_num"].notna()].copy()
    d["prev_grade"] = d["prev_grade_num"].astype(float)
    disc = {**ff.disclosure, "n_used": int(len(d)), "drops_previous_grade_missing": int(len(ff.data) - len(d))}
    return ForwardFrame(d.reset_index(drop=True), ff.regressors, (*ff.controls, "prev_grade"), ff.lag,
                        ff.year_columns, disc)


# --------------------------------------------------------------------------- binary logit
def logit_design(ff: ForwardFrame, deprivation: str = "idaci_2019", region: bool = True) -> pd.DataFrame:
    """Covariates, framework, deprivation, region dummies and two-year inspection periods (no
    constant); columns constant in the sample are dropped."""
    df = ff.data
    parts = [df[[*ff.covariates, *TIME_VARYING_EXTRA]].astype(float)]
    if deprivation:
        parts.append(df[[deprivation]].astype(float))
    if region:
        rd = pd.get_dummies(pd.Categorical(df["region"]), prefix="region", drop_first=True, dtype=float)
        parts.append(rd.set_axis(df.index))
    parts.append(inspection_periods(df))
    x = pd.concat(parts, axis=1)
    x = x.loc[:, x.std() > 0]
    # keep a column only if it adds to the rank (with a constant): e.g. after a separated
    # inspection-type cell is dropped, the remaining SIF type equals 1 - ilacs
    keep, basis = [], np.ones((len(x), 1))
    for c in x.columns:
        trial = np.column_stack([basis, x[c].to_numpy(dtype=float)])
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            keep.append(c)
            basis = trial
    return x[keep]


def drop_separated_cells(ff: ForwardFrame, outcome: str, deprivation: str = "idaci_2019") -> tuple[ForwardFrame, list]:
    """Rows of a 0/1 column (or of an inspection-type level, when the type is a control) whose
    binary outcome is constant: their coefficient is infinite and the rows are perfectly
    predicted, so both are left out (as Stata's ``logit`` does), and the drop is recorded.

    Returns (frame without those rows, [{"cell", "n", "outcome_value"}]).
    """
    d = ff.data
    y = d[outcome]
    cells = {}
    xd = logit_design(ff, deprivation)
    for c in xd.columns:
        v = xd[c]
        if v.isin([0.0, 1.0]).all():
            cells[c] = v == 1
    if "type_short" in ff.controls:
        for t in sorted(d["inspection_type"].unique()):
            cells[f"inspection_type={t}"] = d["inspection_type"] == t
    drop = pd.Series(False, index=d.index)
    out = []
    for name, m in cells.items():
        m = m & ~drop
        if m.any() and y[m].nunique() == 1:
            out.append({"cell": name, "n": int(m.sum()), "outcome_value": float(y[m].iloc[0])})
            drop |= m
    if not drop.any():
        return ff, out
    kept = d[~drop].reset_index(drop=True)
    kept["visit"] = kept.groupby("la_code").cumcount() + 1
    disc = {**ff.disclosure, "n_used": int(len(kept)), "dropped_separated": out}
    return ForwardFrame(kept, ff.regressors, ff.controls, ff.lag, ff.year_columns, disc), out


def binary_logit_frame(ff: ForwardFrame, outcome: str, deprivation: str = "idaci_2019"):
    """The binary-logit design of :func:`fit_forward_logit` for any 0/1 ``outcome`` column: rows
    with the outcome or ``deprivation`` missing dropped (recorded), separated cells dropped
    (:func:`drop_separated_cells`), then the constant and :func:`logit_design`.

    One function for the primary design (:mod:`analysis.models.primary`), its sub-judgement
    outcomes (:mod:`analysis.models.subjudgements`) and the family of tests, so that they share
    one design matrix. Returns (frame, separated cells, design with ``const`` first).
    """
    ff = ff.complete([outcome], f"{outcome} missing")  # no-op where the outcome is never missing
    ff = ff.complete([deprivation], f"{deprivation} missing")
    ff, separated = drop_separated_cells(ff, outcome, deprivation)
    return ff, separated, add_constant(logit_design(ff, deprivation))


def fit_forward_logit(ff: ForwardFrame, deprivation: str = "idaci_2019"):
    """Binary logit of Good-or-better with the ordered logit's covariates (workforce, controls,
    framework, IDACI, region) and two-year inspection periods, LA-clustered (statsmodels CRV1).

    Single inspection years cannot be used: the seven SIF inspections of 2018 (all after an
    Inadequate) are all below Good, so framework x year separates Good-or-better (the ordered
    logit is identified there because those grades vary).

    Returns (FitResult, statsmodels result); log-odds of Good or better (+ = better).

    Notes
    -----
    :math:`P(\\text{Good+}_i) = \\Lambda(a + x_i'\\beta)`. Unlike the ordered logit it assumes
    nothing about how a covariate shifts the other thresholds (proportional odds).
    """
    ff, separated, x = binary_logit_frame(ff, "good_or_better", deprivation)
    df = _check(ff)
    res = Logit(df["good_or_better"].astype(float), x).fit(method="newton", maxiter=100, disp=False,
                                                              cov_type="cluster", cov_kwds={"groups": _groups(df)})
    if not res.mle_retvals.get("converged", False):
        raise RuntimeError(f"binary logit did not converge: {res.mle_retvals}")
    terms = [t for t in [*ff.covariates, "ilacs", deprivation] if t in x.columns]
    tab = coef_table(res.params[terms], res.bse[terms], df[terms].std())
    st = {"nobs": int(res.nobs), "n_las": int(df["la_code"].nunique()), "llf": float(res.llf),
          "base_rate_good_plus": float(df["good_or_better"].mean()), "design_columns": list(x.columns),
          "dropped_separated": separated,
          "sample": ff.disclosure}
    return FitResult(f"fwd_logit_good_{ff.lag}", "forward",
                     _spec(ff, "logit", "Good or better (0/1), log-odds", deprivation=deprivation, region=True),
                     tab, st), res


# --------------------------------------------------------------------------- strict exogeneity
def fit_lead_test(ff: ForwardFrame, outcome: str = "good_or_better") -> dict:
    """Strict-exogeneity (lead) test of the LA fixed-effects model (Wooldridge 2010, 10.7.1).

    The next inspection's value of a workforce measure is added to the FE model of the current
    outcome, one measure at a time and all four jointly, on the inspections that have a next
    inspection in the frame.

    Returns
    -------
    dict: ``one_at_a_time`` {term: {estimate, std_error, p_value, ci_low, ci_high}} (per unit of
    the measure, outcome scale), ``joint`` {term: ...} and ``joint_wald`` {statistic, df,
    p_value}; ``nobs``, ``n_las``.

    Notes
    -----
    Under strict exogeneity :math:`E[u_{it} \\mid x_{i1..T}, a_i] = 0`, so :math:`x_{i,t+1}` has
    a zero coefficient in :math:`y_{it} = x_{it}'\\beta + x_{i,t+1}'\\delta + a_i + u_{it}`. A
    non-zero :math:`\\delta` means the current outcome (or its shock) feeds into later measures:
    the within estimator is then inconsistent for fixed T (bias of order 1/T), not merely
    imprecise.
    """
    from .frame import with_leads  # frame imports forward_data only; no cycle

    wf = list(ff.regressors)
    d = with_leads(ff, tuple(wf))
    out: dict = {"outcome": outcome, "one_at_a_time": {}, "joint": {}}

    def fit(leads: list[str]):
        sub = d[d[leads].notna().all(axis=1)].reset_index(drop=True)
        sub["visit"] = sub.groupby("la_code").cumcount() + 1
        f = ForwardFrame(sub, ff.regressors, (*ff.controls, *leads), ff.lag, ff.year_columns, ff.disclosure)
        _check(f)
        y, x = fe_panel_frame(f, outcome)
        res = PanelOLS(y, x, entity_effects=True, drop_absorbed=False).fit(cov_type="clustered", cluster_entity=True)
        return res, sub

    for t in wf:
        res, sub = fit([f"lead_{t}"])
        c = coef_table(res.params[[f"lead_{t}"]], res.std_errors[[f"lead_{t}"]]).iloc[0]
        out["one_at_a_time"][t] = {k: float(c[k]) for k in ("estimate", "std_error", "p_value", "ci_low", "ci_high")}
    leads = [f"lead_{t}" for t in wf]
    res, sub = fit(leads)
    tab = coef_table(res.params[leads], res.std_errors[leads])
    out["joint"] = {t: {k: float(tab.loc[f"lead_{t}", k]) for k in ("estimate", "std_error", "p_value")} for t in wf}
    out["joint_wald"] = cluster_wald(res.params, res.cov, leads)
    out["nobs"], out["n_las"] = int(res.nobs), int(sub["la_code"].nunique())
    out["implication"] = ("a non-zero lead coefficient rejects strict exogeneity: the grade (or its shock) "
                          "feeds into later workforce measures, so the LA fixed-effects estimates are biased "
                          "by this feedback (order 1/T with about three inspections per LA), not merely imprecise")
    return out
