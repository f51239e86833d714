"""The timing rule of the forward direction (workforce pressure -> judgement), in code.

Every regressor of a forward model must be measured strictly before the fieldwork of the
inspection whose grade is the outcome:

* workforce census: 30 September of the census year;
* demand (children in need, protection plans, looked after), section 47 activity and spending
  (s251 outturn): 31 March of that year (year ending 31 March), i.e. earlier than the census.

A forward model frame carries, per row, the inspection's ``start_date`` and one column per census
year it draws on (``census_year`` and, for lag structures, ``census_year_lag1`` ...).
:func:`validate_forward_timing` raises :class:`TimingError` naming the row if any of them is not
strictly before fieldwork; every forward model calls it before fitting.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DataError

#: month and day at which each kind of measure is dated within its year
MEASURE_DATES = {"workforce": (9, 30), "demand": (3, 31), "spending": (3, 31)}


class TimingError(DataError):
    """A model row uses a measure dated on or after the fieldwork start of its inspection."""


def measured_on(year: int | pd.Series, kind: str = "workforce") -> pd.Timestamp | pd.Series:
    """Date of a measure of ``kind`` for census/financial year ``year``.

    Notes
    -----
    workforce: 30 September ``year``; demand and spending: 31 March ``year``.
    """
    if kind not in MEASURE_DATES:
        raise ValueError(f"unknown measure kind {kind!r}; choose from {list(MEASURE_DATES)}")
    month, day = MEASURE_DATES[kind]
    if isinstance(year, pd.Series):
        return pd.to_datetime(pd.DataFrame({"year": year.astype("Int64"), "month": month, "day": day}))
    return pd.Timestamp(int(year), month, day)


def latest_census_before(start: pd.Series) -> pd.Series:
    """Year of the last workforce census (30 Sept) strictly before each fieldwork start.

    Notes
    -----
    :math:`c = Y - 1` if the start is on or before 30 September of its year Y, else :math:`c = Y`.
    """
    y = start.dt.year
    return (y - ((start.dt.month < 9) | ((start.dt.month == 9) & (start.dt.day <= 30))).astype(int)).astype(int)


def validate_forward_timing(frame: pd.DataFrame, year_columns: tuple[str, ...] = ("census_year",),
                            source: str = "forward model frame") -> pd.DataFrame:
    """Raise :class:`TimingError` unless every regressor is dated strictly before fieldwork.

    Parameters
    ----------
    frame : one row per inspection, with ``start_date`` and the census-year columns used.
    year_columns : the columns holding the census year of each group of regressors.
    source : name used in the error message.

    Returns
    -------
    The frame unchanged (so the call can be chained).

    Notes
    -----
    Rule: for every row i and year column c, :math:`\\text{30 Sept}(c_i) < \\text{start}_i`
    (workforce is the latest-dated measure of a year, so demand and spending, dated 31 March of
    the same year, are then earlier too). A missing start date or census year is a breach.
    """
    if "start_date" not in frame.columns:
        raise TimingError(f"{source}: no 'start_date' column, so the timing rule cannot be checked")
    start = pd.to_datetime(frame["start_date"])
    for col in year_columns:
        if col not in frame.columns:
            raise TimingError(f"{source}: census-year column {col!r} missing")
        bad = frame[col].isna() | start.isna()
        ok = ~bad
        dated = measured_on(frame.loc[ok, col], "workforce")
        late = pd.Series(False, index=frame.index)
        late.loc[ok] = dated.to_numpy() >= start[ok].to_numpy()
        breach = bad | late
        if breach.any():
            i = breach.idxmax()
            ident = frame.loc[i, "inspection_id"] if "inspection_id" in frame.columns else i
            raise TimingError(
                f"{source}: row {i} (inspection {ident}) uses {col} = {frame.loc[i, col]} "
                f"(census 30 Sept) which is not strictly before fieldwork start "
                f"{start.loc[i].date() if pd.notna(start.loc[i]) else 'missing'}; "
                f"{int(breach.sum())} row(s) break the forward timing rule")
    return frame


def grade_age(panel: pd.DataFrame) -> dict:
    """Age of the grade in force at each LA-year census (30 Sept), for the descriptive panel.

    Notes
    -----
    age = (30 Sept ``year`` − publication date of the grade in force) / 365.25 years.
    """
    d = panel[panel["grade_published"].notna()].copy()
    pub = pd.to_datetime(d["grade_published"])
    age = (measured_on(d["year"], "workforce") - pub).dt.days / 365.25
    return {"n_la_years": int(len(age)), "median_years": float(age.median()),
            "share_over_1y": float((age > 1).mean()), "share_over_2y": float((age > 2).mean()),
            "n_inspections": int(d["grade_inspection_id"].nunique())}
