"""Rows and columns of each multiverse specification, read from the one inspection-level frame.

For each timing, the rows come from :func:`analysis.models.frame.inspection_frame` (its lag
structures ``census_before`` / ``mean_two_before`` / ``change_two_before``, timing-validated
there), with every control group complete so that a control choice changes columns, not rows.
A sample is a mask on those rows, defined on the *census* of the regressors:

* ``worker-level census``: every census a regressor is read from (each of the frame's census-year
  columns) is a worker-level collection (the panel's ``aggregate_collection`` is False there),
  so inspections measured at the 2016 aggregate census are out under every timing;
* ``excl. joint returns``: no census a regressor is read from is a joint workforce return
  (the panel's ``joint_return``);
* ``excl. London``, ``ILACS only``, ``SIF only``; ``all``.

The control ``previous grade`` restricts the rows to re-inspections (a previous grade exists).

Columns: the four workforce measures; inspection-period effects (two-year periods, as in the
conditional logit of the forward design: single years separate the Inadequate outcome, e.g. no
2026 inspection is Inadequate) and the ILACS framework indicator; the chosen controls; a
constant for the pooled linear and logit models; under LA fixed effects everything is demeaned
within LA; correlated random effects add the LA means (over the fitted rows) of every
time-varying column. A 0/1 column constant in the sample, and the first level present of each
set of dummies (the reference), are left out, so that two labels giving the same model have
the same column names. Workforce columns are named with their timing (``agency_rate@mean_two_before``):
the same name always holds the same values.

Data rules (:data:`DATA_RULES`) refuse a design before it is fitted: fewer observations than
parameters; an outcome that does not vary (a grade category absent, for the ordered logit);
a workforce measure without within-LA variation under a within estimator, or collinear with
the other columns; a 0/1 column that separates a logit outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.linalg import lapack

from .forward import inspection_periods
from .frame import inspection_frame
from .multiverse_rules import CONTROL_PARTS, ESTIMATORS, SAMPLES, TERMS, TIME_INVARIANT_CONTROLS, TIMINGS, Spec
from .spec import IdentificationError

#: control groups of ``forward_frame`` the frame is complete on
FRAME_CONTROLS = ("demand", "spending", "s47")
DEMAND_COLUMNS = ("cin_rate", "cpp_rate", "cla_rate", "s47_rate")
SPENDING_COLUMNS = ("log_spend_total_pc",)
#: previous overall grade -> dummy (reference: Outstanding or Good)
PREVIOUS_GRADE_DUMMIES = {"prev_requires_improvement": 3, "prev_inadequate": 4}
SIGN = {"grade": 1.0, "good_or_better": -1.0, "inadequate": 1.0}  # + = worse rating

DATA_RULES = {
    "too few observations": "no more observations than parameters in the sample",
    "outcome does not vary": "the outcome (or, for the ordered logit, one of the four grades) does not occur "
                             "or does not vary (within LAs, under LA fixed effects) in the sample",
    "no within-LA variation": "a workforce measure does not vary within LAs in the sample",
    "collinear measure": "a workforce measure is a linear combination of the other columns",
    "separation": "a 0/1 column (a period, region or previous grade) meets only one outcome value, "
                  "so the logit estimate is infinite",
    "no convergence": "Newton's method did not converge to a finite maximum (separation by a "
                      "combination of columns), found when fitting",
}


class DataRuleError(IdentificationError):
    """A design refused by a data rule (``rule`` is a key of :data:`DATA_RULES`)."""

    def __init__(self, rule: str, detail: str):
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


def lookup_at(indexed_panel: pd.DataFrame, frame: pd.DataFrame, year_col: str, column: str) -> np.ndarray:
    """The panel's ``column`` at (LA, ``frame[year_col]``) for each row of ``frame``
    (``indexed_panel``: the LA-year panel indexed by ``la_code`` and ``year``); raises naming the
    LA, year and inspection if the panel has no such row."""
    idx = pd.MultiIndex.from_arrays([frame["la_code"], frame[year_col].astype(int)])
    values = indexed_panel[column].reindex(idx)
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise IdentificationError(f"data/derived/la_year_panel.csv: no {column} for LA {frame['la_code'].iloc[i]} "
                                  f"in {int(frame[year_col].iloc[i])} (inspection {frame['inspection_id'].iloc[i]})")
    return values.to_numpy()


def sample_masks(frame: pd.DataFrame, year_columns: tuple[str, ...], panel: pd.DataFrame) -> dict[str, np.ndarray]:
    """One boolean mask per sample (:data:`SAMPLES`) over the rows of ``frame``.

    Notes
    -----
    ``worker-level census``: :math:`\\forall c \\in` year columns: ``aggregate_collection``(LA, c)
    is False. ``excl. joint returns``: :math:`\\forall c`: ``joint_return``(LA, c) is False.
    """
    indexed = panel.set_index(["la_code", "year"])[["aggregate_collection", "joint_return"]]
    aggregate = np.zeros(len(frame), bool)
    joint = np.zeros(len(frame), bool)
    for col in year_columns:
        aggregate |= lookup_at(indexed, frame, col, "aggregate_collection").astype(bool)
        joint |= lookup_at(indexed, frame, col, "joint_return").astype(bool)
    if "census_2017_plus" in frame and not np.array_equal(~aggregate, frame["census_2017_plus"].to_numpy() == 1):
        raise IdentificationError("data/derived/la_year_panel.csv: aggregate_collection disagrees with the analysis "
                                  "frame's census_2017_plus (worker-level censuses are 2017 and later)")
    fw = frame["framework"].to_numpy()
    return {"all": np.ones(len(frame), bool), "worker-level census": ~aggregate,
            "ILACS only": fw == "ILACS", "excl. London": (frame["region"] != "London").to_numpy(),
            "excl. joint returns": ~joint, "SIF only": fw == "SIF"}


def _dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    return pd.get_dummies(pd.Categorical(values), prefix=prefix, prefix_sep=":", dtype=float).set_axis(values.index)


class TimingData:
    """The frame of one timing as arrays, built once and sliced per specification.

    Column blocks (names -> values): ``wf`` workforce, ``ilacs``, ``period`` dummies, ``spending``,
    ``demand``, ``previous grade`` dummies, ``region`` dummies; all 0/1 dummy names are in
    ``binary``.
    """

    def __init__(self, timing: str, inspections: pd.DataFrame, panel: pd.DataFrame):
        lag = TIMINGS[timing]
        ff = inspection_frame(panel, inspections, lag=lag, controls=FRAME_CONTROLS)
        f = ff.data
        if not f["la_code"].is_monotonic_increasing:
            raise IdentificationError("forward frame rows are not sorted by LA")
        self.timing, self.lag, self.frame, self.year_columns = timing, lag, f, ff.year_columns
        self.ids = f["inspection_id"].to_numpy()
        self.la = f["la_code"].to_numpy()
        self.grade = f["grade"].to_numpy(dtype=int)
        self.y = {"grade": self.grade.astype(float), "good_or_better": (self.grade <= 2).astype(float),
                  "inadequate": (self.grade == 4).astype(float)}
        wf = {f"{t}@{lag}": f[t].to_numpy(dtype=float) for t in TERMS}
        prev = f["prev_grade_num"]
        self.has_previous = prev.notna().to_numpy()
        blocks = {
            "wf": wf,
            "ilacs": {"ilacs": f["ilacs"].to_numpy(dtype=float)},
            "period": {c.replace("period_", "period:"): v.to_numpy()
                       for c, v in inspection_periods(f).items()},
            "spending": {c: f[c].to_numpy(dtype=float) for c in SPENDING_COLUMNS},
            "demand": {c: f[c].to_numpy(dtype=float) for c in DEMAND_COLUMNS},
            "previous grade": {k: (prev == g).to_numpy(dtype=float) for k, g in PREVIOUS_GRADE_DUMMIES.items()},
            "region": {c: v.to_numpy() for c, v in _dummies(f["region"], "region").items()},
        }
        # the first period is the reference of inspection_periods; add it back so that the first
        # period *present in a sample* can be the reference instead
        first = 1.0 - sum(blocks["period"].values()) if blocks["period"] else np.ones(len(f))
        blocks["period"] = {"period:first": first, **blocks["period"]}
        self.blocks = blocks
        self.binary = {n for b in ("ilacs", "period", "previous grade", "region") for n in blocks[b]}
        self.masks = sample_masks(f, ff.year_columns, panel)
        if set(self.masks) != set(SAMPLES):
            raise IdentificationError(f"sample masks {sorted(self.masks)} differ from the samples {SAMPLES}")
        self.disclosure = ff.disclosure
        self.rank_ok: dict[tuple, bool] = {}     # see _superset_full_rank
        self.groups: dict[tuple, RowGroup] = {}   # see row_group

    @cached_property
    def workforce_names(self) -> list[str]:
        return list(self.blocks["wf"])


@dataclass
class Design:
    """One specification's estimation problem (rows sorted by LA).

    ``x`` holds the workforce columns first (``n_terms`` of them), then the nuisance columns,
    in the order of ``names`` (within-LA demeaned under LA fixed effects; ``x_raw`` before);
    ``sd`` the SD of each workforce measure over the rows (the same change for every estimator,
    so that their effects compare); ``starts`` the first row of each LA.
    """

    spec: Spec
    rows: np.ndarray
    names: list[str]
    x: np.ndarray
    la: np.ndarray
    sd: np.ndarray
    absorb_la: bool
    ids: np.ndarray = field(repr=False, default=None)
    x_raw: np.ndarray = field(repr=False, default=None)
    binary: frozenset = frozenset()
    starts: np.ndarray = field(repr=False, default=None)
    ids_key: str = field(repr=False, default="")

    @property
    def n_terms(self) -> int:
        return len(TERMS)

    def key(self, outcome: str) -> tuple:
        """What makes two specifications the same model: estimator, outcome, the fitted rows
        (inspection ids) and the columns (names carry their timing, so equal names are equal values)."""
        return (self.spec.estimator, outcome, self.ids_key, tuple(self.names))


def first_rows(la: np.ndarray) -> np.ndarray:
    """Position of the first row of each LA (rows sorted by LA)."""
    new = np.ones(len(la), bool)
    new[1:] = la[1:] != la[:-1]
    return np.flatnonzero(new)


def la_means(a: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each row's LA mean of every column of ``a`` (rows sorted by LA, ``starts`` from :func:`first_rows`)."""
    counts = np.diff(np.append(starts, len(a)))
    return np.repeat(np.add.reduceat(a, starts, axis=0) / counts[:, None], counts, axis=0)


