"""Webb, Bennett and Bywaters (2022) reproduced like for like, as closely as the data allow.

Their design: a multilevel (random-intercept) logit of a Good-or-better judgement on 374
inspections of 2011-2019 across inspection frameworks, with deprivation (IMD decile) and
preventive and safeguarding spending per child. Ours:

* ``closest``: random-intercept logit (ML, adaptive Gauss-Hermite quadrature,
  :mod:`analysis.models.re_quadrature`) of Good or better on the IMD 2019 decile, the framework
  indicator (ILACS vs SIF), family-support ("preventive") and safeguarding gross spending per
  child (s251 outturn, per £100, financial year ending 31 March of the census year before
  fieldwork), SIF and ILACS inspections with fieldwork up to 2019;
* ``no_spending``: the same without the spending terms, on every graded SIF/ILACS inspection of
  2013-2019 (spending starts with 2015-16, so the spending model loses the early SIF rows);
* ``closest_pooled``: the ``closest`` design as a single-level LA-clustered logit (population
  averaged: its odds ratios are closer to one than the LA-specific ones by construction).

:func:`differences` lists what still differs from the published design.
"""

from __future__ import annotations

import pandas as pd
import statsmodels.api as sm

from .magnitudes import per_decile_odds_ratio
from .re_quadrature import RandomInterceptQuadrature
from .replication import _lit, load_literature

LAST_YEAR = 2019
SPEND_UNIT = 100.0  # spending terms per £100 per child
SPEND = {"spend_family_support_pc": "family_support_per_100", "spend_safeguarding_pc": "safeguarding_per_100"}


def webb_sample(inspections: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Graded SIF/ILACS inspections with fieldwork up to 2019 (small LAs excluded), sorted by LA;
    the IMD decile is the LA's (time-invariant, from the panel), so inspections before the first
    census keep it."""
    dec = panel.dropna(subset=["imd_decile"]).drop_duplicates("la_code", keep="last").set_index("la_code")["imd_decile"]
    inspections = inspections.assign(imd_decile=inspections["la_code"].map(dec))
    d = inspections[inspections["framework"].isin(["SIF", "ILACS"]) & inspections["overall_num"].notna()
                    & (inspections["inspection_year"] <= LAST_YEAR) & ~inspections["small_la"].eq(True)]
    d = d[d["imd_decile"].notna()].sort_values(["la_code", "start_date", "inspection_id"]).reset_index(drop=True)
    d["good_plus"] = (d["overall_num"] <= 2).astype(float)
    d["ilacs"] = (d["framework"] == "ILACS").astype(float)
    for src, dst in SPEND.items():
        d[dst] = d[src] / SPEND_UNIT
    return d


def _ri_block(d: pd.DataFrame, terms: list[str]) -> dict:
    x = pd.concat([pd.Series(1.0, index=d.index, name="const"), d[terms].astype(float)], axis=1)
    fit = RandomInterceptQuadrature(d["good_plus"].to_numpy(), x, d["la_code"].to_numpy()).fit()
    if not fit.converged:
        raise RuntimeError(f"Webb et al. replication: random-intercept logit on {terms} did not converge")
    return {"nobs": fit.nobs, "n_las": fit.n_groups, "sigma_la": fit.sigma, "llf": fit.llf,
            "years": [int(d["inspection_year"].min()), int(d["inspection_year"].max())],
            "by_framework": {k: int(v) for k, v in d["framework"].value_counts().sort_index().items()},
            "odds_ratios": {t: per_decile_odds_ratio(fit.params, fit.cov, t) for t in terms}}


def differences(n_closest: int, n_all: int) -> list[dict]:
    """What differs from the published design (aspect, theirs, ours)."""
    return [
        {"aspect": "inspections", "theirs": "374, 2011-2019", "ours": f"{n_closest} with spending (fieldwork 2016-2019); {n_all} without (2013-2019)"},
        {"aspect": "frameworks", "theirs": "every framework in force 2011-2019",
         "ours": "SIF and ILACS (the inspection table starts with SIF in 2013)"},
        {"aspect": "deprivation", "theirs": "IMD decile of the LA", "ours": "IMD 2019 decile among upper-tier LAs"},
        {"aspect": "spending", "theirs": "preventive and safeguarding spending per child",
         "ours": "s251 family-support and safeguarding gross spend per child, year before fieldwork"},
        {"aspect": "estimator", "theirs": "multilevel logit", "ours": "random-intercept logit, adaptive quadrature"},
    ]


def webb_like_for_like(inspections: pd.DataFrame, panel: pd.DataFrame, lit: dict | None = None) -> dict:
    """The three models, the published figures and the list of differences."""
    lit = load_literature() if lit is None else lit
    d = webb_sample(inspections, panel)
    spend_terms = list(SPEND.values())
    ds = d.dropna(subset=spend_terms).reset_index(drop=True)
    closest = _ri_block(ds, ["imd_decile", "ilacs", *spend_terms])
    no_spend = _ri_block(d, ["imd_decile", "ilacs"])
    xp = pd.concat([pd.Series(1.0, index=ds.index, name="const"), ds[["imd_decile", "ilacs", *spend_terms]]], axis=1)
    pooled = sm.Logit(ds["good_plus"], xp).fit(disp=False, cov_type="cluster",
                                               cov_kwds={"groups": pd.factorize(ds["la_code"])[0]})
    pub = {"odds_ratio": _lit(lit, "webb2022_or_imd_decile"), "ci_low": _lit(lit, "webb2022_or_low"),
           "ci_high": _lit(lit, "webb2022_or_high"), "nobs": 374, "years": [2011, 2019]}
    return {"published": pub, "closest": closest, "no_spending": no_spend,
            "closest_pooled": {"nobs": int(pooled.nobs),
                               "odds_ratios": {t: per_decile_odds_ratio(pooled.params, pooled.cov_params(), t)
                                               for t in ["imd_decile", *spend_terms]}},
            "n_dropped_no_spending": int(len(d) - len(ds)),
            "differences": differences(len(ds), len(d))}
