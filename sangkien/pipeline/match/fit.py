"""Fellegi–Sunter weights learned from the store's own records, as Splink learns them.

* **u** (how often a level occurs among non-matches): level frequencies over random pairs
  of records, which are almost all non-matches (:func:`level_frequencies`).
* **m** (how often among matches) and **lambda** (the share of matches among blocked
  pairs): expectation–maximisation over a sample of the blocked candidate pairs
  (:func:`expectation_maximisation`), started from the hand-set priors.

Pairs are a (pairs x features) matrix of small level numbers. EM runs on the distinct
level patterns with their counts (a few thousand, whatever the number of pairs), so it
costs milliseconds. Safeguards: Dirichlet pseudo-counts toward the priors (a level no pair
reached gets the prior's share, never 0), probabilities clamped to
[:data:`MIN_PROBABILITY`, 1], lambda clamped, and :func:`fit_weights` falls back to the
prior weights when the store is too small or the fit is implausible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_PROBABILITY = 1e-6
MAX_WEIGHT = 16.0          # |log2(m/u)| at most this: no single level decides alone
MIN_SUPPORT = 1.0          # a level fewer pairs than this reached (in both classes) keeps its prior weight
MIN_PAIRS = 2_000          # fewer blocked pairs than this: keep the prior weights
MIN_MATCHES = 50.0         # fewer expected matches than this: keep the prior weights


@dataclass
class FitResult:
    """Fitted Fellegi–Sunter parameters; ``m[f]``, ``u[f]`` per level of feature ``f``."""

    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    lam: float                   # share of matches among the blocked pairs
    pairs: int                   # blocked pairs the EM ran on
    random_pairs: int            # random pairs u was counted on
    iterations: int = 0
    converged: bool = False
    fallback: str | None = None  # why the prior weights were kept, when they were
    support: dict[str, np.ndarray] = field(default_factory=dict)  # pairs (of either class) at each level
    prior_weights: dict[str, np.ndarray] = field(default_factory=dict)
    ceiling: dict[str, np.ndarray] = field(default_factory=dict)  # highest weight per level (+inf: free)

    def weights(self) -> dict[str, np.ndarray]:
        """log2(m/u) per level, clamped to +-:data:`MAX_WEIGHT` and to the level's ceiling; a level
        that fewer than :data:`MIN_SUPPORT` pairs reached keeps its prior weight (the data says
        nothing of it)."""
        out = {}
        for f in self.m:
            w = np.clip(np.log2(self.m[f] / self.u[f]), -MAX_WEIGHT, MAX_WEIGHT)
            if f in self.support and f in self.prior_weights:
                w = np.where(self.support[f] < MIN_SUPPORT, self.prior_weights[f], w)
            if f in self.ceiling:
                w = np.minimum(w, self.ceiling[f])
            out[f] = w
        return out

    def prior(self) -> float:
        """log2-odds of a blocked pair being a match."""
        return float(np.log2(self.lam / (1.0 - self.lam)))


def _normalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, MIN_PROBABILITY, None)
    return p / p.sum()


def level_frequencies(levels: np.ndarray, n_levels: list[int], prior: list[np.ndarray] | None = None,
                      strength: float = 1.0, weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Each feature's level shares over the rows of ``levels`` (optionally weighted), with
    ``strength`` pseudo-pairs spread as ``prior`` (uniform when none)."""
    out = []
    for f, k in enumerate(n_levels):
        counts = np.bincount(levels[:, f].astype(np.int64), weights=weights, minlength=k)[:k].astype(np.float64)
        base = prior[f] if prior is not None else np.full(k, 1.0 / k)
        out.append(_normalise(counts + strength * base))
    return out


