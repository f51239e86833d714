"""Numbers quoted in the reverse-direction text, merged into ``_variables.yml``
under the key ``rev`` (``{{< var rev.agency.cs_k0 >}}``). Every value is a formatted string; keys
contain no numeric segments (k=+1 is ``kp1``, k=-2 is ``km2``)."""

from __future__ import annotations

from .common import fmt, model
from .common import fmt_p_prose as fmt_p

OUTCOME_KEYS = {"agency_rate": "agency", "vacancy_rate": "vacancy", "turnover_rate": "turnover"}
K_KEYS = {-4: "km4", -3: "km3", -2: "km2", 0: "k0", 1: "kp1", 2: "kp2", 3: "kp3", 4: "kp4"}


def _k(m: dict, k: int, what: str = "estimate") -> str:
    c = m["coefficients"].get(f"k={k}")
    return fmt(c[what], 1) if c else "–"


def _ci(m: dict, k: int) -> str:
    c = m["coefficients"].get(f"k={k}")
    return f"{fmt(c['ci_low'], 1)} to {fmt(c['ci_high'], 1)}" if c else "–"


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


def reverse_variables(results: dict) -> dict:
    rev = results["reverse"]
    counts = rev["counts"]
    out = {"n_treated": str(counts["treated"]), "n_controls": str(counts["controls"]),
           "n_first_inadequate": str(counts["excluded_first_observed_inadequate"]),
           "n_exits": str(counts["treated_exiting_inadequate"])}
    for outcome, key in OUTCOME_KEYS.items():
        twfe = model(results, f"rev_twfe_absorbing_{outcome}")
        trunc = model(results, f"rev_twfe_truncated_{outcome}")
        cs = model(results, f"rev_cs_never_absorbing_{outcome}")
        old = model(results, f"event_inadequate_{outcome}")
        d = {"n_events": str(cs["stats"]["n_events"]), "n_controls": str(cs["stats"]["n_controls"]),
             "twfe_pre_p": fmt_p(twfe["stats"]["pre_trend_wald"]["p_value"]),
             "cs_pre_p": fmt_p(cs["stats"]["pre_trend_wald"]["p_value"]),
             "pre_fail": "fail" if (twfe["stats"]["pre_trend_fail"] or cs["stats"]["pre_trend_fail"]) else "pass",
             "old_k0": _k(old, 0), "old_kp4": _k(old, 4)}
        for k, kk in K_KEYS.items():
            d[f"twfe_{kk}"] = _k(twfe, k)
            d[f"cs_{kk}"] = _k(cs, k)
            d[f"cs_{kk}_ci"] = _ci(cs, k)
            d[f"trunc_{kk}"] = _k(trunc, k)
        ks = [int(k[2:]) for k in cs["coefficients"] if k.startswith("k=")]
        # event times before the TWFE window (k <= -5) that rest on at least MIN_COHORTS cohorts:
        # range of the estimates and how many CIs exclude zero
        n_coh = cohorts_at(counts["cohorts"], min(ks), max(ks))
        far = {k: c for k, c in cs["coefficients"].items() if k.startswith("k=") and int(k[2:]) <= -5
               and n_coh.get(int(k[2:]), 0) >= MIN_COHORTS}
        if far:
            d["cs_far_lo"] = fmt(min(c["estimate"] for c in far.values()), 1)
            d["cs_far_hi"] = fmt(max(c["estimate"] for c in far.values()), 1)
            d["cs_far_kmin"] = f"−{-min(int(k[2:]) for k in far)}"
            d["cs_far_n"] = str(len(far))
            d["cs_far_n_sig"] = str(sum(c["ci_low"] > 0 or c["ci_high"] < 0 for c in far.values()))
        d["cs_k_min"], d["cs_k_max"] = f"−{-min(ks)}" if min(ks) < 0 else str(min(ks)), f"+{max(ks)}"
        out[key] = d
    # Callaway-Sant'Anna with not-yet-treated LAs added to the controls (agency use only)
    ny = model(results, "rev_cs_not_yet_absorbing_agency_rate")
    out["agency"]["cs_notyet_k0"], out["agency"]["cs_notyet_k0_ci"] = _k(ny, 0), _ci(ny, 0)
    out["agency"]["cs_notyet_pre_p"] = fmt_p(ny["stats"]["pre_trend_wald"]["p_value"])
    return out
