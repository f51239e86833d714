"""Trend-robust ("honest") inference for event studies (Rambachan and Roth, 2023).

An event study gives coefficients :math:`\\hat\\beta = (\\hat\\beta_{pre}, \\hat\\beta_{post})` relative to a
reference period (here the census before the event) with covariance :math:`\\Sigma`. Write
:math:`\\beta = \\delta + (0, \\tau)`: :math:`\\delta` is the difference in trends that would have
happened without the event (``delta_pre = beta_pre``), :math:`\\tau` the effect. Parallel trends is
:math:`\\delta_{post} = 0`; the honest approach instead bounds :math:`\\delta_{post}` by what the pre-period
shows and gives confidence sets for :math:`\\theta = l'\\tau` valid for every :math:`\\delta` in the set.

* **Relative magnitudes** :math:`\\Delta^{RM}(\\bar M)`: every post-period change of the trend
  difference between consecutive periods is at most :math:`\\bar M` times the largest such change
  in the pre-period. Confidence set: the conditional-hybrid test of Andrews, Roth and Pakes
  (2023) ("C-LF" in the R package HonestDiD), inverted over a grid and united over the location
  and sign of the largest pre-period change (:func:`rm_interval`).
* **Smoothness** :math:`\\Delta^{SD}(M)`: the slope of the trend difference changes by at most
  :math:`M` between consecutive periods (M = 0: an exactly linear trend, extrapolated).
  Confidence interval: the optimal fixed-length interval (FLCI) of Armstrong and Kolesar
  (:func:`sd_flci`).

Hand-written, not the PyPI package ``honestdid``: that depends on torch (with 14 CUDA packages)
and cvxpy and took 7.6 to 8.8 s to import here, beyond the 5 s budget of ``make results``.
The implementation follows the R package's defaults (post-period moments only when there are
nuisance parameters, kappa = alpha / 10, 1,000 least-favourable simulations with a fixed seed)
and reproduces its published Medicaid example (``tests/test_honest_did.py``).
Each dual vertex of the test's linear programme is enumerated once, so that the test is
evaluated on the whole grid by array operations instead of one linear programme per point.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

ALPHA = 0.05


@dataclass(frozen=True)
class EventStudyEstimates:
    """Pre-period coefficients (earliest first, the reference period omitted), then post-period
    coefficients, with their covariance."""

    betahat: np.ndarray
    sigma: np.ndarray
    n_pre: int
    n_post: int

    def __post_init__(self):
        b, v = np.asarray(self.betahat, float), np.asarray(self.sigma, float)
        k = self.n_pre + self.n_post
        if self.n_pre < 2 or self.n_post < 1:
            raise ValueError(f"need at least 2 pre-periods and 1 post-period, got {self.n_pre} and {self.n_post}")
        if b.shape != (k,) or v.shape != (k, k):
            raise ValueError(f"betahat must have {k} entries and sigma be {k} x {k}; got {b.shape} and {v.shape}")
        if not (np.all(np.isfinite(b)) and np.all(np.isfinite(v))):
            raise ValueError("betahat and sigma must be finite")
        if not np.allclose(v, v.T, atol=1e-12 * max(1.0, np.abs(v).max())):
            raise ValueError("sigma must be symmetric")
        if np.linalg.eigvalsh(v).min() < -1e-10 * max(1.0, np.abs(v).max()):
            raise ValueError("sigma must be positive semi-definite")

    def target(self, post_index: int) -> np.ndarray:
        """``l``: the basis vector of the ``post_index``-th post period (0 = the first)."""
        if not 0 <= post_index < self.n_post:
            raise ValueError(f"post_index must be in 0..{self.n_post - 1}")
        return np.eye(self.n_post)[post_index]


def original_interval(es: EventStudyEstimates, l: np.ndarray, alpha: float = ALPHA) -> tuple[float, float]:
    """Conventional interval for :math:`l'\\beta_{post}` (exact parallel trends)."""
    post = slice(es.n_pre, None)
    est = float(l @ es.betahat[post])
    se = float(np.sqrt(l @ es.sigma[post, post] @ l))
    z = stats.norm.ppf(1 - alpha / 2)
    return est - z * se, est + z * se


# --------------------------------------------------------------------------- relative magnitudes

def _slope_rows(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows mapping :math:`\\delta` (reference omitted) to the pre-period and post-period changes
    :math:`\\delta_{t+1} - \\delta_t` (the reference period's :math:`\\delta_0 = 0` included)."""
    n = n_pre + 1 + n_post
    diff = np.zeros((n - 1, n))
    diff[np.arange(n - 1), np.arange(n - 1)] = -1.0
    diff[np.arange(n - 1), np.arange(1, n)] = 1.0
    diff = np.delete(diff, n_pre, axis=1)  # delta_0 = 0
    return diff[:n_pre], diff[n_pre:]


