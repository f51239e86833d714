"""Numbers quoted in the reverse-direction text, merged into ``_variables.yml``
under the key ``rev`` (``{{< var rev.agency.cs_k0 >}}``). Every value is a formatted string; keys
contain no numeric segments (k=+1 is ``kp1``, k=-2 is ``km2``, Mbar = 1 is ``rm1``, Mbar = 0.5 is
``rm05``)."""

from __future__ import annotations

from .common import fmt, interval, model
from .common import fmt_p_prose as fmt_p

OUTCOME_KEYS = {"agency_rate": "agency", "vacancy_rate": "vacancy", "turnover_rate": "turnover",
                "log_posts": "posts", "log_inpost": "inpost", "log_agency_fte": "agency_fte"}
K_KEYS = {-4: "km4", -3: "km3", -2: "km2", 0: "k0", 1: "kp1", 2: "kp2", 3: "kp3", 4: "kp4"}
RM_KEYS = {0.0: "rm0", 0.5: "rm05", 1.0: "rm1", 1.5: "rm15", 2.0: "rm2"}
SD_KEYS = {0.0: "sd0", 0.5: "sd05", 1.0: "sd1", 1.5: "sd15", 2.0: "sd2"}


def _k(m: dict, k: int, what: str = "estimate") -> str:
    c = m["coefficients"].get(f"k={k}")
    return fmt(c[what], 1) if c else "–"


def _ci(m: dict, k: int) -> str:
    c = m["coefficients"].get(f"k={k}")
    return interval(fmt(c["ci_low"], 1), fmt(c["ci_high"], 1)) if c else "–"


def _iv(lo: float, hi: float) -> str:
    return interval(fmt(lo, 1), fmt(hi, 1))


def _bd(x) -> str:
    return "–" if x is None else fmt(x, 1)


def fmt_grid(x: float) -> str:
    """A restriction value as written in the text: 1, 0.5 (no trailing zeros)."""
    return f"{x:g}"


#: an event time is quoted in the text only if this many treatment cohorts contribute to it
MIN_COHORTS = 3


def cohorts_at(cohorts: dict, k_min: int, k_max: int) -> dict[int, int]:
    """Number of treatment cohorts observed at each event time.

    Notes
    -----
    A cohort g (first census after publication) is observed at event time k when its census
    year g + k lies in the panel. The panel's first and last years follow from the estimated
    event times: first = k_min + latest cohort, last = k_max + earliest cohort.
    """
    gs = sorted(int(g) for g in cohorts)
    first, last = k_min + gs[-1], k_max + gs[0]
    return {k: sum(first <= g + k <= last for g in gs) for k in range(k_min, k_max + 1)}


def honest_variables(h: dict) -> dict:
    """The honest intervals of one model: ``<k>_<restriction>`` (e.g. ``k0_rm1``), breakdowns and
    the two extrapolations at k = 0."""
    d = {}
    for kname, by in h["by_k"].items():
        kk = K_KEYS[int(kname[2:])]
        for r in by["relative_magnitudes"]:
            d[f"{kk}_{RM_KEYS[r['mbar']]}"] = _iv(r["lo"], r["hi"])
        for r in by["smoothness"]:
            d[f"{kk}_{SD_KEYS[r['m']]}"] = _iv(r["lo"], r["hi"])
    d["bd_mbar"], d["bd_m"] = _bd(h["breakdown_mbar_k0"]), _bd(h["breakdown_m_k0"])
    for key, name in (("linear_k-4_to_-1", "lin"), ("two_point_k-2_to_-1", "two")):
        e = h["extrapolation_k0"][key]
        d[f"{name}_k0"], d[f"{name}_k0_ci"] = fmt(e["estimate"], 1), _iv(e["ci_low"], e["ci_high"])
    return d


