"""Multiverse: the four workforce associations across every identified, distinct combination of
estimator, outcome coding, timing, controls and sample.

Counting
--------
1. Every combination of the choices (:data:`~analysis.models.multiverse_rules.CHOICES`) is
   *considered*.
2. The capability matrix (:data:`~analysis.models.multiverse_rules.RULES`) refuses the
   combinations an estimator cannot take (e.g. an ordered logit of a yes/no outcome, region under
   LA fixed effects) before anything is built.
3. Data rules (:data:`~analysis.models.multiverse_design.DATA_RULES`) refuse designs the sample
   cannot identify (e.g. a 0/1 column that separates a logit outcome).
4. Two labels that give the same model (same estimator, outcome, fitted inspections and
   columns) count once: the first label in the fixed order is kept and the others are recorded
   as its duplicates (e.g. ``ILACS only`` = ``all`` under the change timing: no SIF inspection
   has two censuses with caseload before it). Duplicates are found before fitting, so no model
   is fitted twice.
5. The rest are fitted: *distinct specifications*. considered = refused by rule + refused by a
   data rule + duplicates + distinct (:func:`counts`).

Estimators and the comparable scale
-----------------------------------
Pooled linear (linear probability / linear grade model), binary logit, ordered logit, LA fixed
effects linear, and correlated-random-effects (Mundlak) logit and ordered logit, whose workforce
coefficients are within-LA associations. Every estimate is put on one scale, ``effect``: the
average marginal effect (AME) of a one-standard-deviation change of the measure (its SD over
the fitted inspections, the same change for every estimator) on the probability of the worse
rating (below Good; Inadequate) or on the expected grade (1 to 4), signed so that + means a
worse rating, divided by the outcome's SD over the same inspections (a fully standardised
effect, so that the grade and the two probabilities compare):

.. math::

    \\text{effect}_j = \\frac{\\sigma\\, \\mathrm{AME}_j\\, \\mathrm{SD}(x_j)}{\\mathrm{SD}(y)},\\qquad
    \\sigma = +1 \\text{ (grade, Inadequate)}, -1 \\text{ (Good or better)}.

For linear models the AME is the coefficient; for the logit models it is computed with
delta-method standard errors (:mod:`analysis.models.fast_logit`), SD(x) and SD(y) taken as
fixed. p-values and 95% intervals are those of the AME (normal), with LA-clustered standard
errors; ``ame`` keeps the effect on the outcome's own scale.

Fast path
---------
Linear specifications sharing estimator, sample, timing and controls share their design, so
each is one least-squares problem with three right-hand sides, solved after Frisch-Waugh-Lovell
residualisation:

.. math::

    \\tilde X = M_W X,\\quad \\hat\\beta = (\\tilde X'\\tilde X)^{-1}\\tilde X'\\tilde y,\\quad
    \\hat V = \\frac{n}{n-k}(\\tilde X'\\tilde X)^{-1}\\Big(\\sum_g \\tilde X_g'\\hat u_g\\hat u_g'\\tilde X_g\\Big)
    (\\tilde X'\\tilde X)^{-1},

(X within-LA demeaned first under LA effects; k counted as linearmodels counts it: all columns;
the LA effects, nested in the LA clusters, are not counted). :func:`fit_spec_linearmodels`
refits one specification with linearmodels for the equality test. Logit models are fitted by
Newton's method, warm-started from the previous specification of the same chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import fast_logit
from .multiverse_design import (DATA_RULES, SIGN, DataRuleError, Design, TimingData, build_design,
                                la_means, outcome_values)
from .multiverse_rules import (CHOICES, CONTROL_PARTS, ESTIMATORS, OUTCOMES, RULE_REASONS, TERMS, TIMINGS,
                               Spec, combinations, refusal)

COLUMNS = ["spec_id", "term", "estimator", "design", "outcome", "timing", "controls", "sample", "n_obs", "n_las",
           "n_columns", "sample_id", "design_id", "estimate", "std_error", "ame", "ame_se", "sd_x", "sd_y", "effect", "effect_se",
           "effect_low", "effect_high", "p_value"]
Z975 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class TermFit:
    """Workforce estimates of one fitted specification (arrays over :data:`TERMS`)."""

    estimate: np.ndarray    # coefficient on the model's own scale
    std_error: np.ndarray
    ame: np.ndarray         # AME of a one-SD change, on the outcome's scale, + = worse rating
    ame_se: np.ndarray


def frames(panel: pd.DataFrame, inspections: pd.DataFrame) -> dict[str, TimingData]:
    """The inspection-level frame of every timing (``forward_frame``), as arrays."""
    return {t: TimingData(t, inspections, panel) for t in TIMINGS}


# --------------------------------------------------------------------------- linear fast path
def fit_linear(d: Design, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FWL + least squares for the outcome columns of ``y`` (n x m): workforce coefficients and
    LA-clustered SEs (4 x m each), linearmodels' small-sample factor n / (n - k)."""
    k4 = d.n_terms
    x, w = d.x[:, :k4], d.x[:, k4:]
    if d.absorb_la:
        y = y - la_means(y, d.starts)
    if w.shape[1]:
        q, _ = np.linalg.qr(w)
        x = x - q @ (q.T @ x)
        y = y - q @ (q.T @ y)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    u = y - x @ beta
    n = len(x)
    scale = n / (n - d.x.shape[1])
    se = np.empty_like(beta)
    for j in range(y.shape[1]):
        s = np.add.reduceat(x * u[:, [j]], d.starts, axis=0)
        se[:, j] = np.sqrt(np.diag(xtx_inv @ (s.T @ s) @ xtx_inv * scale))
    return beta, se