def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Matrix ``A`` of :math:`\\Delta^{RM}_{s,\\pm}(\\bar M) = \\{\\delta: A\\delta \\le 0\\}`.

    Notes
    -----
    With pre-period change :math:`c_s` (``s`` = 0 the earliest) of sign :math:`\\pm`:
    :math:`\\mp c_s \\le 0` and :math:`|\\delta_{t+1} - \\delta_t| \\le \\pm\\bar M c_s` for every post
    period. The union over ``s`` and the sign is :math:`\\Delta^{RM}(\\bar M)`.
    """
    pre, post = _slope_rows(n_pre, n_post)
    sign = 1.0 if positive else -1.0
    bound = sign * mbar * pre[s]
    rows = [-sign * pre[s]]
    for p in post:
        rows += [p - bound, -p - bound]
    return np.array(rows)


@functools.lru_cache(maxsize=64)
def _cone_rays(l: tuple, n_post: int) -> np.ndarray:
    """Extreme rays of :math:`\\{\\gamma \\ge 0: \\gamma'X = 0\\}` for the post-period moments of
    :math:`\\Delta^{RM}` (two rows, :math:`\\pm`, per post-period change; the same for every
    :math:`\\bar M`, location and sign), scaled to sum to one. The dual vertices of a test are these
    rays rescaled to :math:`\\gamma'\\tilde\\sigma = 1`."""
    _, post = _slope_rows(1, n_post)
    a_post = np.vstack([r for p in post[:, 1:] for r in (p, -p)])
    x = a_post @ np.linalg.inv(_completion(np.array(l)))[:, 1:]
    return _dual_vertices(x, np.ones(len(x)))


def _dual_vertices(x: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices of :math:`\\{\\gamma \\ge 0: \\gamma'\\tilde\\sigma = 1, \\gamma' X = 0\\}` (one a row).

    Notes
    -----
    The dual of :math:`\\min_{\\eta, \\tilde\\tau} \\eta` s.t. :math:`Y - X\\tilde\\tau \\le \\eta\\tilde\\sigma` is
    :math:`\\max_\\gamma \\gamma'Y` over this polytope (bounded: :math:`\\tilde\\sigma > 0`), so the test
    statistic is the largest :math:`\\gamma_v'Y` over its vertices. A vertex is a basic feasible
    solution: ``p + 1`` rows (p = number of nuisance parameters) with a non-singular system.
    """
    m, p = x.shape
    out = []
    for rows in itertools.combinations(range(m), p + 1):
        r = list(rows)
        sys_ = np.vstack([sd[r], x[r].T])
        if abs(np.linalg.det(sys_)) < 1e-12 * max(1.0, np.abs(sys_).max()) ** (p + 1):
            continue
        g = np.linalg.solve(sys_, np.eye(p + 1)[0])
        if np.all(g >= -1e-10):
            v = np.zeros(m)
            v[r] = np.clip(g, 0, None)
            out.append(v)
    if not out:
        return np.zeros((0, m))
    return np.unique(np.round(np.array(out), 12), axis=0)


