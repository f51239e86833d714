"""Readable magnitudes and precision of the forward estimates.

* effects of realistic changes (+5 pp agency use, +2 cases per worker, +5 pp vacancy, +5 pp
  turnover, +£100 spending per child) as average changes in P(Good or better) in percentage
  points (delta-method CIs) and as odds ratios;
* minimum detectable effects (80% power, 5% two-sided);
* Holm-adjusted p-values across the four workforce measures of a model (statsmodels
  ``multipletests``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

from .results import coef_table

#: realistic changes of each measure (units of the measure)
CHANGES = {"agency_rate": 5.0, "caseload": 2.0, "vacancy_rate": 5.0, "turnover_rate": 5.0,
           "spend_total_pc": 100.0}
CHANGE_LABELS = {"agency_rate": "+5 pp agency use", "caseload": "+2 cases per worker",
                 "vacancy_rate": "+5 pp vacancy", "turnover_rate": "+5 pp turnover",
                 "spend_total_pc": "+£100 spending per child",
                 "log_spend_total_pc": "+£100 per child at the median spending"}
#: the AME of a spending change adds £100 to each LA's own spending (row by row), not at the median
AME_SPEND_LABEL = "+£100 to each LA's own spending per child"


def _ame_label(term: str, delta: float) -> str:
    return AME_SPEND_LABEL if term.startswith("log_spend") else CHANGE_LABELS.get(term, f"+{delta:g}")
Z_ALPHA, Z_POWER = stats.norm.ppf(0.975), stats.norm.ppf(0.80)


def delta_method(fun, params: np.ndarray, cov: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Standard errors of ``fun(params)`` by the delta method with a central-difference Jacobian.

    Notes
    -----
    :math:`\mathrm{SE} = \sqrt{\mathrm{diag}(J V J')}`, :math:`J_{\cdot j} \approx
    (f(\theta + h_j e_j) - f(\theta - h_j e_j)) / 2h_j`, :math:`h_j = \epsilon\max(1, |\theta_j|)`.
    """
    base = fun(params)
    jac = np.empty((base.size, params.size))
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = eps * max(1.0, abs(params[j]))
        jac[:, j] = (fun(params + step) - fun(params - step)) / (2 * step[j])
    return np.sqrt(np.diag(jac @ cov @ jac.T))


