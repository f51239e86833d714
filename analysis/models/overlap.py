"""Agency use and vacancies: how much they overlap, and a decomposition that does not double count.

* correlation of the agency and vacancy rates over the 2017+ LA-years of the panel (worker-level
  censuses; City of London and Isles of Scilly excluded) and the number of LA-years in which the
  two rates are exactly equal;
* variance inflation factors of the workforce regressors in the inspection-level frame (beside
  the demand, population and spending controls);
* decomposition. DfE's census counts agency workers (FTE at 30 September) and vacancies (FTE
  posts not filled by a permanent worker) separately; it does not record how many vacancies are
  covered by agency workers (data/derived/data_dictionary.csv: ``agency_fte``, ``vacancy_fte``,
  no "covered" item), so "vacancies not covered by agency workers" cannot be computed without an
  assumption. The decomposition therefore fits each measure alone (the other left out) beside the
  joint model, in the binary-logit design of :mod:`analysis.models.subjudgements`.

Rule for the primary specification, fixed before the fits are compared: **both measures stay in
the primary design (each coefficient is then the association holding the other fixed) unless
the VIF of either exceeds 10**, in which case the agency rate alone is primary (it is the measure
the published literature uses). The rule depends only on the VIFs, not on any estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.outliers_influence import variance_inflation_factor

from .forward_data import ForwardFrame
from .subjudgements import fit_outcome

VIF_RULE = 10.0
WORKER_LEVEL_FROM = 2017


def panel_overlap(panel: pd.DataFrame) -> dict:
    """Correlation (Pearson and Spearman) of agency and vacancy rates over 2017+ LA-years, and
    the LA-years with the two rates exactly equal (and with agency FTE = vacancy FTE)."""
    p = panel[(panel["year"] >= WORKER_LEVEL_FROM) & ~panel["small_la"].eq(True)]
    p = p[p["agency_rate"].notna() & p["vacancy_rate"].notna()]
    eq_fte = (p["agency_fte"] == p["vacancy_fte"]) if {"agency_fte", "vacancy_fte"} <= set(p.columns) else None
    return {"n_la_years": int(len(p)), "years": [int(p["year"].min()), int(p["year"].max())],
            "pearson": float(p["agency_rate"].corr(p["vacancy_rate"])),
            "spearman": float(p["agency_rate"].corr(p["vacancy_rate"], method="spearman")),
            "n_equal_rates": int((p["agency_rate"] == p["vacancy_rate"]).sum()),
            "n_equal_fte": None if eq_fte is None else int(eq_fte.sum())}


def vifs(ff: ForwardFrame) -> dict:
    """Variance inflation factors of every covariate of the frame (with a constant).

    Notes
    -----
    :math:`\\mathrm{VIF}_j = 1/(1 - R_j^2)`, :math:`R_j^2` from regressing covariate j on the others
    and a constant (statsmodels ``variance_inflation_factor``).
    """
    x = ff.data[list(ff.covariates)].astype(float)
    xc = np.column_stack([np.ones(len(x)), x.to_numpy()])
    return {c: float(variance_inflation_factor(xc, j + 1)) for j, c in enumerate(x.columns)}


def _drop(ff: ForwardFrame, term: str) -> ForwardFrame:
    return ForwardFrame(ff.data, tuple(r for r in ff.regressors if r != term), ff.controls, ff.lag,
                        ff.year_columns, ff.disclosure)


def decomposition(ff: ForwardFrame) -> dict:
    """AMEs (pp, Good or better) of agency and vacancy: jointly, and each with the other left out."""
    out = {}
    for label, f in (("joint", ff), ("agency_alone", _drop(ff, "vacancy_rate")),
                     ("vacancy_alone", _drop(ff, "agency_rate"))):
        fit = fit_outcome(f, "good_plus")
        out[label] = {k: v for k, v in fit["ame_pp"].items() if k in ("agency_rate", "vacancy_rate")}
        out[label]["nobs"] = fit["nobs"]
    return out


def fit_overlap(panel: pd.DataFrame, ff: ForwardFrame) -> dict:
    v = vifs(ff)
    worst = max(v["agency_rate"], v["vacancy_rate"])
    primary = "joint" if worst <= VIF_RULE else "agency_alone"
    return {"panel_2017_plus": panel_overlap(panel), "vif": v, "vif_rule": VIF_RULE,
            "primary": primary,
            "primary_rule": (f"both measures in the primary design unless the VIF of agency or vacancy exceeds "
                             f"{VIF_RULE:g} (then agency alone); decided on the VIFs only"),
            "covered_vacancies_in_census": False,
            "decomposition_note": ("the census does not record how many vacancies agency workers cover, so the "
                                   "decomposition fits each measure alone beside the joint model"),
            "decomposition": decomposition(ff)}
