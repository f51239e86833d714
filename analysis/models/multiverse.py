"""Multiverse: the workforce coefficients across every combination of outcome coding, timing,
control set, sample and estimator (replaces the 256-model specification curve).

Choices (:data:`CHOICES`)
-------------------------
* outcome: ``grade`` (1 Outstanding - 4 Inadequate), ``good_or_better`` (0/1), ``inadequate`` (0/1);
* timing of the workforce measures: ``census before`` (the last census strictly before fieldwork),
  ``mean of two before`` (that census and the one before), ``change over two years`` (that census
  minus the one two years earlier);
* controls: every subset of ``spending`` (log gross s251 spend per child), ``region`` (9 region
  dummies), ``s47`` (section 47 enquiries per 10,000) and ``demand`` (children in need, on plans,
  looked after per 10,000), all from the same census/financial year as the census before fieldwork;
* sample: all, 2017+, excl. London, excl. joint returns, SIF only, ILACS only;
* estimator: ``insp_pooled_lpm`` (inspection level, linear probability / linear grade model with
  inspection-year and framework effects), ``insp_fe_lpm`` (the same with LA fixed effects) and
  ``panel_fe`` (LA-year panel, LA and year effects; outcome = grade *in force* at the census, so
  this one is descriptive: the grade may predate the census).

Every inspection-level frame is checked against the timing rule (:func:`check_forward_timing`):
the latest census used must be strictly before the fieldwork start. Specifications that cannot be
estimated are listed with the reason instead of a number: a control whose column is absent from
the derived data, a time-invariant control (region) under LA fixed effects, a regressor without
within-LA variation, or no residual degrees of freedom.

Fast path
---------
Specifications sharing the estimator, sample, timing and controls share their rows (the three
outcome codings come from the same grade), so each group is one least-squares problem with three
right-hand sides. By Frisch-Waugh-Lovell the workforce coefficients and their cluster-robust
covariance are those of the residualised problem: absorb LA means (within transformation), then
project out the remaining nuisance columns W (constant, year and framework dummies, controls):

.. math::

    \\tilde X = M_W M_{LA} X,\\quad \\hat\\beta = (\\tilde X'\\tilde X)^{-1}\\tilde X'\\tilde y,\\quad
    \\hat V = \\frac{n}{n-k}(\\tilde X'\\tilde X)^{-1}\\Big(\\sum_g \\tilde X_g'\\hat u_g\\hat u_g'\\tilde X_g\\Big)
    (\\tilde X'\\tilde X)^{-1},

with :math:`k` counted as linearmodels counts it (PooledOLS: all columns; PanelOLS with LA and
year effects: columns plus LA and year effects; PanelOLS with LA effects only, nested in the LA
clusters: columns only). :func:`fit_spec_linearmodels` fits one specification with linearmodels
for the equality test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from .spec import IdentificationError, prepare_panel

TERMS = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate")
OUTCOMES = ("grade", "good_or_better", "inadequate")
TIMINGS = ("census before", "mean of two before", "change over two years")
CONTROL_PARTS = {"spending": ("log_spend_total_pc",), "region": ("region",), "s47": ("s47_rate",),
                 "demand": ("cin_rate", "cpp_rate", "cla_rate")}
SAMPLES = ("all", "2017+", "excl. London", "excl. joint returns", "SIF only", "ILACS only")
ESTIMATORS = {"insp_pooled_lpm": "inspection level, pooled OLS with inspection-year and framework effects",
              "insp_fe_lpm": "inspection level, LA fixed effects + inspection-year and framework effects",
              "panel_fe": "LA-year panel, LA + year effects; grade in force (descriptive)"}
JOINT_RETURNS = ("314", "318", "928")
SIGN = {"grade": 1.0, "good_or_better": -1.0, "inadequate": 1.0}  # + = worse rating
COLUMNS = ["spec_id", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n_obs", "n_las",
           "estimator", "outcome", "timing", "controls", "sample", "status", "reason", "level", "timing_rule",
           "std_estimate", "worse_rating_std"]


def control_sets() -> list[tuple[str, tuple[str, ...]]]:
    """Every subset of the control components, labelled 'none' or 'a + b'."""
    parts = list(CONTROL_PARTS)
    out = []
    for r in range(len(parts) + 1):
        for combo in itertools.combinations(parts, r):
            out.append((" + ".join(combo) if combo else "none", combo))
    return out


CHOICES = {"estimator": tuple(ESTIMATORS), "outcome": OUTCOMES, "timing": TIMINGS,
           "controls": tuple(label for label, _ in control_sets()), "sample": SAMPLES}


@dataclass(frozen=True)
class Spec:
    spec_id: int
    estimator: str
    outcome: str
    timing: str
    controls: str
    sample: str


def specifications() -> list[Spec]:
    """Every combination in a fixed order (spec_id = position)."""
    combos = itertools.product(CHOICES["estimator"], CHOICES["sample"], CHOICES["timing"], CHOICES["controls"],
                               CHOICES["outcome"])
    return [Spec(i, e, o, t, c, s) for i, (e, s, t, c, o) in enumerate(combos)]


class TimingError(ValueError):
    """A regressor is not measured strictly before the fieldwork of the inspection it explains."""


def census_date(year) -> pd.Series:
    return pd.to_datetime(pd.Series(year).astype(int).astype(str) + "-09-30")


def check_forward_timing(frame: pd.DataFrame) -> None:
    """Every inspection row: the latest census used (``last_census``) is strictly before the
    fieldwork start (``start_date``); raises :class:`TimingError` naming the first offender."""
    bad = frame[~(census_date(frame["last_census"]).to_numpy() < frame["start_date"].to_numpy())]
    if len(bad):
        r = bad.iloc[0]
        raise TimingError(f"{len(bad)} inspection(s) use a census on or after fieldwork, e.g. "
                          f"{r['inspection_id']}: census {int(r['last_census'])}, fieldwork {r['start_date']:%Y-%m-%d}")


def _timed(lookup: pd.DataFrame, la: pd.Series, census: pd.Series, timing: str, cols) -> tuple[pd.DataFrame, pd.Series]:
    """Measures of ``cols`` under ``timing`` relative to census ``census``, and the latest census
    year actually read (for :func:`check_forward_timing`)."""
    read: list[int] = []

    def at(offset):
        read.append(offset)
        idx = pd.MultiIndex.from_arrays([la.to_numpy(), (census - offset).to_numpy()])
        return lookup.reindex(idx)[list(cols)].to_numpy(dtype=float)
    if timing == "census before":
        v = at(0)
    elif timing == "mean of two before":
        v = (at(0) + at(1)) / 2
    elif timing == "change over two years":
        v = at(0) - at(2)
    else:
        raise IdentificationError(f"unknown timing {timing!r}; choose from {TIMINGS}")
    return pd.DataFrame(v, columns=list(cols), index=la.index), census - min(read)


def _controls_available(panel: pd.DataFrame) -> list[str]:
    return [c for cols in CONTROL_PARTS.values() for c in cols if c != "region" and c in panel.columns]


def inspection_frames(inspections: pd.DataFrame, panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One inspection-level frame per timing: graded SIF/ILACS inspections of panel LAs, sorted by
    LA and fieldwork start, with the timed workforce measures, controls (census before fieldwork)
    and ``last_census`` (checked by :func:`check_forward_timing`)."""
    mp = prepare_panel(panel)
    lookup = mp.set_index(["la_code", "year"])
    g = inspections[inspections["framework"].isin(["SIF", "ILACS"]) & inspections["overall_num"].notna()
                    & inspections["la_code"].isin(mp["la_code"])].copy()
    g = g.sort_values(["la_code", "start_date", "inspection_id"]).reset_index(drop=True)
    base = pd.DataFrame({"la_code": g["la_code"], "inspection_id": g["inspection_id"],
                         "start_date": g["start_date"], "year": g["inspection_year"].astype(int),
                         "framework": g["framework"],
                         "region": g["region"], "london": g["london"].astype(bool)})
    base["grade"] = g["overall_num"].astype(float)
    ctrl = _controls_available(mp)
    census = g["census_year"].astype(int)
    c, c_last = _timed(lookup, base["la_code"], census, "census before", ctrl)
    base = pd.concat([base, c], axis=1)
    frames = {}
    for timing in TIMINGS:
        x, x_last = _timed(lookup, base["la_code"], census, timing, TERMS)
        f = pd.concat([base, x], axis=1)
        f["last_census"] = np.maximum(c_last, x_last)  # the latest census any regressor comes from
        check_forward_timing(f)
        frames[timing] = f
    return frames


