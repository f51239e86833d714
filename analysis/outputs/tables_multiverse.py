"""Tables of the multiverse (markdown): how the combinations were counted, and the shares of
specifications pointing to a worse rating and with p < 0.05 by every level of every choice.
Numbers come from ``results.json["multiverse"]`` (:func:`analysis.models.multiverse.summarise`)."""

from __future__ import annotations

import pandas as pd

from .figures import SPEC_CHOICES, SPEC_TERMS
from .formats import heading_row, percent
from .tables import md

#: column headings of the workforce measures (in the order of the figures)
MEASURE_HEADINGS = {"agency_rate": "Agency use", "caseload": "Caseload", "vacancy_rate": "Vacancy rate",
                    "turnover_rate": "Turnover"}
DESIGN_LABELS = {"pooled": "Pooled (between and within councils)", "within": "Within councils"}
#: the capability rules and data rules in plain words, in the order they are applied (keys of
#: results.json["multiverse"]["rules"])
RULE_LABELS = {
    "outcome not admitted by the estimator": "Outcome not admitted by the estimator",
    "time-invariant control under LA fixed effects": "Region under LA fixed effects",
    "SIF only with a lagged timing": "SIF only with a mean or change over two censuses",
    "SIF only with a within-LA estimator": "SIF only with a within-council estimator",
    "too few observations": "No more inspections than parameters",
    "outcome does not vary": "Outcome (or a grade) absent from the sample",
    "no within-LA variation": "A measure constant within councils",
    "collinear measure": "A measure collinear with the other columns",
    "separation": "A 0/1 column separates the outcome",
    "no convergence": "No finite maximum found when fitting",
}


_heading = heading_row


def _shares_cell(level: dict) -> str:
    return f"{percent(level['share_worse'])} / {percent(level['share_significant'])}"


def tbl_multiverse_counts(results: dict) -> str:
    """Combinations considered, refused by each capability and data rule, duplicates and the
    distinct specifications fitted, in total and per estimator.

    The per-estimator counts are re-derived from the per-estimator levels of the summary:
    distinct = the number of specifications of that estimator in ``by_term``.
    """
    mv = results["multiverse"]
    c = mv["counts"]
    by_est = mv["counts_by_estimator"]
    estimators = list(SPEC_CHOICES["Estimator"][1])
    labels = SPEC_CHOICES["Estimator"][1]
    width = 2 + len(estimators)

    def row(label, key, sub=None):
        total = c[key] if sub is None else c[key]["by_rule"][sub]
        cells = [by_est[e][key] if sub is None else by_est[e][key]["by_rule"][sub] for e in estimators]
        return [label, f"{total:,}", *[f"{v:,}" for v in cells]]

    unlabelled = (set(mv["rules"]["capability"]) | set(mv["rules"]["data"])) - set(RULE_LABELS)
    if unlabelled:
        raise ValueError(f"multiverse rule(s) without a label in RULE_LABELS: {sorted(unlabelled)}")
    rows = [row("Combinations considered", "considered"),
            _heading("Refused by a capability rule", width)]
    rows += [row(label, "refused_by_rule", r) for r, label in RULE_LABELS.items() if r in mv["rules"]["capability"]]
    rows.append(_heading("Refused by a data rule", width))
    rows += [row(label, "refused_by_data", r) for r, label in RULE_LABELS.items() if r in mv["rules"]["data"]]
    rows += [row("Duplicate of an earlier label", "duplicates"),
             row("Distinct specifications fitted", "distinct")]
    return md(pd.DataFrame(rows, columns=["", "All", *[labels[e] for e in estimators]]))


def tbl_multiverse(results: dict) -> str:
    """Per level of every choice: distinct specifications and, per workforce measure, the
    percentage pointing to a worse rating / the percentage with p < 0.05."""
    mv = results["multiverse"]
    by = mv["by_term"]
    first = by[SPEC_TERMS[0]]
    width = 2 + len(SPEC_TERMS)
    rows = [["All specifications", f"{first['n']:,}", *[_shares_cell(by[t]) for t in SPEC_TERMS]]]

    def block(heading: str, choice: str, levels: dict[str, str]):
        rows.append(_heading(heading, width))
        for level, label in levels.items():
            cells = [by[t]["by_choice"][choice]["levels"].get(level) for t in SPEC_TERMS]
            if cells[0] is None:
                continue
            rows.append([label, f"{cells[0]['n']:,}", *[_shares_cell(x) for x in cells]])

    block("Design", "design", DESIGN_LABELS)
    for heading, (choice, levels) in SPEC_CHOICES.items():
        if choice == "controls":
            block(heading, choice, {f"{p}: {yn}": f"{'With' if yn == 'with' else 'Without'} {label.lower()}"
                                    for p, label in levels.items() for yn in ("with", "without")})
        else:
            block(heading, choice, levels)
    return md(pd.DataFrame(rows, columns=["Choice", "Specifications", *[MEASURE_HEADINGS[t] for t in SPEC_TERMS]]),
              "lrrrrr")
