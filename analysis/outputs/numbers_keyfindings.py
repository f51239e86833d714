"""Numbers quoted by the key findings (report/key-findings.qmd), merged into ``_variables.yml``
under ``kf`` (``{{< var kf.agency.size >}}``). Every value is a formatted string; keys have no
numeric segments.

One adapter, :func:`headline`, reads the estimates the key findings quote from results.json, so
that the page follows whichever design is the headline by one edit there. Sizes are printed as
magnitudes ("8.7") and the direction is a word of the sentence ("fewer", "more"): the test
(tests/test_key_findings.py) holds each word to the sign of its estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .common import fmt, interval, model
from .tables_forward import fwd_model

#: the workforce measures the key findings quote, and the words of a realistic change of each
TERMS = {"agency_rate": "agency", "caseload": "caseload", "vacancy_rate": "vacancy", "turnover_rate": "turnover"}
CHANGE_WORDS = {
    "agency_rate": "{d:g} percentage points more of the social work workforce employed through agencies",
    "caseload": "{d:g} more cases per social worker",
    "vacancy_rate": "{d:g} percentage points more posts vacant",
    "turnover_rate": "{d:g} percentage points more social workers leaving in the year",
}

#: the primary design's sensitivities -> their key under each measure
SENSITIVITY_KEYS = {"without_feedback_controls": "no_feedback", "census_2017_plus": "census_later"}


@dataclass(frozen=True)
class Estimate:
    """One association on the probability of a Good or better judgement, in percentage points
    for a change of ``delta`` in the measure (95% interval ``low``-``high``)."""

    delta: float
    pp: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class Headline:
    """What the key findings quote: the headline (primary design) estimates, the within-council
    estimates and the primary's sensitivities beside them, the sample and the base rate."""

    design: str
    overall: dict[str, Estimate]
    within: dict[str, Estimate]
    sensitivities: dict[str, dict[str, Estimate]]
    nobs: int
    n_las: int
    base_rate: float
    dynamic: dict[str, Estimate]
    adjusted: dict[str, float]


def _estimates(terms: dict) -> dict[str, Estimate]:
    return {t: Estimate(terms[t]["delta"], terms[t]["ame_pp"], terms[t]["ci_low"], terms[t]["ci_high"],
                        terms[t]["p_value"]) for t in TERMS}


def headline(results: dict, sample: pd.DataFrame) -> Headline:
    """The adapter: the headline estimates of results.json.

    The headline is the primary design (``results["primary"]``, analysis/models/primary.py: a
    binary logit of Good or better with the previous grade and inspection type as controls,
    average marginal effects in percentage points); beside it the LA fixed-effects linear model
    of Good or better (``forward.magnitudes.fe_good_or_better``, within councils) and the
    primary's two sensitivities (``without_feedback_controls``, ``census_2017_plus``); the dynamic
    model of Good or better with the first judgement as initial condition (``dynamic_cre``); the
    primary's agency p-value adjusted within its four measures, across the headline tests and
    across every quoted test (``family_tests``). The chart's
    sample ``sample`` must be the primary's (same inspections and LAs).
    """
    p = results["primary"]
    fe = results["forward"]["magnitudes"]["fe_good_or_better"]
    within = {t: Estimate(fe[t]["delta"], fe[t]["effect"], fe[t]["effect_low"], fe[t]["effect_high"],
                          fe[t]["p_value"]) for t in TERMS}
    if len(sample) != p["n"] or sample["la_code"].nunique() != p["n_las"]:
        raise ValueError(f"headline: the chart's sample ({len(sample)} inspections, {sample['la_code'].nunique()} "
                         f"LAs) is not the primary design's ({p['n']}, {p['n_las']})")
    sens = {name: _estimates(s["terms"]) for name, s in p["sensitivities"].items()}
    dyn = results["dynamic_cre"]["models"]["good_or_better"]["ame_pp"]
    dynamic = {t: Estimate(dyn[t]["change"], dyn[t]["ame_pp"], dyn[t]["ci_low"], dyn[t]["ci_high"], dyn[t]["p_value"])
               for t in TERMS}
    fam = results["family_tests"]
    a = fam["tests"]["primary_logit_good_plus:agency_rate"]
    adjusted = {"design": float(p["terms"]["agency_rate"]["p_holm"]), "headline": float(a["p_holm_headline"]),
                "all": float(a["p_holm_all"]), "n_headline": fam["n_headline"], "n_all": fam["n_all"]}
    return Headline("primary", _estimates(p["terms"]), within, sens, int(p["n"]), int(p["n_las"]),
                    float(p["base_rate_good_plus"]), dynamic, adjusted)