def _rank(a: np.ndarray) -> int:
    """Numerical column rank: pivoted QR (LAPACK ``dgeqp3``), diagonal of R above 1e-10 of its first."""
    if a.shape[1] == 0:
        return 0
    qr, _, _, _, info = lapack.dgeqp3(np.array(a, order="F", dtype=float))
    if info != 0:
        raise ValueError(f"pivoted QR failed (dgeqp3 info {info})")
    d = np.abs(np.diag(qr))
    return int((d > d[0] * 1e-10).sum()) if d.size and d[0] > 0 else 0


def _independent_nuisance(x: np.ndarray, k: int) -> np.ndarray:
    """Column positions to keep: the ``k`` workforce columns and a linearly independent subset of
    the nuisance columns (greedy, in order; the workforce coefficients do not depend on which
    basis of the nuisance span is kept). Raises ``collinear measure`` if a workforce column lies
    in the span of the rest."""
    keep: list[int] = []
    for j in range(k, x.shape[1]):
        if _rank(x[:, keep + [j]]) == len(keep) + 1:
            keep.append(j)
    if _rank(x[:, list(range(k)) + keep]) < k + len(keep):
        raise DataRuleError("collinear measure", "a workforce measure is collinear with the other columns")
    return np.array(list(range(k)) + keep)


