"""Fast binary and ordered logit fits for the multiverse: Newton's method with the analytic
gradient and Hessian, LA-clustered sandwich covariance and average marginal effects with
delta-method standard errors.

statsmodels (``Logit``, ``OrderedModel``) is the reference: the same optimum and the same
cluster covariance (``cov_type="cluster"``, CRV1 with statsmodels' small-sample factor) on random
specifications (tests/test_multiverse.py). It is not used in the multiverse itself because a
statsmodels fit costs a few milliseconds of set-up and numerical derivatives per model, and the
multiverse fits more than a thousand of them.

Rows must be sorted by cluster (LA): cluster sums are taken with ``np.add.reduceat`` over the
first row of each cluster (``starts``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy.linalg import lapack

#: |linear predictor| beyond which a fitted probability is 0 or 1 to machine precision: an
#: estimate that needs it is separated, not converged
SEPARATION_ETA = 30.0


@dataclass(frozen=True)
class NewtonFit:
    """One maximum-likelihood fit.

    Attributes
    ----------
    params : coefficients (binary logit), or coefficients then the thresholds
        :math:`c_1 < \\dots < c_{J-1}` (ordered logit).
    cov : LA-clustered covariance of ``params`` (CRV1, statsmodels' small-sample factor).
    llf : log-likelihood at ``params``.
    iterations : Newton iterations taken.
    converged : the largest Newton step fell below the tolerance with a finite, non-separated fit.
    """

    params: np.ndarray
    cov: np.ndarray
    llf: float
    iterations: int
    converged: bool


def solve_pd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``a x = b`` for a symmetric positive-definite ``a`` (LAPACK ``dposv``, no checks of
    finiteness: the fast path's one linear solve); raises ``np.linalg.LinAlgError`` if ``a`` is
    not positive definite."""
    _, x, info = lapack.dposv(a, b)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (dposv info {info})")
    return x


def cluster_starts(groups: np.ndarray) -> np.ndarray:
    """Positions of the first row of each cluster; raises if the rows are not sorted by cluster."""
    groups = np.asarray(groups)
    new = np.ones(len(groups), bool)
    new[1:] = groups[1:] != groups[:-1]
    starts = np.flatnonzero(new)
    if len(np.unique(groups)) != len(starts):
        raise ValueError("rows must be sorted by cluster (each LA's rows together)")
    return starts


def cluster_covariance(scores: np.ndarray, info: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """LA-clustered sandwich covariance.

    Notes
    -----
    :math:`V = \\frac{G}{G-1}\\frac{n-1}{n-k}\\, I^{-1}\\big(\\sum_g s_g s_g'\\big) I^{-1}` with
    :math:`s_g` the sum of the score contributions of cluster g and :math:`I` the observed
    information (minus the Hessian): statsmodels' ``cov_type="cluster"`` (CRV1).
    """
    n, k = scores.shape
    s = np.add.reduceat(scores, starts, axis=0)
    g = len(starts)
    half = solve_pd(info, s.T)  # I^{-1} S'
    return g / (g - 1) * (n - 1) / (n - k) * (half @ half.T)


# --------------------------------------------------------------------------- binary logit
def _logit_llf(eta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log L of each row of ``eta`` / ``y`` (m x n): sum y eta - log(1 + e^eta), without overflow."""
    return np.sum(y * eta - np.logaddexp(0.0, eta), axis=-1)


def fit_logits(x: np.ndarray, ys: np.ndarray, starts: np.ndarray, start: np.ndarray | None = None,
               tol: float = 1e-6, max_iter: int = 60) -> list[NewtonFit]:
    """Binary logits :math:`P(y_r=1|x) = \\Lambda(x'\\beta_r)` of several outcomes on one design,
    by Newton's method vectorised over the outcomes (rows of ``ys``, m x n).

    Notes
    -----
    Score :math:`\\sum_i x_i (y_i - p_i)`, information :math:`\\sum_i p_i(1-p_i) x_i x_i'`, step
    :math:`\\Delta = I^{-1} g`, halved until the log-likelihood does not fall (it is concave, so
    full steps almost always do). An outcome has converged when its largest step taken is below
    ``tol`` (the error left is of the order of its square); a fit whose linear predictor exceeds
    :data:`SEPARATION_ETA` in absolute value is separated and reported as not converged.
    ``start`` (m x k, rows of NaN for none) is used where its log-likelihood beats zero.
    """
    ys = np.atleast_2d(ys)
    m, k = len(ys), x.shape[1]
    beta = np.zeros((m, k))
    eta = np.zeros(ys.shape)
    llf = _logit_llf(eta, ys)
    if start is not None:  # a warm start only where it beats the zero start
        start = np.nan_to_num(np.atleast_2d(start))
        s_eta = start @ x.T
        s_llf = _logit_llf(s_eta, ys)
        better = s_llf > llf
        beta[better], eta[better], llf[better] = start[better], s_eta[better], s_llf[better]
    active = np.ones(m, bool)
    converged = np.zeros(m, bool)
    iterations = np.zeros(m, int)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        iterations[rows] += 1
        p = special.expit(eta[rows])
        info = (x.T[None, :, :] * (p * (1 - p))[:, None, :]) @ x
        grad = (ys[rows] - p) @ x
        for j, r in enumerate(rows):
            try:
                step = solve_pd(info[j], grad[j])
            except np.linalg.LinAlgError:
                active[r] = False
                continue
            for _ in range(30):
                new = beta[r] + step
                eta_new = x @ new
                llf_new = float(_logit_llf(eta_new, ys[r]))
                if llf_new >= llf[r] - 1e-12 * abs(llf[r]):
                    break
                step = step / 2
            else:
                active[r] = False  # no step improves: stop, not converged
                continue
            beta[r], eta[r], llf[r] = new, eta_new, llf_new
            if np.max(np.abs(step)) < tol:
                active[r], converged[r] = False, True
    fits = []
    for r in range(m):
        ok = converged[r] and np.all(np.isfinite(beta[r])) and np.max(np.abs(eta[r])) <= SEPARATION_ETA
        p = special.expit(eta[r])
        info = (x.T * (p * (1 - p))) @ x
        try:
            cov = cluster_covariance(x * (ys[r] - p)[:, None], info, starts)
        except np.linalg.LinAlgError:
            cov, ok = np.full((k, k), np.nan), False
        fits.append(NewtonFit(beta[r].copy(), cov, float(llf[r]), int(iterations[r]), bool(ok)))
    return fits


def fit_logit(x: np.ndarray, y: np.ndarray, starts: np.ndarray, start: np.ndarray | None = None,
              tol: float = 1e-6, max_iter: int = 60) -> NewtonFit:
    """One binary logit (see :func:`fit_logits`)."""
    return fit_logits(x, y[None, :], starts, None if start is None else start[None, :], tol, max_iter)[0]


def _ame_delta(bj: np.ndarray, m: float, dm: np.ndarray, cols: list[int], scale: np.ndarray,
               cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AMEs of the form :math:`s_j\\beta_j\\bar m(\\theta)` and their delta-method SEs, given
    :math:`\\bar m` and its gradient ``dm`` over all parameters.

    Notes
    -----
    :math:`g_j = s_j(\\beta_j\\,\\partial\\bar m/\\partial\\theta + \\bar m\\, e_j)`,
    :math:`\\mathrm{se}_j = \\sqrt{g_j' V g_j}`.
    """
    grad = bj[:, None] * dm[None, :]
    grad[np.arange(len(cols)), cols] += m
    grad *= scale[:, None]
    return scale * bj * m, np.sqrt(np.einsum("jk,kl,jl->j", grad, cov, grad))


def logit_ame(x: np.ndarray, fit: NewtonFit, cols: list[int], scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average marginal effects on :math:`P(y=1)` of ``scale``-sized changes of columns ``cols``,
    with delta-method standard errors.

    Notes
    -----
    :math:`\\mathrm{AME}_j = s_j \\beta_j \\bar m`, :math:`\\bar m = n^{-1}\\sum_i p_i(1-p_i)`;
    gradient :math:`\\partial \\mathrm{AME}_j/\\partial\\beta_l = s_j(\\delta_{jl}\\bar m +
    \\beta_j n^{-1}\\sum_i p_i(1-p_i)(1-2p_i)x_{il})`; :math:`\\mathrm{se} = \\sqrt{g'Vg}`.
    The same as statsmodels ``get_margeff(at="overall", method="dydx")`` times ``scale``.
    """
    b = fit.params
    p = special.expit(x @ b)
    m = np.mean(p * (1 - p))
    dm = (p * (1 - p) * (1 - 2 * p)) @ x / len(p)        # d m / d beta
    return _ame_delta(b[cols], m, dm, cols, scale, fit.cov)


# --------------------------------------------------------------------------- ordered logit
class _Ordered:
    """Per-row pieces of the ordered-logit likelihood at given parameters (categories 0..J-1)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, n_categories: int):
        self.x, self.y, self.k, self.n_cut = x, y, x.shape[1], n_categories - 1
        n = len(y)
        self.upper = np.zeros((n, self.n_cut))  # 1 where c_j is the row's upper bound (y = j)
        self.lower = np.zeros((n, self.n_cut))  # 1 where c_j is the row's lower bound (y = j + 1)
        top, bot = y < self.n_cut, y > 0
        self.upper[np.flatnonzero(top), y[top]] = 1.0
        self.lower[np.flatnonzero(bot), y[bot] - 1] = 1.0
        self.bounds = np.concatenate([[-np.inf], np.zeros(self.n_cut), [np.inf]])  # c_{-1}, c_0..c_{J-2}, c_{J-1}
        self.info = np.empty((self.k + self.n_cut, self.k + self.n_cut))

    def at(self, params: np.ndarray) -> float:
        """Evaluate at ``params``; returns the log-likelihood (-inf if a probability is 0)."""
        k = self.k
        beta, cuts = params[:k], params[k:]
        eta = self.x @ beta
        self.bounds[1:-1] = cuts
        up = self.bounds[1:][self.y] - eta
        lo = self.bounds[:-1][self.y] - eta
        self.fu, self.fl = special.expit(up), special.expit(lo)
        self.prob = self.fu - self.fl
        if not np.all(self.prob > 0):
            return -np.inf
        return float(np.sum(np.log(self.prob)))

    def score_info(self) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and observed information at the last :meth:`at` (formulas in
        :func:`ordered_score_info`)."""
        fu, fl, prob, y, x = self.fu, self.fl, self.prob, self.y, self.x
        du, dl = fu * (1 - fu), fl * (1 - fl)  # zero at the infinite bounds
        au, al = du / prob, -dl / prob
        huu = du * (1 - 2 * fu) / prob - au ** 2
        hll = -dl * (1 - 2 * fl) / prob - al ** 2
        hul = -au * al
        self.au, self.al = au, al
        j = self.n_cut + 1
        k = self.k
        grad = np.concatenate([-(x.T @ (au + al)), np.bincount(y, au, j)[:-1] + np.bincount(y, al, j)[1:]])
        info = self.info  # minus the Hessian, filled block by block
        info[:k, :k] = -((x.T * (huu + 2 * hul + hll)) @ x)
        h_bc = x.T @ (self.upper * (huu + hul)[:, None] + self.lower * (hul + hll)[:, None])
        info[:k, k:] = h_bc
        info[k:, :k] = h_bc.T
        off = -np.bincount(y, hul, j)[1:-1]  # rows with y = m + 1 have bounds c_m (lower), c_{m+1} (upper)
        cc = np.diag(-(np.bincount(y, huu, j)[:-1] + np.bincount(y, hll, j)[1:]))
        cc[np.arange(j - 2), np.arange(1, j - 1)] = off
        cc[np.arange(1, j - 1), np.arange(j - 2)] = off
        info[k:, k:] = cc
        return grad, info.copy()

    def scores(self) -> np.ndarray:
        """Per-row score at the last :meth:`score_info`."""
        return np.column_stack([-self.x * (self.au + self.al)[:, None],
                                self.upper * self.au[:, None] + self.lower * self.al[:, None]])


def ordered_score_info(x: np.ndarray, y: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-row score, observed information and log-likelihood of the ordered logit.

    Notes
    -----
    :math:`P(y_i = j) = \\Lambda(c_{j} - x_i'\\beta) - \\Lambda(c_{j-1} - x_i'\\beta)`, categories
    :math:`j = 0..J-1`, :math:`c_{-1} = -\\infty`, :math:`c_{J-1} = \\infty`. With
    :math:`u_i = c_{y_i} - \\eta_i`, :math:`l_i = c_{y_i-1} - \\eta_i`, :math:`P_i` the probability,
    :math:`f = \\Lambda(1-\\Lambda)`, :math:`f' = f(1-2\\Lambda)`:
    :math:`a_u = f(u)/P`, :math:`a_l = -f(l)/P`;
    :math:`h_{uu} = f'(u)/P - a_u^2`, :math:`h_{ll} = -f'(l)/P - a_l^2`, :math:`h_{ul} = -a_u a_l`.
    Score: :math:`\\partial\\ell/\\partial\\beta = -x(a_u + a_l)`,
    :math:`\\partial\\ell/\\partial c_j = a_u[y=j] + a_l[y=j+1]`. Hessian:
    :math:`\\partial^2\\ell/\\partial\\beta\\partial\\beta' = xx'(h_{uu} + 2h_{ul} + h_{ll})`,
    :math:`\\partial^2\\ell/\\partial\\beta\\partial c_j = -x([y=j](h_{uu}+h_{ul}) + [y=j+1](h_{ul}+h_{ll}))`,
    :math:`\\partial^2\\ell/\\partial c_j^2 = \\sum_{y=j}h_{uu} + \\sum_{y=j+1}h_{ll}`,
    :math:`\\partial^2\\ell/\\partial c_j\\partial c_{j+1} = \\sum_{y=j+1}h_{ul}`, other threshold
    pairs zero. Terms at an infinite bound are zero.
    """
    y = np.asarray(y, dtype=int)
    o = _Ordered(x, y, len(params) - x.shape[1] + 1)
    llf = o.at(np.asarray(params, dtype=float))
    _, info = o.score_info()
    return o.scores(), info, llf


def fit_ordered_logit(x: np.ndarray, y: np.ndarray, starts: np.ndarray, n_categories: int,
                      start: np.ndarray | None = None, tol: float = 1e-6, max_iter: int = 60) -> NewtonFit:
    """Ordered logit of ``y`` (integer categories 0..J-1) on ``x`` (no constant), by Newton's
    method in :math:`(\\beta, c)` (the log-likelihood is concave there, Pratt 1981).

    Notes
    -----
    :math:`P(y_i \\le j) = \\Lambda(c_j - x_i'\\beta)`: statsmodels ``OrderedModel(distr="logit")``
    with its thresholds :math:`c_1 = \\theta_1`, :math:`c_j = c_{j-1} + e^{\\theta_j}`. Start: zero
    coefficients and the cumulative logits of the sample shares (or ``start`` if its
    log-likelihood is higher). A step is halved until the log-likelihood does not fall and the
    thresholds stay increasing; converged when the largest step taken is below ``tol``
    (Newton converges quadratically, so the error left is of the order of its square).
    """
    n, k = x.shape
    y = np.asarray(y, dtype=int)
    o = _Ordered(x, y, n_categories)
    cum = np.cumsum(np.bincount(y, minlength=n_categories))[:-1] / n
    params = np.concatenate([np.zeros(k), np.log(cum / (1 - cum))])
    llf = o.at(params)
    if start is not None and np.all(np.diff(start[k:]) > 0):  # a warm start only if it beats the null start
        start = np.asarray(start, dtype=float)
        s_llf = o.at(start)
        if s_llf > llf:
            params, llf = start, s_llf
        else:
            o.at(params)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        grad, info = o.score_info()
        try:
            step = solve_pd(info, grad)
        except np.linalg.LinAlgError:
            break
        accepted = False
        for _ in range(30):
            new = params + step
            if np.all(np.diff(new[k:]) > 0):
                llf_new = o.at(new)
                if llf_new >= llf - 1e-12 * abs(llf):
                    accepted = True
                    break
            step = step / 2
        if not accepted:
            o.at(params)
            break
        params, llf = new, llf_new
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    _, info = o.score_info()
    if not np.all(np.isfinite(params)) or np.max(np.abs(x @ params[:k])) > SEPARATION_ETA:
        converged = False
    try:
        cov = cluster_covariance(o.scores(), info, starts)
    except np.linalg.LinAlgError:
        cov, converged = np.full((len(params), len(params)), np.nan), False
    return NewtonFit(params, cov, llf, it, converged)


def ordered_ame_expected(x: np.ndarray, fit: NewtonFit, cols: list[int],
                         scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average marginal effects on the expected category :math:`E[y]` (the grade, 1 to 4) of
    ``scale``-sized changes of columns ``cols``, with delta-method standard errors.

    Notes
    -----
    :math:`E[y_i] = 1 + \\sum_j (1 - \\Lambda(c_j - \\eta_i))`, so
    :math:`\\partial E[y_i]/\\partial x_{ij} = \\beta_j \\sum_m f(c_m - \\eta_i)` and
    :math:`\\mathrm{AME}_j = s_j\\beta_j \\bar m`, :math:`\\bar m = n^{-1}\\sum_i\\sum_m f(c_m-\\eta_i)`;
    :math:`\\partial\\bar m/\\partial\\beta_l = -n^{-1}\\sum_i\\sum_m f'(c_m-\\eta_i)x_{il}`,
    :math:`\\partial\\bar m/\\partial c_m = n^{-1}\\sum_i f'(c_m-\\eta_i)`.
    """
    n, k = x.shape
    beta, cuts = fit.params[:k], fit.params[k:]
    z = cuts[None, :] - (x @ beta)[:, None]               # n x (J-1)
    lam = special.expit(z)
    f = lam * (1 - lam)
    d = f * (1 - 2 * lam)
    m = f.sum(axis=1).mean()
    dm = np.concatenate([-(d.sum(axis=1) @ x) / n, d.mean(axis=0)])   # d m / d (beta, c)
    return _ame_delta(beta[cols], m, dm, cols, scale, fit.cov)
