"""The forward-direction model frame: one row per graded inspection, regressors from the workforce
census (and demand / spending) strictly before fieldwork, with the sample disclosed.

Lag structures (a modelling choice, each checked by the timing rule):

* ``census_before``: the census before fieldwork (year c = ``census_year``);
* ``mean_two_before``: the mean of the censuses c and c-1;
* ``change_two_before``: the change x_c - x_{c-2} over the two years before (levels of the
  controls at c).

Contract columns not yet in the data (spending, IMD decile, section 47) raise
:class:`MissingColumnError`; :func:`available_controls` is the documented fallback that drops a
missing optional control and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError
from .spec import prepare_panel
from .timing import latest_census_before, validate_forward_timing

WORKFORCE = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate")
DEMAND = ("cin_rate", "cpp_rate", "cla_rate")
POPULATION = ("log_child_pop",)
#: switchable control groups -> columns (spending / s47 are contract columns of the data helper)
CONTROL_GROUPS = {
    "demand": DEMAND,
    "population": POPULATION,
    "spending": ("log_spend_total_pc",),
    "s47": ("s47_rate",),
}
DEFAULT_CONTROLS = ("demand", "population", "spending")
LAGS = ("census_before", "mean_two_before", "change_two_before")
LAG_YEARS = {"census_before": (0,), "mean_two_before": (0, 1), "change_two_before": (0, 2)}
#: time-invariant LA descriptors carried along when present (imd_decile is a contract column)
INVARIANT = ("idaci_2019", "imd_2019", "imd_decile")


class MissingColumnError(DataError):
    """A column the contract promises (e.g. spending per child) is not in the derived data."""


def available_controls(requested: tuple[str, ...], panel: pd.DataFrame,
                       optional: tuple[str, ...] = ("spending", "s47")) -> tuple[tuple[str, ...], list[str]]:
    """Drop optional control groups whose contract columns are absent, with a note for each.

    Returns
    -------
    (groups kept, notes) -- e.g. ``["spending not yet in data (log_spend_total_pc)"]``.
    Required groups are kept, so a later :func:`require_columns` raises for them.
    """
    kept, notes = [], []
    for g in requested:
        if g not in CONTROL_GROUPS:
            raise ValueError(f"unknown control group {g!r}; choose from {list(CONTROL_GROUPS)}")
        missing = [c for c in CONTROL_GROUPS[g] if c not in panel.columns]
        if missing and g in optional:
            notes.append(f"{g} not yet in data ({', '.join(missing)})")
            continue
        kept.append(g)
    return tuple(kept), notes


def require_columns(df: pd.DataFrame, cols, source: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{source}: column(s) {missing} not in the data; they are contract "
                                 f"columns of data/derived/la_year_panel.csv (see BRIEF contracts) -- "
                                 f"rebuild the derived data or switch the control off")


def control_columns(groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for g in groups for c in CONTROL_GROUPS[g])


@dataclass(frozen=True)
class ForwardFrame:
    """A validated forward model frame and the account of how it was drawn.

    Attributes
    ----------
    data : one row per inspection (``inspection_id``, ``la_code``, ``start_date``, census-year
        columns, outcome, regressors, controls, ``ilacs``, ``inspection_year``, ``region``).
    regressors, controls : column names used as time-varying covariates.
    lag : lag structure.
    year_columns : census-year columns checked by the timing rule.
    disclosure : graded inspections, drops by reason (in order), N used, by framework.
    """

    data: pd.DataFrame
    regressors: tuple[str, ...]
    controls: tuple[str, ...]
    lag: str
    year_columns: tuple[str, ...]
    disclosure: dict = field(default_factory=dict)

    @property
    def covariates(self) -> tuple[str, ...]:
        return (*self.regressors, *self.controls)

    def complete(self, cols, reason: str) -> "ForwardFrame":
        """Rows with every column of ``cols`` present; the drop is added to the disclosure."""
        cols = [c for c in cols if c]
        require_columns(self.data, cols, f"forward frame ({self.lag})")
        keep = self.data[cols].notna().all(axis=1)
        if keep.all():
            return self
        d = self.data[keep].reset_index(drop=True)
        d["visit"] = d.groupby("la_code").cumcount() + 1
        drops = [*self.disclosure.get("drops", []), {"reason": reason, "n": int((~keep).sum())}]
        disc = {**self.disclosure, "drops": drops, "n_used": int(len(d)), "n_las": int(d["la_code"].nunique())}
        return ForwardFrame(d, self.regressors, self.controls, self.lag, self.year_columns, disc)


def _values_at(mp: pd.DataFrame, base: pd.DataFrame, year_col: str, cols: list[str], suffix: str) -> pd.DataFrame:
    right = mp[["la_code", "year", *cols]].rename(columns={"year": year_col, **{c: c + suffix for c in cols}})
    return base.merge(right, on=["la_code", year_col], how="left", validate="m:1")


def forward_frame(inspections: pd.DataFrame, panel: pd.DataFrame, lag: str = "census_before",
                  controls: tuple[str, ...] = DEFAULT_CONTROLS, regressors: tuple[str, ...] = WORKFORCE,
                  frameworks: tuple[str, ...] = ("SIF", "ILACS")) -> ForwardFrame:
    """Build the inspection-level frame for a lag structure; drops are counted by reason.

    Notes
    -----
    Row i uses panel values of LA(i) at census years :math:`c_i - l`, :math:`l \\in` LAG_YEARS[lag],
    with :math:`c_i` the last census strictly before fieldwork (30 Sept < start). Reasons, applied
    in order: small LA excluded; no census in panel (LA-year absent or before the first census);
    caseload missing (not collected in 2015; missing for a few LAs later); other workforce measure missing;
    control missing; lagged census missing (lag structures only).
    """
    if lag not in LAGS:
        raise ValueError(f"unknown lag structure {lag!r}; choose from {LAGS}")
    ctrl_cols = control_columns(controls)
    require_columns(panel, [*regressors, *ctrl_cols], "data/derived/la_year_panel.csv")
    mp = prepare_panel(panel)
    graded = inspections[inspections["framework"].isin(frameworks) & inspections["overall_num"].notna()].copy()
    disclosure = {"graded_inspections": int(len(graded)),
                  "graded_by_framework": {k: int(v) for k, v in graded["framework"].value_counts().sort_index().items()},
                  "drops": []}  # in the order applied
    # the census year is re-derived from the fieldwork date and must agree with the table
    derived_c = latest_census_before(pd.to_datetime(graded["start_date"]))
    if not (derived_c.to_numpy() == graded["census_year"].to_numpy()).all():
        i = (derived_c != graded["census_year"]).idxmax()
        raise DataError(f"data/derived/inspections.csv: census_year {graded.loc[i, 'census_year']} of "
                        f"{graded.loc[i, 'inspection_id']} is not the last census before its start "
                        f"{graded.loc[i, 'start_date']}")
    d = graded[["inspection_id", "la_code", "la_name", "region", "framework", "start_date", "inspection_year",
                "census_year", "overall_num", "prev_grade_num", "small_la"]].copy()
    d["small_la"] = d["small_la"].eq(True)  # missing (no census row) is not small

    def drop(mask: pd.Series, reason: str):
        nonlocal d
        n = int(mask.sum())
        years = d.loc[mask, "census_year"].value_counts().sort_index()
        disclosure["drops"].append({"reason": reason, "n": n,
                                    "by_census_year": {str(int(k)): int(v) for k, v in years.items()}})
        d = d[~mask]

    drop(d["small_la"], "small LA excluded (City of London, Isles of Scilly)")
    year_cols = []
    cols = [*regressors, *ctrl_cols]
    for lag_k in LAG_YEARS[lag]:
        ycol = "census_year" if lag_k == 0 else f"census_year_lag{lag_k}"
        year_cols.append(ycol)
        if lag_k:
            d[ycol] = d["census_year"] - lag_k
        suffix = "" if lag_k == 0 else f"_lag{lag_k}"
        present = mp[["la_code", "year"]].rename(columns={"year": ycol}).assign(**{f"_in{lag_k}": True})
        d = d.merge(present, on=["la_code", ycol], how="left", validate="m:1")
        d = _values_at(mp, d, ycol, cols, suffix)
        if lag_k == 0:
            d = _values_at(mp, d, ycol, [c for c in INVARIANT if c in mp.columns], "")
        if lag_k == 0:
            drop(d[f"_in{lag_k}"].isna(), "no census in panel for the census before fieldwork")
            drop(d["caseload"].isna() if "caseload" in regressors else pd.Series(False, index=d.index),
                 "caseload missing (not collected in the 2015 census; missing for some LAs later)")
            drop(d[[r for r in regressors if r != "caseload"]].isna().any(axis=1), "other workforce measure missing")
            drop(d[list(ctrl_cols)].isna().any(axis=1) if ctrl_cols else pd.Series(False, index=d.index),
                 "control missing")
        else:
            lagged = [c + suffix for c in regressors]
            drop(d[f"_in{lag_k}"].isna() | d[lagged].isna().any(axis=1),
                 f"census {lag_k} year{'' if lag_k == 1 else 's'} earlier missing (lag structure {lag})")
        d = d.drop(columns=[f"_in{lag_k}"])
    if lag == "mean_two_before":
        for c in regressors:
            d[c] = (d[c] + d[c + "_lag1"]) / 2
    elif lag == "change_two_before":
        for c in regressors:
            d[c] = d[c] - d[c + "_lag2"]
    d = d.sort_values(["la_code", "start_date", "inspection_id"]).reset_index(drop=True)
    d["grade"] = d["overall_num"].astype(int)
    d["good_or_better"] = (d["grade"] <= 2).astype(float)
    d["ilacs"] = (d["framework"] == "ILACS").astype(float)
    d["visit"] = d.groupby("la_code").cumcount() + 1
    validate_forward_timing(d, tuple(year_cols), source=f"forward frame ({lag})")
    disclosure.update({"n_used": int(len(d)), "n_las": int(d["la_code"].nunique()),
                       "used_by_framework": {k: int(v) for k, v in d["framework"].value_counts().sort_index().items()},
                       "used_by_year": {str(k): int(v) for k, v in d["inspection_year"].value_counts().sort_index().items()},
                       "lag": lag, "controls": list(controls)})
    return ForwardFrame(d, tuple(regressors), tuple(ctrl_cols), lag, tuple(year_cols), disclosure)


def year_dummies(df: pd.DataFrame, base: pd.DataFrame | None = None) -> pd.DataFrame:
    """Inspection-year dummies (first year dropped), pruned until ``base`` + dummies (+ constant)
    have full column rank; columns constant in the sample are dropped too."""
    yd = pd.get_dummies(pd.Categorical(df["inspection_year"]), prefix="year", drop_first=True, dtype=float)
    yd.index = df.index
    yd = yd.loc[:, yd.std() > 0]
    if base is not None:
        base = base.loc[:, base.std() > 0]  # e.g. the framework indicator in an ILACS-only sample
    x = pd.concat([base, yd], axis=1) if base is not None else yd

    def full_rank(m):
        a = np.column_stack([np.ones(len(m)), m.to_numpy()])
        return np.linalg.matrix_rank(a) == a.shape[1]

    while not full_rank(x):
        x = x.drop(columns=[c for c in x.columns if c.startswith("year_")][-1])
    return x