def panel_frames(panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """LA-year frames per timing: grade in force at census t; measures timed from census t-1."""
    mp = prepare_panel(panel)
    lookup = mp.set_index(["la_code", "year"])
    p = mp[mp["grade_num"].notna()].sort_values(["la_code", "year"]).reset_index(drop=True)
    base = pd.DataFrame({"la_code": p["la_code"], "year": p["year"].astype(int), "framework": p["grade_framework"],
                         "last_census": p["year"].astype(int) - 1, "region": p["region"],
                         "london": p["london"].astype(bool), "grade": p["grade_num"].astype(float)})
    ctrl = _controls_available(mp)
    base = pd.concat([base, _timed(lookup, base["la_code"], base["last_census"], "census before", ctrl)[0]], axis=1)
    return {t: pd.concat([base, _timed(lookup, base["la_code"], base["last_census"], t, TERMS)[0]], axis=1)
            for t in TIMINGS}


def sample_mask(frame: pd.DataFrame, sample: str) -> np.ndarray:
    if sample == "all":
        m = np.ones(len(frame), bool)
    elif sample == "2017+":
        m = frame["year"].to_numpy() >= 2017
    elif sample == "excl. London":
        m = ~frame["london"].to_numpy()
    elif sample == "excl. joint returns":
        m = ~frame["la_code"].isin(JOINT_RETURNS).to_numpy()
    elif sample == "SIF only":
        m = (frame["framework"] == "SIF").to_numpy()
    elif sample == "ILACS only":
        m = (frame["framework"] == "ILACS").to_numpy()
    else:
        raise IdentificationError(f"unknown sample {sample!r}; choose from {SAMPLES}")
    return m


def outcomes_matrix(grade: np.ndarray) -> np.ndarray:
    return np.column_stack([grade, (grade <= 2).astype(float), (grade == 4).astype(float)])


@dataclass
class Design:
    """One group's residualisable problem (rows sorted by LA)."""

    y: np.ndarray          # n x 3 (OUTCOMES)
    x: np.ndarray          # n x 4 (TERMS)
    w: np.ndarray          # n x r nuisance columns (full column rank after selection)
    w_names: list[str]
    la: np.ndarray         # LA codes (sorted)
    absorb_la: bool
    k_extra: int           # absorbed effects linearmodels counts
    rows: np.ndarray       # positions of the rows in ``source``
    source: pd.DataFrame   # the whole frame (rows taken only for the linearmodels reference)

    @property
    def frame(self) -> pd.DataFrame:
        return self.source.iloc[self.rows]


class Arrays:
    """Numeric columns of one frame, built once and sliced per group (the fast path's input)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.la = frame["la_code"].to_numpy()
        self.x = frame[list(TERMS)].to_numpy(dtype=float)
        self.grade = frame["grade"].to_numpy(dtype=float)
        self.year_d = pd.get_dummies(frame["year"], prefix="year", dtype=float)
        self.region_d = pd.get_dummies(frame["region"], prefix="region", dtype=float)
        self.ilacs = (frame["framework"] == "ILACS").to_numpy(dtype=float)[:, None]
        self.cols = {c: frame[c].to_numpy(dtype=float) for c in frame.columns if frame[c].dtype.kind == "f"}
        self.ok = {c: ~np.isnan(v) for c, v in self.cols.items()}
        self.samples = {smp: sample_mask(frame, smp) for smp in SAMPLES}


def _independent(w: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Linearly independent subset of W's columns (pivoted QR), in their original order."""
    if w.shape[1] == 0:
        return w, names
    _, r, piv = linalg.qr(w, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > d[0] * 1e-10).sum()) if d.size and d[0] > 0 else 0
    keep = np.sort(piv[:rank])
    return w[:, keep], [names[i] for i in keep]