def truncnorm_quantile(p: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Quantile ``p`` of the standard normal truncated to ``[lo, hi]`` (vectorised; stable in
    either tail).

    Notes
    -----
    :math:`q = \\Phi^{-1}(\\Phi(a) + p(\\Phi(b) - \\Phi(a)))`; where :math:`a > 0` the same through the
    upper tail, :math:`q = -\\Phi^{-1}(\\Phi(-b) + (1-p)(\\Phi(-a) - \\Phi(-b)))`.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    low = special.ndtri(special.ndtr(lo) + p * (special.ndtr(hi) - special.ndtr(lo)))
    up = -special.ndtri(special.ndtr(-hi) + (1 - p) * (special.ndtr(-lo) - special.ndtr(-hi)))
    return np.where(lo > 0, up, low)


@dataclass(frozen=True)
class _ConditionalTests:
    """ARP conditional-hybrid tests, one per restriction set t (stacked on the first axis), of
    :math:`E[Y_t(\\bar\\theta) - X\\tilde\\tau] \\le 0` for some :math:`\\tilde\\tau`, with
    :math:`Y_t(\\bar\\theta) = y_{0t} - a_t\\bar\\theta`, evaluated on a grid of :math:`\\bar\\theta`.
    ``vertices[t]`` are the dual vertices (rows), ``rho[t, j, v]``
    :math:`= \\gamma_v'\\Sigma_Y\\gamma_j/\\sigma_j^2`, ``sd[t, j]`` :math:`= \\sigma_j`, ``lf_cv[t]`` the
    least-favourable critical value."""

    y0: np.ndarray
    a: np.ndarray
    vertices: np.ndarray
    rho: np.ndarray
    sd: np.ndarray
    lf_cv: np.ndarray
    alpha: float
    kappa: float

    def accepts(self, theta: np.ndarray) -> np.ndarray:
        """True where :math:`\\bar\\theta` is not rejected by at least one of the tests (the union).

        Notes
        -----
        :math:`\\hat\\eta = \\max_v \\gamma_v'Y`. First stage: reject if :math:`\\hat\\eta > c_{LF}`, the
        :math:`1-\\kappa` quantile of :math:`\\max_v \\gamma_v'\\xi`, :math:`\\xi \\sim N(0, \\Sigma_Y)`.
        Else, with :math:`\\gamma_*` the maximising vertex, :math:`\\sigma_*^2 = \\gamma_*'\\Sigma_Y\\gamma_*`,
        :math:`\\rho_v = \\gamma_v'\\Sigma_Y\\gamma_*/\\sigma_*^2`, :math:`S_v = \\gamma_v'Y - \\rho_v\\hat\\eta`:
        conditional on :math:`\\gamma_*` being optimal, :math:`\\hat\\eta \\sim N(\\le 0, \\sigma_*^2)` truncated to
        :math:`[\\max_{\\rho_v<1} S_v/(1-\\rho_v), \\min(c_{LF}, \\min_{\\rho_v>1} S_v/(1-\\rho_v))]`
        (Andrews, Roth and Pakes 2023); reject if :math:`\\hat\\eta` exceeds its
        :math:`1 - (\\alpha-\\kappa)/(1-\\kappa)` quantile at mean 0.
        """
        theta = np.atleast_1d(np.asarray(theta, float))
        if self.vertices.shape[1] == 0:  # the moments can always be met: nothing is rejected
            return np.ones(theta.shape, bool)
        y = self.y0[:, None, :] - theta[None, :, None] * self.a[:, None, :]  # t x grid x m
        scores = np.einsum("tgm,tvm->tgv", y, self.vertices)
        j = np.argmax(scores, axis=2)  # t x grid
        eta = np.take_along_axis(scores, j[..., None], axis=2)[..., 0]
        r = np.take_along_axis(self.rho, j[..., None], axis=1)  # t x grid x v
        s = scores - r * eta[..., None]
        one = 1.0 - r
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = s / one
        lo = np.where(one > 1e-10, ratio, -np.inf).max(axis=2)
        hi = np.minimum(np.where(one < -1e-10, ratio, np.inf).min(axis=2), self.lf_cv[:, None])
        sd = np.take_along_axis(self.sd, j, axis=1)
        a2 = (self.alpha - self.kappa) / (1 - self.kappa)
        ok = lo < hi
        cv = np.full(eta.shape, np.inf)
        cv[ok] = sd[ok] * truncnorm_quantile(1 - a2, lo[ok] / sd[ok], hi[ok] / sd[ok])
        return ((eta <= self.lf_cv[:, None]) & (eta <= cv)).any(axis=0)


def _rm_tests(es: EventStudyEstimates, l: np.ndarray, mbar: float, alpha: float, draws: np.ndarray) -> _ConditionalTests:
    """The tests for every location ``s`` and sign of the largest pre-period change; ``draws`` are
    :math:`N(0, \\Sigma)` draws of :math:`\\hat\\beta - \\beta` (one a row) for the least-favourable
    critical values."""
    post = slice(es.n_pre, None)
    # tau = Gamma^{-1} (theta, nuisance): Gamma has l as its first row
    ginv0 = np.linalg.inv(_completion(l))[:, 0]
    parts = {k: [] for k in ("y0", "a", "vertices", "rho", "sd", "lf")}
    kappa = alpha / 10
    for s in range(es.n_pre):
        for positive in (True, False):
            a_full = rm_constraints(es.n_pre, es.n_post, mbar, s, positive)
            if es.n_post > 1:  # post-period moments only (the R package's default with nuisance parameters)
                a_full = a_full[np.any(a_full[:, post] != 0, axis=1)]
            rays = _cone_rays(tuple(map(float, l)), es.n_post) if es.n_post > 1 else np.eye(len(a_full))
            sigma_y = a_full @ es.sigma @ a_full.T
            vertices = rays / (rays @ np.sqrt(np.clip(np.diag(sigma_y), 1e-300, None)))[:, None]
            sg = vertices @ sigma_y
            var = np.clip(np.einsum("ij,ij->i", sg, vertices), 1e-300, None)
            parts["y0"].append(a_full @ es.betahat)
            parts["a"].append(a_full[:, post] @ ginv0)
            parts["vertices"].append(vertices)
            parts["rho"].append((sg @ vertices.T) / var[:, None])
            parts["sd"].append(np.sqrt(var))
            parts["lf"].append(float(np.quantile((draws @ a_full.T @ vertices.T).max(axis=1), 1 - kappa))
                               if len(vertices) else np.inf)
    return _ConditionalTests(*(np.array(parts[k]) for k in ("y0", "a", "vertices", "rho", "sd", "lf")), alpha, kappa)


def _completion(l: np.ndarray) -> np.ndarray:
    """Invertible matrix whose first row is ``l`` (the other rows: unit vectors)."""
    return _completion_cached(tuple(map(float, l))).copy()


@functools.lru_cache(maxsize=64)
def _completion_cached(l: tuple) -> np.ndarray:
    n = len(l)
    rows = [np.asarray(l, float)]
    for e in np.eye(n):
        cand = np.vstack([*rows, e])
        if np.linalg.matrix_rank(cand) == len(cand):
            rows.append(e)
        if len(rows) == n:
            break
    return np.vstack(rows)


def _invert(accepts, centre: float, half_width: float, n_grid: int) -> tuple[float, float]:
    """Smallest and largest accepted value: a grid, then two finer grids at each end. The grid doubles
    until the accepted set is inside it; NaN if nothing is accepted."""
    for _ in range(8):
        grid = np.linspace(centre - half_width, centre + half_width, n_grid)
        ok = accepts(grid)
        if not ok.any():
            return float("nan"), float("nan")
        if not (ok[0] or ok[-1]):
            break
        half_width *= 2
    else:
        return -float("inf"), float("inf")
    idx = np.flatnonzero(ok)

    def edge(inside: float, outside: float) -> float:
        # two rounds of a 64-point grid between the last accepted and the first rejected value
        for _ in range(2):
            pts = np.linspace(inside, outside, 64)
            ok_pts = accepts(pts)
            first_out = int(np.argmin(ok_pts)) if not ok_pts.all() else len(pts) - 1
            inside, outside = pts[max(first_out - 1, 0)], pts[first_out]
        return float(inside)
    return edge(grid[idx[0]], grid[idx[0] - 1]), edge(grid[idx[-1]], grid[idx[-1] + 1])


def lf_draws(es: EventStudyEstimates, sims: int = 1000, seed: int = 0) -> np.ndarray:
    """``sims`` draws of :math:`N(0, \\Sigma)` (fixed seed), shared by every test of one event study."""
    return np.random.default_rng(seed).multivariate_normal(np.zeros(len(es.betahat)), es.sigma, size=sims,
                                                          method="eigh")


def rm_interval(es: EventStudyEstimates, l: np.ndarray, mbar: float, alpha: float = ALPHA,
                n_grid: int = 301, sims: int = 1000, seed: int = 0,
                draws: np.ndarray | None = None) -> tuple[float, float]:
    """Robust confidence set for :math:`\\theta = l'\\tau` under :math:`\\Delta^{RM}(\\bar M)`
    (conditional-hybrid, united over the location and sign of the largest pre-period change).

    Notes
    -----
    For each :math:`(s, \\pm)`, :math:`H_0: \\theta = \\bar\\theta` is tested through the moments
    :math:`A(\\hat\\beta - (0, \\tau)) \\le 0` with :math:`\\tau = \\Gamma^{-1}(\\bar\\theta, \\tilde\\tau)`; the
    set is the union of the accepted :math:`\\bar\\theta` (reported as its smallest and largest value,
    as the R package does). ``draws``: :func:`lf_draws` of ``es``, if already made (the same for
    every target and Mbar).
    """
    if mbar < 0:
        raise ValueError(f"Mbar must be >= 0, got {mbar}")
    l = np.asarray(l, float)
    draws = lf_draws(es, sims, seed) if draws is None else draws
    accepts = _rm_tests(es, l, mbar, alpha, draws).accepts
    post = slice(es.n_pre, None)
    est = float(l @ es.betahat[post])
    sd = float(np.sqrt(l @ es.sigma[post, post] @ l))
    pre_change = np.abs(np.diff(np.append(es.betahat[:es.n_pre], 0.0))).max()
    width = 20 * sd + mbar * pre_change * es.n_post * (es.n_post + 1) / 2 * np.abs(l).sum()
    return _invert(accepts, est, width, n_grid)


# ------------------------------------------------------------------------------------ smoothness

def _sd_maps(n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """Event times and ``D`` with :math:`v'\\delta = v'D\\,S\\delta` for every :math:`v` with
    :math:`v'\\mathrm{times} = 0`, where :math:`S\\delta` are the ``n_pre + n_post - 1`` second
    differences :math:`(\\delta_{t+1}-\\delta_t)-(\\delta_t-\\delta_{t-1})` (with :math:`\\delta_0 = 0`).

    Notes
    -----
    The kernel of :math:`S` (given :math:`\\delta_0 = 0`) is the linear trends :math:`c\\,t`, so
    :math:`\\delta - DS\\delta` is a linear trend for any right inverse :math:`D` (here the
    pseudo-inverse) and :math:`v'\\delta = v'DS\\delta` when :math:`v` annihilates trends.
    """
    times = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)].astype(float)
    n = n_pre + 1 + n_post
    second = np.zeros((n - 2, n))
    for i in range(n - 2):
        second[i, i:i + 3] = (1.0, -2.0, 1.0)
    second = np.delete(second, n_pre, axis=1)  # delta_0 = 0
    return times, np.linalg.pinv(second)