def fit_spec_linearmodels(d: Design, y: np.ndarray):
    """The same linear specification fitted by linearmodels (the reference for the fast path)."""
    from linearmodels.panel import PanelOLS, PooledOLS
    t = pd.Series(d.la).groupby(d.la).cumcount().to_numpy()
    idx = pd.MultiIndex.from_arrays([d.la, t], names=["la_code", "visit"])
    x = pd.DataFrame(d.x_raw, index=idx, columns=d.names)
    yv = pd.Series(y, index=idx, name="y")
    kw = dict(cov_type="clustered", cluster_entity=True)
    if d.absorb_la:
        return PanelOLS(yv, x, entity_effects=True).fit(**kw)
    return PooledOLS(yv, x).fit(**kw)


# --------------------------------------------------------------------------- the multiverse
def short_hash(items) -> str:
    """First 12 hex digits of the sha256 of the items joined by newlines: ``sample_id`` (the
    fitted inspection ids) and ``design_id`` (the column names) of a specification."""
    return hashlib.sha256("\n".join(items).encode()).hexdigest()[:12]


def _warm(prev: dict | None, names: list[str], tail: bool = False) -> np.ndarray | None:
    """Start values by column name from the previous fit of a chain (0 for a new column; with
    ``tail``, the thresholds after them)."""
    if prev is None:
        return None
    start = np.array([prev["params"].get(n, 0.0) for n in names])
    return np.concatenate([start, prev["cuts"]]) if tail else start


def _outcome(cache: dict, td: TimingData, d: Design, dkey: tuple, outcome: str) -> np.ndarray | DataRuleError:
    """:func:`outcome_values` of a design, once per design and outcome (the refusal is returned)."""
    if (dkey, outcome) not in cache:
        try:
            cache[(dkey, outcome)] = outcome_values(td, d, outcome)
        except DataRuleError as exc:
            cache[(dkey, outcome)] = exc
    return cache[(dkey, outcome)]


def _chain_key(spec: Spec, outcome: str) -> tuple:
    return spec.estimator, spec.timing, spec.sample, outcome, "previous grade" in spec.parts


def _term_fit(d: Design, fit: fast_logit.NewtonFit, outcome: str, chain: dict) -> TermFit:
    """Workforce coefficients and AMEs of a converged fit; the fit seeds the next one of its chain."""
    k4, k = d.n_terms, d.x.shape[1]
    cols = list(range(k4))
    if ESTIMATORS[d.spec.estimator].model == "logit":
        ame, ame_se = fast_logit.logit_ame(d.x, fit, cols, d.sd)
    else:
        ame, ame_se = fast_logit.ordered_ame_expected(d.x, fit, cols, d.sd)
    chain[_chain_key(d.spec, outcome)] = {"params": dict(zip(d.names, fit.params[:k].tolist())), "cuts": fit.params[k:]}
    return TermFit(fit.params[:k4], np.sqrt(np.diag(fit.cov))[:k4], SIGN[outcome] * ame, ame_se)


