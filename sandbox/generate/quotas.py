"""Cascaded phase-1/phase-2 targets per quota unit, scaled to the world."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sandbox.generate.constants import QUOTA_COLUMNS, STATUSES
from sandbox.generate.initiatives import _Initiatives
from sandbox.generate.orgs import _OrgTree


def _nice(target: float) -> int:
    step = 100 if target >= 1000 else 10 if target >= 100 else 1
    return max(1, int(round(target / step)) * step)


def _quotas(rng: np.random.Generator, tree: _OrgTree, world: _Initiatives) -> pd.DataFrame:
    """Targets per quota unit and phase, set so that units land at roughly 50-150 % of target."""
    counted = (world.status == STATUSES.index("valid")) & world.eligible
    n_units = len(tree.grassroots)
    per_unit = np.zeros((n_units, 2), dtype=np.int64)
    np.add.at(per_unit, (world.unit[counted], world.phase[counted] - 1), 1)
    actual: dict[str, np.ndarray] = {code: np.zeros(2, dtype=np.int64) for code in tree.quota_units}
    for u, ancestors in enumerate(tree.ancestors):
        for code in ancestors:
            actual[code] += per_unit[u]
    n = len(world.unit)
    rows = []
    for code in tree.quota_units:
        for phase in (1, 2):
            if code == "VGCL":  # the program's own split: 30 % / 70 % of the initiatives asked for
                target = max(1, round((0.3 if phase == 1 else 0.7) * n))
            else:
                value = int(actual[code][phase - 1])
                completion = rng.uniform(0.5, 1.5)
                target = _nice(value / completion) if value else int(rng.integers(1, 6))
            rows.append((code, phase, target, "valid"))
    return pd.DataFrame(rows, columns=list(QUOTA_COLUMNS))