def _demean(a: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    means = np.add.reduceat(a, starts, axis=0) / counts[:, None]
    return a - np.repeat(means, counts, axis=0)


def build_design(arr: "Arrays | pd.DataFrame", spec: Spec, parts: tuple[str, ...]) -> Design:
    """Rows and columns of one group; raises :class:`IdentificationError` with the reason."""
    if isinstance(arr, pd.DataFrame):
        arr = Arrays(arr)
    frame = arr.frame
    cols = [c for p in parts for c in CONTROL_PARTS[p]]
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise IdentificationError(f"skipped: column(s) {missing} not in the derived data yet")
    if "region" in parts and spec.estimator in ("insp_fe_lpm", "panel_fe"):
        raise IdentificationError("not identified: region does not vary within LAs, so it is absorbed by the "
                                  "LA effects")
    cont = [c for c in cols if c != "region"]
    m = arr.samples[spec.sample].copy()
    for c in (*TERMS, *cont, "grade"):
        m &= arr.ok[c]
    idx = np.flatnonzero(m)
    if len(idx) == 0:
        raise IdentificationError("not identified: no complete observations")
    blocks, names = [], []
    if spec.estimator == "insp_pooled_lpm":
        blocks.append(np.ones((len(idx), 1)))
        names.append("const")
    yd = arr.year_d.to_numpy()[idx]
    blocks.append(yd)  # year effects (PanelOLS time effects in panel_fe)
    names += list(arr.year_d.columns)
    if spec.estimator != "panel_fe":
        blocks.append(arr.ilacs[idx])
        names.append("ilacs")
    if "region" in parts:
        blocks.append(arr.region_d.to_numpy()[idx])
        names += list(arr.region_d.columns)
    if cont:
        blocks.append(np.column_stack([arr.cols[c][idx] for c in cont]))
        names += cont
    w = np.hstack(blocks)
    # drop dummies of levels absent from the sample; collinear columns go in the rank selection below
    nonzero = np.abs(w).sum(axis=0) > 0
    w, names = w[:, nonzero], [n for n, keep in zip(names, nonzero) if keep]
    absorb = spec.estimator in ("insp_fe_lpm", "panel_fe")
    la = arr.la[idx]
    x = arr.x[idx]
    y = outcomes_matrix(arr.grade[idx])
    if absorb:
        starts = np.flatnonzero(np.r_[True, la[1:] != la[:-1]])
        counts = np.diff(np.r_[starts, len(la)])
        _, names_kept = _independent(_demean(w, starts, counts), names)
        w = w[:, [names.index(n) for n in names_kept]]
        names = names_kept
        xd = _demean(x, starts, counts)
        for j, t in enumerate(TERMS):
            if np.allclose(xd[:, j], 0.0):
                raise IdentificationError(f"not identified: '{t}' does not vary within LAs in this sample")
    else:
        w, names = _independent(w, names)
    n_la = len(np.unique(la))
    # PanelOLS with LA and year effects counts the LA effects (year dummies here stand in for the year
    # effects); with LA effects only, nested in the LA clusters, it does not count them
    k_extra = n_la if spec.estimator == "panel_fe" else 0
    n_params = x.shape[1] + w.shape[1] + (n_la if absorb else 0)
    if len(idx) <= n_params:
        raise IdentificationError(f"not identified: {len(idx)} observations for {n_params} parameters")
    return Design(y, x, w, names, la, absorb, k_extra, idx, frame)


@dataclass(frozen=True)
class FastFit:
    params: np.ndarray    # 4 x 3 (TERMS x OUTCOMES)
    se: np.ndarray        # 4 x 3
    nobs: int
    n_las: int
    sd: np.ndarray        # 4: SD of each term (within-LA SD under LA effects)


def fit_fast(d: Design) -> FastFit:
    """FWL residualisation, one least-squares solve for the three outcomes, clustered sandwich
    with linearmodels' small-sample factor n / (n - k)."""
    la = d.la
    starts = np.flatnonzero(np.r_[True, la[1:] != la[:-1]])
    counts = np.diff(np.r_[starts, len(la)])
    x, y, w = d.x, d.y, d.w
    if d.absorb_la:
        x, y, w = _demean(x, starts, counts), _demean(y, starts, counts), _demean(w, starts, counts)
    sd = x.std(axis=0, ddof=1)
    if w.shape[1]:
        q, _ = np.linalg.qr(w)
        x = x - q @ (q.T @ x)
        y = y - q @ (q.T @ y)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)                       # p x m
    u = y - x @ beta                                  # n x m
    n, p = x.shape
    k = p + w.shape[1] + d.k_extra
    scale = n / (n - k)
    se = np.empty_like(beta)
    for j in range(y.shape[1]):
        s = np.add.reduceat(x * u[:, [j]], starts, axis=0)   # G x p cluster scores
        v = xtx_inv @ (s.T @ s) @ xtx_inv * scale
        se[:, j] = np.sqrt(np.diag(v))
    return FastFit(beta, se, n, len(starts), sd)