def _separating(names: list[str], x: np.ndarray, binary: frozenset, y: np.ndarray, model: str) -> str | None:
    """Name of a 0/1 column whose rows (or whose complement's rows) all share one outcome value
    (logit), or all lie in the top or all in the bottom grade (ordered logit), else None.

    Notes
    -----
    With :math:`n_1` rows where the column is 1 and :math:`k_1` of them at the value tested,
    the column separates if :math:`k_1 \\in \\{0, n_1\\}` (or the same in the complement), for
    the logit the value 1, for the ordered logit the lowest and the highest grade (only "all at"
    separates there: an ordered logit pushes those rows to the end category).
    """
    pos = [j for j, n in enumerate(names) if n in binary]
    if not pos:
        return None
    b = x[:, pos] > 0.5
    n1 = b.sum(axis=0)
    n0 = len(y) - n1
    if model == "logit":
        k1 = (y > 0.5) @ b
        k0 = (y > 0.5).sum() - k1
        bad = (k1 == 0) | (k1 == n1) | (k0 == 0) | (k0 == n0)
    else:
        bad = np.zeros(len(pos), bool)
        for at in (y == y.min(), y == y.max()):
            k1 = at @ b
            bad |= (k1 == n1) | (at.sum() - k1 == n0)
    return names[pos[int(np.flatnonzero(bad)[0])]] if bad.any() else None


