"""The multiverse's choices and the rules that refuse a combination before it is counted.

A *combination* is one level of each choice (:data:`CHOICES`). It becomes a *specification*
only if no rule of the capability matrix (:data:`RULES`) refuses it: the rules say which outcome,
control, timing and sample choices each estimator admits, and are applied in the order listed,
the first that applies being recorded. Data rules (a sample too small, separation, a measure
with no within-LA variation) are applied later, to the design matrix, in
:mod:`analysis.models.multiverse_design`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .spec import IdentificationError

TERMS = ("caseload", "vacancy_rate", "agency_rate", "turnover_rate")


@dataclass(frozen=True)
class Estimator:
    """What an estimator admits.

    Attributes
    ----------
    label : plain-words name.
    model : 'linear', 'logit' (binary outcomes) or 'ordered' (the grade).
    design : 'pooled' (compares councils with one another and over time) or 'within'
        (compares each council with itself: LA fixed effects, or the within-LA coefficient of
        a correlated-random-effects model).
    absorbs_la : LA fixed effects absorb everything constant within an LA (region).
    mundlak : adds the LA means of the time-varying columns (Mundlak 1978; Wooldridge 2010,
        15.8.2), so its workforce coefficients are within-LA associations.
    """

    label: str
    model: str
    design: str
    absorbs_la: bool = False
    mundlak: bool = False


ESTIMATORS = {
    "pooled_linear": Estimator("Pooled linear (probability or grade)", "linear", "pooled"),
    "logit": Estimator("Pooled logit", "logit", "pooled"),
    "ordered_logit": Estimator("Pooled ordered logit", "ordered", "pooled"),
    "fe_linear": Estimator("LA fixed effects, linear", "linear", "within", absorbs_la=True),
    "cre_logit": Estimator("Correlated random effects logit", "logit", "within", mundlak=True),
    "cre_ordered_logit": Estimator("Correlated random effects ordered logit", "ordered", "within", mundlak=True),
}
#: outcome -> (kind, what the comparable effect is measured on)
OUTCOMES = {"grade": "ordinal", "good_or_better": "binary", "inadequate": "binary"}
#: the model each outcome kind admits besides the linear one
MODEL_FOR_KIND = {"binary": "logit", "ordinal": "ordered"}
#: timing label -> lag structure of :func:`analysis.models.forward_data.forward_frame`
TIMINGS = {"census before": "census_before", "mean of two before": "mean_two_before",
           "change over two years": "change_two_before"}
#: yes/no controls -> what they add (columns are built in multiverse_design)
CONTROL_PARTS = {
    "spending": "log gross s251 spending per child",
    "region": "9 region dummies (time-invariant)",
    "demand": "children in need, on protection plans and looked after, and section 47 enquiries, per 10,000",
    "previous grade": "previous overall grade: Requires improvement, Inadequate (reference Good or better); "
                      "re-inspections only",
}
TIME_INVARIANT_CONTROLS = ("region",)
SAMPLES = ("all", "worker-level census", "ILACS only", "excl. London", "excl. joint returns", "SIF only")


def control_sets() -> list[tuple[str, tuple[str, ...]]]:
    """Every subset of the control parts, labelled 'none' or 'a + b' (in :data:`CONTROL_PARTS` order)."""
    parts = list(CONTROL_PARTS)
    out = []
    for r in range(len(parts) + 1):
        for combo in itertools.combinations(parts, r):
            out.append((" + ".join(combo) if combo else "none", combo))
    return out


CONTROL_SETS = dict(control_sets())
CHOICES = {"estimator": tuple(ESTIMATORS), "outcome": tuple(OUTCOMES), "timing": tuple(TIMINGS),
           "controls": tuple(CONTROL_SETS), "sample": SAMPLES}


@dataclass(frozen=True)
class Spec:
    """One combination of choices; ``spec_id`` is its position in :func:`combinations`."""

    spec_id: int
    estimator: str
    outcome: str
    timing: str
    controls: str
    sample: str

    def __post_init__(self):
        for choice in CHOICES:
            if getattr(self, choice) not in CHOICES[choice]:
                raise IdentificationError(f"unknown {choice} {getattr(self, choice)!r}; choose from {CHOICES[choice]}")

    @property
    def parts(self) -> tuple[str, ...]:
        return CONTROL_SETS[self.controls]

    @property
    def label(self) -> str:
        return " | ".join(getattr(self, c) for c in CHOICES)


def combinations() -> list[Spec]:
    """Every combination of the choices in a fixed order (estimator, sample, timing, controls,
    outcome; ``spec_id`` = position)."""
    combos = itertools.product(CHOICES["estimator"], CHOICES["sample"], CHOICES["timing"], CHOICES["controls"],
                               CHOICES["outcome"])
    return [Spec(i, e, o, t, c, s) for i, (e, s, t, c, o) in enumerate(combos)]


# --------------------------------------------------------------------------- capability matrix
def _outcome_not_admitted(s: Spec) -> bool:
    model = ESTIMATORS[s.estimator].model
    return model != "linear" and MODEL_FOR_KIND[OUTCOMES[s.outcome]] != model


def _time_invariant_under_la_effects(s: Spec) -> bool:
    return ESTIMATORS[s.estimator].absorbs_la and any(p in TIME_INVARIANT_CONTROLS for p in s.parts)


def _sif_lagged_timing(s: Spec) -> bool:
    return s.sample == "SIF only" and s.timing != "census before"


def _sif_within(s: Spec) -> bool:
    return s.sample == "SIF only" and ESTIMATORS[s.estimator].design == "within"


#: (rule id, why the combination is not a specification, predicate), applied in this order
RULES = (
    ("outcome not admitted by the estimator",
     "a binary logit models a yes/no outcome and an ordered logit the four-point grade; the linear "
     "models take all three", _outcome_not_admitted),
    ("time-invariant control under LA fixed effects",
     "region does not vary within a council, so LA fixed effects absorb it", _time_invariant_under_la_effects),
    ("SIF only with a lagged timing",
     "SIF fieldwork ended in 2018 and the 2015 census has no caseload, so a mean or change over two "
     "censuses leaves at most a handful of SIF inspections", _sif_lagged_timing),
    ("SIF only with a within-LA estimator",
     "no council has two SIF inspections with a census before them, so nothing varies within a council",
     _sif_within),
)
RULE_REASONS = {rule: reason for rule, reason, _ in RULES}


def refusal(spec: Spec) -> str | None:
    """The first rule of :data:`RULES` that refuses ``spec``, or None if it is a specification."""
    for rule, _, applies in RULES:
        if applies(spec):
            return rule
    return None