def _patterns(levels: np.ndarray, n_levels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``levels`` and how many times each occurs (rows coded mixed-radix)."""
    code = np.zeros(len(levels), dtype=np.int64)
    for f, k in enumerate(n_levels):
        code = code * k + levels[:, f].astype(np.int64)
    uniq, counts = np.unique(code, return_counts=True)
    pats = np.empty((len(uniq), len(n_levels)), dtype=np.int64)
    rest = uniq.copy()
    for f in range(len(n_levels) - 1, -1, -1):
        pats[:, f] = rest % n_levels[f]
        rest //= n_levels[f]
    return pats, counts.astype(np.float64)


Shares = list[np.ndarray]  # per feature, a probability per level


def expectation_maximisation(levels: np.ndarray, n_levels: list[int], m0: Shares, u0: Shares, lam0: float,
                             fix_u: bool = False, max_iter: int = 200, tol: float = 1e-6,
                             strength: float = 1.0, ceiling: Shares | None = None,
                             ) -> tuple[Shares, Shares, float, int, bool]:
    """EM for a two-class mixture of independent features (Fellegi–Sunter).

    Promises ``(m, u, lambda, iterations, converged)``: m and u per feature summing to 1
    with every level at least :data:`MIN_PROBABILITY`; u unchanged when ``fix_u``;
    convergence when no m, u or lambda moves more than ``tol``. ``strength`` pseudo-pairs
    toward ``m0``/``u0`` keep unseen levels at their prior share. ``ceiling`` (per feature,
    a log2 weight per level, +inf where free) bounds log2(m/u) at every M-step, so the
    E-step already reads the bounded weights (a constrained EM).
    """
    pats, counts = _patterns(levels, n_levels)
    m, u, lam = [_normalise(np.asarray(x, float)) for x in m0], [_normalise(np.asarray(x, float)) for x in u0], lam0
    for it in range(1, max_iter + 1):
        log_m = sum(np.log(m[f][pats[:, f]]) for f in range(len(n_levels)))
        log_u = sum(np.log(u[f][pats[:, f]]) for f in range(len(n_levels)))
        logit = np.log(lam) - np.log1p(-lam) + log_m - log_u
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -700, 700)))
        wm, wu = counts * p, counts * (1.0 - p)
        new_lam = float(np.clip(wm.sum() / counts.sum(), MIN_PROBABILITY, 0.5))
        new_m = [_normalise(np.bincount(pats[:, f], weights=wm, minlength=k) + strength * m0[f])
                 for f, k in enumerate(n_levels)]
        new_u = u if fix_u else [_normalise(np.bincount(pats[:, f], weights=wu, minlength=k) + strength * u0[f])
                                 for f, k in enumerate(n_levels)]
        if ceiling is not None:
            new_m = [_bounded(mf, uf, cf) for mf, uf, cf in zip(new_m, new_u, ceiling)]
        delta = max(abs(new_lam - lam), *(np.abs(a - b).max() for a, b in zip(new_m, m)),
                    *(np.abs(a - b).max() for a, b in zip(new_u, u)))
        m, u, lam = new_m, new_u, new_lam
        if delta < tol:
            return m, u, lam, it, True
    return m, u, lam, max_iter, False


def _bounded(m: np.ndarray, u: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """``m`` with log2(m/u) at most ``ceiling`` per level, the mass taken off the bounded levels
    spread over the free ones in proportion (so it still sums to 1)."""
    top = u * np.exp2(np.minimum(ceiling, 64.0))
    over = m > top
    if not over.any() or over.all():
        return m
    out = np.where(over, top, m)
    free = ~over
    out[free] *= (1.0 - out[over].sum()) / out[free].sum()
    return out


def priors_from_weights(weights: dict[str, tuple[float, ...]], prior: float,
                        u_random: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """Starting m per feature from hand weights and random-pair u: m ~ u * 2**weight, normalised;
    and the starting lambda from the hand prior."""
    m0 = [_normalise(u * np.exp2(np.asarray(w, float))) for u, w in zip(u_random, weights.values())]
    lam0 = float(np.clip(1.0 / (1.0 + 2.0 ** -prior), 1e-4, 0.5))
    return m0, lam0


def fit_weights(blocked: np.ndarray, random: np.ndarray, features: tuple[str, ...], n_levels: list[int],
                prior_weights: dict[str, tuple[float, ...]], prior: float,
                capped: dict[str, tuple[int, ...]] | None = None) -> FitResult:
    """Fit m, u and lambda on blocked-pair levels ``blocked`` and random-pair levels ``random``.

    u starts from the random pairs' level shares and m from the prior weights; EM then
    estimates m, u and lambda among the blocked pairs (their non-matches are not random
    pairs: they share a unit, a month, a name). The result scores blocked pairs:
    weight log2(m/u), prior log2(lambda/(1-lambda)). A store with fewer than
    :data:`MIN_PAIRS` blocked pairs or :data:`MIN_MATCHES` expected matches, an EM whose
    agreement levels come out weaker than disagreement, keeps the prior weights
    (``fallback`` says why). ``capped`` names, per feature, the levels (by number) whose
    weight may not rise above the prior's, in the EM and in the result.
    """
    u_random = level_frequencies(random, n_levels) if len(random) else [np.full(k, 1.0 / k) for k in n_levels]
    m0, lam0 = priors_from_weights({f: prior_weights[f] for f in features}, prior, u_random)
    result = FitResult({f: m0[k] for k, f in enumerate(features)}, {f: u_random[k] for k, f in enumerate(features)},
                       lam0, len(blocked), len(random))
    if len(blocked) < MIN_PAIRS:
        result.fallback = f"{len(blocked)} blocked pairs (fewer than {MIN_PAIRS})"
        return result
    ceiling = [np.full(k, np.inf) for k in n_levels]
    for k, f in enumerate(features):
        for level in (capped or {}).get(f, ()):
            ceiling[k][level] = prior_weights[f][level]
    m, u, lam, its, ok = expectation_maximisation(blocked, n_levels, m0, u_random, lam0, ceiling=ceiling)
    result.m, result.u = dict(zip(features, m)), dict(zip(features, u))
    result.support = {f: np.bincount(blocked[:, k].astype(np.int64), minlength=n_levels[k])[:n_levels[k]].astype(float)
                      for k, f in enumerate(features)}
    result.prior_weights = {f: np.asarray(prior_weights[f], dtype=float) for f in features}
    result.ceiling = dict(zip(features, ceiling))
    result.lam, result.iterations, result.converged = lam, its, ok
    if lam * len(blocked) < MIN_MATCHES:
        result.fallback = f"{lam * len(blocked):.0f} expected matches (fewer than {MIN_MATCHES:.0f})"
    elif _switched(result, prior_weights):
        result.fallback = "the fit reversed agreement and disagreement"
    return result


def _switched(result: FitResult, prior_weights: dict[str, tuple[float, ...]]) -> bool:
    """Whether the fitted weights disagree in sign with the priors' ordering on most features
    (EM found the wrong two classes)."""
    w = result.weights()
    votes = []
    for f, pw in prior_weights.items():
        if f not in w:
            continue
        best, worst = int(np.argmax(pw)), int(np.argmin(pw))
        votes.append(w[f][best] > w[f][worst])
    return sum(votes) * 2 < len(votes)
