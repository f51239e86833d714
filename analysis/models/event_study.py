"""Reverse direction: event studies of workforce measures around a change of Ofsted grade.

Events (in census years, grade in force at 30 September):

* ``inadequate``: the first year an LA's grade in force becomes Inadequate, having been observed
  as something else the year before;
* ``upgrade``: the first year an LA's grade in force improves on the year before.

Model, for outcome y (agency, vacancy or turnover rate) of LA i in year t:

.. math::

    y_{it} = \\alpha_i + \\lambda_t + \\sum_{k \\ne -1} \\beta_k\\, 1[t - E_i = k] + u_{it},

with event time binned at -4 and +4 (endpoints pooled), k = -1 the reference, LAs without an event
as controls, PanelOLS with LA and year effects and LA-clustered SEs. Pre-event coefficients show
whether pressure rose *before* the judgement; post-event ones whether the judgement was followed
by more agency use and turnover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels.panel import PanelOLS
from scipy import stats

from .results import FitResult, coef_table
from .spec import prepare_panel

WINDOW = (-4, 4)
REFERENCE = -1
OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")


def event_years(panel: pd.DataFrame, kind: str) -> pd.Series:
    """First event year per LA (index la_code); LAs without an event are absent."""
    if kind not in ("inadequate", "upgrade"):
        raise ValueError(f"unknown event kind {kind!r}")
    p = panel.sort_values(["la_code", "year"])[["la_code", "year", "grade_num"]].copy()
    p["prev"] = p.groupby("la_code")["grade_num"].shift()
    p["prev_year"] = p.groupby("la_code")["year"].shift()
    seen = p["prev"].notna() & (p["prev_year"] == p["year"] - 1)
    if kind == "inadequate":
        hit = seen & (p["grade_num"] == 4) & (p["prev"] != 4)
    else:
        hit = seen & (p["grade_num"] < p["prev"])
    return p[hit].groupby("la_code")["year"].min()


def event_dummies(df: pd.DataFrame, events: pd.Series) -> pd.DataFrame:
    e = df["la_code"].map(events)
    k = (df["year"] - e).clip(*WINDOW)
    cols = {}
    for j in range(WINDOW[0], WINDOW[1] + 1):
        if j == REFERENCE:
            continue
        cols[f"k={j}"] = ((k == j) & e.notna()).astype(float)
    return pd.DataFrame(cols, index=df.index)


def fit_event_study(panel: pd.DataFrame, outcome: str, kind: str) -> FitResult:
    df = prepare_panel(panel)
    events = event_years(df, kind)
    df = df.dropna(subset=[outcome])
    d = event_dummies(df, events)
    d = d.loc[:, d.sum() > 0]
    frame = pd.concat([df[["la_code", "year", outcome]], d], axis=1).set_index(["la_code", "year"])
    terms = list(d.columns)
    res = PanelOLS(frame[outcome], frame[terms], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    coefs = coef_table(res.params[terms], res.std_errors[terms])
    pre = [t for t in terms if int(t[2:]) < REFERENCE]
    post = [t for t in terms if int(t[2:]) >= 0]

    def wald(ts):
        b = res.params[ts].to_numpy()
        v = res.cov.loc[ts, ts].to_numpy()
        w = float(b @ np.linalg.pinv(v) @ b)
        return {"statistic": w, "df": len(ts), "p_value": float(stats.chi2.sf(w, len(ts)))}

    st = {"nobs": int(res.nobs), "n_las": int(frame.index.get_level_values(0).nunique()),
          "n_events": int(events.index.isin(frame.index.get_level_values(0)).sum()),
          "pre_trend_wald": wald(pre), "post_wald": wald(post)}
    spec = {"estimator": "event_study (PanelOLS, LA + year effects)", "outcome": outcome, "event": kind,
            "controls": "none", "sample": "all", "regressors": terms, "year_effects": True}
    return FitResult(f"event_{kind}_{outcome}", "event_study", spec, coefs, st)


def fit_event_studies(panel: pd.DataFrame) -> list[FitResult]:
    return [fit_event_study(panel, y, kind) for kind in ("inadequate", "upgrade") for y in OUTCOMES]