def fit_spec_linearmodels(d: Design, outcome: str):
    """The same specification fitted by linearmodels (reference for the fast path)."""
    from linearmodels.panel import PanelOLS, PooledOLS
    f = d.frame.copy()
    f["_t"] = f.groupby("la_code").cumcount() if "inspection_id" in f.columns else f["year"]
    idx = pd.MultiIndex.from_arrays([f["la_code"], f["_t"]], names=["la_code", "t"])
    yv = pd.Series(d.y[:, OUTCOMES.index(outcome)], index=idx, name=outcome)
    x = pd.DataFrame(d.x, index=idx, columns=list(TERMS))
    w = pd.DataFrame(d.w, index=idx, columns=d.w_names)
    kw = dict(cov_type="clustered", cluster_entity=True)
    if "inspection_id" not in f.columns:  # panel_fe: year effects as time effects
        w = w[[c for c in w.columns if not c.startswith("year_")]]
        return PanelOLS(yv, pd.concat([x, w], axis=1), entity_effects=True, time_effects=True).fit(**kw)
    if d.absorb_la:
        return PanelOLS(yv, pd.concat([x, w], axis=1), entity_effects=True).fit(**kw)
    return PooledOLS(yv, pd.concat([x, w], axis=1)).fit(**kw)


def run_multiverse(panel: pd.DataFrame, inspections: pd.DataFrame) -> pd.DataFrame:
    """Every specification: one row per specification x workforce term (see :data:`COLUMNS`)."""
    frames = {"inspection": {t: Arrays(f) for t, f in inspection_frames(inspections, panel).items()},
              "panel": {t: Arrays(f) for t, f in panel_frames(panel).items()}}
    parts_of = dict(control_sets())
    specs = specifications()
    q = stats.norm.ppf(0.975)
    rows = []
    cache: dict[tuple, object] = {}
    for s in specs:
        level = "panel" if s.estimator == "panel_fe" else "inspection"
        key = (s.estimator, s.sample, s.timing, s.controls)
        if key not in cache:
            try:
                cache[key] = fit_fast(build_design(frames[level][s.timing], s, parts_of[s.controls]))
            except IdentificationError as exc:
                cache[key] = str(exc)
        res = cache[key]
        base = {"spec_id": s.spec_id, "estimator": s.estimator, "outcome": s.outcome, "timing": s.timing,
                "controls": s.controls, "sample": s.sample, "level": level,
                "timing_rule": "census strictly before fieldwork" if level == "inspection"
                else "descriptive: grade in force at census t, measures from census t-1 or earlier"}
        if isinstance(res, str):
            status = "skipped" if res.startswith("skipped") else "not identified"
            rows.extend({**base, "term": t, "status": status, "reason": res} for t in TERMS)
            continue
        j = OUTCOMES.index(s.outcome)
        if not np.all(res.se[:, j] > 0):
            rows.extend({**base, "term": t, "status": "not identified",
                         "reason": f"not identified: outcome '{s.outcome}' does not vary (within LAs) in this sample"}
                        for t in TERMS)
            continue
        for i, t in enumerate(TERMS):
            b = res.params[i, j]
            rows.append({**base, "term": t, "status": "fitted", "reason": "", "estimate": b,
                         "std_error": res.se[i, j], "n_obs": res.nobs, "n_las": res.n_las,
                         "std_estimate": b * res.sd[i], "worse_rating_std": SIGN[s.outcome] * b * res.sd[i]})
    out = pd.DataFrame(rows)
    out["ci_low"] = out["estimate"] - q * out["std_error"]
    out["ci_high"] = out["estimate"] + q * out["std_error"]
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["estimate"] / out["std_error"]))
    for c in COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    return out[COLUMNS]


