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
* **Exclusions** (:data:`STATUSES`, applied in that order; treated + controls + excluded = every LA
  with a graded judgement): the small LAs (City of London, Isles of Scilly), excluded everywhere
  else too; LAs with no graded judgement published before the last census; an LA whose first
  observed graded judgement is Inadequate (no observed move, unknown prior grade); an LA whose
  move is published before the first census (no pre-period); and an event whose census before
  the event (k = -1) falls between the inspection's fieldwork start and its publication, so
  that the "before" census is taken while the council is being inspected (``overlap='keep'``
  keeps these, as a sensitivity).
* **Outcomes.** Agency, vacancy and turnover rates (pp) and the vacancy decomposition: funded
  posts (vacancies + staff in post), staff in post and agency FTE, in log points
  (:func:`with_decomposition`); the vacancy-rate identity is checked against the published rates
  (:func:`check_vacancy_identity`).
* **Censuses.** ``all`` (primary) or ``2017+``: outcome censuses of the worker-level collection
  only (the events table then starts in 2017, so an event needs a 2017+ census before it).
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
* Callaway-Sant'Anna group-time ATTs with a universal base period (the census before the event,
  k = -1, as for TWFE), no covariates, aggregated to event time; analytic (influence-function)
  SEs clustered by LA; a Wald pre-test of k = -4..-2 with the influence-function covariance
  (:mod:`analysis.models.callaway_santanna`, equal to ``differences.ATTgt``, the reference in the
  tests).
