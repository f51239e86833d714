"""Hex map key and statistical neighbours (data/derived/hex_map_key.csv, statistical_neighbours.csv)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import paths
from analysis.data import hexmap
from analysis.data.geography import load_register
from analysis.data.neighbours import build_neighbours
from analysis.errors import DataError


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(paths.DERIVED / "la_year_panel.csv", dtype={"la_code": str})


@pytest.fixture(scope="module")
def key() -> pd.DataFrame:
    return pd.read_csv(paths.DERIVED / "hex_map_key.csv", dtype={"la_code": str})


def test_every_entity_alive_in_2025_has_exactly_one_hex(panel, key):
    alive = set(panel.loc[panel["year"] == 2025, "la_code"])
    assert len(alive) == 152
    assert set(key["la_code"]) == alive
    assert key["la_code"].is_unique
    assert not key.duplicated(["q", "r"]).any(), "two entities share a hex position"
    assert key["hex_id"].is_unique
    assert list(key.columns) == hexmap.COLUMNS


def test_split_and_recode_rules(key):
    k = key.set_index("la_code")
    assert k.loc["825", "hex_id"] == "E10000002"  # Buckinghamshire recode
    assert k.loc["928", "hex_id"] == "E10000021"  # North + West Northamptonshire
    assert k.loc["943", "hex_id"] == "E10000006"  # Westmorland and Furness on the Cumbria hex
    cumb, wf = k.loc["942"], k.loc["943"]
    # Cumberland sits on a neighbouring hex (odd-r distance 1), north of Westmorland and Furness
    assert (int(cumb["q"]), int(cumb["r"])) in {hexmap.neighbour(int(wf["q"]), int(wf["r"]), d)
                                                for d in ("north-west", "north-east", "east", "west")}
    assert cumb["r"] > wf["r"]


def test_key_rebuilds_from_the_hexjson(source_paths, panel, key):
    rebuilt = hexmap.build_hex_key(panel, source_paths["hexmap_utla"])
    pd.testing.assert_frame_equal(rebuilt, key, check_dtype=False)


def test_missing_rule_or_shared_hex_is_an_error(source_paths, panel, monkeypatch):
    recodes = dict(hexmap.RECODES)
    del recodes["E06000060"]  # forget Buckinghamshire's recode
    monkeypatch.setattr(hexmap, "RECODES", recodes)
    with pytest.raises(DataError, match="no hex for entity 825"):
        hexmap.build_hex_key(panel, source_paths["hexmap_utla"])
    monkeypatch.undo()
    # Cumberland placed on an occupied neighbour (east of Cumbria is free; south-west is Blackpool)
    monkeypatch.setattr(hexmap, "NEW_HEXES", {"E06000063": ("E10000006", "west", "test")})
    with pytest.raises(DataError, match="already taken"):
        hexmap.build_hex_key(panel, source_paths["hexmap_utla"])


def test_duplicate_position_is_rejected():
    key = pd.DataFrame({"la_code": ["1", "2"], "hex_id": ["a", "b"], "q": [1, 1], "r": [2, 2],
                        "hex_name": ["x", "y"], "rule": ["same-code", "same-code"]})
    with pytest.raises(DataError, match="share hex position"):
        hexmap.validate_hex_key(key, {"a", "b"})


def test_odd_r_neighbours():
    # even row 14: north-west is (q-1, 15); odd row 15: north-west is (q, 16)
    assert hexmap.neighbour(6, 14, "north-west") == (5, 15)
    assert hexmap.neighbour(6, 15, "north-west") == (6, 16)
    assert hexmap.neighbour(6, 15, "south-east") == (7, 14)


def test_neighbours_table(panel, source_paths):
    sn = pd.read_csv(paths.DERIVED / "statistical_neighbours.csv", dtype={"la_code": str, "neighbour_la_code": str})
    rebuilt = build_neighbours(source_paths["sn_2021"], source_paths["sn_2025"], load_register())
    pd.testing.assert_frame_equal(rebuilt, sn, check_dtype=False)
    alive = set(panel.loc[panel["year"] == 2025, "la_code"])
    entities = set(panel["la_code"])
    for grouping, g in sn.groupby("grouping"):
        assert alive <= set(g["la_code"]), f"{grouping}: LAs alive in 2025 without neighbours"
        assert set(g["neighbour_la_code"]) <= entities
        assert (g["la_code"] != g["neighbour_la_code"]).all()
        assert not g.duplicated(["la_code", "neighbour_la_code"]).any()
        ranks = g.groupby("la_code")["neighbour_rank"].apply(list)
        assert all(r == list(range(1, len(r) + 1)) and 8 <= len(r) <= 10 for r in ranks)
    # 940/941 never appear: both are entity 928
    assert not sn["neighbour_la_code"].isin(["940", "941"]).any()
    n28 = sn[(sn["la_code"] == "928") & (sn["grouping"] == "DfE SN 2025")]
    assert len(n28) == 10
