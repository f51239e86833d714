"""Model specifications and their validation.

A :class:`ModelSpec` names the outcome, the workforce regressors, the controls, the estimator and
the sample. :func:`model_frame` builds the estimation frame and rejects specifications that the
data cannot identify, with a clear :class:`IdentificationError` instead of a number:

* a regressor with no within-LA variation under entity effects or first differences
  (e.g. IDACI 2019, which is measured once);
* year effects under the between estimator (LA means of year dummies carry no information);
* a regressor that is constant in the sample, or fewer observations than parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PRESSURE = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate", "absence_rate")
CORE_PRESSURE = ("caseload", "vacancy_rate", "agency_rate")
DEMAND = ("cin_rate", "cpp_rate", "cla_rate")
CONTROL_SETS = {
    "year effects only": (),
    "demand": DEMAND,
    "demand + population": (*DEMAND, "log_child_pop"),
    "demand + population + IDACI": (*DEMAND, "log_child_pop", "idaci_2019"),
}
ESTIMATORS = ("pooled", "random", "between", "fe_twoway", "first_difference")
OUTCOMES = {"grade_num": "Ofsted grade (1 Outstanding - 4 Inadequate)",
            "good_or_better": "Good or Outstanding (0/1)"}
SAMPLES = {
    "all": "all LAs (excl. City of London, Isles of Scilly)",
    "2017+": "2017-2025 (worker-level collection only)",
    "excl. London": "excluding London boroughs",
    "excl. joint returns": "excluding Kingston, Richmond and Northamptonshire",
}
LABELS = {
    "caseload": "Caseload (cases per FTE)", "vacancy_rate": "Vacancy rate (%)",
    "agency_rate": "Agency rate (%)", "turnover_rate": "Turnover rate (%)",
    "absence_rate": "Absence rate (%)", "cin_rate": "Children in need per 10k",
    "cpp_rate": "Child protection plans per 10k", "cla_rate": "Children looked after per 10k",
    "log_child_pop": "log child population", "idaci_2019": "IDACI 2019 score",
}


class IdentificationError(ValueError):
    """The specification cannot be estimated from these data (raised instead of a number)."""


@dataclass(frozen=True)
class ModelSpec:
    """One model. Frozen so that a spec can key a results table."""

    estimator: str
    outcome: str = "grade_num"
    regressors: tuple[str, ...] = CORE_PRESSURE
    controls: str = "demand + population"
    sample: str = "all"
    year_effects: bool = True
    framework: bool = False  # add ``ilacs_era`` (grade in force awarded under ILACS) as a control

    def __post_init__(self):
        if self.estimator not in ESTIMATORS:
            raise IdentificationError(f"unknown estimator {self.estimator!r}; choose from {ESTIMATORS}")
        if self.outcome not in OUTCOMES:
            raise IdentificationError(f"unknown outcome {self.outcome!r}; choose from {list(OUTCOMES)}")
        if self.controls not in CONTROL_SETS:
            raise IdentificationError(f"unknown control set {self.controls!r}; choose from {list(CONTROL_SETS)}")
        if self.sample not in SAMPLES:
            raise IdentificationError(f"unknown sample {self.sample!r}; choose from {list(SAMPLES)}")
        if self.estimator == "between" and self.year_effects:
            raise IdentificationError("BetweenOLS fits LA means: year effects are not identified; "
                                      "use year_effects=False")
        unknown = [v for v in self.regressors if v not in PRESSURE]
        if unknown:
            raise IdentificationError(f"regressor(s) {unknown} are not workforce-pressure measures {PRESSURE}")

    @property
    def covariates(self) -> tuple[str, ...]:
        return (*self.regressors, *CONTROL_SETS[self.controls], *(("ilacs_era",) if self.framework else ()))

    @property
    def uses_within_variation(self) -> bool:
        return self.estimator in ("fe_twoway", "first_difference")

    def label(self) -> str:
        return f"{self.estimator} | {self.outcome} | {self.controls} | {self.sample} | {'+'.join(self.regressors)}"


def prepare_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Model-ready copy of the LA-year panel.

    * drops City of London and the Isles of Scilly (``small_la``);
    * fills the children-looked-after rate for 2018 (no published source) by linear interpolation
      within LA between 2017 and 2019, flagged in ``cla_interpolated``;
    * codes ``good_or_better`` as 0/1 float.
    """
    df = panel[~panel["small_la"]].copy().sort_values(["la_code", "year"])
    gap = df["year"].eq(2018) & df["cla_rate"].isna()
    interp = _interpolate_inside(df, "cla_rate")
    df["cla_interpolated"] = gap & interp.notna()
    df.loc[gap, "cla_rate"] = interp[gap]
    df["good_or_better"] = df["good_or_better"].astype("Float64").astype(float)
    df["grade_num"] = df["grade_num"].astype(float)
    if "ilacs_era" in df:  # framework of the grade in force (missing where no grade)
        df["ilacs_era"] = df["ilacs_era"].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    return df.reset_index(drop=True)


