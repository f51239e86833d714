"""The headline chart's numbers: the share of inspections judged Good or better by quarter of
agency use at the census before fieldwork, raw and adjusted, with 95% intervals.

* Quarters: the quartiles of the agency worker rate over the inspections of the sample
  (:func:`quarter_edges`); an inspection falls in quarter q when its rate lies in
  ``(edge[q-1], edge[q]]`` (the lowest quarter includes the minimum).
* Raw: the share Good or better in each quarter with its Wilson score interval
  (:func:`wilson_interval`).
* Adjusted: a binary logit of Good or better on quarter indicators and the primary design's other
  covariates (:func:`standardised_shares`); each quarter's adjusted share is the prediction
  averaged over every inspection of the sample with its quarter set to q (marginal
  standardisation), so the four adjusted shares differ only by agency use. Intervals: delta
  method with the LA-clustered covariance of the logit.

The result is a tidy table (one row per quarter and kind); nothing here depends on row order
beyond the sort by LA that the clustered covariance needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from .fast_logit import cluster_starts, fit_logit

Z95 = float(stats.norm.ppf(0.975))
QUARTERS = ("lowest", "second", "third", "highest")


def quarter_edges(values: pd.Series) -> np.ndarray:
    """Minimum, the three quartiles and maximum of ``values`` (linear interpolation, numpy's
    default), the boundaries of the four quarters."""
    v = np.asarray(values, float)
    if np.isnan(v).any():
        raise ValueError("quarter_edges: missing values (the sample is complete by construction)")
    return np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])


def assign_quarter(values: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Quarter 0..3 of each value: q with ``edges[q] < v <= edges[q+1]`` (q = 0 includes the
    minimum)."""
    return np.clip(np.searchsorted(edges[1:4], np.asarray(values, float), side="left"), 0, 3)


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n.

    Notes
    -----
    :math:`\\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}`
    (Wilson 1927); unlike :math:`\\hat p \\pm z\\,\\mathrm{se}` it stays within [0, 1].
    """
    if n <= 0:
        raise ValueError("wilson_interval: n must be positive")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


@dataclass(frozen=True)
class Standardised:
    """Adjusted shares (probability scale) by quarter, their delta-method SEs and the fit."""

    share: np.ndarray
    se: np.ndarray
    params: np.ndarray
    cov: np.ndarray
    converged: bool


def standardised_shares(y: np.ndarray, quarter: np.ndarray, controls: np.ndarray,
                        groups: np.ndarray) -> Standardised:
    """Marginally standardised P(y = 1) by quarter from a logit of y on a constant, indicators of
    quarters 2-4 and ``controls``; LA-clustered delta-method SEs.

    Notes
    -----
    With :math:`x_i^{(q)}` row i's design with its quarter indicators set to quarter q,
    :math:`S_q = n^{-1}\\sum_i \\Lambda(x_i^{(q)\\prime}\\hat\\beta)`, gradient
    :math:`g_q = n^{-1}\\sum_i \\Lambda(1-\\Lambda)\\, x_i^{(q)}`, :math:`\\mathrm{se}(S_q) =
    \\sqrt{g_q' V g_q}` with V the CRV1 covariance (:func:`fast_logit.cluster_covariance`).
    Rows must be sorted by ``groups``.
    """
    n = len(y)
    dummies = np.zeros((n, 3))
    for q in (1, 2, 3):
        dummies[:, q - 1] = quarter == q
    x = np.column_stack([np.ones(n), dummies, controls])
    fit = fit_logit(x, np.asarray(y, float), cluster_starts(groups))
    share, se = np.zeros(4), np.zeros(4)
    for q in range(4):
        xq = x.copy()
        xq[:, 1:4] = 0.0
        if q:
            xq[:, q] = 1.0
        p = special.expit(xq @ fit.params)
        g = (p * (1 - p)) @ xq / n
        share[q], se[q] = p.mean(), np.sqrt(g @ fit.cov @ g)
    return Standardised(share, se, fit.params, fit.cov, fit.converged)


def quarter_table(df: pd.DataFrame, controls: list[str], term: str = "agency_rate",
                  outcome: str = "good_or_better") -> pd.DataFrame:
    """Tidy table of the headline chart: one row per quarter and kind (``raw``, ``adjusted``).

    Columns: ``quarter`` (0-3), ``label`` (lowest .. highest), ``low_edge``, ``high_edge`` (the
    quarter's range of ``term``), ``kind``, ``n``, ``share``, ``ci_low``, ``ci_high``
    (probabilities). ``df`` is the primary sample (complete in ``term``, ``outcome``,
    ``controls``, ``la_code``); ``controls`` excludes ``term``.
    """
    if term in controls:
        raise ValueError(f"quarter_table: {term} is the quartered measure, not a control")
    d = df.sort_values(["la_code"], kind="mergesort").reset_index(drop=True)
    edges = quarter_edges(d[term])
    q = assign_quarter(d[term], edges)
    y = d[outcome].to_numpy(float)
    adj = standardised_shares(y, q, d[controls].to_numpy(float), d["la_code"].to_numpy())
    if not adj.converged:
        raise RuntimeError("quarter_table: the adjusted logit did not converge")
    rows = []
    for k in range(4):
        inq = q == k
        n, hits = int(inq.sum()), int(y[inq].sum())
        lo, hi = wilson_interval(hits, n)
        base = {"quarter": k, "label": QUARTERS[k], "low_edge": float(edges[k]), "high_edge": float(edges[k + 1]),
                "n": n}
        rows.append({**base, "kind": "raw", "share": hits / n, "ci_low": lo, "ci_high": hi})
        s, se = adj.share[k], adj.se[k]
        rows.append({**base, "kind": "adjusted", "share": float(s), "ci_low": float(s - Z95 * se),
                     "ci_high": float(s + Z95 * se)})
    return pd.DataFrame(rows)