* Trend-robust ("honest") intervals for k = 0, +1, +2 from the Callaway-Sant'Anna coefficients
  k = -4..-2 (pre) and 0..+2 (post) and their influence-function covariance
  (:mod:`analysis.models.honest_did`, :func:`honest_summary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import honest_did as hd
from .callaway_santanna import CONTROL_GROUPS, callaway_santanna
from .results import FitResult, coef_table
from .spec import prepare_panel

#: rates (percentage points) and the vacancy decomposition (100 x log FTE, i.e. log points)
RATES = ("agency_rate", "vacancy_rate", "turnover_rate")
DECOMPOSITION = ("log_posts", "log_inpost", "log_agency_fte")
#: log points: LOG_SCALE x natural log (a small difference is about the same difference in %)
LOG_SCALE = 100
OUTCOMES = RATES + DECOMPOSITION
WINDOW = (-4, 4)
REFERENCE = -1
EXIT_RULES = ("absorbing", "truncated")
#: outcome censuses: every census (primary) or the worker-level censuses only
CENSUSES = ("all", "2017+")
WORKER_LEVEL_START = 2017
#: events whose census before the event (k = -1) falls during the inspection: dropped (primary) or kept
OVERLAP_RULES = ("drop", "keep")
GRADED = ("SIF", "ILACS")
ALPHA = 0.05

EXCLUDED_SMALL = "excluded: small LA (City of London, Isles of Scilly)"
EXCLUDED_NO_GRADE = "excluded: no graded judgement published before the last census"
EXCLUDED_FIRST_INADEQUATE = "excluded: first observed grade Inadequate"
EXCLUDED_NO_PRE = "excluded: event before the first census"
EXCLUDED_OVERLAP = "excluded: census before the event during the inspection"
STATUSES = ("treated", "control", EXCLUDED_SMALL, EXCLUDED_NO_GRADE, EXCLUDED_FIRST_INADEQUATE,
            EXCLUDED_NO_PRE, EXCLUDED_OVERLAP)


class TimingError(ValueError):
    """A row breaks the timing rule of the reverse design."""


def census_date(year) -> pd.Timestamp:
    """Reference date of the workforce census of ``year`` (30 September)."""
    return pd.Timestamp(int(year), 9, 30)


def first_census_after(date: pd.Timestamp) -> int:
    """Year of the first 30 September census strictly after ``date``."""
    return int(date.year) if date < census_date(date.year) else int(date.year) + 1


def with_decomposition(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with the decomposition outcomes (100 x natural log, so that a difference is in
    log points, about % for small changes).

    Notes
    -----
    Funded posts :math:`P = V + S` (vacancies plus staff in post, FTE), so the vacancy rate is
    :math:`100\\,V/P`; ``log_posts`` :math:`= 100\\ln P`, ``log_inpost`` :math:`= 100\\ln S`,
    ``log_agency_fte`` :math:`= 100\\ln(1 + A)` (agency FTE can be 0). Raises ``ValueError``
    naming LA and year if staff in post is not positive or a count is negative.
    """
    p = panel.copy()
    for col in ("inpost_fte", "vacancy_fte", "agency_fte"):
        bad = p[p[col] < 0]
        if len(bad):
            r = bad.iloc[0]
            raise ValueError(f"la_year_panel: {col} = {r[col]} is negative (LA {r['la_code']}, {int(r['year'])})")
    bad = p[p["inpost_fte"] <= 0]
    if len(bad):
        r = bad.iloc[0]
        raise ValueError(f"la_year_panel: inpost_fte = {r['inpost_fte']} is not positive "
                         f"(LA {r['la_code']}, {int(r['year'])}): its logarithm is undefined")
    p["posts_fte"] = p["vacancy_fte"] + p["inpost_fte"]
    p["log_posts"] = LOG_SCALE * np.log(p["posts_fte"])
    p["log_inpost"] = LOG_SCALE * np.log(p["inpost_fte"])
    p["log_agency_fte"] = LOG_SCALE * np.log1p(p["agency_fte"])
    return p


def vacancy_identity_tolerance(panel: pd.DataFrame) -> pd.Series:
    """Largest difference, by LA-year, between the published vacancy rate and
    :math:`100\\,V/(V + S)` recomputed from the FTE columns that rounding alone explains.

    Notes
    -----
    The rate is published to 0.1 (whole percent in 2015) and each FTE count to 0.1, so
    :math:`|\\Delta r| \\le r_{round} + (\\partial r/\\partial V + |\\partial r/\\partial S|)\\,0.05
    = r_{round} + 5/(V+S)`.
    """
    rate_round = np.where(panel["year"] == 2015, 0.5, 0.05)
    return pd.Series(rate_round + 5.0 / (panel["vacancy_fte"] + panel["inpost_fte"]) + 1e-9, index=panel.index)


#: LA-years whose published vacancy rate does not follow from the published FTE counts, with the reason
IDENTITY_EXCEPTIONS = {
    ("314", 2016): "2016 joint return of Kingston and Richmond: the SFR's rate 8.5 against 15.0 / 173.6 = 8.64",
    ("318", 2016): "2016 joint return of Kingston and Richmond: the SFR's rate 8.5 against 15.0 / 173.6 = 8.64",
}


def check_vacancy_identity(panel: pd.DataFrame) -> None:
    """Raise ``ValueError`` (LA, year, both values) if a published vacancy rate differs from the one
    recomputed from vacancies and staff in post by more than rounding (the decomposition rests on
    vacancy rate = vacancies / (vacancies + staff in post)); the LA-years of
    :data:`IDENTITY_EXCEPTIONS` are exempt, with their reason."""
    d = panel.dropna(subset=["vacancy_rate", "vacancy_fte", "inpost_fte"])
    d = d[[(str(la), int(y)) not in IDENTITY_EXCEPTIONS for la, y in zip(d["la_code"], d["year"])]]
    recomputed = 100 * d["vacancy_fte"] / (d["vacancy_fte"] + d["inpost_fte"])
    gap = (recomputed - d["vacancy_rate"]).abs()
    bad = d[gap > vacancy_identity_tolerance(d)]
    if len(bad):
        r = bad.iloc[0]
        raise ValueError(f"la_year_panel: vacancy_rate = {r['vacancy_rate']} for LA {r['la_code']} in "
                         f"{int(r['year'])} but vacancies / (vacancies + staff in post) = "
                         f"{100 * r['vacancy_fte'] / (r['vacancy_fte'] + r['inpost_fte']):.2f}")


@dataclass(frozen=True)
class EventTable:
    """One row per LA with a graded judgement: ``status`` (one of :data:`STATUSES`), event
    publication date and fieldwork start, ``cohort`` (first census after publication), exit
    publication date and ``exit_cohort``."""

    table: pd.DataFrame
    first_year: int
    last_year: int
    overlap: str = "drop"

    def counts(self) -> dict:
        """Treated, controls and excluded by reason (in the order the rules apply); they add up to
        ``n_las``, every LA with a graded judgement in the inspection table."""
        s = self.table["status"]
        t = self.table[s == "treated"]
        return {"n_las": int(len(s)), "treated": int((s == "treated").sum()),
                "controls": int((s == "control").sum()),
                "excluded": [{"reason": reason.removeprefix("excluded: "), "n": int((s == reason).sum())}
                             for reason in STATUSES[2:]],
                "treated_exiting_inadequate": int(t["exit_cohort"].notna().sum()),
                "cohorts": {str(int(g)): int(n) for g, n in t["cohort"].value_counts().sort_index().items()}}


def inadequate_events(inspections: pd.DataFrame, first_year: int, last_year: int,
                      overlap: str = "drop", small_las: set | None = None) -> EventTable:
    """Classify every LA with a graded judgement (see module notes for the rules).

    ``small_las``: codes of the small LAs (City of London, Isles of Scilly), excluded as everywhere
    else; by default those flagged ``small_la`` in the inspection table. ``overlap='drop'``
    excludes an event whose census before the event (k = -1) falls between the inspection's
    fieldwork start and its publication; ``'keep'`` keeps it (sensitivity).
    """
    if overlap not in OVERLAP_RULES:
        raise ValueError(f"unknown overlap rule {overlap!r}; choose from {OVERLAP_RULES}")
    if small_las is None:
        small_las = set(inspections.loc[inspections["small_la"].eq(True), "la_code"])
    cols = ["la_code", "framework", "overall_num", "publication_date", "start_date", "inspection_id"]
    graded = inspections.loc[inspections["framework"].isin(GRADED) & inspections["overall_num"].notna(), cols]
    g = graded[graded["publication_date"] < census_date(last_year)]
    g = g.sort_values(["la_code", "publication_date", "inspection_id"])
    history = {la: h for la, h in g.groupby("la_code", sort=True)}
    empty = g.iloc[:0]
    rows = []
    for la in sorted(set(graded["la_code"])):
        h = history.get(la, empty)
        row = {"la_code": la, "status": "control", "event_published": pd.NaT, "event_start": pd.NaT,
               "cohort": np.nan, "event_inspection_id": None, "exit_published": pd.NaT, "exit_cohort": np.nan}
        grades = h["overall_num"].to_numpy()
        pubs = list(h["publication_date"])
        bad = np.flatnonzero(grades == 4)
        if bad.size:
            i = int(bad[0])
            row.update(event_published=pubs[i], event_start=h["start_date"].iloc[i],
                       cohort=float(first_census_after(pubs[i])), event_inspection_id=h["inspection_id"].iloc[i])
            better = [j for j in range(i + 1, len(grades)) if grades[j] < 4]
            if better:
                row.update(exit_published=pubs[better[0]], exit_cohort=float(first_census_after(pubs[better[0]])))
        row["status"] = _status(row, la in small_las, len(h) == 0, bad.size and int(bad[0]) == 0,
                                first_year, overlap)
        rows.append(row)
    return EventTable(pd.DataFrame(rows).set_index("la_code"), first_year, last_year, overlap)


def _status(row: dict, small: bool, no_grade: bool, first_inadequate: bool, first_year: int, overlap: str) -> str:
    """The first rule that applies, in the order of :data:`STATUSES`."""
    if small:
        return EXCLUDED_SMALL
    if no_grade:
        return EXCLUDED_NO_GRADE
    if pd.isna(row["cohort"]):
        return "control"
    if first_inadequate:
        return EXCLUDED_FIRST_INADEQUATE
    if row["cohort"] <= first_year:
        return EXCLUDED_NO_PRE
    if overlap == "drop" and census_overlaps(row["cohort"], row["event_start"], row["event_published"]):
        return EXCLUDED_OVERLAP
    return "treated"


def census_overlaps(cohort: float, start: pd.Timestamp, published: pd.Timestamp) -> bool:
    """True if the census before the event (year ``cohort - 1``, k = -1) falls between the
    inspection's fieldwork start and its publication (both included)."""
    c = census_date(int(cohort) - 1)
    return bool(start <= c <= published)


def model_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """The model-ready panel (:func:`analysis.models.spec.prepare_panel`: small LAs dropped) with the
    decomposition outcomes (:func:`with_decomposition`)."""
    return with_decomposition(prepare_panel(panel))


def event_frame(panel: pd.DataFrame, events: EventTable, outcome: str, exits: str = "absorbing",
                censuses: str = "all", prepared: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimation frame: treated and control LAs observed with the outcome at every census of the
    window (a balanced panel, as the panel form of the Callaway-Sant'Anna estimator needs);
    ``censuses='2017+'`` keeps the worker-level censuses only (the events table must then start
    in that year); ``cohort`` NaN for controls, ``k`` = year - cohort; under ``exits='truncated'``
    a treated LA's censuses from its exit on are dropped (TWFE only). ``prepared``: the
    :func:`model_panel` of ``panel``, if already made."""
    if exits not in EXIT_RULES:
        raise ValueError(f"unknown exit rule {exits!r}; choose from {EXIT_RULES}")
    if censuses not in CENSUSES:
        raise ValueError(f"unknown census choice {censuses!r}; choose from {CENSUSES}")
    first = WORKER_LEVEL_START if censuses == "2017+" else int(panel["year"].min())
    if events.first_year != first:
        raise ValueError(f"census choice {censuses!r} starts in {first} but the events table in {events.first_year}")
    mp = model_panel(panel) if prepared is None else prepared
    if outcome not in mp.columns:
        raise ValueError(f"unknown outcome {outcome!r}")
    t = events.table
    keep = t.index[t["status"].isin(["treated", "control"])]
    df = mp.loc[mp["la_code"].isin(keep) & (mp["year"] >= first) & mp[outcome].notna(), ["la_code", "year", outcome]]
    n_years = events.last_year - first + 1
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
    census = pd.to_datetime(pd.DataFrame({"year": t["year"].astype(int), "month": 9, "day": 30}))
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


OUTCOME_WORDS = {"agency_rate": "agency rate", "vacancy_rate": "vacancy rate", "turnover_rate": "turnover rate",
                 "log_posts": "number of funded posts", "log_inpost": "number of staff in post",
                 "log_agency_fte": "number of agency workers"}


def conclusion(pre_p: float, outcome: str) -> tuple[bool, str]:
    """Machine-readable pre-trend flag and the plain sentence of what can be concluded."""
    what = OUTCOME_WORDS.get(outcome, outcome)
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
    """Callaway-Sant'Anna ATT(g, t) (:mod:`analysis.models.callaway_santanna`, equal to
    ``differences.ATTgt`` with a universal base) aggregated to event time.

    Returns the FitResult (event-time ATTs, k = -1 is the base and omitted; ``stats`` carry the
    influence-function covariance of k = -4..-2 and 0..+2 for the honest bounds) and the
    group-time table (index cohort, base_period, time; columns ATT, std_error)."""
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"unknown control group {control_group!r}; choose from {CONTROL_GROUPS}")
    res = callaway_santanna(frame, outcome, control_group)
    ev = res.event[res.event.index != REFERENCE]
    terms = [f"k={int(k)}" for k in ev.index]
    coefs = coef_table(pd.Series(ev["ATT"].to_numpy(), index=terms), pd.Series(ev["std_error"].to_numpy(), index=terms))
    pre = [k for k in ev.index if WINDOW[0] <= k < REFERENCE]
    pre_w = _wald(ev.loc[pre, "ATT"].to_numpy(), res.covariance(pre))
    pre_w["terms"] = [f"k={k}" for k in pre]
    fail, text = conclusion(pre_w["p_value"], outcome)
    ks = HONEST_PRE + HONEST_POST
    missing = [k for k in ks if k not in res.influence]
    if missing:
        raise ValueError(f"{outcome}: no event-time estimate at k = {missing}: too few cohorts for the honest bounds")
    st = {"nobs": int(len(frame)), "n_las": int(frame["la_code"].nunique()),
          "event_covariance": {"terms": [f"k={k}" for k in ks], "matrix": res.covariance(ks).tolist()},
          "n_events": int(frame.loc[frame["cohort"].notna(), "la_code"].nunique()),
          "n_controls": int(frame.loc[frame["cohort"].isna(), "la_code"].nunique()),
          "n_group_time": int(len(res.group_time)), "pre_trend_wald": pre_w, "pre_trend_fail": fail,
          "conclusion": text}
    spec = {"estimator": f"callaway_santanna (universal base, {control_group}-treated controls; equal to differences.ATTgt)",
            "outcome": outcome, "event": "first move to Inadequate, dated by publication",
            "controls": "never Inadequate in window" if control_group == "never" else "never + not yet Inadequate",
            "exits": exits, "sample": "treated + never-Inadequate LAs", "regressors": terms, "year_effects": True}
    return FitResult(f"rev_cs_{control_group}_{exits}_{outcome}", "reverse", spec, coefs, st), res.group_time


#: event times of the honest bounds: pre-period k = -4..-2 (k = -1 is the reference), post k = 0..+2
HONEST_PRE = (-4, -3, -2)
HONEST_POST = (0, 1, 2)


def _job(args) -> tuple[FitResult, dict | None]:
    """One fit and, for a never-treated Callaway-Sant'Anna fit, its honest bounds (k = 0, +1, +2
    for the primary design, k = 0 for a named choice)."""
    frame, outcome, exits, control_group, model_id = args
    if control_group is None:
        return fit_twfe(frame, outcome, exits), None
    fit = fit_callaway_santanna(frame, outcome, exits, control_group)[0]
    if model_id:
        fit = FitResult(model_id, fit.family, fit.spec, fit.coefs, fit.stats)
    if control_group != "never":
        return fit, None
    return fit, honest_summary(fit, targets=(0,) if model_id else HONEST_POST)


def design_plan(panel: pd.DataFrame, inspections: pd.DataFrame) -> tuple[dict, list]:
    """Events tables (primary, census 2017+, overlapping events kept) and the fits to run:
    ``(frame, outcome, exits, control group or None for TWFE, model id or None)``."""
    first, last = int(panel["year"].min()), int(panel["year"].max())
    mp = model_panel(panel)
    events = {"primary": inadequate_events(inspections, first, last),
              "census_2017": inadequate_events(inspections, WORKER_LEVEL_START, last),
              "overlap_kept": inadequate_events(inspections, first, last, overlap="keep")}
    jobs = []
    for outcome in OUTCOMES:
        for exits in EXIT_RULES:
            frame = _checked(mp, inspections, events["primary"], outcome, exits)
            if outcome in RATES:  # TWFE for the rates, as before
                jobs.append((frame, outcome, exits, None, None))
            if exits == "absorbing":  # CS needs the balanced panel that truncation breaks
                jobs.append((frame, outcome, exits, "never", None))
                if outcome == "agency_rate":
                    jobs.append((frame, outcome, exits, "not_yet", None))
        for key, suffix, censuses in (("census_2017", "_2017", "2017+"), ("overlap_kept", "_overlap", "all")):
            frame = _checked(mp, inspections, events[key], outcome, "absorbing", censuses)
            jobs.append((frame, outcome, "absorbing", "never", f"rev_cs_never_absorbing_{outcome}{suffix}"))
    return events, jobs


def _checked(mp, inspections, events, outcome, exits, censuses="all") -> pd.DataFrame:
    frame = event_frame(mp, events, outcome, exits, censuses, prepared=mp)
    check_reverse_timing(frame)
    check_clean_controls(frame, inspections)
    return frame


def start_reverse(panel: pd.DataFrame, inspections: pd.DataFrame, executor=None):
    """Build and check every reverse-direction frame, submit the fits of the named choices (and
    their honest bounds) to ``executor`` (a concurrent.futures executor; None = all in this
    process) and return a function that fits the rest when called and returns ``(fits, summary)``
    as :func:`fit_reverse` does. Lets the caller share the work between two processes; the
    results are the same either way (fixed seeds, fixed order)."""
    check_vacancy_identity(panel)
    events, jobs = design_plan(panel, inspections)
    remote = {i: executor.submit(_job, j) for i, j in enumerate(jobs) if j[4]} if executor is not None else {}

    def collect() -> tuple[list[FitResult], dict]:
        done = [remote[i].result() if i in remote else _job(j) for i, j in enumerate(jobs)]
        fits = [f for f, _ in done]
        honest = {f.model_id: h for f, h in done if h is not None}
        return fits, _summary(events, fits, jobs, honest)
    return collect


def fit_reverse(panel: pd.DataFrame, inspections: pd.DataFrame) -> tuple[list[FitResult], dict]:
    """Every reverse-direction fit and the design summary for ``results.json['reverse']``."""
    return start_reverse(panel, inspections)()


#: restriction grids of the honest bounds: Mbar (relative magnitudes, a multiple of the largest
#: pre-period change) and M (smoothness, outcome units per census squared)
MBAR_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
M_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
#: the restrictions drawn and quoted beside the conventional interval: post-event changes no
#: larger than the largest pre-event change; the pre-event trend continued as a straight line
BENCHMARK_MBAR = 1.0
BENCHMARK_M = 0.0


def event_estimates(fit: FitResult) -> hd.EventStudyEstimates:
    """Pre (k = -4..-2) and post (k = 0..+2) Callaway-Sant'Anna coefficients and covariance."""
    cov = fit.stats["event_covariance"]
    b = fit.coefs.loc[cov["terms"], "estimate"].to_numpy()
    return hd.EventStudyEstimates(b, np.array(cov["matrix"]), len(HONEST_PRE), len(HONEST_POST))


def honest_summary(fit: FitResult, targets=HONEST_POST) -> dict:
    """Honest intervals for each post event time in ``targets``: the conventional interval,
    relative magnitudes over :data:`MBAR_GRID`, smoothness over :data:`M_GRID`; for k = 0 the
    breakdown values and two linear extrapolations of the pre-trend.

    Notes
    -----
    Breakdown: the largest :math:`\\bar M` (or M) at which the k = 0 interval excludes zero
    (:func:`analysis.models.honest_did.breakdown`, to 0.01). Extrapolations: :math:`\\hat\\beta_0` minus
    the least-squares line through k = -4..-1 (with :math:`\\beta_{-1} = 0`) or through k = -2 and
    k = -1 only, evaluated at k = 0, with the normal interval from :math:`v'\\Sigma v`.
    """
    es = event_estimates(fit)
    out = {"pre": [f"k={k}" for k in HONEST_PRE], "post": [f"k={k}" for k in HONEST_POST],
           "mbar_grid": list(MBAR_GRID), "m_grid": list(M_GRID), "by_k": {}}
    z = stats.norm.ppf(1 - ALPHA / 2)
    draws = hd.lf_draws(es)
    for k in targets:
        l = es.target(HONEST_POST.index(k))
        lo, hi = hd.original_interval(es, l)
        rm = [dict(zip(("lo", "hi"), hd.rm_interval(es, l, mb, draws=draws)), mbar=mb) for mb in MBAR_GRID]
        sd = [{"m": m, **{x: r[x] for x in ("lo", "hi", "estimate")}} for m in M_GRID
              for r in [hd.sd_flci(es, l, m)]]
        out["by_k"][f"k={k}"] = {"estimate": float(l @ es.betahat[es.n_pre:]), "original": {"lo": lo, "hi": hi},
                                 "relative_magnitudes": rm, "smoothness": sd}
    l0 = es.target(0)
    k0 = out["by_k"]["k=0"]
    out["breakdown_mbar_k0"] = hd.breakdown(lambda x: hd.rm_interval(es, l0, x, draws=draws), 5.0, tol=0.01,
                                            known={r["mbar"]: (r["lo"], r["hi"]) for r in k0["relative_magnitudes"]})
    out["breakdown_m_k0"] = hd.breakdown(lambda x: (lambda r: (r["lo"], r["hi"]))(hd.sd_flci(es, l0, x)), 10.0,
                                         tol=0.01, known={r["m"]: (r["lo"], r["hi"]) for r in k0["smoothness"]})
    t_post = np.arange(1, es.n_post + 1, dtype=float)
    for name, points in (("linear_k-4_to_-1", es.n_pre), ("two_point_k-2_to_-1", 1)):
        v_pre, l = hd.extrapolation_weights(es.n_pre, l0, t_post, points)
        v = np.r_[v_pre, l]
        est, se = float(v @ es.betahat), float(np.sqrt(v @ es.sigma @ v))
        out.setdefault("extrapolation_k0", {})[name] = {"estimate": est, "std_error": se,
                                                        "ci_low": est - z * se, "ci_high": est + z * se}
    return out


def _summary(events: dict, fits: list[FitResult], jobs: list, honest: dict) -> dict:
    by_id = {f.model_id: f for f in fits}
    primary = events["primary"]
    balanced = {}
    for frame, outcome, exits, cg, mid in jobs:
        if cg == "never":
            m = by_id[mid or f"rev_cs_never_absorbing_{outcome}"]
            ev = events["primary"] if mid is None else events["census_2017" if mid.endswith("_2017") else "overlap_kept"]
            balanced[m.model_id] = {"treated_in_design": ev.counts()["treated"], "events": m.stats["n_events"],
                                    "controls_in_design": ev.counts()["controls"], "controls": m.stats["n_controls"],
                                    "censuses": f"{int(frame['year'].min())}-{int(frame['year'].max())}"}
    summary = {
        "design": {
            "event": "first published SIF/ILACS judgement of Inadequate after an observed non-Inadequate grade",
            "dating": "cohort = first 30 September census strictly after publication; k = census year - cohort; "
                      "a census on or before publication has k < 0",
            "controls": "LAs with no Inadequate judgement published before the last census (never Inadequate "
                        "in the window); not-yet-treated LAs added in the cs_not_yet fit",
            "excluded": "in order: small LAs (City of London, Isles of Scilly); no graded judgement before the last "
                        "census; first observed grade Inadequate (prior grade unknown, no observed move); move "
                        "before the first census; census before the event (k = -1) during the inspection "
                        "(between fieldwork start and publication)",
            "exits": "absorbing (primary): dummies stay on after a later upgrade, as in Callaway-Sant'Anna; "
                     "truncated (sensitivity): treated censuses from the first census after the upgrade dropped",
            "estimators": "TWFE (linearmodels PanelOLS, LA + year effects, k binned at -4/+4, ref k=-1) and "
                          "Callaway-Sant'Anna (universal base k=-1, no covariates, analytic influence-function SEs "
                          "by LA; vectorised, equal to differences.ATTgt)",
            "outcomes": "rates in percentage points; log_posts = 100 ln(vacancies + staff in post FTE), "
                        "log_inpost = 100 ln(staff in post FTE), log_agency_fte = 100 ln(1 + agency FTE): log points",
            "choices": "_2017: outcome censuses 2017+ only (worker-level collection); _overlap: events whose "
                       "k = -1 census falls during the inspection kept",
            "honest": "Rambachan-Roth bounds from the Callaway-Sant'Anna coefficients k = -4..-2 and 0..+2 with "
                      "their influence-function covariance: relative magnitudes (conditional-hybrid) over "
                      "mbar_grid, smoothness (FLCI) over m_grid; breakdown = largest value whose k = 0 interval "
                      "excludes 0",
            "pre_trend_rule": f"joint Wald test of the pre-event coefficients; flag pre_trend_fail if p < {ALPHA}",
        },
        "counts": primary.counts(),
        "counts_census_2017": events["census_2017"].counts(),
        "counts_overlap_kept": events["overlap_kept"].counts(),
        "log_scale": LOG_SCALE,
        "benchmarks": {"mbar": BENCHMARK_MBAR, "m": BENCHMARK_M},
        "identity_exceptions": [{"la_code": la, "year": y, "reason": r} for (la, y), r in sorted(IDENTITY_EXCEPTIONS.items())],
        "overlapping_events": sorted(primary.table.index[primary.table["status"] == EXCLUDED_OVERLAP]),
        "balanced": balanced,
        "honest": honest,
        "flags": {f.model_id: {"pre_trend_p": f.stats["pre_trend_wald"]["p_value"],
                               "pre_trend_fail": f.stats["pre_trend_fail"], "conclusion": f.stats["conclusion"]}
                  for f in fits},
    }
    return summary
