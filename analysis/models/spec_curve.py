"""Specification curve: the caseload, agency and vacancy coefficients across every reasonable
combination of outcome coding, workforce regressors, controls, sample and estimator.

Combinations that the data cannot identify (IDACI, which is time-invariant, under LA fixed
effects or first differences) are listed with the reason instead of being fitted. Estimates are
standardised (per SD of the regressor) and sign-aligned so that a positive value always means a
*worse* rating (grade number up, or probability of Good or better down).
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from .panel import fit_panel
from .spec import CONTROL_SETS, CORE_PRESSURE, PRESSURE, SAMPLES, IdentificationError, ModelSpec

FOCAL = CORE_PRESSURE
SPEC_ESTIMATORS = ("pooled", "random", "fe_twoway", "first_difference")
REGRESSOR_SETS = {"core (caseload, vacancy, agency)": CORE_PRESSURE, "all five measures": PRESSURE}


def specifications() -> list[tuple[ModelSpec, str]]:
    """Every combination, in a fixed order, with its regressor-set label."""
    out = []
    for outcome, (rlabel, regs), controls, sample, est in itertools.product(
            ("grade_num", "good_or_better"), REGRESSOR_SETS.items(), CONTROL_SETS, SAMPLES, SPEC_ESTIMATORS):
        out.append((ModelSpec(estimator=est, outcome=outcome, regressors=regs, controls=controls,
                              sample=sample), rlabel))
    return out


_DATA: pd.DataFrame | None = None


def _init_worker(df: pd.DataFrame) -> None:
    global _DATA
    _DATA = df


def _fit_one(args) -> list[dict]:
    spec, rlabel = args
    base = {"estimator": spec.estimator, "outcome": spec.outcome, "regressor_set": rlabel,
            "controls": spec.controls, "sample": spec.sample}
    try:
        res = fit_panel(spec, _DATA, family="spec_curve")
    except IdentificationError as exc:
        return [{**base, "term": t, "status": f"not identified: {exc}"} for t in FOCAL]
    sign = -1.0 if spec.outcome == "good_or_better" else 1.0
    rows = []
    for t in FOCAL:
        c = res.coefs.loc[t]
        rows.append({**base, "term": t, "status": "fitted", "estimate": c.estimate, "std_error": c.std_error,
                     "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
                     "std_estimate": c.std_estimate, "worse_rating_std": sign * c.std_estimate,
                     "nobs": res.stats["nobs"], "n_las": res.stats["n_las"]})
    return rows


def start_spec_curve(df: pd.DataFrame, workers: int | None = None):
    """Submit every specification to ``workers`` processes (default min(2, cpu count)) and return
    a function that waits for and assembles the table, so the caller can fit other models
    meanwhile. With one worker the fits run in this process when the function is called."""
    jobs = specifications()
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1:
        ex = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(df,))
        pending = ex.map(_fit_one, jobs, chunksize=16)

        def collect() -> pd.DataFrame:
            try:
                return _assemble(list(pending))
            finally:
                ex.shutdown()
        return collect

    def collect_serial() -> pd.DataFrame:
        _init_worker(df)
        return _assemble([_fit_one(j) for j in jobs])
    return collect_serial


def run_spec_curve(df: pd.DataFrame, workers: int | None = None) -> pd.DataFrame:
    """Fit every specification (in ``workers`` processes; default: min(2, cpu count))."""
    return start_spec_curve(df, workers)()


def _assemble(chunks: list[list[dict]]) -> pd.DataFrame:
    out = pd.DataFrame([row for chunk in chunks for row in chunk])
    out.insert(0, "spec_id", out.groupby(["estimator", "outcome", "regressor_set", "controls", "sample"],
                                         sort=False).ngroup())
    return out
