"""Random-intercept (multilevel) logit by maximum likelihood with adaptive Gauss-Hermite quadrature.

Why written here: statsmodels' ``BinomialBayesMixedGLM`` is a variational-Bayes approximation
(its posterior means are not ML estimates and its SEs are not comparable with Webb, Bennett and
Bywaters 2022, who report ML/ adaptive-quadrature odds ratios); the maintained ML implementations
(lme4's ``glmer``, Stata's ``melogit``) are not Python. A random intercept is a one-dimensional
integral per LA, which adaptive Gauss-Hermite quadrature (as ``glmer(nAGQ > 1)``) computes to
near machine precision with a few nodes; the likelihood is maximised with scipy, the Hessian is
numerical (statsmodels ``approx_hess``), and LA-clustered sandwich SEs are reported beside the
model-based ones. Tested by recovering a simulated effect (tests/test_models_forward.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special
from statsmodels.tools.numdiff import approx_fprime, approx_hess

N_NODES = 15


@dataclass(frozen=True)
class RandomInterceptLogitResult:
    params: pd.Series          # beta (incl. const) and log_sigma
    cov_model: pd.DataFrame    # inverse observed information
    cov_cluster: pd.DataFrame  # G/(G-1) H^-1 (sum_g s_g s_g') H^-1
    llf: float
    nobs: int
    n_groups: int
    converged: bool

    @property
    def sigma(self) -> float:
        return float(np.exp(self.params["log_sigma"]))


class RandomInterceptLogit:
    """P(y_ij = 1 | u_j) = Λ(x_ij'β + σ u_j), u_j ~ N(0, 1).

    Notes
    -----
    Marginal log-likelihood per group,
    :math:`\\ell_j = \\log \\int \\prod_i \\Lambda(\\eta_{ij}+\\sigma u)^{y_{ij}}
    (1-\\Lambda(\\eta_{ij}+\\sigma u))^{1-y_{ij}} \\phi(u)\\,du`, by adaptive Gauss-Hermite
    quadrature: with :math:`h(u)` the log integrand, mode :math:`\\hat u_j` and
    :math:`s_j = (-h''(\\hat u_j))^{-1/2}`,
    :math:`\\ell_j \\approx \\log\\big(\\sqrt2 s_j \\sum_k w_k e^{t_k^2} e^{h(\\hat u_j+\\sqrt2 s_j t_k)}\\big)`.
    """

    def __init__(self, y, x: pd.DataFrame, groups, n_nodes: int = N_NODES):
        self.y = np.asarray(y, dtype=float)
        self.x = x
        self.X = x.to_numpy(dtype=float)
        self.g = pd.factorize(np.asarray(groups), sort=True)[0]
        self.G = int(self.g.max()) + 1
        self.t, self.w = np.polynomial.hermite.hermgauss(n_nodes)
        self.names = [*x.columns, "log_sigma"]
        self._u = np.zeros(self.G)  # last modes: a warm start for the next evaluation

    def _h(self, u_obs: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-observation log Bernoulli likelihood at linear predictor eta + u_obs."""
        z = eta + u_obs
        return self.y * z - np.logaddexp(0, z)

    def loglike_groups(self, theta: np.ndarray) -> np.ndarray:
        beta, sigma = theta[:-1], np.exp(theta[-1])
        eta = self.X @ beta
        g, G = self.g, self.G
        u = self._u.copy()
        for _ in range(100):  # Newton for the mode of each group's integrand
            p = special.expit(eta + sigma * u[g])
            d1 = sigma * np.bincount(g, self.y - p, G) - u
            d2 = -sigma ** 2 * np.bincount(g, p * (1 - p), G) - 1
            step = d1 / d2
            u -= step
            if np.abs(step).max() < 1e-10:
                break
        if np.all(np.isfinite(u)):
            self._u = u
        p = special.expit(eta + sigma * u[g])
        s = 1 / np.sqrt(sigma ** 2 * np.bincount(g, p * (1 - p), G) + 1)
        terms = []
        for tk, wk in zip(self.t, self.w):
            uk = u + np.sqrt(2) * s * tk
            hk = np.bincount(g, self._h(sigma * uk[g], eta), G) - 0.5 * uk ** 2 - 0.5 * np.log(2 * np.pi)
            terms.append(np.log(wk) + tk ** 2 + hk)
        return np.log(np.sqrt(2) * s) + special.logsumexp(np.array(terms), axis=0)

    def loglike(self, theta: np.ndarray) -> float:
        return float(self.loglike_groups(theta).sum())

    #: convergence: Newton decrement g' (-H)^-1 g below this (scale-free, unlike max |g|, which a
    #: regressor measured per 10,000 children inflates)
    DECREMENT_TOL = 1e-8

    def _newton_polish(self, theta: np.ndarray, steps: int = 3) -> tuple[np.ndarray, bool, np.ndarray]:
        """Newton steps from the quasi-Newton optimum (numerical gradient and Hessian).

        Notes
        -----
        BFGS stops on a gradient norm that depends on the units of the regressors; the Newton
        decrement :math:`\lambda^2 = g'(-H)^{-1}g` is the expected log-likelihood gain of one
        Newton step, the same in any units. A step is kept only if it does not lower the
        log-likelihood. Returns (theta, converged, Hessian at theta).
        """
        hess = approx_hess(theta, self.loglike)
        for _ in range(steps):
            grad = approx_fprime(theta, self.loglike, centered=True)
            step = np.linalg.solve(-hess, grad)
            dec = float(grad @ step)
            if dec < self.DECREMENT_TOL:
                return theta, True, hess
            new = theta + step
            if not self.loglike(new) >= self.loglike(theta) - 1e-9:
                return theta, False, hess
            theta, hess = new, approx_hess(new, self.loglike)
        grad = approx_fprime(theta, self.loglike, centered=True)
        return theta, bool(grad @ np.linalg.solve(-hess, grad) < self.DECREMENT_TOL), hess

    def fit(self, start: np.ndarray | None = None) -> RandomInterceptLogitResult:
        if start is None:  # ordinary logit estimates and sigma = 0.5
            from statsmodels.discrete.discrete_model import Logit  # not statsmodels.api (imports all of statsmodels)
            try:
                b0 = np.asarray(Logit(self.y, self.X).fit(disp=False, method="newton", maxiter=100).params)
            except Exception:  # noqa: BLE001 - separation etc.: start from zero
                b0 = np.zeros(self.X.shape[1])
            start = np.append(b0, np.log(0.5))
        res = optimize.minimize(lambda th: -self.loglike(th), start, method="BFGS",
                                options={"gtol": 1e-7, "maxiter": 5000})
        theta, conv, hess = self._newton_polish(res.x)
        hinv = np.linalg.inv(-hess)
        scores = approx_fprime(theta, self.loglike_groups, centered=True)  # (G, k)
        meat = scores.T @ scores
        vc = self.G / (self.G - 1) * hinv @ meat @ hinv
        idx = self.names
        llf = self.loglike(theta)
        return RandomInterceptLogitResult(pd.Series(theta, index=idx), pd.DataFrame(hinv, idx, idx),
                                          pd.DataFrame(vc, idx, idx), llf, len(self.y), self.G, conv)


def imd_deciles(panel: pd.DataFrame) -> pd.Series:
    """Fallback IMD 2019 decile among upper-tier LAs (1 = least deprived), from ``imd_2019``
    (average score; higher = more deprived), one value per ``la_code``; used only while the
    contract column ``imd_decile`` is not yet in the derived data.

    Notes
    -----
    decile = ceil(10 * rank / n) over the panel's LAs (City of London and Scilly excluded).
    """
    la = panel[~panel["small_la"]].drop_duplicates("la_code", keep="last").set_index("la_code")["imd_2019"].dropna()
    r = la.rank(method="first")
    return np.ceil(10 * r / len(r)).astype(int).rename("imd_decile")
