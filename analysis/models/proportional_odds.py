"""Tests of the proportional-odds assumption of the ordered logit (hand-written).

* :func:`brant_test` (Brant 1990): the J-1 binary logits of :math:`z_j = [y > j]` estimated
  separately; under proportional odds their slopes are equal. Wald test of
  :math:`\\beta_1 = \\beta_j` (j = 2..J-1), omnibus and per variable.
* :func:`partial_po_lr_test`: likelihood-ratio test of the ordered logit against a partial
  proportional-odds (generalised ordered) logit in which the chosen terms (the workforce
  measures) have one slope per threshold (Peterson and Harrell 1990).

Grades are coded 1 (best) .. J (worst); the ordered logit is
:math:`P(y \\le j) = \\Lambda(c_j - x'\\beta)`, the same model as statsmodels ``OrderedModel``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats


def _logit_fit(x: np.ndarray, z: np.ndarray, maxiter: int = 100) -> np.ndarray:
    """Binary logit ML by Newton's method (x includes the constant)."""
    b = np.zeros(x.shape[1])
    for _ in range(maxiter):
        p = special.expit(x @ b)
        g = x.T @ (z - p)
        h = (x * (p * (1 - p))[:, None]).T @ x
        step = np.linalg.solve(h, g)
        b += step
        if np.abs(step).max() < 1e-10:
            return b
    raise RuntimeError("binary logit of the Brant test did not converge (separation?)")


def brant_test(y: np.ndarray, x: pd.DataFrame, terms: list[str] | None = None) -> dict:
    """Brant (1990) test of proportional odds.

    Parameters
    ----------
    y : integer grades 1..J (every category present).
    x : covariates without a constant (a constant is added to each binary logit).
    terms : variables with a per-variable test (default: every column).

    Returns
    -------
    dict: ``omnibus`` {statistic, df, p_value}, ``by_term`` {term: {statistic, df, p_value}},
    ``slopes`` {term: [beta_1, ..., beta_{J-1}]}.

    Notes
    -----
    Binary logits :math:`\\text{logit} P(z_{ij}=1) = a_j + x_i'\\beta_j`, :math:`\\pi_{ij}` fitted.
    :math:`\\widehat{V}(\\hat\\beta_j, \\hat\\beta_m) = [(X'W_{jj}X)^{-1} X'W_{jm}X (X'W_{mm}X)^{-1}]_{-1,-1}`
    with :math:`W_{jm} = \\mathrm{diag}(\\pi_{im} - \\pi_{ij}\\pi_{im})` for :math:`j \\le m` (as
    :math:`z_m = 1 \\Rightarrow z_j = 1`). With D stacking :math:`\\beta_1 - \\beta_j`,
    :math:`W = (D\\hat\\beta^*)'(D\\hat V D')^{-1}(D\\hat\\beta^*) \\sim \\chi^2_{k(J-2)}`.
    """
    y = np.asarray(y, dtype=int)
    cats = np.sort(np.unique(y))
    n_cut = len(cats) - 1
    xm = np.column_stack([np.ones(len(y)), x.to_numpy(dtype=float)])
    k = xm.shape[1] - 1
    betas, pis, hinv = [], [], []
    for j in range(n_cut):
        z = (y > cats[j]).astype(float)
        b = _logit_fit(xm, z)
        p = special.expit(xm @ b)
        betas.append(b)
        pis.append(p)
        hinv.append(np.linalg.inv((xm * (p * (1 - p))[:, None]).T @ xm))
    # joint covariance of the slope vectors (intercepts dropped)
    v = np.zeros((n_cut * k, n_cut * k))
    for j in range(n_cut):
        for m in range(j, n_cut):
            w = pis[m] - pis[j] * pis[m]
            c = hinv[j] @ ((xm * w[:, None]).T @ xm) @ hinv[m]
            v[j * k:(j + 1) * k, m * k:(m + 1) * k] = c[1:, 1:]
            v[m * k:(m + 1) * k, j * k:(j + 1) * k] = c[1:, 1:].T
    bstar = np.concatenate([b[1:] for b in betas])
    names = list(x.columns)

    def wald(idx: list[int]) -> dict:
        rows = []
        for j in range(1, n_cut):
            for i in idx:
                r = np.zeros(n_cut * k)
                r[i] = 1.0
                r[j * k + i] = -1.0
                rows.append(r)
        d = np.array(rows)
        db = d @ bstar
        stat = float(db @ np.linalg.solve(d @ v @ d.T, db))
        df = len(rows)
        return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df))}

    terms = names if terms is None else list(terms)
    return {"omnibus": wald(list(range(k))),
            "by_term": {t: wald([names.index(t)]) for t in terms},
            "slopes": {t: [float(b[1 + names.index(t)]) for b in betas] for t in terms},
            "n_cut": n_cut, "nobs": int(len(y))}