def reverse_variables(results: dict) -> dict:
    rev = results["reverse"]
    counts, c17 = rev["counts"], rev["counts_census_2017"]
    ex = {e["reason"]: e["n"] for e in counts["excluded"]}
    out = {"n_las": str(counts["n_las"]), "n_treated": str(counts["treated"]), "n_controls": str(counts["controls"]),
           "n_excluded": str(sum(ex.values())), "n_small": str(ex["small LA (City of London, Isles of Scilly)"]),
           "n_first_inadequate": str(ex["first observed grade Inadequate"]),
           "n_overlap": str(ex["census before the event during the inspection"]),
           "n_no_pre": str(ex["event before the first census"]),
           "n_exits": str(counts["treated_exiting_inadequate"]),
           "n_treated_2017": str(c17["treated"]), "n_no_pre_2017": str({e["reason"]: e["n"] for e in c17["excluded"]}["event before the first census"]),
           "n_identity_exceptions": str(len(rev["identity_exceptions"])),
           "identity_year": ", ".join(sorted({str(e["year"]) for e in rev["identity_exceptions"]})),
           "log_scale": str(rev["log_scale"]), "mbar_shown": fmt_grid(rev["benchmarks"]["mbar"]),
           "m_shown": fmt_grid(rev["benchmarks"]["m"])}
    for outcome, key in OUTCOME_KEYS.items():
        cs = model(results, f"rev_cs_never_absorbing_{outcome}")
        cs17 = model(results, f"rev_cs_never_absorbing_{outcome}_2017")
        ov = model(results, f"rev_cs_never_absorbing_{outcome}_overlap")
        d = {"n_events": str(cs["stats"]["n_events"]), "n_controls": str(cs["stats"]["n_controls"]),
             "cs_pre_p": fmt_p(cs["stats"]["pre_trend_wald"]["p_value"]),
             "pre_fail": "fail" if cs["stats"]["pre_trend_fail"] else "pass",
             "n_events_2017": str(cs17["stats"]["n_events"]), "cs_pre_p_2017": fmt_p(cs17["stats"]["pre_trend_wald"]["p_value"]),
             "k0_2017": _k(cs17, 0), "k0_2017_ci": _ci(cs17, 0), "k0_overlap": _k(ov, 0), "k0_overlap_ci": _ci(ov, 0),
             "bd_mbar_2017": _bd(rev["honest"][cs17["model_id"]]["breakdown_mbar_k0"]),
             "bd_mbar_overlap": _bd(rev["honest"][ov["model_id"]]["breakdown_mbar_k0"])}
        for k, kk in K_KEYS.items():
            d[f"cs_{kk}"] = _k(cs, k)
            d[f"cs_{kk}_ci"] = _ci(cs, k)
        if outcome in ("agency_rate", "vacancy_rate", "turnover_rate"):
            twfe = model(results, f"rev_twfe_absorbing_{outcome}")
            trunc = model(results, f"rev_twfe_truncated_{outcome}")
            d["twfe_pre_p"] = fmt_p(twfe["stats"]["pre_trend_wald"]["p_value"])
            for k, kk in K_KEYS.items():
                d[f"twfe_{kk}"] = _k(twfe, k)
                d[f"trunc_{kk}"] = _k(trunc, k)
        ks = [int(k[2:]) for k in cs["coefficients"] if k.startswith("k=")]
        d["cs_k_min"], d["cs_k_max"] = f"−{-min(ks)}" if min(ks) < 0 else str(min(ks)), f"+{max(ks)}"
        d.update(honest_variables(rev["honest"][cs["model_id"]]))
        out[key] = d
    # Callaway-Sant'Anna with not-yet-treated LAs added to the controls (agency use only)
    ny = model(results, "rev_cs_not_yet_absorbing_agency_rate")
    out["agency"]["cs_notyet_k0"], out["agency"]["cs_notyet_k0_ci"] = _k(ny, 0), _ci(ny, 0)
    out["agency"]["cs_notyet_pre_p"] = fmt_p(ny["stats"]["pre_trend_wald"]["p_value"])
    return out