def size(x: float) -> str:
    """A magnitude to one decimal (the direction is a word of the sentence)."""
    return fmt(abs(x), 1)


def direction(x: float, less: str = "fewer", more: str = "more") -> str:
    """The word for the sign of an association on the share Good or better."""
    return less if x < 0 else more


def range_words(lo: float, hi: float, less: str = "fewer", more: str = "more", unit: str = "percentage points") -> str:
    """A 95% interval in words: "between 5.4 and 12.1 percentage points fewer" when both ends have
    one sign, "from 11.4 percentage points fewer to 0.6 more" when it includes no association."""
    if hi < 0:
        return f"between {size(hi)} and {size(lo)} {unit} {less}"
    if lo > 0:
        return f"between {size(lo)} and {size(hi)} {unit} {more}"
    return f"from {size(lo)} {unit} {less} to {size(hi)} {more}"


def clear(e: Estimate) -> str:
    """"clear" when the 95% interval excludes no association, else "unclear"."""
    return "clear" if e.low > 0 or e.high < 0 else "unclear"


def _estimate_vars(e: Estimate, term: str) -> dict:
    return {"change": CHANGE_WORDS[term].format(d=e.delta), "size": size(e.pp), "direction": direction(e.pp),
            "range": range_words(e.low, e.high), "clear": clear(e),
            "pp": fmt(e.pp, 1), "ci": interval(fmt(e.low, 1), fmt(e.high, 1))}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def keyfindings_variables(results: dict, sample: pd.DataFrame, quarters: pd.DataFrame) -> dict:
    """``kf`` variables: base rate and sample, each measure's headline and within-council
    estimate in words, the chart's extreme quarters, the reverse-direction change."""
    h = headline(results, sample)
    out: dict = {"design": h.design, "n": f"{h.nobs:,}", "n_las": str(h.n_las), "base_rate": _pct(h.base_rate),
                 "first_year": str(int(sample["inspection_year"].min())),
                 "last_year": str(int(sample["inspection_year"].max()))}
    for term, key in TERMS.items():
        out[key] = _estimate_vars(h.overall[term], term)
        out[key]["within"] = _estimate_vars(h.within[term], term)
        for name, est in h.sensitivities.items():
            out[key][SENSITIVITY_KEYS[name]] = _estimate_vars(est[term], term)
        out[key]["dynamic"] = _estimate_vars(h.dynamic[term], term)
    out["multiple"] = {"n_all": str(h.adjusted["n_all"]), "n_headline": str(h.adjusted["n_headline"])}
    for kind in ("raw", "adjusted"):
        t = quarters[quarters["kind"] == kind].set_index("quarter")
        out[kind] = {"low_share": _pct(t.loc[0, "share"]), "high_share": _pct(t.loc[3, "share"]),
                     "low_ci": f"{_pct(t.loc[0, 'ci_low'])} to {_pct(t.loc[0, 'ci_high'])}",
                     "high_ci": f"{_pct(t.loc[3, 'ci_low'])} to {_pct(t.loc[3, 'ci_high'])}"}
    edges = quarters[quarters["kind"] == "raw"].set_index("quarter")
    out["quarter"] = {"low_max": f"{edges.loc[0, 'high_edge']:.0f}%", "high_min": f"{edges.loc[3, 'low_edge']:.0f}%",
                      "n": str(int(edges.loc[0, "n"]))}
    rv = model(results, "rev_cs_never_absorbing_vacancy_rate")
    k0 = rv["coefficients"]["k=0"]
    ra = model(results, "rev_cs_never_absorbing_agency_rate")
    out["reverse"] = {"n_events": str(rv["stats"]["n_events"]),
                      "vacancy_size": size(k0["estimate"]), "vacancy_direction": direction(k0["estimate"], "lower", "higher"),
                      "vacancy_range": range_words(k0["ci_low"], k0["ci_high"], "lower", "higher"),
                      "agency_pretrend": _pretrend(ra)}
    return out


def _pretrend(m: dict) -> str:
    """How agency use moved before the judgement: "already rising" / "already falling" when the
    pre-trend test rejects (sign of k = -2 relative to k = -1), else "without a clear earlier trend"."""
    if not m["stats"]["pre_trend_fail"]:
        return "without a clear earlier trend"
    return "already rising" if m["coefficients"]["k=-2"]["estimate"] < 0 else "already falling"
