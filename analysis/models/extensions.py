"""Models v3 additions (issue 14), gathered for results.json under their own top-level keys:
``dynamic_cre``, ``subjudgements``, ``overlap``, ``family_tests``, ``replication_like_for_like``.

All read the one inspection-level analysis frame (:func:`analysis.models.frame.inspection_frame`).
"""

from __future__ import annotations

import pandas as pd

from .dynamic_cre import fit_dynamic_cre, simulation_check
from .family_tests import family_document, family_table
from .forward_data import DEFAULT_CONTROLS, available_controls
from .frame import inspection_frame
from .overlap import fit_overlap
from .replication_webb import webb_like_for_like
from .subjudgements import fit_subjudgements


def fit_extensions(inspections: pd.DataFrame, panel: pd.DataFrame) -> dict:
    """Everything that does not need the forward fits (run while they are being fitted)."""
    kept, _ = available_controls(DEFAULT_CONTROLS, panel)
    ff = inspection_frame(panel, inspections, controls=kept)
    return {"dynamic_cre": {**fit_dynamic_cre(ff, inspections), "simulation": simulation_check()},
            "subjudgements": fit_subjudgements(ff),
            "overlap": fit_overlap(panel, ff),
            "replication_like_for_like": {"webb_2022": webb_like_for_like(inspections, panel)}}


def add_family_tests(ext: dict, forward: dict) -> dict:
    """``ext`` with ``family_tests`` (needs the forward FitResults)."""
    tab = family_table(forward["fits"], ext["dynamic_cre"], ext["subjudgements"], forward["primary"])
    return {**ext, "family_tests": family_document(tab)}
