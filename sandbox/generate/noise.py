"""Noise on duplicate copies: which rows get which kind, typos, and the ways people type a unit's name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sandbox.generate.text import _map_text, strip_diacritics

_NOISE_SHARE = {"none": 0.0, "light": 0.10, "hard": 0.35}


def _typo(text: str, where: float, how: int) -> str:
    """``text`` with one letter swapped with its neighbour (0), dropped (1) or doubled (2)."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(where * (len(letters) - 1))]
    if how == 0 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if how == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


_NOISE_KINDS = ("title_plain", "title_typo", "authors_swapped", "coauthor_dropped", "date_shifted", "unit_variant")


def _noise_flags(rng: np.random.Generator, copies: np.ndarray, noise: str) -> dict[str, np.ndarray]:
    """Which rows get which kind of noise: a share of rows whose initiative has >= 2 copies."""
    n = len(copies)
    noisy = (copies >= 2) & (rng.random(n) < _NOISE_SHARE[noise])
    hard = noise == "hard"  # hard noise often stacks two or three kinds on one copy
    how_many = 1 + (rng.random(n) < (0.4 if hard else 0.0)) + (rng.random(n) < (0.15 if hard else 0.0))
    picks = rng.integers(0, len(_NOISE_KINDS), size=(n, 3))
    flags = {}
    for k, kind in enumerate(_NOISE_KINDS):
        chosen = np.zeros(n, dtype=bool)
        for slot in range(3):
            chosen |= (picks[:, slot] == k) & (slot < how_many)
        flags[kind] = noisy & chosen
    return flags


def _unit_variants(g: pd.DataFrame) -> np.ndarray:
    """(units, 5) object array of ways people type a grassroots unit's name."""
    names = g["name"].to_numpy(dtype=object)
    entity = g["entity"].to_numpy(dtype=object)
    alias = g["alias"].to_numpy(dtype=object)
    with_alias = np.where(alias != "", alias, entity)
    return np.stack([
        with_alias,
        "CĐCS " + entity,
        entity,
        _map_text(strip_diacritics, names),
        _map_text(str.lower, names),
    ], axis=1)