def summarise(mv: pd.DataFrame) -> dict:
    """Per workforce term: counts, median sign-aligned standardised estimate, share significant,
    and which choice moves the estimate most.

    Notes
    -----
    For each choice c with levels l, ``range_of_medians`` = max_l median - min_l median of the
    sign-aligned standardised estimate (``worse_rating_std``: + = worse rating, per SD of the
    measure, within-LA SD under LA effects); ``variance_share`` = between-level sum of squares /
    total sum of squares (one-way eta squared). The choice with the largest range is reported as
    ``moves_most``.
    """
    fitted = mv[mv["status"] == "fitted"]
    spec = mv.drop_duplicates("spec_id")
    out = {"n_specifications": int(spec["spec_id"].nunique()),
           "n_fitted": int(fitted["spec_id"].nunique()),
           "n_not_identified": int((spec["status"] == "not identified").sum()),
           "n_skipped_missing_data": int((spec["status"] == "skipped").sum()),
           "skipped_reasons": {r: int(n) for r, n in spec.loc[spec["status"] != "fitted", "reason"]
                               .value_counts().sort_index().items()},
           "choices": {c: list(v) for c, v in CHOICES.items()},
           "scale": "worse_rating_std: estimate x SD of the measure (within-LA SD under LA effects), sign-aligned "
                    "so that + means a worse rating",
           "inference": "LA-clustered SEs with linearmodels' n/(n-k) factor; normal p-values and 95% CIs",
           "by_term": {}}
    for t, g in fitted.groupby("term", sort=True):
        v = g["worse_rating_std"]
        total = float(((v - v.mean()) ** 2).sum())
        choices = {}
        for c in CHOICES:
            med = g.groupby(c)["worse_rating_std"].median()
            between = float((g.groupby(c)["worse_rating_std"].transform("mean") - v.mean()).pow(2).sum())
            choices[c] = {"range_of_medians": float(med.max() - med.min()),
                          "variance_share": between / total if total > 0 else 0.0,
                          "median_by_level": {str(k): float(x) for k, x in med.items()}}
        most = max(choices, key=lambda c: choices[c]["range_of_medians"])
        # outcome codings sit on different scales (grade points vs probabilities): also name the
        # choice that moves the estimate most among the others
        most_other = max((c for c in choices if c != "outcome"), key=lambda c: choices[c]["range_of_medians"])
        out["by_term"][t] = {"n_fitted": int(len(g)), "median_worse_rating_std": float(v.median()),
                             "share_positive": float((v > 0).mean()),
                             "share_significant_5pct": float((g["p_value"] < 0.05).mean()),
                             # of the significant specifications, the share pointing to a worse rating
                             "share_positive_among_significant":
                                 float((v[g["p_value"] < 0.05] > 0).mean()) if (g["p_value"] < 0.05).any() else None,
                             "min": float(v.min()), "max": float(v.max()),
                             "moves_most": most, "moves_most_excluding_outcome": most_other,
                             "moves_most_by_variance": max(choices, key=lambda c: choices[c]["variance_share"]),
                             "choices": choices}
        # the inspection-level specifications alone (the LA-year panel is descriptive: its grade
        # in force may predate the measures)
        gi = g[g["level"] == "inspection"]
        out["by_term"][t]["inspection_level"] = {
            "n_fitted": int(len(gi)),
            "share_positive": float((gi["worse_rating_std"] > 0).mean()),
            "share_significant_5pct": float((gi["p_value"] < 0.05).mean())}
    return out


def legacy_summary(mv: pd.DataFrame) -> dict:
    """``results.json['spec_curve']`` as before (counts and per-term summary), from the multiverse."""
    s = summarise(mv)
    return {"n_specifications": s["n_specifications"], "n_fitted": s["n_fitted"],
            "n_not_identified": s["n_not_identified"] + s["n_skipped_missing_data"],
            "source": "multiverse (analysis/models/multiverse.py)",
            "by_term": {t: {k: b[k] for k in ("median_worse_rating_std", "share_positive", "share_significant_5pct",
                                               "min", "max")} for t, b in s["by_term"].items()}}
