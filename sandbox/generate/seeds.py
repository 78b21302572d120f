"""The seed world: the targets, rounds, member counts and clusters of the five source documents
(../shared/seeds, index in sangkien's README), laid over a generated world.

Written beside the world's own files (``generate_world(..., seeds=True)``, `sangkien sandbox generate
--seeds`):

* ``quotas.csv``: the documents' targets (``sandbox/reference/quotas_from_seeds.csv``) with their
  assigners: the confederation's 300,000 / 700,000 (scaled to the world: the initiatives asked
  for x 0.3 / 0.7; exact at 1,000,000), Banking 500 / 1,500 (seed 000), Thái Bình health 100 / 150
  and at least 10% of members (seed 002, set by itself), Hà Nội 60,000 assigned by the
  confederation and 130,000 set by itself for the whole program (seed 003; split here 30/70 over
  the two phases like the national target) and the 130,000 split among its districts and sectors;
* ``members.csv``: member counts of Thái Bình health's grassroots unions on the plan's date;
* ``clusters.csv``: the provinces in three regional clusters, the national sector unions and the
  corporation unions in two blocks;
* ``programs/VC-2022/``: the Public Employees' 2022 emulation plan (seed 004) as a program: its two
  rounds (the document's "01/7/2021 – 31/12/2021" for round 2 is a slip for 2022: corrected, and
  noted in SEEDS.md) and its target, 100% of affiliated unions taking part in each round;
* ``seeds.csv``: per initiative its unit, status, eligibility, dates and authors, the truth the
  end-to-end tests count from; ``SEEDS.md``: where each figure comes from, and the commands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sandbox.generate.constants import REFERENCE_DIR, STATUSES
from sandbox.generate.dates import _DAY0
from sandbox.generate.initiatives import _Initiatives
from sandbox.generate.orgs import _allocate, _OrgTree

PROGRAM = ("VC-2022", "Thi đua năm 2022, Công đoàn Viên chức Việt Nam", "2022-01-01", "2022-12-31")
ROUNDS = "phase,name,starts_on,ends_on,counts_from\n1,Đợt 1 năm 2022,2022-01-01,2022-06-30,2022-01-01\n" \
         "2,Đợt 2 năm 2022,2022-07-01,2022-12-31,2022-01-01\n"
HANOI_SPLIT = (0.3, 0.7)  # the whole-program targets of seed 003 over phases 1 and 2, like the national 30/70
MEMBERS_AS_OF = "2022-01-12"  # the date of Thái Bình health's plan 17/KH-CĐYT
REGIONS = {"north": "Cụm thi đua các tỉnh, thành phố phía Bắc", "central": "Cụm thi đua các tỉnh miền Trung",
           "south": "Cụm thi đua các tỉnh, thành phố phía Nam"}
BLOCKS = {"national_sector": ("KHOI-NGANH", "Khối các công đoàn ngành trung ương"),
          "corporation": ("KHOI-TCT", "Khối các công đoàn tổng công ty")}


def _quotas(tree: _OrgTree, initiatives: int) -> pd.DataFrame:
    rows = [("VGCL", 1, round(0.3 * initiatives), "valid", "VGCL"),
            ("VGCL", 2, round(0.7 * initiatives), "valid", "VGCL"),
            ("NGANHANG", 1, 500, "valid", "VGCL"), ("NGANHANG", 2, 1500, "valid", "VGCL"),
            ("P34-YTE", 1, 100, "valid", "P34-YTE"), ("P34-YTE", 2, 150, "valid", "P34-YTE"),
            ("P34-YTE", 1, 10, "share_of_members", "P34-YTE"), ("P34-YTE", 2, 10, "share_of_members", "P34-YTE")]
    children = tree.orgs[tree.orgs["parent_code"] == "P01"]["code"].tolist()
    size = [sum(1 for a in tree.ancestors if code in a) + 1 for code in children]
    for phase, share in enumerate(HANOI_SPLIT, start=1):
        rows += [("P01", phase, round(60_000 * share), "valid", "VGCL"),
                 ("P01", phase, round(130_000 * share), "valid", "P01")]
        split = _allocate(round(130_000 * share), size, [0] * len(children))
        rows += [(code, phase, target, "valid", "P01") for code, target in zip(children, split, strict=True)]
    return pd.DataFrame(rows, columns=["unit_code", "phase", "target", "basis", "assigned_by"])


def _members(rng: np.random.Generator, tree: _OrgTree) -> pd.DataFrame:
    health = tree.grassroots[[("P34-YTE" in a) for a in tree.ancestors]]["code"].tolist()
    return pd.DataFrame({"unit_code": health, "as_of": MEMBERS_AS_OF,
                         "members": rng.integers(40, 400, size=len(health))})


def _clusters(tree: _OrgTree) -> pd.DataFrame:
    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    region = dict(zip("P" + provinces["code"], provinces["region"], strict=True))
    rows = []
    for code, kind in zip(tree.orgs["code"], tree.orgs["kind"], strict=True):
        if kind == "province" and region.get(code) in REGIONS:
            rows.append((f"CUM-{region[code].upper()}", REGIONS[region[code]], code))
        elif kind in BLOCKS:
            rows.append((*BLOCKS[kind], code))
    return pd.DataFrame([(c, n, u, "2022-01-01", "") for c, n, u in rows],
                        columns=["cluster_code", "name", "unit_code", "valid_from", "valid_to"])


def _truth(tree: _OrgTree, world: _Initiatives) -> pd.DataFrame:
    width = max(7, len(str(len(world.unit))))
    day = np.datetime64(_DAY0.isoformat())
    names = [" | ".join(world.person_name[world.authors[i, :world.n_authors[i]]]) for i in range(len(world.unit))]
    return pd.DataFrame({
        "initiative_id": [f"I{i:0{width}d}" for i in range(1, len(world.unit) + 1)],
        "unit_code": tree.grassroots["code"].to_numpy(dtype=object)[world.unit],
        "status": np.array(STATUSES, dtype=object)[world.status],
        "eligible": np.where(world.eligible, "true", "false"),
        "applied_on": (day + world.applied.astype("timedelta64[D]")).astype(str),
        "submitted_on": (day + world.submitted.astype("timedelta64[D]")).astype(str),
        "authors": names})


def write_seeds(out_dir: Path, rng: np.random.Generator, tree: _OrgTree, world: _Initiatives) -> dict[str, Path]:
    """Write the seed world's files under ``out_dir`` (replacing the generated quotas.csv); returns them by name."""
    program = out_dir / "programs" / PROGRAM[0]
    program.mkdir(parents=True, exist_ok=True)
    files = {"quotas": out_dir / "quotas.csv", "members": out_dir / "members.csv",
             "clusters": out_dir / "clusters.csv", "program_phases": program / "phases.csv",
             "program_quotas": program / "quotas.csv", "seeds": out_dir / "seeds.csv", "notes": out_dir / "SEEDS.md"}
    frames = {"quotas": _quotas(tree, len(world.unit)), "members": _members(rng, tree),
              "clusters": _clusters(tree), "seeds": _truth(tree, world)}
    for name, frame in frames.items():
        frame.to_csv(files[name], index=False, encoding="utf-8", lineterminator="\n")
    files["program_phases"].write_text(ROUNDS, encoding="utf-8")
    files["program_quotas"].write_text("unit_code,phase,target,basis,assigned_by\n"
                                       "VIENCHUC,1,100,share_of_units:children,VIENCHUC\n"
                                       "VIENCHUC,2,100,share_of_units:children,VIENCHUC\n", encoding="utf-8")
    files["notes"].write_text(_NOTES.format(code=PROGRAM[0], name=PROGRAM[1], starts=PROGRAM[2], ends=PROGRAM[3],
                                            n=len(world.unit)), encoding="utf-8")
    return files


