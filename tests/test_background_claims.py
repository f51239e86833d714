"""The Background's worded comparison with the National Audit Office (NAO) holds in the data.

``report/background.qmd`` says that our first census with caseloads does not reproduce the NAO's
caseload gradient: the Good councils' mean lies above the NAO's range for good councils, no
Inadequate council exceeds the quoted maximum of ours, which stays below the NAO's "up to", and
the Inadequate mean is below the Good mean, while agency use runs the expected way. Each word is
checked against ``results.json`` (``replication.nao_2016``) and ``data/reference/literature.yml``,
so new data that falsify a sentence fail the build.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from analysis import paths

BACKGROUND = paths.ROOT / "report" / "background.qmd"


@pytest.fixture(scope="module")
def nao():
    subprocess.run(["make", "results"], cwd=paths.ROOT, check=True, stdout=subprocess.DEVNULL)
    results = json.loads((paths.ROOT / "report/outputs/results/results.json").read_text())
    return results["replication"]["nao_2016"]


def nao_claims_hold(nao: dict, lit: dict) -> dict[str, bool]:
    """Each worded claim of the NAO paragraph, true or false in ``nao`` (replication block)."""
    good, inad = nao["ours"]["good"], nao["ours"]["inadequate"]
    good_range_top = float(str(lit["nao_good_caseload"]["value"]).split("-")[-1])
    up_to = float(lit["nao_inadequate_caseload"]["value"])
    return {
        "Good mean above the NAO's range for good councils": good["caseload"]["mean"] > good_range_top,
        "no Inadequate council above our maximum, which is below the NAO's up-to":
            inad["caseload"]["max"] < up_to,
        "Inadequate mean lower than Good mean": inad["caseload"]["mean"] < good["caseload"]["mean"],
        "agency use the expected way": inad["agency_rate"]["mean"] > good["agency_rate"]["mean"],
    }


def test_background_nao_comparison_holds(nao):
    lit = yaml.safe_load((paths.REFERENCE / "literature.yml").read_text())
    text = " ".join(BACKGROUND.read_text(encoding="utf-8").split())
    for phrase in ("above the NAO's range for good councils", "fwd.nao.inadequate_caseload_max",
                   "was lower than that of the Good councils", "Agency use ran the expected way"):
        assert phrase in text, phrase
    claims = nao_claims_hold(nao, lit)
    assert all(claims.values()), {k: v for k, v in claims.items() if not v}


def test_nao_claim_check_fails_when_the_data_say_otherwise(nao):
    lit = yaml.safe_load((paths.REFERENCE / "literature.yml").read_text())
    flipped = json.loads(json.dumps(nao))
    flipped["ours"]["inadequate"]["caseload"]["mean"] = flipped["ours"]["good"]["caseload"]["mean"] + 1
    flipped["ours"]["good"]["caseload"]["mean"] = 12.0
    claims = nao_claims_hold(flipped, lit)
    assert not claims["Good mean above the NAO's range for good councils"]
    assert not claims["Inadequate mean lower than Good mean"]
