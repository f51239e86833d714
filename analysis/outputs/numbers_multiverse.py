"""Numbers quoted about the multiverse (robustness and summary text), merged into
``_variables.yml`` under the key ``mv`` (``{{< var mv.agency.design.within.share_sig >}}``).
Every value is a formatted string, from ``results.json["multiverse"]``."""

from __future__ import annotations

from .common import fmt
from .figures import CHOICE_WORDS

TERM_KEYS = {"agency_rate": "agency", "caseload": "caseload", "vacancy_rate": "vacancy", "turnover_rate": "turnover"}
RULE_KEYS = {"outcome not admitted by the estimator": "outcome", "time-invariant control under LA fixed effects": "region",
             "SIF only with a lagged timing": "sif_lag", "SIF only with a within-LA estimator": "sif_within",
             "too few observations": "too_few", "outcome does not vary": "no_outcome",
             "no within-LA variation": "no_within", "collinear measure": "collinear",
             "separation": "separation", "no convergence": "no_convergence"}
SAMPLE_KEYS = {"all": "all", "worker-level census": "worker_level", "ILACS only": "ilacs", "excl. London": "excl_london",
               "excl. joint returns": "excl_joint", "SIF only": "sif"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _level(b: dict) -> dict:
    return {"n": f"{b['n']:,}", "share_worse": _pct(b["share_worse"]), "share_sig": _pct(b["share_significant"]),
            "median": fmt(b["median"], 2), "sig_share_worse": _pct(b["share_worse_among_significant"])}


def multiverse_variables(results: dict) -> dict:
    """``mv.*``: counts (considered, refused by rule and by data rule, duplicates, distinct, and
    per rule), and per workforce measure the shares overall, by design, by estimator and by
    sample, the median, the range and the choice that moves the estimate most."""
    mv = results["multiverse"]
    c = mv["counts"]
    out = {"considered": f"{c['considered']:,}", "refused_rule": f"{c['refused_by_rule']['total']:,}",
           "refused_data": f"{c['refused_by_data']['total']:,}", "duplicates": f"{c['duplicates']:,}",
           "distinct": f"{c['distinct']:,}",
           "rule": {RULE_KEYS[r]: f"{n:,}" for stage in ("refused_by_rule", "refused_by_data")
                    for r, n in c[stage]["by_rule"].items()},
           "n_estimators": str(len(mv["estimators"]))}
    for term, key in TERM_KEYS.items():
        b = mv["by_term"][term]
        out[key] = {**_level(b), "min": fmt(b["min"], 2), "max": fmt(b["max"], 2),
                    "moves_most": CHOICE_WORDS[b["moves_most"]],
                    "design": {d: _level(x) for d, x in b["by_choice"]["design"]["levels"].items()},
                    "est": {e: _level(x) for e, x in b["by_choice"]["estimator"]["levels"].items()},
                    "smp": {SAMPLE_KEYS[k]: _level(x) for k, x in b["by_choice"]["sample"]["levels"].items()}}
    return out
