"""Registrants per (unit, phase): the distinct name keys of the unit's eligible records in that phase."""
from __future__ import annotations

import numpy as np
import pandas as pd

from sangkien.pipeline.rollup import counts_of

RECORDS = [  # unit, phase, eligible, author_keys
    ("U1", 1, 1, "nguyen van a|tran thi b"),
    ("U1", 1, 1, "tran thi b|nguyen van a"),  # the same two people, listed the other way round
    ("U1", 1, 1, "nguyen van a|tran thi b"),  # one initiative again, from another source
    ("U1", 2, 1, "nguyen van a"),             # the same person counts again in another phase
    ("U2", 1, 1, "nguyen van a"),             # ... and in another unit
    ("U2", 1, 1, "le c||le c"),               # an empty key and a repeat inside one record
    ("U2", 1, 0, "pham d"),                   # ineligible: not a registrant
    ("U3", 1, 1, ""),                         # no names
    ("U3", 1, 1, None),
    ("U4", np.nan, 1, "vo e"),                # no phase: counts nowhere
]


def _frames(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    recs = pd.DataFrame(rows, columns=["unit_code", "phase", "eligible", "author_keys"])
    recs["unit_code"] = recs["unit_code"].astype("str")
    recs["author_keys"] = recs["author_keys"].astype("str")
    inits = pd.DataFrame({"unit_code": pd.Series(["U1"], dtype="str"), "phase": [1], "status": ["valid"],
                          "benefit_vnd": [None]})
    return inits, recs


def test_registrants_are_distinct_name_keys_per_unit_and_phase():
    counts = counts_of(*_frames(RECORDS)).set_index(["unit_code", "phase"])
    assert counts["registrants"].to_dict() == {("U1", 1): 2, ("U1", 2): 1, ("U2", 1): 2, ("U3", 1): 0}
    assert counts["records"].to_dict() == {("U1", 1): 3, ("U1", 2): 1, ("U2", 1): 3, ("U3", 1): 2}
    assert counts.loc[("U2", 1), "ineligible"] == 1


def test_units_whose_records_name_nobody_count_no_registrants():
    counts = counts_of(*_frames([("U3", 1, 1, ""), ("U3", 2, 1, None)])).set_index(["unit_code", "phase"])
    assert counts["registrants"].to_dict() == {("U1", 1): 0, ("U3", 1): 0, ("U3", 2): 0}  # U1: an initiative
    assert counts["records"].to_dict() == {("U1", 1): 0, ("U3", 1): 1, ("U3", 2): 1}


def test_registrants_agree_with_splitting_every_record_on_a_larger_sample():
    rng = np.random.default_rng(4)
    names = [f"ho {k} ten {k % 97}" for k in range(400)]
    rows = [(f"U{rng.integers(30)}", int(rng.integers(1, 3)), int(rng.random() < 0.9),
             "|".join(rng.choice(names, size=int(rng.integers(0, 4))))) for _ in range(3000)]
    _, recs = _frames(rows)
    got = counts_of(*_frames(rows)).set_index(["unit_code", "phase"])["registrants"]
    eligible = recs[recs["eligible"] == 1]
    people = eligible.assign(key=eligible["author_keys"].str.split("|")).explode("key")
    people = people[people["key"].notna() & (people["key"] != "")].drop_duplicates(["unit_code", "phase", "key"])
    expected = people.groupby(["unit_code", "phase"]).size()
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