def folded_normal_quantile(p: float, t: float) -> float:
    """:math:`\\mathrm{cv}`: the ``p`` quantile of :math:`|N(t, 1)|` (Newton's method from above).

    Notes
    -----
    Solves :math:`\\Phi(c - t) - \\Phi(-c - t) = p`; the start :math:`|t| + \\Phi^{-1}((1+p)/2)` lies above
    the root and the function is concave beyond it, so the iterates decrease to the root.
    """
    t = abs(t)
    c = t + special.ndtri((1 + p) / 2)
    for _ in range(60):
        f = special.ndtr(c - t) - special.ndtr(-c - t) - p
        step = f / (np.exp(-0.5 * (c - t) ** 2) + np.exp(-0.5 * (c + t) ** 2)) * np.sqrt(2 * np.pi)
        c -= step
        if abs(step) < 1e-13 * max(1.0, c):
            break
    return float(c)


def _folded_quantile_slope(p: float, t: float, c: float) -> float:
    """:math:`d\\,\\mathrm{cv}/dt` at :math:`t \\ge 0`, by implicit differentiation:
    :math:`(\\phi(c-t) - \\phi(c+t)) / (\\phi(c-t) + \\phi(c+t))`."""
    e1, e2 = np.exp(-0.5 * (c - t) ** 2), np.exp(-0.5 * (c + t) ** 2)
    return float((e1 - e2) / (e1 + e2))


