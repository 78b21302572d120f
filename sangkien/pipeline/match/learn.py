"""The match model learned from a store's own records, and kept in the store as a version.

:func:`fit_model` learns, from prepared records and their blocked candidate pairs:
token rarity of titles (:class:`sangkien.text.titles.TitleWeights`), then u from random
pairs and m, u and lambda by EM over a sample of blocked pairs
(:func:`sangkien.pipeline.match.fit.fit_weights`). The weights score blocked pairs:
log2(m/u) per level, the prior log2(lambda/(1-lambda)). A store too small to learn
from keeps the hand-set priors (:data:`sangkien.pipeline.match.model.DEFAULT_WEIGHTS`).

:func:`model_to_json` / :func:`model_from_json` write and read a model (the
``match_models.params`` column); the store side lives in ``sangkien.pipeline.resolve``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from sangkien.pipeline.match.compare import compare
from sangkien.pipeline.match.fit import fit_weights
from sangkien.pipeline.match.model import (
    CODE_SCHEME,
    CONTRADICTIONS,
    DEFAULT_MODEL,
    FEATURES,
    LEVELS,
    MatchModel,
    Prepared,
)
from sangkien.text.titles import TitleWeights, learn_abbreviations, load_abbreviations

EM_PAIRS = 300_000       # blocked pairs the EM runs on, at most (a seeded sample)
RANDOM_PAIRS = 200_000   # random pairs u starts from


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= size else np.sort(rng.choice(n, size, replace=False))


def random_pairs(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """About ``size`` random pairs (i != j) of ``n`` records."""
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    size = int(min(size, n * (n - 1) // 2))
    i, j = rng.integers(0, n, size), rng.integers(0, n, size)
    keep = i != j
    return i[keep], j[keep]


def learn_title_abbreviations(folded_titles: object, base: MatchModel = DEFAULT_MODEL) -> MatchModel:
    """``base`` with the abbreviations its store's titles spell out elsewhere ("ksnk" ->
    "kiem soat nhiem khuan"), beside the built-in and the user's tables
    (:func:`sangkien.text.titles.learn_abbreviations`)."""
    learned = learn_abbreviations(np.asarray(folded_titles, dtype=object), load_abbreviations())
    return replace(base, abbreviations=learned or None)


def fit_model(prep: Prepared, i: np.ndarray, j: np.ndarray, base: MatchModel = DEFAULT_MODEL,
              em_pairs: int = EM_PAIRS, n_random: int = RANDOM_PAIRS, seed: int = 16) -> MatchModel:
    """``base`` with weights, prior and title token weights learned from ``prep``'s records and
    their blocked pairs ``(i, j)``; ``fitted`` says on what (or why the priors were kept).

    Deterministic: the samples are seeded, so the same records give the same model.
    """
    rng = np.random.default_rng(seed)
    model = replace(base, title_weights=TitleWeights.fit(prep.title), weights=dict(base.weights), prior=base.prior)
    pick = _sample(len(i), em_pairs, rng)
    blocked = compare(prep, i[pick], j[pick], model, every_title=True)
    ri, rj = random_pairs(prep.n, min(n_random, 10 * prep.n), rng)
    rand = compare(prep, ri, rj, model, every_title=True)
    fit = fit_weights(blocked[list(FEATURES)].to_numpy(), rand[list(FEATURES)].to_numpy(), FEATURES,
                      [len(LEVELS[f]) for f in FEATURES], base.weights, base.prior,
                      capped={f: tuple(LEVELS[f].index(lv) for lv in lvs) for f, lvs in CONTRADICTIONS.items()})
    fitted: dict[str, Any] = {
        "records": int(prep.n), "pairs": fit.pairs, "random_pairs": fit.random_pairs, "blocked_total": len(i),
        "lambda": fit.lam, "iterations": fit.iterations, "converged": fit.converged, "fallback": fit.fallback,
        "m": {f: fit.m[f].tolist() for f in FEATURES}, "u": {f: fit.u[f].tolist() for f in FEATURES},
    }
    if fit.fallback:  # too little to learn from: token counts of a handful of titles would mislead too
        return replace(model, title_weights=None, fitted=fitted)
    weights = {f: tuple(round(float(w), 4) for w in ws) for f, ws in fit.weights().items()}
    return replace(model, weights=weights, prior=round(fit.prior(), 4), fitted=fitted)


def model_to_json(model: MatchModel) -> str:
    """The model's learned parts as JSON (levels, weights, prior, how it was fitted, title token counts)."""
    tw = model.title_weights
    return json.dumps({
        "scheme": CODE_SCHEME, "levels": {f: list(LEVELS[f]) for f in FEATURES},
        "weights": {f: list(model.weights[f]) for f in FEATURES}, "prior": model.prior,
        "fitted": model.fitted or {},
        "title_tokens": {"titles": tw.titles, "counts": tw.counts} if tw is not None else None,
        "abbreviations": model.abbreviations or {},
    }, ensure_ascii=False)


