"""``fit_all`` gives the same results with its forked worker as in one process."""

from __future__ import annotations

import json

from analysis.derived import load_derived
from analysis.run_models import fit_all, results_document


def test_worker_split_does_not_change_any_result():
    panel, insp = load_derived()
    docs = [json.dumps(results_document(fit_all(panel, insp, workers=w), {}), sort_keys=True)
            for w in (1, 2)]
    assert docs[0] == docs[1]
    # the issue-14 blocks are registered (fitted in the worker, or here with workers=1)
    doc = json.loads(docs[0])
    assert {"dynamic_cre", "subjudgements", "overlap", "family_tests", "replication_like_for_like"} <= set(doc)
