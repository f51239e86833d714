"""Reverse direction (judgement -> workforce): staggered event study around a first move to
Inadequate, dated by the *publication* of the judgement.

Design
------
* **Event.** The first published graded judgement (SIF or ILACS) of Inadequate for an LA whose
  previous graded judgement is observed and was not Inadequate. Judgements published after the
  last census in the data cannot precede any outcome and are ignored.
* **Timing.** The outcome is a workforce measure at the census of 30 September of year ``t``.
  The event cohort ``g`` is the first census *strictly after* publication, so event time
  ``k = t - g`` is ``>= 0`` only for censuses after publication, and a census on or before the
  publication date has ``k < 0`` (:func:`check_reverse_timing`).
* **Exclusions.** An LA whose first observed graded judgement is Inadequate has no observed move
  to Inadequate and an unknown prior grade: it is neither treated nor a control. An LA whose first
  move is published before the first census (no pre-period) is excluded likewise.
* **Controls.** ``never``: LAs with no Inadequate judgement published before the last census, i.e.
  never Inadequate in the window (:func:`check_clean_controls`). ``not_yet`` (Callaway-Sant'Anna
  only) adds treated LAs before their event.
* **Exits from Inadequate.** ``absorbing`` (primary): treatment is "has been rated Inadequate";
  event dummies stay on after a later upgrade, as in Callaway and Sant'Anna (2021), so post-event
  estimates average over LAs that stay and LAs that leave. ``truncated`` (sensitivity): a treated
  LA's censuses from the first census after the publication of its first better grade are
  dropped, so post-event estimates describe LAs while still rated Inadequate.

Estimators
----------
* TWFE: :math:`y_{it} = \\alpha_i + \\lambda_t + \\sum_{k \\ne -1} \\beta_k 1[t - g_i = k] + u_{it}`,
  k binned at -4 and +4, PanelOLS, LA-clustered SEs.
* Callaway-Sant'Anna group-time ATTs, ``differences.ATTgt`` with a universal base period (the
  census before the event, k = -1, as for TWFE), outcome-regression ("reg") estimator without
  covariates, aggregated to event time; analytic (influence-function) SEs clustered by LA; the
  library's Wald pre-test of all pre-event ATT(g, t) = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .results import FitResult, coef_table
from .spec import prepare_panel

OUTCOMES = ("agency_rate", "vacancy_rate", "turnover_rate")
WINDOW = (-4, 4)
REFERENCE = -1
EXIT_RULES = ("absorbing", "truncated")
CONTROL_GROUPS = ("never", "not_yet")
GRADED = ("SIF", "ILACS")
ALPHA = 0.05


class TimingError(ValueError):
    """A row breaks the timing rule of the reverse design."""


def census_date(year) -> pd.Timestamp:
    """Reference date of the workforce census of ``year`` (30 September)."""
    return pd.Timestamp(int(year), 9, 30)


def first_census_after(date: pd.Timestamp) -> int:
    """Year of the first 30 September census strictly after ``date``."""
    return int(date.year) if date < census_date(date.year) else int(date.year) + 1


@dataclass(frozen=True)
class EventTable:
    """One row per LA: ``status`` (treated / control / excluded: reason), event publication date,
    ``cohort`` (first census after publication), exit publication date and ``exit_cohort``."""

    table: pd.DataFrame
    first_year: int
    last_year: int

    def counts(self) -> dict:
        s = self.table["status"]
        t = self.table[s == "treated"]
        return {"treated": int((s == "treated").sum()), "controls": int((s == "control").sum()),
                "excluded_first_observed_inadequate": int((s == "excluded: first observed grade Inadequate").sum()),
                "excluded_no_pre_period": int((s == "excluded: event before the first census").sum()),
                "treated_exiting_inadequate": int(t["exit_cohort"].notna().sum()),
                "cohorts": {str(int(g)): int(n) for g, n in t["cohort"].value_counts().sort_index().items()}}


def inadequate_events(inspections: pd.DataFrame, first_year: int, last_year: int) -> EventTable:
    """Classify every LA with a graded judgement (see module notes for the rules)."""
    g = inspections[inspections["framework"].isin(GRADED) & inspections["overall_num"].notna()]
    g = g[g["publication_date"] < census_date(last_year)]
    g = g.sort_values(["la_code", "publication_date", "inspection_id"])
    rows = []
    for la, h in g.groupby("la_code", sort=True):
        grades = h["overall_num"].to_numpy()
        pubs = list(h["publication_date"])
        bad = np.flatnonzero(grades == 4)
        row = {"la_code": la, "status": "control", "event_published": pd.NaT, "cohort": np.nan,
               "event_inspection_id": None, "exit_published": pd.NaT, "exit_cohort": np.nan}
        if bad.size:
            i = int(bad[0])
            row.update(event_published=pubs[i], cohort=float(first_census_after(pubs[i])),
                       event_inspection_id=h["inspection_id"].iloc[i])
            if i == 0:
                row["status"] = "excluded: first observed grade Inadequate"
            elif row["cohort"] <= first_year:
                row["status"] = "excluded: event before the first census"
            else:
                row["status"] = "treated"
            better = [j for j in range(i + 1, len(grades)) if grades[j] < 4]
            if better:
                row.update(exit_published=pubs[better[0]], exit_cohort=float(first_census_after(pubs[better[0]])))
        rows.append(row)
    return EventTable(pd.DataFrame(rows).set_index("la_code"), first_year, last_year)


def event_frame(panel: pd.DataFrame, events: EventTable, outcome: str, exits: str = "absorbing") -> pd.DataFrame:
    """Estimation frame: treated and control LAs observed with the outcome at every census of the
    window (a balanced panel, as the panel form of the Callaway-Sant'Anna estimator needs);
    ``cohort`` NaN for controls, ``k`` = year - cohort; under ``exits='truncated'`` a treated LA's
    censuses from its exit on are dropped (TWFE only)."""
    if exits not in EXIT_RULES:
        raise ValueError(f"unknown exit rule {exits!r}; choose from {EXIT_RULES}")
    if outcome not in panel.columns:
        raise ValueError(f"unknown outcome {outcome!r}")
    mp = prepare_panel(panel)
    t = events.table
    keep = t.index[t["status"].isin(["treated", "control"])]
    df = mp[mp["la_code"].isin(keep)][["la_code", "year", outcome]].dropna(subset=[outcome]).copy()
    n_years = events.last_year - events.first_year + 1
    complete = df.groupby("la_code")["year"].transform("size") == n_years
    df = df[complete].copy()
    df["cohort"] = df["la_code"].map(t["cohort"].where(t["status"] == "treated"))
    df["event_published"] = df["la_code"].map(t["event_published"].where(t["status"] == "treated"))
    df["k"] = df["year"] - df["cohort"]
    if exits == "truncated":
        ex = df["la_code"].map(t["exit_cohort"].where(t["status"] == "treated"))
        df = df[~(ex.notna() & (df["year"] >= ex))]
    return df.sort_values(["la_code", "year"]).reset_index(drop=True)


def check_reverse_timing(frame: pd.DataFrame) -> None:
    """Raise :class:`TimingError` unless every treated row with k >= 0 is a census strictly after
    the publication of the judgement and every row with k < 0 a census on or before it."""
    t = frame[frame["cohort"].notna()]
    census = pd.to_datetime(t["year"].astype(int).astype(str) + "-09-30")
    after = census > t["event_published"]
    bad = t[(t["k"] >= 0) != after]
    if len(bad):
        r = bad.iloc[0]
        raise TimingError(f"{len(bad)} row(s) break the reverse timing rule, e.g. LA {r['la_code']} census "
                          f"{int(r['year'])} has k={int(r['k'])} but the judgement was published "
                          f"{r['event_published']:%Y-%m-%d}")


def check_clean_controls(frame: pd.DataFrame, inspections: pd.DataFrame) -> None:
    """Raise :class:`TimingError` if any control LA (cohort NaN) has an Inadequate judgement
    published before the last census of the frame (i.e. Inadequate in force in the window)."""
    last = census_date(frame["year"].max())
    ctrl = set(frame.loc[frame["cohort"].isna(), "la_code"])
    g = inspections[inspections["framework"].isin(GRADED) & (inspections["overall_num"] == 4)
                    & (inspections["publication_date"] < last) & inspections["la_code"].isin(ctrl)]
    if len(g):
        raise TimingError(f"{g['la_code'].nunique()} control LA(s) were rated Inadequate in the window, "
                          f"e.g. {g['la_code'].iloc[0]} ({g['inspection_id'].iloc[0]})")


def _dummies(frame: pd.DataFrame) -> pd.DataFrame:
    k = frame["k"].clip(*WINDOW)
    cols = {f"k={j}": ((k == j) & frame["cohort"].notna()).astype(float)
            for j in range(WINDOW[0], WINDOW[1] + 1) if j != REFERENCE}
    d = pd.DataFrame(cols, index=frame.index)
    return d.loc[:, d.sum() > 0]


def _wald(b: np.ndarray, v: np.ndarray) -> dict:
    w = float(b @ np.linalg.pinv(v) @ b)
    return {"statistic": w, "df": int(len(b)), "p_value": float(stats.chi2.sf(w, len(b)))}


def conclusion(pre_p: float, outcome: str) -> tuple[bool, str]:
    """Machine-readable pre-trend flag and the plain sentence of what can be concluded."""
    what = outcome.replace("_rate", " rate")
    if pre_p < ALPHA:
        return True, (f"Pre-trends fail (joint p = {pre_p:.3g}): the {what} of LAs later rated Inadequate was "
                      f"already diverging from that of the controls before the judgement, so parallel trends do "
                      f"not hold and the post-judgement coefficients cannot be read as an effect of the "
                      f"judgement; they describe how the gap evolved, not what the judgement caused.")
    return False, (f"No evidence against parallel pre-trends at the 5% level (joint p = {pre_p:.3g}); this does "
                   f"not prove them (few events, limited power). Post-judgement coefficients estimate the change "
                   f"in the {what} after a move to Inadequate only under the parallel-trends assumption.")


def fit_twfe(frame: pd.DataFrame, outcome: str, exits: str) -> FitResult:
    """Two-way FE event study (linearmodels PanelOLS, LA + year effects, LA-clustered)."""
    from linearmodels.panel import PanelOLS
    d = _dummies(frame)
    terms = list(d.columns)
    data = pd.concat([frame[["la_code", "year", outcome]], d], axis=1).set_index(["la_code", "year"])
    res = PanelOLS(data[outcome], data[terms], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    coefs = coef_table(res.params[terms], res.std_errors[terms])
    pre = [t for t in terms if int(t[2:]) < REFERENCE]
    post = [t for t in terms if int(t[2:]) >= 0]
    pre_w = _wald(res.params[pre].to_numpy(), res.cov.loc[pre, pre].to_numpy())
    fail, text = conclusion(pre_w["p_value"], outcome)
    st = {"nobs": int(res.nobs), "n_las": int(frame["la_code"].nunique()),
          "n_events": int(frame.loc[frame["cohort"].notna(), "la_code"].nunique()),
          "n_controls": int(frame.loc[frame["cohort"].isna(), "la_code"].nunique()),
          "pre_trend_wald": pre_w, "post_wald": _wald(res.params[post].to_numpy(), res.cov.loc[post, post].to_numpy()),
          "pre_trend_fail": fail, "conclusion": text}
    spec = {"estimator": "twfe (PanelOLS, LA + year effects; k binned at -4, +4)", "outcome": outcome,
            "event": "first move to Inadequate, dated by publication", "controls": "never Inadequate in window",
            "exits": exits, "sample": "treated + never-Inadequate LAs", "regressors": terms, "year_effects": True}
    return FitResult(f"rev_twfe_{exits}_{outcome}", "reverse", spec, coefs, st)


def fit_callaway_santanna(frame: pd.DataFrame, outcome: str, exits: str, control_group: str = "never"):
    """Callaway-Sant'Anna ATT(g, t) (``differences.ATTgt``) aggregated to event time.

    Returns the FitResult (event-time ATTs, k = -1 is the base and omitted) and the group-time
    table (index cohort, time; columns ATT, std_error)."""
    from differences import ATTgt
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"unknown control group {control_group!r}; choose from {CONTROL_GROUPS}")
    data = frame[["la_code", "year", outcome, "cohort"]].set_index(["la_code", "year"])
    att = ATTgt(data=data, cohort_column="cohort", base_period="universal")
    att.fit(formula=outcome, control_group="never_treated" if control_group == "never" else "not_yet_treated",
            progress_bar=False)
    gt = _flat(att.results())[["ATT", "std_error"]]
    ev = _flat(att.aggregate("event"))
    ev = ev[ev.index != REFERENCE]
    terms = [f"k={int(k)}" for k in ev.index]
    coefs = coef_table(pd.Series(ev["ATT"].to_numpy(), index=terms), pd.Series(ev["std_error"].to_numpy(), index=terms))
    pre_w = _cs_pre_wald(att)
    fail, text = conclusion(pre_w["p_value"], outcome)
    st = {"nobs": int(len(data)), "n_las": int(frame["la_code"].nunique()),
          "n_events": int(frame.loc[frame["cohort"].notna(), "la_code"].nunique()),
          "n_controls": int(frame.loc[frame["cohort"].isna(), "la_code"].nunique()),
          "n_group_time": int(len(gt)), "pre_trend_wald": pre_w, "pre_trend_fail": fail, "conclusion": text}
    spec = {"estimator": f"callaway_santanna (differences.ATTgt, universal base, {control_group}-treated controls)",
            "outcome": outcome, "event": "first move to Inadequate, dated by publication",
            "controls": "never Inadequate in window" if control_group == "never" else "never + not yet Inadequate",
            "exits": exits, "sample": "treated + never-Inadequate LAs", "regressors": terms, "year_effects": True}
    return FitResult(f"rev_cs_{control_group}_{exits}_{outcome}", "reverse", spec, coefs, st), gt


def _cs_pre_wald(att) -> dict:
    """Joint Wald test that the event-time ATTs at k = -4, -3, -2 are zero, with their covariance
    from the library's aggregated influence functions (entity level in a balanced panel).

    Notes
    -----
    :math:`W = n\\,\\hat\\theta'\\hat V^{-1}\\hat\\theta`, :math:`\\hat V = \\psi'\\psi/n`
    with :math:`\\psi` the n x 3 influence functions, as in the library's own ``wald_pre_test``
    (whose group-time version is singular here: cohorts of one LA). The test covers the same
    pre-event periods as the TWFE test (TWFE bins k <= -4).
    """
    ntl = att._result_dict["full_sample"]["aggregate_inst"].event
    pre = [r for r in ntl if WINDOW[0] <= r.relative_period < REFERENCE]
    theta = np.array([r.ATT for r in pre])
    psi = np.column_stack([np.asarray(r.influence_func.todense() if hasattr(r.influence_func, "todense")
                                      else r.influence_func).ravel() for r in pre])
    n = psi.shape[0]
    v = psi.T @ psi / n
    w = float(n * theta @ np.linalg.solve(v, theta))
    return {"statistic": w, "df": len(pre), "p_value": float(stats.chi2.sf(w, len(pre))),
            "terms": [f"k={r.relative_period}" for r in pre]}


def _flat(res: pd.DataFrame) -> pd.DataFrame:
    """The library's two-level column table -> plain columns (ATT, std_error, lower, upper)."""
    out = res.copy()
    out.columns = [c[-1] for c in out.columns]
    return out


def _job(args):
    frame, outcome, exits, control_group = args
    if control_group is None:
        return fit_twfe(frame, outcome, exits)
    return fit_callaway_santanna(frame, outcome, exits, control_group)[0]


def start_reverse(panel: pd.DataFrame, inspections: pd.DataFrame, executor=None):
    """Build and check every reverse-direction frame, submit the Callaway-Sant'Anna fits to
    ``executor`` (a concurrent.futures executor; None = fit in this process when collected) and
    return a function that fits the TWFE models and returns ``(fits, summary)`` as
    :func:`fit_reverse` does. Lets the caller overlap the slow library fits with other work."""
    years = panel["year"]
    events = inadequate_events(inspections, int(years.min()), int(years.max()))
    plan = []  # (outcome, exits, frame, cs control groups)
    for outcome in OUTCOMES:
        for exits in EXIT_RULES:
            frame = event_frame(panel, events, outcome, exits)
            check_reverse_timing(frame)
            check_clean_controls(frame, inspections)
            # CS needs the balanced panel that truncation breaks: absorbing only
            groups = () if exits == "truncated" else (("never", "not_yet") if outcome == "agency_rate" else ("never",))
            plan.append((outcome, exits, frame, groups))
    # in model order: per outcome and exit rule, TWFE (control group None) then the CS fits
    jobs = [(frame, outcome, exits, cg) for outcome, exits, frame, groups in plan for cg in (None, *groups)]
    pending = [executor.submit(_job, j) for j in jobs] if executor is not None else None

    def collect() -> tuple[list[FitResult], dict]:
        fits = [f.result() for f in pending] if pending is not None else [_job(j) for j in jobs]
        return fits, _summary(events, fits)
    return collect


def fit_reverse(panel: pd.DataFrame, inspections: pd.DataFrame) -> tuple[list[FitResult], dict]:
    """Every reverse-direction fit and the design summary for ``results.json['reverse']``."""
    return start_reverse(panel, inspections)()


def _summary(events: EventTable, fits: list[FitResult]) -> dict:
    summary = {
        "design": {
            "event": "first published SIF/ILACS judgement of Inadequate after an observed non-Inadequate grade",
            "dating": "cohort = first 30 September census strictly after publication; k = census year - cohort; "
                      "a census on or before publication has k < 0",
            "controls": "LAs with no Inadequate judgement published before the last census (never Inadequate "
                        "in the window); not-yet-treated LAs added in the cs_not_yet fits",
            "excluded": "LAs whose first observed grade is Inadequate (prior grade unknown, no observed move) and "
                        "LAs whose move precedes the first census: neither treated nor controls",
            "exits": "absorbing (primary): dummies stay on after a later upgrade, as in Callaway-Sant'Anna; "
                     "truncated (sensitivity): treated censuses from the first census after the upgrade dropped",
            "estimators": "TWFE (linearmodels PanelOLS, LA + year effects, k binned at -4/+4, ref k=-1) and "
                          "Callaway-Sant'Anna (differences.ATTgt, universal base k=-1, outcome regression, "
                          "analytic influence-function SEs by LA)",
            "pre_trend_rule": f"joint Wald test of the pre-event coefficients; flag pre_trend_fail if p < {ALPHA}",
        },
        "counts": events.counts(),
        "flags": {f.model_id: {"pre_trend_p": f.stats["pre_trend_wald"]["p_value"],
                               "pre_trend_fail": f.stats["pre_trend_fail"], "conclusion": f.stats["conclusion"]}
                  for f in fits},
        "comparison_note": "event_inadequate_* models (analysis/models/event_study.py) are the previous design: "
                           "census-year dating of the grade in force, LAs without a transition as controls "
                           "(including LAs rated Inadequate from their first observation)",
    }
    return summary