def _interpolate_inside(df: pd.DataFrame, col: str) -> pd.Series:
    """Within-LA linear interpolation of ``col`` over row positions, inside gaps only (the same as
    ``groupby('la_code')[col].transform(lambda s: s.interpolate(limit_area='inside'))``, vectorised).

    Notes
    -----
    For a missing value at position :math:`p` between observed values :math:`v_a` at :math:`a` and
    :math:`v_b` at :math:`b` of the same LA: :math:`v_a + (v_b - v_a)(p - a)/(b - a)`.
    """
    pos = pd.Series(df.groupby("la_code").cumcount().to_numpy(dtype=float), index=df.index)
    seen = pos.where(df[col].notna())
    g = df["la_code"]
    a, b = seen.groupby(g).ffill(), seen.groupby(g).bfill()
    va, vb = df[col].groupby(g).ffill(), df[col].groupby(g).bfill()
    out = va + (vb - va) * (pos - a) / (b - a)
    return df[col].where(df[col].notna(), out.where(a.notna() & b.notna()))


def select_sample(df: pd.DataFrame, sample: str) -> pd.DataFrame:
    if sample == "all":
        return df
    if sample == "2017+":
        return df[df["year"] >= 2017]
    if sample == "excl. London":
        return df[~df["london"]]
    if sample == "excl. joint returns":
        return df[~df["la_code"].isin(["314", "318", "928"])]
    raise IdentificationError(f"unknown sample {sample!r}")


def model_frame(spec: ModelSpec, df: pd.DataFrame) -> pd.DataFrame:
    """Complete-case estimation frame (MultiIndex la_code, year), validated for identification."""
    cols = [spec.outcome, *spec.covariates]
    d = select_sample(df, spec.sample).dropna(subset=cols)
    d = d[["la_code", "year", *cols]].set_index(["la_code", "year"]).sort_index()
    n_params = len(spec.covariates) + (d.index.get_level_values("year").nunique() if spec.year_effects else 1)
    if len(d) <= n_params:
        raise IdentificationError(f"{spec.label()}: {len(d)} complete observations for {n_params} parameters")
    covs = list(spec.covariates)
    constant = d[covs].std() == 0
    if constant.any():
        raise IdentificationError(f"{spec.label()}: '{constant.idxmax()}' is constant in the sample")
    if spec.uses_within_variation:
        within = d[covs] - d[covs].groupby(level="la_code").transform("mean")
        for v in covs:
            if np.allclose(within[v].to_numpy(), 0.0):
                raise IdentificationError(
                    f"{spec.label()}: '{v}' does not vary within LAs, so its effect is absorbed by the "
                    f"LA effects ({spec.estimator}); drop it or use a between/pooled/random-effects model")
    return d