class RowGroup:
    """The rows of one sample (and previous-grade choice) of a timing with every candidate column,
    built once and sliced per specification.

    Columns, in order: workforce, ``const``, then the blocks ``ilacs``, ``period``, ``spending``,
    ``demand``, ``previous grade`` (only with that control) and ``region``, without 0/1 columns
    constant in the sample and without the reference level (first present) of the periods and
    regions. ``within`` is the LA-demeaned matrix, ``means`` the LA means.
    """

    def __init__(self, td: TimingData, sample: str, previous: bool):
        rows = np.flatnonzero(td.masks[sample] & (td.has_previous if previous else True))
        self.rows, self.la = rows, td.la[rows]
        self.starts = first_rows(self.la)
        names = list(td.workforce_names) + ["const"]
        cols = [td.blocks["wf"][n][rows] for n in td.workforce_names] + [np.ones(len(rows))]
        block = {n: "wf" for n in td.workforce_names} | {"const": "const"}
        for b in ("ilacs", "period", "spending", "demand", *(["previous grade"] if previous else []), "region"):
            first_present = True
            for n, v in td.blocks[b].items():
                v = v[rows]
                if n in td.binary and len(v):
                    if v.min() == v.max():
                        continue  # constant 0/1 column: an absent level, or collinear with the constant
                    if b in ("period", "region") and first_present:
                        first_present = False  # the first level present is the reference
                        continue
                names.append(n)
                cols.append(v)
                block[n] = b
        self.names, self.block = names, block
        self.x = np.column_stack(cols) if len(rows) else np.zeros((0, len(names)))
        self.position = {n: i for i, n in enumerate(names)}
        self.ids = td.ids[rows]
        self.ids_key = "\x1f".join(self.ids)
        self.binary = frozenset(n for n in names if n in td.binary)
        if len(rows):
            self.means = la_means(self.x, self.starts)
            self.within = self.x - self.means
            k = len(TERMS)
            self.sd = self.x[:, :k].std(axis=0, ddof=1) if len(rows) > 1 else np.full(k, np.nan)


def row_group(td: TimingData, sample: str, previous: bool) -> RowGroup:
    key = (sample, previous)
    if key not in td.groups:
        td.groups[key] = RowGroup(td, sample, previous)
    return td.groups[key]