_NOTES = """\
# The seed world

The targets of the five source documents, over a generated world of {n:,} initiatives.

- 001 (3259/CTr-TLĐ): VGCL 300,000 (phase 1) and 700,000 (phase 2), scaled to the world
  ({n:,} initiatives asked for: 30% / 70%).
- 000 (57/CTr-CĐNH): the Banking Union (NGANHANG) 500 and 1,500.
- 002 (17/KH-CĐYT): Thái Bình health (P34-YTE) 100 and 150, and at least 10% of members taking
  part, set by itself; its grassroots unions' member counts in members.csv.
- 003 (31/LĐLĐ): Hà Nội (P01) 60,000 assigned by VGCL and 130,000 set by itself, split among its
  districts and sectors; both are for the whole program, split here 30% / 70% over the phases.
- 004: the Public Employees (VIENCHUC), program {code}: two rounds, 100% of affiliated unions
  taking part in each.

**Corrected slip.** Document 004 gives round 2 as "01/7/2021 – 31/12/2021"; its plan is for 2022,
and round 1 runs in the first half of 2022, so round 2 is 2022-07-01 to 2022-12-31 here
(`sangkien phases load` rejects the document's dates: "did you mean 2022?").

Clusters (clusters.csv): the provinces in three regional clusters, the national sector unions and
the corporation unions in two blocks.

Load it (`sangkien demo --seeds` does this):

    sangkien orgs load orgs.csv
    sangkien quotas load quotas.csv
    sangkien members load members.csv
    sangkien clusters load clusters.csv
    sangkien programs add {code} --name "{name}" --starts-on {starts} --ends-on {ends}
    sangkien phases load programs/{code}/phases.csv --program {code}
    sangkien quotas load programs/{code}/quotas.csv --program {code}
"""