def mde(se: float | pd.Series, alpha: float = 0.05, power: float = 0.80):
    """Minimum detectable effect of a two-sided test.

    Notes
    -----
    :math:`\\mathrm{MDE} = (z_{1-\\alpha/2} + z_{\\text{power}})\\,\\mathrm{SE}` = 2.80 SE at the
    defaults (1.96 + 0.84).
    """
    return (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se


def holm(pvalues: pd.Series) -> pd.Series:
    """Holm step-down adjusted p-values (statsmodels ``multipletests(method='holm')``).

    Notes
    -----
    Sort :math:`p_{(1)} \\le \\dots \\le p_{(m)}`; :math:`\\tilde p_{(j)} = \\max_{l \\le j}
    \\min(1, (m-l+1) p_{(l)})`.
    """
    return pd.Series(multipletests(pvalues.to_numpy(), method="holm")[1], index=pvalues.index)


# --------------------------------------------------------------------------- ordered logit
def p_good_ologit(model, params: np.ndarray, exog: np.ndarray | None = None) -> np.ndarray:
    """P(grade <= 2) = Λ(c_2 − x'β) for every row of ``exog`` (default: the model's)."""
    k = model.exog.shape[1]
    cuts = model.transform_threshold_params(params)
    x = model.exog if exog is None else exog
    return special.expit(cuts[2] - x @ params[:k])


def log_change_at_median(log_values: pd.Series, delta: float) -> float:
    """The change in log spending that +``delta`` £ per child means at the sample median.

    Notes
    -----
    With :math:`m = \\exp(\\mathrm{median}(\\log s))`, :math:`\\Delta\\log s = \\log((m + \\delta)/m)`.
    A coefficient :math:`\\beta` on log spending then gives :math:`\\beta\\,\\Delta\\log s` for the change.
    """
    m = float(np.exp(np.nanmedian(np.asarray(log_values, dtype=float))))
    return float(np.log((m + delta) / m))


def ame_change_ologit(model, params: np.ndarray, term: str, delta: float) -> float:
    """Average change in P(Good or better) when ``term`` rises by ``delta`` for every inspection.

    Notes
    -----
    :math:`\\frac1n\\sum_i [\\Lambda(c_2 - x_i'\\beta - \\delta\\beta_k) - \\Lambda(c_2 - x_i'\\beta)]`.
    """
    j = list(model.exog_names).index(term)
    x1 = model.exog.copy()
    if term.startswith("log_spend"):  # delta in £ per child: log(s + Δ) − log(s), row by row
        x1[:, j] = np.log(np.exp(x1[:, j]) + delta)
    else:
        x1[:, j] += delta
    return float((p_good_ologit(model, params, x1) - p_good_ologit(model, params)).mean())


def ologit_magnitudes(res, terms_changes: dict[str, float],
                      scale_changes: dict[str, float] | None = None) -> pd.DataFrame:
    """AMEs of realistic changes on P(Good or better), pp, with delta-method 95% CIs, and the
    odds ratio of a worse grade for the change.

    ``terms_changes`` are in the measure's own units (for log spending: £ per child, applied row
    by row in the AME); ``scale_changes`` give the same changes on the regressor's scale (for
    log spending: the log change at the median), used for the odds ratio. Default: the same.
    """
    scale_changes = scale_changes or terms_changes
    model, p, cov = res.model, np.asarray(res.params), np.asarray(res.cov_params())
    rows = {}
    for t, dlt in terms_changes.items():
        est = 100 * ame_change_ologit(model, p, t, dlt)
        se = 100 * delta_method(lambda q: np.array([ame_change_ologit(model, q, t, dlt)]), p, cov)[0]
        j = list(model.exog_names).index(t)
        on_scale = scale_changes.get(t, dlt)
        b, bse = p[j] * on_scale, np.sqrt(cov[j, j]) * on_scale
        rows[t] = {"change": _ame_label(t, dlt), "delta": dlt, "or_change": CHANGE_LABELS.get(t, f"+{dlt:g}"),
                   "ame_pp": est, "ame_pp_se": se, "ame_pp_low": est - Z_ALPHA * se, "ame_pp_high": est + Z_ALPHA * se,
                   "odds_ratio": np.exp(b), "or_low": np.exp(b - Z_ALPHA * bse), "or_high": np.exp(b + Z_ALPHA * bse),
                   "p_value": float(2 * stats.norm.sf(abs(b / bse)))}
    return pd.DataFrame.from_dict(rows, orient="index")


def ame_change_logit(exog: np.ndarray, names: list[str], params: np.ndarray, term: str, delta: float) -> float:
    """Average change in P(Good or better) of a binary logit when ``term`` rises by ``delta``.

    Notes
    -----
    :math:`\frac1n\sum_i [\Lambda(x_i'\beta + \delta\beta_k) - \Lambda(x_i'\beta)]`; for log
    spending, ``delta`` is in £ per child and applied row by row (as in the ordered logit).
    """
    j = names.index(term)
    x1 = exog.copy()
    if term.startswith("log_spend"):
        x1[:, j] = np.log(np.exp(x1[:, j]) + delta)
    else:
        x1[:, j] += delta
    return float((special.expit(x1 @ params) - special.expit(exog @ params)).mean())


def logit_magnitudes(res, terms_changes: dict[str, float],
                     scale_changes: dict[str, float] | None = None) -> pd.DataFrame:
    """Binary-logit AMEs of realistic changes on P(Good or better), pp, delta-method 95% CIs, and
    the odds ratio of Good or better for the change (columns as :func:`ologit_magnitudes`, but
    ``odds_ratio`` is of Good or better, not of a worse grade)."""
    scale_changes = scale_changes or terms_changes
    exog, names = np.asarray(res.model.exog), list(res.model.exog_names)
    p, cov = np.asarray(res.params), np.asarray(res.cov_params())
    rows = {}
    for t, dlt in terms_changes.items():
        est = 100 * ame_change_logit(exog, names, p, t, dlt)
        se = 100 * delta_method(lambda q: np.array([ame_change_logit(exog, names, q, t, dlt)]), p, cov)[0]
        j = names.index(t)
        on_scale = scale_changes.get(t, dlt)
        b, bse = p[j] * on_scale, np.sqrt(cov[j, j]) * on_scale
        rows[t] = {"change": _ame_label(t, dlt), "delta": dlt, "or_change": CHANGE_LABELS.get(t, f"+{dlt:g}"),
                   "ame_pp": est, "ame_pp_se": se, "ame_pp_low": est - Z_ALPHA * se, "ame_pp_high": est + Z_ALPHA * se,
                   "odds_ratio": np.exp(b), "or_low": np.exp(b - Z_ALPHA * bse), "or_high": np.exp(b + Z_ALPHA * bse),
                   "p_value": float(2 * stats.norm.sf(abs(b / bse)))}
    return pd.DataFrame.from_dict(rows, orient="index")


def linear_magnitudes(coefs: pd.DataFrame, terms_changes: dict[str, float], scale: float = 100.0) -> pd.DataFrame:
    """Effects of realistic changes in a linear model (``scale`` = 100: probability -> pp), the
    within-LA-SD effect and the MDE per change."""
    rows = {}
    for t, dlt in terms_changes.items():
        c = coefs.loc[t]
        rows[t] = {"change": CHANGE_LABELS.get(t, f"+{dlt:g}"), "delta": dlt,
                   "effect": scale * dlt * c["estimate"], "effect_low": scale * dlt * c["ci_low"],
                   "effect_high": scale * dlt * c["ci_high"], "p_value": c["p_value"],
                   "per_within_sd": scale * c["std_estimate"], "mde": scale * dlt * mde(c["std_error"])}
    return pd.DataFrame.from_dict(rows, orient="index")


def logit_odds_ratios(coefs: pd.DataFrame, terms_changes: dict[str, float]) -> pd.DataFrame:
    """Odds ratios (Good or better) for realistic changes from log-odds coefficients, and the MDE
    expressed as an odds ratio (exp(±2.80 SE Δ))."""
    rows = {}
    for t, dlt in terms_changes.items():
        c = coefs.loc[t]
        rows[t] = {"change": CHANGE_LABELS.get(t, f"+{dlt:g}"), "delta": dlt,
                   "odds_ratio": np.exp(dlt * c["estimate"]), "or_low": np.exp(dlt * c["ci_low"]),
                   "or_high": np.exp(dlt * c["ci_high"]), "p_value": c["p_value"],
                   "mde_or_down": np.exp(-dlt * mde(c["std_error"])), "mde_or_up": np.exp(dlt * mde(c["std_error"]))}
    return pd.DataFrame.from_dict(rows, orient="index")


def precision_table(coefs: pd.DataFrame, workforce: tuple[str, ...]) -> pd.DataFrame:
    """Per workforce term: estimate, SE, MDE (per unit), raw and Holm-adjusted p."""
    c = coefs.loc[list(workforce)]
    out = pd.DataFrame({"estimate": c["estimate"], "std_error": c["std_error"], "mde": mde(c["std_error"]),
                        "p_value": c["p_value"], "p_holm": holm(c["p_value"])})
    return out


def per_decile_odds_ratio(params: pd.Series, cov: pd.DataFrame, term: str = "imd_decile") -> dict:
    """Odds ratio per decile with its 95% CI from a logit coefficient."""
    b, se = float(params[term]), float(np.sqrt(cov.loc[term, term]))
    return {"odds_ratio": np.exp(b), "ci_low": np.exp(b - Z_ALPHA * se), "ci_high": np.exp(b + Z_ALPHA * se),
            "log_odds": b, "std_error": se, "p_value": float(2 * stats.norm.sf(abs(b / se)))}


__all__ = ["CHANGES", "log_change_at_median", "mde", "delta_method", "ame_change_logit", "logit_magnitudes", "holm", "ame_change_ologit", "ologit_magnitudes", "linear_magnitudes",
           "logit_odds_ratios", "precision_table", "per_decile_odds_ratio", "p_good_ologit", "coef_table"]


def romano_wolf(t_obs: pd.Series, t_boot: np.ndarray) -> pd.Series:
    """Romano-Wolf step-down adjusted p-values from bootstrap t-statistics.

    Parameters
    ----------
    t_obs : observed t-statistics, one per hypothesis.
    t_boot : (B, S) bootstrap t-statistics centred at the estimates, same column order.

    Notes
    -----
    Order :math:`|t_{(1)}| \\ge \\dots \\ge |t_{(S)}|`; :math:`p_{(j)} =
    (1 + \\#\\{b: \\max_{m \\ge j} |t^*_{b,(m)}| \\ge |t_{(j)}|\\})/(B+1)`, made monotone by
    :math:`\\tilde p_{(j)} = \\max_{l \\le j} p_{(l)}` (Romano and Wolf 2005; Clarke, Romano and
    Wolf 2020).
    """
    a = np.abs(t_obs.to_numpy())
    order = np.argsort(-a)
    tb = np.abs(t_boot)[:, order]
    b = tb.shape[0]
    p = np.empty(len(a))
    for j in range(len(a)):
        mx = tb[:, j:].max(axis=1)
        p[j] = (1 + (mx >= a[order][j]).sum()) / (b + 1)
    p = np.maximum.accumulate(p)
    out = np.empty(len(a))
    out[order] = p
    return pd.Series(out, index=t_obs.index)


def wild_cluster_t(x: np.ndarray, y: np.ndarray, groups, cols: list[int], reps: int = 999,
                   seed: int = 20261123) -> tuple[np.ndarray, np.ndarray]:
    """Observed and wild-cluster-bootstrap (Rademacher weights by cluster) t-statistics of the OLS
    coefficients ``cols`` of ``y`` on ``x`` (for fixed effects: the within-transformed data).

    Returns
    -------
    (t_obs, t_boot) with t_boot of shape (reps, len(cols)), centred at the estimates.

    Notes
    -----
    :math:`\beta^* - \hat\beta = (X'X)^{-1}X'(\hat u \odot w_g)`,
    :math:`e^* = \hat u \odot w_g - X(\beta^*-\hat\beta)`; the cluster-robust SE (CRV1 without a
    small-sample factor, which cancels in the t-statistic comparison) is recomputed in each
    replicate. Deterministic: fixed seed.
    """
    g = pd.factorize(np.asarray(groups))[0]
    n_g = g.max() + 1
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    u = y - x @ beta

    def cl_se(e):
        s = np.zeros((n_g, x.shape[1]))
        np.add.at(s, g, x * e[:, None])
        return np.sqrt(np.diag(bread @ (s.T @ s) @ bread))[cols]

    t_obs = beta[cols] / cl_se(u)
    rng = np.random.default_rng(seed)
    t_boot = np.empty((reps, len(cols)))
    for r in range(reps):
        uw = u * rng.choice([-1.0, 1.0], size=n_g)[g]
        d = bread @ (x.T @ uw)
        t_boot[r] = d[cols] / cl_se(uw - x @ d)
    return t_obs, t_boot