def sd_flci(es: EventStudyEstimates, l: np.ndarray, m: float, alpha: float = ALPHA) -> dict:
    """Optimal fixed-length confidence interval for :math:`\\theta = l'\\tau` under :math:`\\Delta^{SD}(M)`.

    Returns ``lo``, ``hi``, ``estimate`` (the affine estimator :math:`v'\\hat\\beta`), ``half_length``,
    ``max_bias`` and the weights ``v``.

    Notes
    -----
    The estimator :math:`v'\\hat\\beta` with :math:`v = (v_{pre}, l)` has bias :math:`v'\\delta`, bounded over
    :math:`\\Delta^{SD}(M)` only if :math:`v'\\mathrm{t} = 0` (t the event times); then the worst-case
    bias is :math:`\\bar b = M\\lVert D'v\\rVert_1` (the set is symmetric, so the interval is centred on the
    estimator) and :math:`v'\\hat\\beta \\pm \\mathrm{cv}_\\alpha(\\bar b/\\sigma_v)\\sigma_v`, with
    :math:`\\sigma_v^2 = v'\\Sigma v` and :math:`\\mathrm{cv}_\\alpha(t)` the :math:`1-\\alpha` quantile of
    :math:`|N(t, 1)|`, covers :math:`\\theta` with probability :math:`\\ge 1-\\alpha` for every such
    :math:`\\delta` (Armstrong and Kolesar; Rambachan and Roth 2023, Section 4). The half-length
    :math:`h(b, \\sigma) = \\sigma\\,\\mathrm{cv}_\\alpha(b/\\sigma)` is the perspective of a convex increasing
    function, increasing in both arguments, and :math:`\\bar b`, :math:`\\sigma_v` are convex in
    :math:`v_{pre}`: the problem is convex. It is solved smoothly (SLSQP) with :math:`\\lVert\\cdot\\rVert_1`
    split into bounded auxiliaries :math:`u \\ge |D'v|`, from the minimum-variance weights (the exact
    optimum when M = 0).
    """
    if m < 0:
        raise ValueError(f"M must be >= 0, got {m}")
    l = np.asarray(l, float)
    n_pre = es.n_pre
    times, d_map = _sd_maps(n_pre, es.n_post)
    t_pre, t_post = times[:n_pre], times[n_pre:]
    # v_pre = v0 + N z with t_pre' v_pre = -t_post' l
    v0 = -t_pre * (t_post @ l) / (t_pre @ t_pre)
    null = np.linalg.svd(t_pre[None, :])[2][1:].T
    k = null.shape[1]
    w_full = np.vstack([null, np.zeros((es.n_post, k))])  # dv/dz
    v_base = np.r_[v0, l]
    c_z, c_0 = d_map.T @ w_full, d_map.T @ v_base  # D'v = c_0 + c_z z
    n_d = len(c_0)
    p = 1 - alpha

    def parts(x):
        v = v_base + w_full @ x[:k]
        sd = float(np.sqrt(max(v @ es.sigma @ v, 1e-300)))
        return v, sd, m * float(x[k:].sum())

    def objective(x):
        v, sd, b = parts(x)
        t = b / sd
        c = folded_normal_quantile(p, t)
        slope = _folded_quantile_slope(p, t, c)
        d_sd = (w_full.T @ es.sigma @ v) / sd
        grad = np.r_[(c - t * slope) * d_sd, np.full(n_d, m * slope)]
        return sd * c, grad
    # minimum-variance weights: z solving N' Sigma (v_base + W z) = 0 on the pre-period block
    z0 = np.linalg.solve(w_full.T @ es.sigma @ w_full, -(w_full.T @ es.sigma @ v_base))
    x0 = np.r_[z0, np.abs(c_0 + c_z @ z0)]
    cons = [{"type": "ineq", "fun": lambda x: x[k:] - (c_0 + c_z @ x[:k]),
             "jac": lambda x: np.hstack([-c_z, np.eye(n_d)])},
            {"type": "ineq", "fun": lambda x: x[k:] + (c_0 + c_z @ x[:k]),
             "jac": lambda x: np.hstack([c_z, np.eye(n_d)])}]
    if m == 0:
        x = x0
    else:
        r = optimize.minimize(objective, x0, jac=True, method="SLSQP", constraints=cons,
                              options={"ftol": 1e-15, "maxiter": 500})
        x = r.x if r.fun <= objective(x0)[0] else x0
    v = v_base + w_full @ x[:k]
    est = float(v @ es.betahat)
    sd = float(np.sqrt(v @ es.sigma @ v))
    bias = m * float(np.abs(d_map.T @ v).sum())
    hl = sd * folded_normal_quantile(p, bias / sd)
    return {"lo": est - hl, "hi": est + hl, "estimate": est, "half_length": hl, "max_bias": bias, "v": v}