def fit_nonlinear(d: Design, ys: dict[str, np.ndarray], chain: dict) -> dict[str, TermFit | DataRuleError]:
    """Logit models of one design: the binary outcomes in ``ys`` together (Newton vectorised over
    the outcomes), or the ordered logit of the grade; a fit that does not converge is refused by
    the data rule ``no convergence``. Each fit starts from the previous fit of its chain (same
    estimator, timing, sample, outcome and previous-grade choice; columns matched by name)."""
    out: dict[str, TermFit | DataRuleError] = {}
    if ESTIMATORS[d.spec.estimator].model == "logit":
        names = list(ys)
        starts = np.array([_warm(chain.get(_chain_key(d.spec, o)), d.names) if _chain_key(d.spec, o) in chain
                           else np.full(len(d.names), np.nan) for o in names])
        fits = dict(zip(names, fast_logit.fit_logits(d.x, np.array([ys[o] for o in names]), d.starts, start=starts)))
    else:
        (o, y), = ys.items()
        fits = {o: fast_logit.fit_ordered_logit(d.x, y.astype(int) - 1, d.starts, 4,
                                                start=_warm(chain.get(_chain_key(d.spec, o)), d.names, tail=True))}
    for o, fit in fits.items():
        out[o] = (_term_fit(d, fit, o, chain) if fit.converged else
                  DataRuleError("no convergence", f"after {fit.iterations} Newton iterations"))
    return out


@dataclass(frozen=True)
class Multiverse:
    """The fitted multiverse.

    Attributes
    ----------
    table : one row per distinct fitted specification x workforce term (:data:`COLUMNS`).
    refused : one row per refused combination (spec_id, estimator, label, stage 'rule' or 'data',
        rule, detail).
    duplicates : one row per duplicate label (spec_id, estimator, label, kept_spec_id, kept_label).
    considered : number of combinations considered, per estimator.
    """

    table: pd.DataFrame
    refused: pd.DataFrame
    duplicates: pd.DataFrame
    considered: dict[str, int]

    @property
    def n_considered(self) -> int:
        return sum(self.considered.values())