def _superset_full_rank(td: TimingData, spec: Spec) -> bool:
    """Whether the design with every control the estimator admits (same estimator, sample and
    previous-grade choice) has full column rank: then so has every design with fewer controls,
    whose columns are a subset of its columns (cached per group)."""
    prev = "previous grade" in spec.parts
    est = ESTIMATORS[spec.estimator]
    # every control the estimator admits, and any the specification has (a design forced past a rule)
    parts = [p for p in CONTROL_PARTS if (p != "previous grade" or prev)
             and (p in spec.parts or not (est.absorbs_la and p in TIME_INVARIANT_CONTROLS))]
    key = (spec.estimator, spec.sample, tuple(parts))
    if key not in td.rank_ok:
        full = Spec(spec.spec_id, spec.estimator, spec.outcome, spec.timing, " + ".join(parts) or "none", spec.sample)
        try:
            d = build_design(td, full, check_rank=False)
            td.rank_ok[key] = _rank(d.x) == d.x.shape[1]
        except DataRuleError:
            td.rank_ok[key] = False
    return td.rank_ok[key]


def build_design(td: TimingData, spec: Spec, check_rank: bool = True) -> Design:
    """The design of ``spec`` (structurally admitted, see :func:`analysis.models.multiverse_rules.refusal`);
    raises :class:`DataRuleError` if a data rule refuses it. Rank-deficient nuisance columns are
    reduced to an independent subset (``check_rank``; skipped when the superset design of its
    group has full rank)."""
    est = ESTIMATORS[spec.estimator]
    parts = spec.parts
    g = row_group(td, spec.sample, "previous grade" in parts)
    if len(g.rows) == 0:
        raise DataRuleError("too few observations", "no inspection in the sample")
    wanted = {"wf", "ilacs", "period", *parts}
    if est.model != "ordered" and not est.absorbs_la:
        wanted.add("const")
    names = [n for n in g.names if g.block[n] in wanted]
    idx = [g.position[n] for n in names]
    x = (g.within if est.absorbs_la else g.x)[:, idx]
    x_raw = g.x[:, idx] if est.absorbs_la else x
    if est.mundlak:
        tv = [i for n, i in zip(names, idx) if g.block[n] not in ("const", "region")]
        names = names + [f"mean:{g.names[i]}" for i in tv]
        x = np.column_stack([x, g.means[:, tv]])
        x_raw = x
    k = len(TERMS)
    if est.design == "within":
        flat = np.all(np.abs(g.within[:, :k]) < 1e-12, axis=0)
        if flat.any():
            raise DataRuleError("no within-LA variation",
                                f"'{TERMS[int(np.flatnonzero(flat)[0])]}' does not vary within LAs in this sample")
    n_params = x.shape[1] + (len(g.starts) if est.absorbs_la else 0) + (3 if est.model == "ordered" else 0)
    if len(g.rows) <= n_params:
        raise DataRuleError("too few observations", f"{len(g.rows)} observations for {n_params} parameters")
    if check_rank and not _superset_full_rank(td, spec) and _rank(x) < x.shape[1]:
        keep = _independent_nuisance(x, k)
        x, x_raw, names = x[:, keep], x_raw[:, keep], [names[i] for i in keep]
    return Design(spec, g.rows, names, x, g.la, g.sd,
                  est.absorbs_la, ids=g.ids, x_raw=x_raw, binary=g.binary, starts=g.starts, ids_key=g.ids_key)


def outcome_values(td: TimingData, design: Design, outcome: str) -> np.ndarray:
    """The outcome of ``design``'s rows; raises :class:`DataRuleError` if it does not vary (a grade
    category absent for the ordered logit) or a 0/1 column separates it (logit models)."""
    est = ESTIMATORS[design.spec.estimator]
    y = td.y[outcome][design.rows]
    y_check = y - (la_means(y[:, None], design.starts)[:, 0] if est.absorbs_la else y.mean())
    if np.all(np.abs(y_check) < 1e-12) or (est.model == "ordered" and len(np.unique(y)) < 4):
        raise DataRuleError("outcome does not vary", f"'{outcome}' in this sample")
    if est.model in ("logit", "ordered"):
        sep = _separating(design.names, design.x, design.binary, y, est.model)
        if sep:
            raise DataRuleError("separation", f"'{sep}' meets only one value of '{outcome}'")
    return y