def extrapolation_weights(n_pre: int, l: np.ndarray, t_post: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(v_pre, l)`` of :math:`l'\\hat\\beta_{post}` minus a straight line through the last
    ``points`` pre-period coefficients and the reference period (where the coefficient is 0),
    fitted by least squares and extrapolated to the post periods.

    Notes
    -----
    With pre times :math:`t_j` (``points`` of them) and 0, the line :math:`a + bt` fitted to
    :math:`(t_j, \\hat\\beta_j)` and :math:`(0, 0)` is linear in :math:`\\hat\\beta`:
    :math:`(a, b) = (X'X)^{-1}X'(\\hat\\beta_{pre}, 0)`. The estimate is
    :math:`\\sum_t l_t(\\hat\\beta_t - a - b t)`. ``points = 1`` is the two-point extrapolation
    through k = -2 and k = -1.
    """
    t = np.r_[np.arange(-points, 0), 0].astype(float)
    x = np.column_stack([np.ones_like(t), t])
    proj = np.linalg.solve(x.T @ x, x.T)  # 2 x (points + 1)
    at_post = np.column_stack([np.ones_like(t_post), t_post]) @ proj  # n_post x (points + 1)
    w = -(l @ at_post)[:points]
    v_pre = np.zeros(n_pre)
    v_pre[n_pre - points:] = w
    return v_pre, np.asarray(l, float)


def breakdown(interval, grid_max: float, tol: float = 1e-3, known: dict | None = None) -> float | None:
    """Largest restriction value (``Mbar`` or ``M``) at which ``interval(value)`` excludes zero, by
    bisection on ``[0, grid_max]`` (the sets grow with the value); None if the interval at 0
    already includes zero, ``grid_max`` if it excludes zero everywhere on the range. ``known``:
    intervals already computed at some values (value -> (lo, hi)), used to bracket the search."""
    known = dict(known or {})

    def excludes(x):
        if x not in known:
            known[x] = interval(x)
        lo, hi = known[x]
        return bool(lo > 0 or hi < 0)
    if not excludes(0.0):
        return None
    if excludes(grid_max):
        return grid_max
    a, b = 0.0, grid_max
    for x in sorted(v for v in known if 0 < v < grid_max):
        if excludes(x):
            a = max(a, x)
        else:
            b = min(b, x)
            break
    while b - a > tol:
        mid = 0.5 * (a + b)
        a, b = (mid, b) if excludes(mid) else (a, mid)
    return a