# --------------------------------------------------------------------------- partial PO, LR test
def _ppo_negll(theta: np.ndarray, x: np.ndarray, w: np.ndarray, y: np.ndarray, n_cut: int, free: bool):
    """Negative log-likelihood and gradient of the partial proportional-odds logit.

    :math:`\\eta_{ij} = c_j - x_i'\\beta - w_i'\\gamma_j`, :math:`\\gamma_1 = 0`;
    :math:`P(y_i = j) = \\Lambda(\\eta_{ij}) - \\Lambda(\\eta_{i,j-1})`.
    """
    k, q = x.shape[1], w.shape[1]
    beta, cuts = theta[:k], theta[k:k + n_cut]
    gam = np.zeros((n_cut, q))
    if free:
        gam[1:] = theta[k + n_cut:].reshape(n_cut - 1, q)
    xb = x @ beta
    eta = cuts[None, :] - xb[:, None] - w @ gam.T          # n x n_cut
    n = len(y)
    upper = np.where(y < n_cut, eta[np.arange(n), np.minimum(y, n_cut - 1)], np.inf)
    lower = np.where(y > 0, eta[np.arange(n), np.maximum(y - 1, 0)], -np.inf)
    fu, fl = special.expit(upper), special.expit(lower)
    prob = fu - fl
    if np.any(prob <= 0):
        return 1e10, np.zeros_like(theta)
    du = np.where(np.isfinite(upper), fu * (1 - fu), 0.0) / prob
    dl = np.where(np.isfinite(lower), fl * (1 - fl), 0.0) / prob
    # d eta_j / d beta = -x; d eta_j / d c_j = 1; d eta_j / d gamma_j = -w
    g_beta = -(x * (du - dl)[:, None]).sum(axis=0)
    g_cut = np.zeros(n_cut)
    g_gam = np.zeros((n_cut, q))
    for j in range(n_cut):
        a = np.where(y == j, du, 0.0) - np.where(y == j + 1, dl, 0.0)
        g_cut[j] = a.sum()
        g_gam[j] = -(w * a[:, None]).sum(axis=0)
    grad = np.concatenate([g_beta, g_cut, g_gam[1:].ravel() if free else []])
    return -float(np.log(prob).sum()), -grad


def fit_ppo(y: np.ndarray, x: pd.DataFrame, varying: list[str], free: bool = True) -> dict:
    """ML fit of the partial proportional-odds logit (``free=False``: the ordered logit).

    Returns dict with ``llf``, ``params`` (beta by column, cuts, gamma) and ``converged``.
    """
    yv = np.asarray(y, dtype=int)
    cats = np.sort(np.unique(yv))
    yi = np.searchsorted(cats, yv)        # 0..J-1
    n_cut = len(cats) - 1
    xm = x.to_numpy(dtype=float)
    wm = x[varying].to_numpy(dtype=float)
    # start: thresholds at the marginal cumulative logits, slopes 0
    cum = np.cumsum(np.bincount(yi, minlength=n_cut + 1))[:-1] / len(yi)
    theta0 = np.concatenate([np.zeros(xm.shape[1]), special.logit(cum)])
    res = optimize.minimize(_ppo_negll, theta0, args=(xm, wm, yi, n_cut, False), jac=True, method="BFGS",
                            options={"gtol": 1e-7, "maxiter": 10000})
    if free:
        theta1 = np.concatenate([res.x, np.zeros((n_cut - 1) * wm.shape[1])])
        res = optimize.minimize(_ppo_negll, theta1, args=(xm, wm, yi, n_cut, True), jac=True, method="BFGS",
                                options={"gtol": 1e-7, "maxiter": 10000})
    grad_max = float(np.abs(res.jac).max())
    return {"llf": -float(res.fun), "params": res.x, "converged": bool(grad_max < 1e-3), "max_abs_score": grad_max}


def partial_po_lr_test(y: np.ndarray, x: pd.DataFrame, varying: list[str]) -> dict:
    """LR test of proportional odds for ``varying`` against the partial proportional-odds logit.

    Notes
    -----
    :math:`LR = 2(\\ell_{PPO} - \\ell_{PO}) \\sim \\chi^2_{q(J-2)}`, q = number of varying terms.
    Model-based (not cluster-robust): a likelihood-ratio statistic assumes independent rows.
    """
    po = fit_ppo(y, x, varying, free=False)
    ppo = fit_ppo(y, x, varying, free=True)
    n_cut = len(np.unique(y)) - 1
    df = len(varying) * (n_cut - 1)
    lr = max(0.0, 2 * (ppo["llf"] - po["llf"]))
    k = x.shape[1]
    gam = ppo["params"][k + n_cut:].reshape(n_cut - 1, len(varying))
    beta = pd.Series(ppo["params"][:k], index=x.columns)
    slopes = {t: [float(beta[t])] + [float(beta[t] + gam[j, i]) for j in range(n_cut - 1)]
              for i, t in enumerate(varying)}
    return {"statistic": lr, "df": df, "p_value": float(stats.chi2.sf(lr, df)), "llf_po": po["llf"],
            "llf_ppo": ppo["llf"], "converged": po["converged"] and ppo["converged"],
            "varying": list(varying), "slopes_by_threshold": slopes}