def run_multiverse(panel: pd.DataFrame, inspections: pd.DataFrame) -> Multiverse:
    """Refuse, deduplicate and fit every combination (see the module notes)."""
    tds = frames(panel, inspections)
    specs = combinations()
    refused, dups, rows = [], [], []
    seen: dict[tuple, Spec] = {}
    current: tuple = (None, None)  # (design key, Design or its refusal)
    fits: dict[tuple, object] = {}  # linear: per design; logit models: per design and outcome
    yvals: dict[tuple, np.ndarray | DataRuleError] = {}
    hashes: dict[tuple, tuple[str, str]] = {}
    chain: dict = {}
    for s in specs:
        rule = refusal(s)
        if rule:
            refused.append((s.spec_id, s.estimator, s.label, "rule", rule, RULE_REASONS[rule]))
            continue
        td = tds[s.timing]
        dkey = (s.estimator, s.timing, s.sample, s.controls)
        if dkey != current[0]:  # the outcomes of a design are consecutive: keep one design at a time
            try:
                current = (dkey, build_design(td, s))
            except DataRuleError as exc:
                current = (dkey, exc)
            yvals.clear()
        d = current[1]
        if isinstance(d, DataRuleError):
            refused.append((s.spec_id, s.estimator, s.label, "data", d.rule, str(d)))
            continue
        y = _outcome(yvals, td, d, dkey, s.outcome)
        if isinstance(y, DataRuleError):
            refused.append((s.spec_id, s.estimator, s.label, "data", y.rule, str(y)))
            continue
        key = d.key(s.outcome)
        if key in seen:
            kept = seen[key]
            dups.append((s.spec_id, s.estimator, s.label, kept.spec_id, kept.label))
            continue
        try:
            if ESTIMATORS[s.estimator].model == "linear":
                if dkey not in fits:
                    ys = np.column_stack([td.y[o][d.rows] for o in OUTCOMES])
                    fits[dkey] = fit_linear(d, ys)
                beta, se = (a[:, list(OUTCOMES).index(s.outcome)] for a in fits[dkey])
                tf = TermFit(beta, se, SIGN[s.outcome] * beta * d.sd, se * d.sd)  # linear: AME = beta
            else:
                if (dkey, s.outcome) not in fits:  # this outcome and the design's other ones still to fit
                    todo = {s.outcome: y}
                    for o in list(OUTCOMES)[list(OUTCOMES).index(s.outcome) + 1:]:
                        other = Spec(s.spec_id, s.estimator, o, s.timing, s.controls, s.sample)
                        if refusal(other) is None and d.key(o) not in seen:
                            y_other = _outcome(yvals, td, d, dkey, o)
                            if not isinstance(y_other, DataRuleError):  # else refused in its own turn
                                todo[o] = y_other
                    fits.update({(dkey, o): r for o, r in fit_nonlinear(d, todo, chain).items()})
                tf = fits[(dkey, s.outcome)]
                if isinstance(tf, DataRuleError):
                    raise tf
        except DataRuleError as exc:
            refused.append((s.spec_id, s.estimator, s.label, "data", exc.rule, str(exc)))
            continue
        seen[key] = s
        sd_y = float(y.std(ddof=1))
        if dkey not in hashes:
            hashes[dkey] = (short_hash(d.ids), short_hash(d.names))
        base = {"spec_id": s.spec_id, "estimator": s.estimator, "design": ESTIMATORS[s.estimator].design,
                "outcome": s.outcome, "timing": s.timing, "controls": s.controls, "sample": s.sample,
                "n_obs": len(d.rows), "n_las": len(d.starts), "n_columns": len(d.names),
                "sample_id": hashes[dkey][0], "design_id": hashes[dkey][1], "sd_y": sd_y}
        for i, t in enumerate(TERMS):
            rows.append({**base, "term": t, "estimate": tf.estimate[i], "std_error": tf.std_error[i],
                         "ame": tf.ame[i], "ame_se": tf.ame_se[i], "sd_x": d.sd[i]})
    table = pd.DataFrame(rows)
    table["effect"] = table["ame"] / table["sd_y"]
    table["effect_se"] = table["ame_se"] / table["sd_y"]
    table["effect_low"] = table["effect"] - Z975 * table["effect_se"]
    table["effect_high"] = table["effect"] + Z975 * table["effect_se"]
    table["p_value"] = 2 * stats.norm.sf(np.abs(table["ame"] / table["ame_se"]))
    return Multiverse(table[COLUMNS],
                      pd.DataFrame(refused, columns=["spec_id", "estimator", "label", "stage", "rule", "detail"]),
                      pd.DataFrame(dups, columns=["spec_id", "estimator", "label", "kept_spec_id", "kept_label"]),
                      {e: sum(s.estimator == e for s in specs) for e in ESTIMATORS})


# --------------------------------------------------------------------------- summary
def counts(mv: Multiverse, estimator: str | None = None) -> dict:
    """Combinations considered, refused (by rule, by data rule), duplicates, distinct fitted, for
    every estimator or one.

    Notes
    -----
    considered = refused by rule + refused by a data rule + duplicates + distinct; raises
    ``ValueError`` if they do not add up or a combination is counted twice.
    """
    table, refused, dups = mv.table, mv.refused, mv.duplicates
    considered = mv.n_considered
    if estimator is not None:
        table, refused = table[table["estimator"] == estimator], refused[refused["estimator"] == estimator]
        dups, considered = dups[dups["estimator"] == estimator], mv.considered[estimator]
    distinct = table["spec_id"].nunique()
    by_stage = {stage: g["rule"].value_counts().to_dict() for stage, g in refused.groupby("stage")}
    out = {"considered": int(considered),
           "refused_by_rule": {"total": int((refused["stage"] == "rule").sum()),
                               "by_rule": {r: int(by_stage.get("rule", {}).get(r, 0)) for r in RULE_REASONS}},
           "refused_by_data": {"total": int((refused["stage"] == "data").sum()),
                               "by_rule": {r: int(by_stage.get("data", {}).get(r, 0)) for r in DATA_RULES}},
           "duplicates": int(len(dups)), "distinct": int(distinct)}
    ids = pd.concat([refused["spec_id"], dups["spec_id"], table["spec_id"].drop_duplicates()])
    total = out["refused_by_rule"]["total"] + out["refused_by_data"]["total"] + out["duplicates"] + distinct
    if total != considered or ids.duplicated().any():
        raise ValueError(f"multiverse counts do not add up: {total} counted, {considered} considered "
                         f"({int(ids.duplicated().sum())} counted twice)")
    return out