def model_from_json(text: str, base: MatchModel = DEFAULT_MODEL) -> MatchModel | None:
    """The model :func:`model_to_json` wrote, on ``base``'s thresholds; None when it was fitted
    for other levels (an older code scheme): the caller then uses the priors."""
    data = json.loads(text)
    if data.get("scheme") != CODE_SCHEME or data.get("levels") != {f: list(LEVELS[f]) for f in FEATURES}:
        return None
    tokens = data.get("title_tokens")
    tw = TitleWeights({str(k): int(v) for k, v in tokens["counts"].items()}, int(tokens["titles"])) if tokens else None
    return replace(base, weights={f: tuple(float(w) for w in data["weights"][f]) for f in FEATURES},
                   prior=float(data["prior"]), title_weights=tw, fitted=data.get("fitted") or None,
                   abbreviations={str(k): str(v) for k, v in (data.get("abbreviations") or {}).items()} or None)


def describe(model: MatchModel) -> str:
    """The model as text: how it was fitted, then per feature each level's m, u and weight."""
    fitted = model.fitted or {}
    lines = []
    if not fitted:
        lines.append("hand-set priors (no model fitted yet: run `sangkien resolve --full`)")
    else:
        lines.append(f"fitted on {fitted.get('records', 0):,} records: EM over {fitted.get('pairs', 0):,} of "
                     f"{fitted.get('blocked_total', 0):,} blocked pairs, u from {fitted.get('random_pairs', 0):,} "
                     f"random pairs; {fitted.get('iterations', 0)} iterations"
                     f"{'' if fitted.get('converged') else ' (not converged)'}")
        if fitted.get("fallback"):
            lines.append(f"kept the hand-set priors: {fitted['fallback']}")
    lines.append(f"prior {model.prior:+.2f} (log2-odds of a blocked pair being a match); "
                 f"merge at {model.threshold:+.1f}, review {model.review_low:+.1f} to {model.review_high:+.1f}")
    m, u = fitted.get("m", {}), fitted.get("u", {})
    for f in FEATURES:
        lines.append(f"{f}:")
        for k, (level, w) in enumerate(zip(LEVELS[f], model.weights[f])):
            mu = f"  m={m[f][k]:.4f} u={u[f][k]:.4f}" if f in m and f in u else ""
            lines.append(f"  {level:<34} {w:+7.2f}{mu}")
    if model.title_weights is not None:
        lines.append(f"title tokens: {len(model.title_weights.counts):,} counted over "
                     f"{model.title_weights.titles:,} titles")
    if model.abbreviations:
        lines.append(f"abbreviations learned from the titles ({len(model.abbreviations)}): "
                     + ", ".join(f"{k} = {v}" for k, v in model.abbreviations.items()))
    return "\n".join(lines)
