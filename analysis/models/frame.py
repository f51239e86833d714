"""The ONE inspection-level analysis frame: built and timing-validated once, read by every forward
model, the multiverse and the replication.

:func:`inspection_frame` takes the rows of :func:`analysis.models.forward_data.forward_frame`
(one row per graded SIF/ILACS inspection, regressors from the census strictly before fieldwork,
drops counted by reason) and adds, per row, the columns the designs condition on. Column names
are a contract (other modules and helpers read them; keep them stable):

=========================== ===============================================================
``grade``                   overall grade 1 Outstanding .. 4 Inadequate (higher = worse)
``good_plus``               1.0 if the grade is Good or Outstanding (= ``good_or_better``)
``prev_level``              previous overall grade of the LA: ``first inspection`` (no earlier
                            graded SIF/ILACS inspection in the table), ``good_plus``,
                            ``requires_improvement``, ``inadequate``
``prev_first``,             0/1 dummies of ``prev_level`` (all four; a model leaves one out as
``prev_good_plus``,         reference, :data:`PREVIOUS_GRADE_CONTROLS` leaves out
``prev_requires_improvement``, ``prev_good_plus``)
``prev_inadequate``
``inspection_type``         ``sif`` / ``sif re-inspection`` / ``standard`` / ``short``
                            (data/derived/inspections.csv)
``type_sif_reinspection``,  0/1 dummies of ``inspection_type`` (reference ``sif``; with
``type_standard``,          ``ilacs`` = standard + short, :data:`INSPECTION_TYPE_CONTROLS`
``type_short``              uses ``type_sif_reinspection`` and ``type_short`` beside ``ilacs``)
``census_year``             census (30 Sept) of the workforce regressors; demand and spending
                            are read at the same year index (31 March, earlier); lag
                            structures add ``census_year_lag1`` / ``census_year_lag2``
``regressor_census_min``    earliest census year any regressor of the row is read from
``census_2017_plus``        1.0 if every census a regressor is read from is 2017 or later
                            (the worker-level censuses), defined on the CENSUS year, not on
                            the fieldwork year
``leaders_num``,            sub-judgements (1-4, same coding as ``grade``) when present in
``help_protection_num``,    inspections.csv, with ``<name>_good_plus`` 0/1 versions (NaN where
``in_care_num``             the sub-judgement is missing)
``la_first_grade``          grade of the LA's first observed graded inspection (earliest start
                            date among all graded SIF/ILACS inspections in the table, before
                            any sample drop), with ``la_first_good_plus`` and ``is_la_first``
                            (this row is that inspection): the initial condition of a dynamic
                            correlated-random-effects model (Wooldridge 2005)
=========================== ===============================================================

Timing: :func:`validate_inspection_frame` checks, once, that every census a regressor is read from
is dated strictly before fieldwork (:func:`analysis.models.timing.validate_forward_timing`) and
that the previous judgement was published before fieldwork; it raises naming the inspection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .forward_data import DEFAULT_CONTROLS, WORKFORCE, ForwardFrame, forward_frame
from .timing import TimingError, validate_forward_timing

PREV_LEVELS = ("first inspection", "good_plus", "requires_improvement", "inadequate")
PREV_DUMMIES = {"first inspection": "prev_first", "good_plus": "prev_good_plus",
                "requires_improvement": "prev_requires_improvement", "inadequate": "prev_inadequate"}
#: previous-grade controls of a forward model (reference: previous grade Good or better)
PREVIOUS_GRADE_CONTROLS = ("prev_first", "prev_requires_improvement", "prev_inadequate")
INSPECTION_TYPES = ("sif", "sif re-inspection", "standard", "short")
TYPE_DUMMIES = {"sif re-inspection": "type_sif_reinspection", "standard": "type_standard", "short": "type_short"}
#: inspection-type controls beside the framework indicator ``ilacs`` (reference: sif / standard)
INSPECTION_TYPE_CONTROLS = ("type_sif_reinspection", "type_short")
SUB_JUDGEMENTS = ("leaders_num", "help_protection_num", "in_care_num")
WORKER_LEVEL_FROM = 2017


def validate_inspection_frame(d: pd.DataFrame, year_columns: tuple[str, ...], source: str) -> pd.DataFrame:
    """Timing rule of the analysis frame (raises :class:`TimingError` naming the row).

    Notes
    -----
    For every row i: 30 Sept(c) < start_i for each census-year column c, and, where a previous
    judgement exists, its publication date < start_i (the previous grade is known before the
    fieldwork whose grade is the outcome).
    """
    validate_forward_timing(d, year_columns, source=source)
    if "prev_published" in d.columns:
        pub = pd.to_datetime(d["prev_published"])
        start = pd.to_datetime(d["start_date"])
        late = pub.notna() & (pub >= start)
        if late.any():
            i = late.idxmax()
            raise TimingError(f"{source}: inspection {d.loc[i, 'inspection_id']} has a previous judgement "
                              f"published {pub.loc[i].date()}, not before its fieldwork start {start.loc[i].date()}")
    return d


def _previous_level(prev: pd.Series, source: str) -> pd.Series:
    bad = prev.notna() & ~prev.isin([1, 2, 3, 4])
    if bad.any():
        i = bad.idxmax()
        raise DataError(f"{source}: column prev_grade_num has value {prev.loc[i]!r} at row {i}; expected 1-4 or empty")
    return pd.Series(np.select([prev.isna(), prev <= 2, prev == 3], list(PREV_LEVELS[:3]), PREV_LEVELS[3]),
                     index=prev.index)


def first_observed(insp: pd.DataFrame, frameworks=("SIF", "ILACS")) -> pd.DataFrame:
    """Per LA: the first graded SIF/ILACS inspection in the table (``la_code``,
    ``la_first_inspection_id``, ``la_first_grade``, ``la_first_good_plus``)."""
    g = insp[insp["framework"].isin(frameworks) & insp["overall_num"].notna()]
    g = g.sort_values(["la_code", "start_date", "inspection_id"]).drop_duplicates("la_code")
    return pd.DataFrame({"la_code": g["la_code"].to_numpy(), "la_first_inspection_id": g["inspection_id"].to_numpy(),
                         "la_first_grade": g["overall_num"].astype(int).to_numpy(),
                         "la_first_good_plus": (g["overall_num"] <= 2).astype(float).to_numpy()})


def inspection_frame(panel: pd.DataFrame, insp: pd.DataFrame, lag: str = "census_before",
                     controls: tuple[str, ...] = DEFAULT_CONTROLS, regressors: tuple[str, ...] = WORKFORCE,
                     frameworks: tuple[str, ...] = ("SIF", "ILACS"),
                     source: str = "data/derived/inspections.csv") -> ForwardFrame:
    """The inspection-level analysis frame (see the module docstring for its columns).

    Parameters
    ----------
    panel : data/derived/la_year_panel.csv.
    insp : data/derived/inspections.csv.
    lag, controls, regressors, frameworks : as in :func:`forward_frame` (same rows, same drops).

    Returns
    -------
    ForwardFrame whose ``data`` carries the contract columns, timing-validated; its disclosure
    adds ``n_census_2016`` (rows read from a census before 2017) and ``n_re_inspections``.

    Notes
    -----
    ``census_2017_plus`` = :math:`[\\min_c c_i \\ge 2017]` over the census-year columns c of the
    lag structure; ``prev_level`` from ``prev_grade_num`` (Good+ if <= 2).
    """
    for col in ("inspection_type", "prev_grade_num", "start_date"):
        if col not in insp.columns:
            raise DataError(f"{source}: column {col!r} missing (needed by the analysis frame)")
    graded = insp[insp["framework"].isin(frameworks) & insp["overall_num"].notna()]
    bad = ~graded["inspection_type"].isin(INSPECTION_TYPES)
    if bad.any():
        i = bad.idxmax()
        raise DataError(f"{source}: column inspection_type has value {graded.loc[i, 'inspection_type']!r} for "
                        f"inspection {graded.loc[i, 'inspection_id']} (table row {insp.index.get_loc(i) + 1}); "
                        f"expected one of {list(INSPECTION_TYPES)}")
    ff = forward_frame(insp, panel, lag=lag, controls=controls, regressors=regressors, frameworks=frameworks)
    d = ff.data
    extra = ["inspection_type", "prev_published", *[c for c in SUB_JUDGEMENTS if c in insp.columns]]
    add = insp[["inspection_id", *[c for c in extra if c not in d.columns]]]
    d = d.merge(add, on="inspection_id", how="left", validate="1:1")
    d["good_plus"] = d["good_or_better"]
    d["prev_level"] = _previous_level(d["prev_grade_num"], source)
    for level, col in PREV_DUMMIES.items():
        d[col] = (d["prev_level"] == level).astype(float)
    for t, col in TYPE_DUMMIES.items():
        d[col] = (d["inspection_type"] == t).astype(float)
    d["regressor_census_min"] = d[list(ff.year_columns)].min(axis=1).astype(int)
    d["census_2017_plus"] = (d["regressor_census_min"] >= WORKER_LEVEL_FROM).astype(float)
    for c in SUB_JUDGEMENTS:
        if c in d.columns:
            d[f"{c}_good_plus"] = np.where(d[c].notna(), (d[c] <= 2).astype(float), np.nan)
    d = d.merge(first_observed(insp, frameworks), on="la_code", how="left", validate="m:1")
    d["is_la_first"] = (d["inspection_id"] == d["la_first_inspection_id"]).astype(float)
    validate_inspection_frame(d, ff.year_columns, source=f"analysis frame ({lag})")
    disc = {**ff.disclosure, "n_census_2016": int((d["census_2017_plus"] == 0).sum()),
            "n_re_inspections": int((d["prev_first"] == 0).sum()),
            "by_inspection_type": {k: int(v) for k, v in d["inspection_type"].value_counts().sort_index().items()},
            "by_previous_grade": {k: int(v) for k, v in d["prev_level"].value_counts().sort_index().items()}}
    return ForwardFrame(d, ff.regressors, ff.controls, ff.lag, ff.year_columns, disc)


def with_controls(ff: ForwardFrame, cols: tuple[str, ...]) -> ForwardFrame:
    """The same rows with extra control columns (e.g. :data:`PREVIOUS_GRADE_CONTROLS`); columns
    constant in the sample are left out (a dummy with no row, e.g. a type absent in 2017+)."""
    keep = tuple(c for c in cols if ff.data[c].std() > 0 and c not in ff.controls)
    return ForwardFrame(ff.data, ff.regressors, (*ff.controls, *keep), ff.lag, ff.year_columns,
                        {**ff.disclosure, "extra_controls": list(keep)})


def census_2017_plus(ff: ForwardFrame) -> ForwardFrame:
    """Rows whose regressors are all read from the worker-level censuses (2017 and later)."""
    keep = ff.data["census_2017_plus"] == 1
    d = ff.data[keep].reset_index(drop=True)
    d["visit"] = d.groupby("la_code").cumcount() + 1
    drops = [*ff.disclosure.get("drops", []), {"reason": "census before 2017 (aggregate collection)",
                                               "n": int((~keep).sum())}]
    disc = {**ff.disclosure, "drops": drops, "n_used": int(len(d)), "n_las": int(d["la_code"].nunique()),
            "sample": "census 2017+"}
    return ForwardFrame(d, ff.regressors, ff.controls, ff.lag, ff.year_columns, disc)


def with_leads(ff: ForwardFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    """Frame rows with ``lead_<col>``: the value of ``col`` at the LA's NEXT inspection in the
    frame (NaN for an LA's last inspection). For the strict-exogeneity test only: a lead is
    measured after the fieldwork, so it never enters an estimate of the effect."""
    d = ff.data.copy()
    for c in cols:
        d[f"lead_{c}"] = d.groupby("la_code")[c].shift(-1)
    return d