def _shares(g: pd.DataFrame) -> dict:
    sig = g["p_value"] < 0.05
    return {"n": int(len(g)), "median": float(g["effect"].median()),
            "share_worse": float((g["effect"] > 0).mean()), "share_significant": float(sig.mean()),
            "share_worse_among_significant": float((g.loc[sig, "effect"] > 0).mean()) if sig.any() else None}


def summarise_table(table: pd.DataFrame) -> dict:
    """Per workforce term, shares by every level of every choice (``by_term`` of :func:`summarise`).

    Notes
    -----
    Per term and level l of choice c: the number of distinct specifications, the median effect,
    the share with effect > 0 (pointing to a worse rating), the share with p < 0.05 and the share
    pointing to a worse rating among those. ``range_of_medians`` = max_l median - min_l median;
    ``variance_share`` = between-level sum of squares / total sum of squares (one-way eta
    squared); ``moves_most`` is the choice with the largest range of medians (all effects are
    fully standardised, so the outcome codings compare). ``design`` groups the estimators into
    pooled and within-LA designs; each yes/no control has a level "with" and "without".
    """
    out = {}
    for term, g in table.groupby("term", sort=False):
        v = g["effect"]
        total = float(((v - v.mean()) ** 2).sum())
        with_part = {p: g["controls"].str.split(" + ", regex=False).map(lambda parts, p=p: p in parts)
                     for p in CONTROL_PARTS}
        by_choice = {}
        for c in ("estimator", "design", *[c for c in CHOICES if c != "estimator"]):
            if c == "controls":
                levels = {f"{p}: {yn}": _shares(g[w == (yn == "with")])
                          for p, w in with_part.items() for yn in ("with", "without")}
            else:
                levels = {str(k): _shares(x) for k, x in g.groupby(c, sort=False)}
            med = g.groupby(c)["effect"].median()
            between = float((g.groupby(c)["effect"].transform("mean") - v.mean()).pow(2).sum())
            by_choice[c] = {"levels": levels, "range_of_medians": float(med.max() - med.min()),
                            "variance_share": between / total if total > 0 else 0.0}
        most = max(CHOICES, key=lambda c: by_choice[c]["range_of_medians"])
        out[term] = {**_shares(g), "min": float(v.min()), "max": float(v.max()),
                     "moves_most": most, "by_choice": by_choice}
    return out


def summarise(mv: Multiverse) -> dict:
    """``results.json["multiverse"]``: counts (:func:`counts`), the rules, the duplicate groups
    (which labels collapsed into which) and, per workforce term, the shares of
    :func:`summarise_table`."""
    groups = {}
    for kept, g in mv.duplicates.groupby("kept_label", sort=False):
        groups[kept] = sorted(g["label"])
    return {"counts": counts(mv), "counts_by_estimator": {e: counts(mv, e) for e in ESTIMATORS},
            "rules": {"capability": dict(RULE_REASONS), "data": dict(DATA_RULES)},
            "duplicate_groups": [{"kept": k, "collapsed": v} for k, v in sorted(groups.items())],
            "choices": {c: list(v) for c, v in CHOICES.items()},
            "controls": dict(CONTROL_PARTS),
            "estimators": {e: {"label": v.label, "model": v.model, "design": v.design}
                           for e, v in ESTIMATORS.items()},
            "scale": ("effect: average marginal effect of a one-SD change of the measure (SD over the fitted "
                      "inspections) on the probability of the worse rating (below Good; Inadequate) or on the "
                      "expected grade, signed so that + means a worse rating, in SDs of the outcome (fully "
                      "standardised); ame: the same before division by the outcome's SD"),
            "inference": "LA-clustered SEs (linearmodels' n/(n-k) for linear models, statsmodels' CRV1 for the "
                         "logit models; delta method for the AMEs); normal p-values and 95% intervals",
            "by_term": summarise_table(mv.table)}
